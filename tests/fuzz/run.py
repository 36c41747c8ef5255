#!/usr/bin/env python3
"""Runs one libFuzzer target for the test suite: run.py TARGET ARGS...

meson reads an exit status of 77 as "skipped", and 77 is libFuzzer's default
for a crash, a failed check, a leak and a target that exits
(-error_exitcode); a timeout is 70 (-timeout_exitcode), an out-of-memory 71.
A failing run would show as SKIP and CI would count it as no failure at all. Here every
end but status 0 becomes status 1, which meson calls FAIL, with one line
saying how the target ended; whatever libFuzzer printed comes before it.
"""
import signal
import subprocess
import sys

# What libFuzzer's (clang 14) exit codes mean, as run_test.py saw them.
LIBFUZZER_CODES = {
    77: "a crash, failed check, leak or exit (libFuzzer's -error_exitcode)",
    70: "a timeout (libFuzzer's -timeout_exitcode)",
    71: "an out-of-memory (-rss_limit_mb, -malloc_limit_mb)",
    72: "an interrupt (libFuzzer's -interrupted_exitcode)",
}


def describe(rc):
    if rc < 0:
        try:
            return "signal " + signal.Signals(-rc).name
        except ValueError:
            return "signal %d" % -rc
    return "status %d: %s" % (rc, LIBFUZZER_CODES.get(rc, "a failure"))


def main():
    if len(sys.argv) < 2:
        print("usage: run.py TARGET [LIBFUZZER ARGS...]", file=sys.stderr)
        return 2
    rc = subprocess.call(sys.argv[1:])
    if rc == 0:
        return 0
    print("run.py: %s ended with %s: FAIL" % (sys.argv[1], describe(rc)), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
