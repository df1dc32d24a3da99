#!/usr/bin/env python3
"""Writes the table of every action tide serves, with the protocols each is reached by, into
docs/api.md (between the "every-action" markers), from the action table's rows
(src/api/action_table.cc and the stacks' src/stacks/actions.cc).

  scripts/gen_action_docs.py          # rewrite the table
  scripts/gen_action_docs.py --check  # exit 1 if the table is not what the rows say (a test)
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = ["src/api/action_table.cc", "src/stacks/actions.cc"]
DOC = os.path.join(ROOT, "docs", "api.md")
BEGIN = "<!-- every-action: written by scripts/gen_action_docs.py -->"
END = "<!-- /every-action -->"

# The action table's service → (what AWS calls it, the protocols tide serves it in).
SERVICES = {
    "ec2": ("EC2", "EC2 query"),
    "autoscaling": ("Auto Scaling", "query"),
    "elbv2": ("Elastic Load Balancing v2", "query"),
    "monitoring": ("CloudWatch", "query, AWS JSON 1.0, Smithy RPC v2 CBOR"),
    "cloudformation": ("CloudFormation", "query"),
    "sts": ("STS", "query"),
    "ssm": ("Systems Manager", "AWS JSON 1.1"),
    "acm": ("Certificate Manager", "AWS JSON 1.1"),
    "tide": ("tide", "tide's JSON only"),
}

ROW = re.compile(r'^\s*\{"([A-Za-z0-9]+)", "([a-z0-9]+)", [A-Za-z0-9_:]+\},?\s*$')


def rows():
    found = []
    for path in SOURCES:
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            for line in f:
                m = ROW.match(line)
                if m:
                    found.append((m.group(2), m.group(1)))
    return found


def table():
    by_service = {}
    for service, name in rows():
        by_service.setdefault(service, []).append(name)
    unknown = set(by_service) - set(SERVICES)
    if unknown:
        sys.exit(f"gen_action_docs: services without a row in SERVICES: {sorted(unknown)}")
    lines = [BEGIN, "",
             "| service | protocols (and tide's JSON) | actions |", "|---|---|---|"]
    total = 0
    for service, (title, protocols) in SERVICES.items():
        names = sorted(by_service.get(service, []))
        if not names:
            continue
        total += len(names)
        lines.append(f"| {title} (`{service}`) | {protocols} | " +
                     ", ".join(names) + " |")
    lines += ["", f"{total} actions.", "", END]
    return "\n".join(lines)


def main():
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        sys.exit(f"gen_action_docs: {DOC} has no {BEGIN} ... {END} section")
    before, rest = doc.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    new = before + table() + after
    if "--check" in sys.argv[1:]:
        if new != doc:
            sys.exit("docs/api.md's table of every action is not the action table's: run "
                     "scripts/gen_action_docs.py")
        return
    with open(DOC, "w", encoding="utf-8") as f:
        f.write(new)


if __name__ == "__main__":
    main()
