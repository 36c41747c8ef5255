#!/usr/bin/env python3
"""The fuzz runner's own test: run_test.py RUN_PY FUZZ_SELFTEST

Runs tests/fuzz/run.py the way the suite runs a target (a seed, a run
count, a timeout) over fuzz_selftest with one input for each way a target
can fail, and checks each ends with status 1 (meson's FAIL), never 77
(meson's SKIP) or 0; an input that fails in no way must end with 0.
"""
import os
import subprocess
import sys
import tempfile

# input -> the status run.py must end with
CASES = [
    ("pass", 0),
    ("abort", 1),
    ("leak", 1),
    ("hang", 1),
    ("oom", 1),
    ("ubsan", 1),
    ("exit77", 1),
]


def main():
    run_py, target = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    bad = []
    with tempfile.TemporaryDirectory() as d:
        for word, want in CASES:
            seed = os.path.join(d, word)
            with open(seed, "wb") as f:
                f.write(word.encode())
            # Only the seed: mutations of "pass" could spell another case.
            cmd = [sys.executable, run_py, target, "-runs=1", "-seed=1", "-timeout=2",
                   "-seed_inputs=" + seed]
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=120, cwd=d)
            print("%-6s -> status %d (want %d)" % (word, p.returncode, want))
            if p.returncode != want:
                bad.append(word)
                sys.stdout.write(p.stdout.decode(errors="replace")[-2000:])
    if bad:
        print("run_test: wrong status for: " + ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
