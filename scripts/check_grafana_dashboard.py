#!/usr/bin/env python3
"""Checks docs/grafana/tide-dashboard.json: it is JSON, every panel has a Prometheus query, and
every tide_* metric a query names is in a scrape of /metrics (a file in Prometheus's text
format). Exits 1 naming what is wrong.

    python3 scripts/check_grafana_dashboard.py docs/grafana/tide-dashboard.json scrape.txt
"""

import json
import re
import sys

METRIC = re.compile(r"\btide_[a-z0-9_]+")


def exposed_names(scrape_text):
    names = set()
    for line in scrape_text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def problems(dashboard, scrape_text):
    names = exposed_names(scrape_text)
    found = []
    panels = dashboard.get("panels") or []
    if not panels:
        found.append("the dashboard has no panels")
    for panel in panels:
        targets = panel.get("targets") or []
        if not targets:
            found.append(f"panel {panel.get('title')!r} has no query")
        for t in targets:
            for metric in METRIC.findall(t.get("expr", "")):
                if metric not in names:
                    found.append(f"panel {panel.get('title')!r}: {metric} is not in the scrape")
    return found


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        dashboard = json.load(f)
    with open(argv[2]) as f:
        scrape_text = f.read()
    found = problems(dashboard, scrape_text)
    for p in found:
        print(p, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
