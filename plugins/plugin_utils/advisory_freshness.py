# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The staleness gate: may a pass assess with this advisory database?

Two ages count: when the database was built (``max_advisory_age_hours``) and how old each
feed's own data is (``max_feed_age_hours`` per feed type; feed_dates says where a feed's
date comes from), so a month-old KEV file built into a database today is still refused.
A build time or feed date in the future is refused whatever the options: a clock is wrong
or the file was altered, and no age computed from it means anything.
"""

from __future__ import annotations

import datetime

from ansible_collections.patchwise.patching.plugins.plugin_utils.feed_dates import parse_feed_time
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import RiskError

# Clocks of two machines disagree a little; a feed's date may be a day (UTC midnight) ahead of a local clock.
_BUILD_SKEW = datetime.timedelta(minutes=5)
_FEED_SKEW = datetime.timedelta(days=1)


def _hours(delta):
    return delta.total_seconds() / 3600.0


def _built(advisories, now):
    if not advisories.built_at:
        raise RiskError('%s: the advisory database records no build time; rebuild it' % advisories.path)
    try:
        built = parse_feed_time(advisories.built_at)
    except ValueError as exc:
        raise RiskError('%s: the build time in its meta table is unreadable (%s); rebuild it' % (advisories.path, exc)) from exc
    if built > now + _BUILD_SKEW:
        raise RiskError('%s says it was built at %s, %.1f hours after now (%s): the clock of this machine or of the one that '
                        'built it is wrong, or the file was altered; rebuild it' % (
                            advisories.path, advisories.built_at, _hours(built - now), now.strftime('%Y-%m-%dT%H:%M:%SZ')))
    return built


def stale_reasons(advisories, policy, now):
    """Why the database is too old to assess with (empty when it is not); RiskError when a date is in the future."""
    reasons = []
    age = _hours(now - _built(advisories, now))
    if age > policy['max_advisory_age_hours']:
        reasons.append('it was built %s, %.0f hours ago; the policy allows %d hours (max_advisory_age_hours)'
                       % (advisories.built_at, age, policy['max_advisory_age_hours']))
    for feed in advisories.feeds:
        try:
            dated = parse_feed_time(feed.get('data_date'))
        except ValueError as exc:
            raise RiskError('%s: %s feed %s: the recorded feed date is unreadable (%s); rebuild it'
                            % (advisories.path, feed.get('type'), feed.get('src'), exc)) from exc
        what = '%s feed %s is dated %s (%s)' % (feed['type'], feed['src'], feed['data_date'], feed.get('date_source', 'fetched'))
        if dated > now + _FEED_SKEW:
            raise RiskError('%s: %s, in the future: its publisher\'s or this machine\'s clock is wrong, or the feed was altered; '
                            'check the feed and rebuild' % (advisories.path, what))
        limit = policy['max_feed_age_hours'].get(feed['type'], policy['max_advisory_age_hours'])
        feed_age = _hours(now - dated)
        if feed_age > limit:
            reasons.append('%s, %.0f hours ago; the policy allows %d hours (max_feed_age_hours.%s)' % (what, feed_age, limit, feed['type']))
    return reasons


def check_advisory_age(advisories, policy, now, allow_stale):
    """Refuse a database whose build or feeds are older than the policy allows, unless overridden.  Returns a note or None."""
    reasons = stale_reasons(advisories, policy, now)
    if not reasons:
        return None
    message = '%s: %s' % (advisories.path, '; '.join(reasons))
    if not allow_stale:
        raise RiskError(message + '. Refresh the feeds and rebuild it with patchwise.patching.advisory_db, or set '
                        'allow_stale_advisories to assess anyway')
    return message + ': assessed anyway (allow_stale_advisories)'
