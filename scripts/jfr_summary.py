#!/usr/bin/env python3
"""Summarises a JFR recording's execution samples: top self (leaf) methods and inclusive shares.

  jfr print --events jdk.ExecutionSample --stack-depth 64 rec.jfr > samples.txt
  scripts/jfr_summary.py samples.txt [--focus io.github.mxe2ee.benchmarks.MegolmBenchmark.decrypt]

Only stacks that contain --focus (default: any mxe2ee benchmark method) are counted, so JMH's own
threads and the JIT do not dilute the shares. Used by the profiling notes in docs/PERFORMANCE.md.
"""
import argparse
import collections
import re
import sys

FRAME = re.compile(r"^\s+([\w$.<>]+)\(.*\)\s+line:")


def stacks(path):
    cur = None
    with open(path) as f:
        for line in f:
            if line.startswith("jdk.ExecutionSample"):
                cur = []
            elif cur is not None and line.strip().startswith("stackTrace"):
                continue
            elif cur is not None:
                m = FRAME.match(line)
                if m:
                    cur.append(m.group(1))
                elif line.strip() in ("]", "}") and cur:
                    yield cur
                    cur = None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("samples")
    p.add_argument("--focus", default="io.github.mxe2ee.benchmarks.")
    p.add_argument("--top", type=int, default=15)
    p.add_argument(
        "--inclusive",
        nargs="*",
        default=[],
        help="method name prefixes to report inclusive shares for",
    )
    a = p.parse_args()
    leaf = collections.Counter()
    incl = collections.Counter()
    total = 0
    for st in stacks(a.samples):
        if not any(fr.startswith(a.focus) for fr in st):
            continue
        total += 1
        leaf[st[0]] += 1
        seen = set()
        for fr in st:
            for pre in a.inclusive:
                if fr.startswith(pre) and pre not in seen:
                    seen.add(pre)
                    incl[pre] += 1
    if total == 0:
        print("no samples matched", file=sys.stderr)
        return
    print(f"samples: {total}")
    print("inclusive (share of samples with the method on the stack):")
    for pre in a.inclusive:
        print(f"  {incl[pre] / total * 100:5.1f}%  {pre}")
    print("top self (leaf) methods:")
    for m, c in leaf.most_common(a.top):
        print(f"  {c / total * 100:5.1f}%  {m}")


if __name__ == "__main__":
    main()
