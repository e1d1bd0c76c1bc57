# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report as one self-contained HTML page: inline CSS, inline SVG charts, a few lines of inline JavaScript.

Nothing is loaded from anywhere (a Content-Security-Policy says so), so the file can be mailed or kept as a
job artifact.  The charts are drawn here, on the controller: four chart shapes (horizontal stacked bars,
stacked columns, grouped columns, lines) do not justify a dependency, and the Python SVG libraries that
would fit (pygal, matplotlib) are not in the standard library that controller code is limited to.

The page shows aggregates and the first rows of each list ("first N of M"); the complete tables are the
CSV files and the JSON.  The host table holds every host as JSON data; the script sorts it by any column
and pages it; without the script the first page is there as plain HTML.
"""

from __future__ import annotations

import html
import json

from ansible_collections.patchwise.patching.plugins.plugin_utils.report_data import DUE_CLASSES, HOST_TIERS, TIERS

COLOURS = {'critical': '#b91c1c', 'high': '#ea580c', 'medium': '#ca8a04', 'low': '#2563eb', 'none': '#9ca3af', 'other': '#6b7280',
           'compliant': '#15803d', 'non_compliant': '#b91c1c', 'not_assessed': '#9ca3af', 'median': '#2563eb', 'p90': '#93c5fd'}
PAGE_SIZE = 50
# Rows of each list shown on the page; the CSV files and the JSON have them all.
LIST_ROWS = 50
OVERDUE_ROWS = 25

# Host table columns: (label, key in a host row, numeric).
HOST_COLUMNS = (
    ('Host', 'host', False), ('Environment', 'environment', False), ('Patch group', 'patch_group', False), ('OS', 'os', False),
    ('Tier', 'tier', False), ('Compliant', 'compliant', False), ('Open', 'open', True), ('Critical', 'critical', True),
    ('High', 'high', True), ('Overdue', 'overdue', True), ('Oldest overdue', 'oldest_overdue_due', False),
    ('Accepted', 'accepted', True), ('Installed', 'installed', True), ('Installed other', 'installed_other', True),
    ('Pending reboot', 'pending_reboot', True), ('Pending restart', 'pending_restart', True), ('Held', 'held', True),
    ('Rejected', 'rejected', True), ('Missing', 'missing', True), ('Failed', 'failed', True), ('Not applicable', 'not_applicable', True),
    ('Last status', 'last_status', False), ('Last operation', 'last_operation_end', False), ('Run id', 'run_id', False),
    ('Policy', 'policy_fingerprint', False), ('Last seen', 'last_seen', False),
)

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#111827;background:#f9fafb}
header{background:#111827;color:#f9fafb;padding:16px 24px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;color:#d1d5db}main{padding:16px 24px;max-width:1400px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:12px 16px;margin:0 0 16px}
h2{font-size:17px;margin:0 0 8px}h3{font-size:14px;margin:12px 0 6px}
.tiles{display:flex;flex-wrap:wrap;gap:12px}.tile{flex:1 1 150px;border:1px solid #e5e7eb;border-radius:6px;padding:8px 12px;background:#fff}
.tile b{display:block;font-size:24px}.tile span{color:#4b5563}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-weight:600}
.ok{background:#dcfce7;color:#14532d}.bad{background:#fee2e2;color:#7f1d1d}.warn{background:#fef3c7;color:#78350f}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f4f6;position:sticky;top:0}td.n,th.n{text-align:right}
#hosts th{cursor:pointer;white-space:nowrap}#hosts td{white-space:nowrap}#hosts th[aria-sort=ascending]::after{content:" \\25B2"}
#hosts th[aria-sort=descending]::after{content:" \\25BC"}.scroll{overflow-x:auto}
.pager{margin:8px 0;display:flex;gap:8px;align-items:center}.note{color:#4b5563;font-size:12px}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;fill:#111827}
.kev{color:#7f1d1d;font-weight:600}
"""

_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById('host-data').textContent);
  var table = document.getElementById('hosts'), body = table.tBodies[0], info = document.getElementById('host-page');
  var page = 0, size = data.page_size, sortKey = -1, direction = 1;
  function render() {
    var rows = data.rows.slice(page * size, (page + 1) * size);
    body.textContent = '';
    rows.forEach(function (row) {
      var tr = body.insertRow();
      row.forEach(function (value, i) {
        var td = tr.insertCell();
        td.textContent = value === null ? '' : value === true ? 'yes' : value === false ? 'no' : value;
        if (data.numeric[i]) { td.className = 'n'; }
      });
    });
    info.textContent = 'hosts ' + (data.rows.length ? page * size + 1 : 0) + '-' + Math.min((page + 1) * size, data.rows.length) +
      ' of ' + data.rows.length;
  }
  function compare(a, b) {
    var x = a[sortKey], y = b[sortKey];
    if (x === y) { return 0; }
    if (x === null) { return 1; }
    if (y === null) { return -1; }
    return (x < y ? -1 : 1) * direction;
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.addEventListener('click', function () {
      direction = sortKey === i ? -direction : (data.numeric[i] ? -1 : 1);
      sortKey = i;
      data.rows.sort(compare);
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) { other.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', direction === 1 ? 'ascending' : 'descending');
      page = 0;
      render();
    });
  });
  document.getElementById('host-prev').addEventListener('click', function () { if (page > 0) { page -= 1; render(); } });
  document.getElementById('host-next').addEventListener('click', function () {
    if ((page + 1) * size < data.rows.length) { page += 1; render(); }
  });
  render();
}());
"""


def _e(value):
    return html.escape('' if value is None else str(value), quote=True)


def _num(value):
    return '{:,}'.format(value) if isinstance(value, int) and not isinstance(value, bool) else _e(value)


def _script_json(value):
    """JSON safe inside a <script> element: no ``</script>``, no HTML comment openers."""
    return json.dumps(value, separators=(',', ':'), ensure_ascii=False).replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026')


def _scale(maximum):
    """The axis maximum for ``maximum``: four ticks of a round whole step (1, 2, 2.5 or 5 times a power of ten)."""
    step = 1
    while True:
        for factor in (1, 2, 2.5, 5):
            tick = step * factor
            if tick == int(tick) and 4 * tick >= maximum:
                return int(4 * tick)
        step *= 10


def _svg(width, height, title, body):
    return ('<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="%d" height="%d" viewBox="0 0 %d %d">'
            '<title>%s</title>%s</svg>' % (width, height, width, height, _e(title), ''.join(body)))


def _legend(items, x, y):
    parts = []
    for name, colour in items:
        parts.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>' % (x, y, colour, x + 14, y + 9, _e(name)))
        x += 22 + 7 * len(name)
    return ''.join(parts)


def stacked_bars(title, groups, series, width=460):
    """Horizontal bars, one per group ``(label, {series: value})``, each stacked over ``series`` ``[(key, label, colour)]``."""
    label_width, bar_height, gap, top = 120, 18, 6, 24
    height = top + len(groups) * (bar_height + gap) + 10
    total = max([sum(values.get(key, 0) for key, _label, _colour in series) for _name, values in groups] + [0])
    plot = width - label_width - 60
    body = [_legend([(label, colour) for _key, label, colour in series], label_width, 4)]
    for index, (name, values) in enumerate(groups):
        y = top + index * (bar_height + gap)
        body.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (label_width - 6, y + 13, _e(name)))
        x = label_width
        group_total = sum(values.get(key, 0) for key, _label, _colour in series)
        for key, label, colour in series:
            value = values.get(key, 0)
            if value:
                length = plot * value / total if total else 0
                body.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s %s</title></rect>'
                            % (x, y, length, bar_height, colour, _e(name), _num(value), _e(label)))
                x += length
        body.append('<text x="%.1f" y="%d">%s</text>' % (x + 4, y + 13, _num(group_total)))
    return _svg(width, height, title, body)


def stacked_columns(title, categories, series, *, width=460, height=240):
    """Vertical columns, one per category ``(label, {series: value})``, stacked over ``series``."""
    left, bottom, top = 56, 24, 26
    plot_h = height - bottom - top
    maximum = _scale(max([sum(values.values()) for _label, values in categories] + [0]))
    slot = (width - left - 10) / max(1, len(categories))
    body = [_legend([(label, colour) for _key, label, colour in series], left, 4)]
    for tick in range(5):
        value = maximum * tick / 4
        y = top + plot_h - plot_h * tick / 4
        body.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e5e7eb"/><text x="%d" y="%.1f" text-anchor="end">%s</text>'
                    % (left, width - 10, y, y, left - 4, y + 4, _num(int(value))))
    for index, (label, values) in enumerate(categories):
        x = left + index * slot + slot * 0.2
        y = top + plot_h
        for key, name, colour in series:
            value = values.get(key, 0)
            if value:
                h = plot_h * value / maximum
                y -= h
                body.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s</title></rect>'
                            % (x, y, slot * 0.6, h, colour, _e(label), _e(name), _num(value)))
        body.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x + slot * 0.3, height - 6, _e(label)))
    return _svg(width, height, title, body)


def grouped_columns(title, categories, series, *, unit='', width=460, height=240):
    """Columns side by side per category ``(label, {series: value or None})``."""
    left, bottom, top = 56, 24, 26
    plot_h = height - bottom - top
    maximum = _scale(max([value or 0 for _label, values in categories for value in values.values()] + [0]))
    slot = (width - left - 10) / max(1, len(categories))
    body = [_legend([(label, colour) for _key, label, colour in series], left, 4)]
    for tick in range(5):
        y = top + plot_h - plot_h * tick / 4
        body.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e5e7eb"/><text x="%d" y="%.1f" text-anchor="end">%s%s</text>'
                    % (left, width - 10, y, y, left - 4, y + 4, _num(int(maximum * tick / 4)), _e(unit)))
    column = slot * 0.7 / max(1, len(series))
    for index, (label, values) in enumerate(categories):
        x = left + index * slot + slot * 0.15
        for key, name, colour in series:
            value = values.get(key)
            if value:
                h = plot_h * value / maximum
                body.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s%s</title></rect>'
                            % (x, top + plot_h - h, column, h, colour, _e(label), _e(name), _num(value), _e(unit)))
            x += column
        body.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (left + index * slot + slot / 2, height - 6, _e(label)))
    return _svg(width, height, title, body)


def lines(title, labels, series, *, width=460, height=240):
    """Lines over ``labels`` (x axis), one per ``(name, colour, [value])``."""
    left, bottom, top = 56, 24, 26
    plot_h, plot_w = height - bottom - top, width - left - 44
    maximum = _scale(max([value for _name, _colour, values in series for value in values] + [0]))
    body = [_legend([(name, colour) for name, colour, _values in series], left, 4)]
    for tick in range(5):
        y = top + plot_h - plot_h * tick / 4
        body.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e5e7eb"/><text x="%d" y="%.1f" text-anchor="end">%s</text>'
                    % (left, left + plot_w, y, y, left - 4, y + 4, _num(int(maximum * tick / 4))))
    step = plot_w / max(1, len(labels) - 1)
    every = max(1, len(labels) // 6)
    for index, label in enumerate(labels):
        if index % every == 0 or index == len(labels) - 1:
            body.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (left + index * step, height - 6, _e(label)))
    for name, colour, values in series:
        points = ['%.1f,%.1f' % (left + index * step, top + plot_h - plot_h * value / maximum) for index, value in enumerate(values)]
        if points:
            body.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>' % (colour, ' '.join(points), _e(name)))
            for index, point in enumerate(points):
                x, y = point.split(',')
                body.append('<circle cx="%s" cy="%s" r="3" fill="%s"><title>%s %s: %s</title></circle>'
                            % (x, y, colour, _e(name), _e(labels[index]), _num(values[index])))
    return _svg(width, height, title, body)


def _table(headers, rows, numeric=()):
    head = ''.join('<th%s>%s</th>' % (' class="n"' if index in numeric else '', _e(header)) for index, header in enumerate(headers))
    body = ''.join('<tr>%s</tr>' % ''.join('<td%s>%s</td>' % (' class="n"' if index in numeric else '', cell) for index, cell in enumerate(row))
                   for row in rows)
    return '<div class="scroll"><table><thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>' % (head, body)


def _first_of(shown, total, where):
    if total <= shown:
        return ''
    return '<p class="note">First %s of %s; all of them are in %s.</p>' % (_num(shown), _num(total), _e(where))


def _header(document):
    audit = document['audit']
    if not audit['checked']:
        badge = '<span class="badge warn">audit trail not checked: %s</span>' % _e(audit['reason'])
    elif audit['valid']:
        badge = '<span class="badge ok">audit trail valid: %s records, head %s</span>' % (
            _num(audit['records']), 'anchored off-host' if audit['anchored'] else 'not anchored (no expected head given)')
    else:
        badge = '<span class="badge bad">audit trail INVALID: %s%s</span>' % (
            'first bad record at line %s: ' % _num(audit['first_bad_line']) if audit['first_bad_line'] else '', _e(audit['reason']))
    filters = document['filters']
    shown = ', '.join('%s %s' % (name, _e(', '.join(value) if isinstance(value, list) else value))
                      for name, value in sorted(filters.items()) if value not in (None, [], ''))
    return ('<header><h1>Patch compliance report</h1><p>Generated %s from %s; last run %s; policy %s</p>'
            '<p>Filters: %s</p><p id="audit">%s</p></header>'
            % (_e(document['generated_at']), _e(document['asset_db']), _e(document['run_id'] or 'none'),
               _e((document['policy']['fingerprint'] or {}).get('sha256', 'not given')[:16]), shown or 'none', badge))


def _tiles(document):
    fleet, summary = document['fleet'], document['findings_summary']
    compliance = document['compliance']['fleet'] or {}
    tiles = (
        ('Hosts', _num(fleet['hosts'])), ('Compliant', '%s%%' % compliance.get('percent') if compliance.get('percent') is not None else 'n/a'),
        ('Open findings', _num(summary['open'])), ('Overdue', _num(summary['overdue'])), ('KEV overdue', _num(summary['kev_overdue'])),
        ('Accepted', _num(summary['accepted'])), ('Stale hosts', _num(fleet['stale'])),
    )
    return '<section><div class="tiles">%s</div></section>' % ''.join('<div class="tile"><b>%s</b><span>%s</span></div>' % (value, _e(name))
                                                                      for name, value in tiles)


_COMPLIANCE_SERIES = (('compliant', 'compliant', COLOURS['compliant']), ('non_compliant', 'not compliant', COLOURS['non_compliant']),
                      ('not_assessed', 'not assessed', COLOURS['not_assessed']))
_TIER_SERIES = tuple((tier, tier, COLOURS[tier]) for tier in TIERS)


def _charts(document):
    compliance = document['compliance']
    summary = document['findings_summary']
    by_class = summary['by_tier_and_due_class']
    trend = document['trend']
    ttr = document['time_to_remediate']
    charts = [
        '<div><h3>Compliance by host tier</h3>%s</div>' % stacked_bars(
            'Hosts compliant by tier', [(group['name'], group) for group in compliance['by_tier']], _COMPLIANCE_SERIES),
        '<div><h3>Open findings by BOD 26-04 due class and tier</h3>%s</div>' % stacked_columns(
            'Open findings by due class', [(name, {tier: by_class[tier][name] for tier in TIERS})
                                           for name in (*DUE_CLASSES, 'other') if name != 'other' or summary['by_due_class']['other']],
            _TIER_SERIES),
        '<div><h3>Open findings over the last %d runs</h3>%s</div>' % (len(trend), lines(
            'Open findings by tier per run', [point['at'][:10] for point in trend],
            [(tier, COLOURS[tier], [point['open'][tier] for point in trend]) for tier in TIERS])),
        '<div><h3>Hosts compliant over the last %d runs</h3>%s</div>' % (len(trend), lines(
            'Hosts compliant per run', [point['at'][:10] for point in trend],
            [('hosts compliant', COLOURS['compliant'], [point['hosts_compliant'] for point in trend]),
             ('hosts', COLOURS['none'], [point['hosts'] for point in trend])])),
        '<div><h3>Time to remediate (days, first seen to closed)</h3>%s</div>' % grouped_columns(
            'Time to remediate by tier', [(tier, {'median': ttr[tier]['median_days'], 'p90': ttr[tier]['p90_days']}) for tier in TIERS],
            (('median', 'median', COLOURS['median']), ('p90', '90th percentile', COLOURS['p90'])), unit=' d'),
    ]
    return '<section><h2>Fleet compliance</h2><div class="grid">%s</div></section>' % ''.join(charts)


def _compliance_tables(document):
    parts = ['<section><h2>Compliance by environment, patch group and OS</h2>'
             '<p class="note">A host is compliant when none of its open findings is past its due date; accepted findings do not count.</p>'
             '<div class="grid">']
    for key, title in (('by_environment', 'Environment'), ('by_patch_group', 'Patch group'), ('by_os', 'Operating system')):
        groups = document['compliance'][key]
        shown = groups[:LIST_ROWS]
        parts.append('<div><h3>%s</h3>%s%s</div>' % (_e(title), _table(
            (title, 'Hosts', 'Compliant', 'Not compliant', 'Not assessed', '%'),
            [(_e(group['name']), _num(group['hosts']), _num(group['compliant']), _num(group['non_compliant']), _num(group['not_assessed']),
              _e(group['percent']) if group['percent'] is not None else 'n/a') for group in shown], numeric=(1, 2, 3, 4, 5)),
            _first_of(len(shown), len(groups), 'the JSON')))
    parts.append('</div></section>')
    return ''.join(parts)


def _overdue(document):
    overdue = document['overdue']
    top = overdue['top'][:OVERDUE_ROWS]
    rows = [('<span class="kev">KEV</span>' if item['kev'] else '', _e(item['host']), _e(item['id']), _e(item['package']), _e(item['tier']),
             _e(item['due_class']), _e(item['due']), _num(item['days_late']), _e(item['installed']), _e(item['fixed'])) for item in top]
    return ('<section><h2>Overdue findings</h2><p>%s open findings are past their due date (%s of them in the CISA KEV catalog). '
            'Known exploited first, then the longest overdue.</p>%s%s</section>'
            % (_num(overdue['total']), _num(overdue['kev']),
               _table(('', 'Host', 'Finding', 'Package', 'Tier', 'Due class', 'Due', 'Days late', 'Installed', 'Fixed in'), rows, numeric=(7,)),
               _first_of(len(top), overdue['total'], 'the overdue CSV')))


def _host_row(host):
    values = []
    for _label, key, _numeric in HOST_COLUMNS:
        if key in TIERS:
            values.append(host['open_by_tier'][key])
        elif key in host['states']:
            values.append(host['states'][key])
        elif key == 'policy_fingerprint':
            values.append((host[key] or '')[:12] or None)
        else:
            values.append(host[key])
    return values


def _hosts(document):
    hosts = sorted(document['hosts'], key=lambda host: (-(host['overdue'] or 0), -(host['open'] or 0), host['host']))
    rows = [_host_row(host) for host in hosts]
    numeric = [numeric for _label, _key, numeric in HOST_COLUMNS]
    head = ''.join('<th%s>%s</th>' % (' class="n"' if numeric[index] else '', _e(label)) for index, (label, _key, _n) in enumerate(HOST_COLUMNS))

    def cell(value, index):
        text = 'yes' if value is True else 'no' if value is False else _num(value) if numeric[index] else _e(value)
        return '<td%s>%s</td>' % (' class="n"' if numeric[index] else '', text)

    first_page = ''.join('<tr>%s</tr>' % ''.join(cell(value, index) for index, value in enumerate(row)) for row in rows[:PAGE_SIZE])
    return ('<section><h2>Hosts</h2><p class="note">Patch state counts of each host\'s last patch run (system and applications), '
            'after AWS Patch Manager\'s states. Click a column to sort; the hosts CSV has every column.</p>'
            '<div class="pager"><button type="button" id="host-prev">Previous</button><button type="button" id="host-next">Next</button>'
            '<span id="host-page">hosts 1-%d of %d</span></div>'
            '<div class="scroll"><table id="hosts"><thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>'
            '<script type="application/json" id="host-data">%s</script></section>'
            % (min(PAGE_SIZE, len(rows)), len(rows), head, first_page,
               _script_json({'rows': rows, 'numeric': numeric, 'page_size': PAGE_SIZE})))


def _changes(document):
    changes = document['changes']
    hosts = changes['hosts']
    scope = ('run %s' % changes['run_id']) if changes['run_id'] else 'from %s to %s' % (changes['since'] or 'the start', changes['until'] or 'now')
    rows = []
    for host in hosts[:LIST_ROWS]:
        packages = ', '.join('%s %s \u2192 %s' % (_e(item['name']), _e(item['from'] or '-'), _e(item['to'] or '-')) for item in host['packages'][:20])
        if len(host['packages']) > 20:
            packages += ' (and %d more)' % (len(host['packages']) - 20)
        apps = ', '.join('%s %s \u2192 %s%s' % (_e(app['name']), _e(app['from']), _e(app['to']), ' (rolled back)' if app['rolled_back'] else '')
                         for app in host['applications'])
        events = [name for name, flag in (('rebooted', host['reboot']), ('rolled back', host['rolled_back'])) if flag]
        if host['incident']:
            incident = host['incident']
            events.append('incident %s' % (incident.get('id') if isinstance(incident, dict) else incident))
        rows.append((_e(host['host']), _e(host['status']), packages, apps, _e(', '.join(host['restarted'])), _e(', '.join(events)),
                     _e(host['reason'])))
    headers = ('Host', 'Status', 'Packages (old \u2192 new)', 'Applications', 'Restarted', 'Events', 'Reason')
    return ('<section><h2>What changed (%s)</h2><p>%s hosts changed or were refused.</p>%s%s</section>'
            % (_e(scope), _num(len(hosts)), _table(headers, rows), _first_of(min(len(hosts), LIST_ROWS), len(hosts), 'the changes CSV')))


def _exceptions(document):
    exceptions = document['exceptions']
    policy_rows = [('<span class="badge warn">expires soon</span>' if entry['expiring_soon'] else '', _e(entry['type']), _e(entry['finding']),
                    _e(entry['package']), _e(entry['host']), _e(entry['owner']), _e(entry['reason']), _e(entry['expires'] or 'no expiry'),
                    _num(entry['days_left']) if entry['days_left'] is not None else '') for entry in exceptions['policy']]
    stored = exceptions['stored']
    stored_rows = [('<span class="badge warn">expires soon</span>' if entry['expiring_soon'] else '', _e(entry['type']), _e(entry['owner']),
                    _e(entry['reason']), _e(entry['expires'] or 'no expiry'), _num(entry['findings'])) for entry in stored[:LIST_ROWS]]
    return ('<section><h2>Accepted risks and holds</h2><h3>In the policy (expiring soonest first)</h3>%s'
            '<h3>In force on the fleet\'s findings</h3>%s%s</section>'
            % (_table(('', 'Type', 'Finding', 'Package', 'Host', 'Owner', 'Reason', 'Expires', 'Days left'), policy_rows, numeric=(8,))
               if policy_rows else '<p>The policy has no acceptances or holds.</p>',
               _table(('', 'Type', 'Owner', 'Reason', 'Expires', 'Findings'), stored_rows, numeric=(5,)) if stored_rows else
               '<p>No finding is accepted or held.</p>', _first_of(len(stored_rows), len(stored), 'the exceptions CSV')))


def _applications(document):
    apps = document['applications']
    rows = [(_e(app['name']), _num(app['hosts']), _num(app['open']), _num(app['overdue']), _num(app['kev'])) for app in apps[:LIST_ROWS]]
    return ('<section><h2>Applications</h2><p>Applications apart from the operating system: %s open findings.</p>%s%s</section>'
            % (_num(document['findings_summary']['app_open']),
               _table(('Application', 'Hosts', 'Open findings', 'Overdue', 'KEV'), rows, numeric=(1, 2, 3, 4)) if rows else
               '<p>No applications were discovered.</p>', _first_of(len(rows), len(apps), 'the JSON')))


def _stale(document):
    stale = document['stale_hosts']
    rows = [(_e(host['host']), _e(host['last_seen'])) for host in stale[:LIST_ROWS]]
    return ('<section><h2>Stale hosts</h2><p>%s hosts not seen for more than %s days.</p>%s%s</section>'
            % (_num(len(stale)), _num(document['fleet']['stale_after_days']),
               _table(('Host', 'Last seen'), rows) if rows else '', _first_of(len(rows), len(stale), 'the hosts CSV')))


def write_html(report, handle):
    """Write the report's page to the text ``handle``."""
    document = report.document
    handle.write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                 '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
                 'script-src \'unsafe-inline\'; img-src data:">'
                 '<meta name="viewport" content="width=device-width, initial-scale=1">'
                 '<meta name="patchwise-report-digest" content="%s">'
                 '<title>Patch compliance report %s</title><style>%s</style></head><body>'
                 % (_e(document['content_digest']), _e(document['generated_at']), _CSS))
    handle.write(_header(document))
    handle.write('<main>')
    for part in (_tiles, _charts, _overdue, _hosts, _changes, _exceptions, _compliance_tables, _applications, _stale):
        handle.write(part(document))
    handle.write('<p class="note">Report schema %d. Hosts by tier: %s.</p></main><script>%s</script></body></html>\n'
                 % (document['schema'], ', '.join('%s %s' % (tier, _num(document['fleet']['hosts_by_tier'][tier])) for tier in HOST_TIERS), _SCRIPT))
