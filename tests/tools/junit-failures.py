"""Print one line per failed or erroring test case of the JUnit XML reports of pytest and ansible-test sanity.

The suite's summary (run-suite.sh) ends with these lines: a CI log that keeps only its tail still names what failed.
Usage: junit-failures.py LABEL REPORT.xml...
"""

import sys
from xml.etree import ElementTree

_MESSAGE_LENGTH = 300


def _first_line(element):
    """The first line of a failure's message; when the message only announces what follows (ansible-test sanity's
    "failed with N errors:"), with the first line of what follows."""
    message = (element.get('message') or '').strip().splitlines()
    text = (element.text or '').strip().splitlines()
    if not message:
        return text[0] if text else ''
    if message[0].endswith(':') and text:
        return '%s %s' % (message[0], text[0])
    return message[0]


def failures(path):
    """(test id, outcome, first line of its message) of every failed or erroring test case in one report."""
    try:
        # The reports pytest wrote a moment ago in this run's own tree, not data from elsewhere.
        root = ElementTree.parse(path).getroot()  # noqa: S314
    except (OSError, ElementTree.ParseError) as exc:
        yield path, 'unreadable', str(exc)
        return
    for case in root.iter('testcase'):
        for outcome in ('failure', 'error'):
            element = case.find(outcome)
            if element is not None:
                test_id = '%s::%s' % (case.get('classname', '?'), case.get('name', '?'))
                yield test_id, outcome, _first_line(element)[:_MESSAGE_LENGTH]


def main(label, paths):
    for path in paths:
        for test_id, outcome, message in failures(path):
            print('%s: %s %s: %s' % (label, outcome, test_id, message))


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit('usage: junit-failures.py LABEL REPORT.xml...')
    main(sys.argv[1], sys.argv[2:])
