#!/usr/bin/env python3
"""QEMU 7.2's own QMP tests, tests/qtest/qmp-test and qmp-cmd-test, against fdplug-host.

The two binaries are QEMU's unmodified test programs, built from Debian's QEMU source by
tests/qemu/fetch-build.sh (scripts/setup runs it) into a cache. libqtest starts "the QEMU"
named by QTEST_QEMU_BINARY with QEMU's usual arguments and takes the target architecture from
the name's "-system-<arch>" suffix, so the host is reached through a symlink with such a name.

Each case runs on its own (GLib's -l lists them, -p runs one, --tap reports it): a failed
g_assert aborts the whole test program, so one run per case is what gives every case a result.
Every case's result is printed; the run fails on a case that fails and is not in the accepted
list (tests/qemu/accepted-failures.txt, one "program case: reason" per line), on an accepted
case that passes or no longer exists (so that the list stays true), and on a case with no
result. Exits 77 (skipped) when the binaries are not in the cache.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

PROGRAMS = ["qmp-test", "qmp-cmd-test"]
ARCH = "x86_64"  # what libqtest reads off the symlink's name; prefixes every case path
CASE_TIMEOUT = 60  # seconds; a hang (a reply that never comes) is a failure, not a stuck suite


def find_build(cache):
    """The cache directory holding both programs (fetch-build.sh keeps one per Debian version;
    the newest wins), or None."""
    if not os.path.isdir(cache):
        return None
    found = [os.path.join(cache, d) for d in sorted(os.listdir(cache))
             if all(os.access(os.path.join(cache, d, p), os.X_OK) for p in PROGRAMS)]
    return max(found, key=os.path.getmtime) if found else None


def parse_accepted(path):
    """{(program, case): reason} from the accepted-failures file."""
    accepted = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^(\S+)\s+(/\S+):\s*(\S.*)$", line)
            if not m or m.group(1) not in PROGRAMS:
                sys.exit(f"{path}:{number}: expected 'PROGRAM /case: reason', got {line!r}")
            accepted[(m.group(1), m.group(2))] = m.group(3)
    return accepted


def run(argv, env, timeout):
    """(exit status or None on timeout, stdout, stderr); the whole process group is killed on
    timeout, so no host outlives its test."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, errors="replace", start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err


def list_cases(binary, env):
    status, out, err = run([binary, "-l"], env, CASE_TIMEOUT)
    if status != 0:
        sys.exit(f"{binary} -l failed ({status}):\n{out}{err}")
    return [line.strip() for line in out.splitlines() if line.startswith("/")]


def why(out, err):
    """The line that says why a case failed: GLib's assertion message or the last error line."""
    lines = [line.strip() for line in (err + out).splitlines() if line.strip()]
    for line in lines:
        if "ERROR:" in line or "assertion" in line or "Bail out!" in line:
            return line
    return lines[-1] if lines else "no output"


def run_case(binary, path, env):
    """('pass' | 'fail' | 'skip', detail, seconds) of one case."""
    start = time.monotonic()
    status, out, err = run([binary, "--tap", "-p", path], env, CASE_TIMEOUT)
    seconds = time.monotonic() - start
    if status is None:
        return "fail", f"timed out after {CASE_TIMEOUT} s", seconds
    tap = re.search(r"^(ok|not ok) \d+ (\S+)(.*)$", out, re.M)
    if status == 0 and tap and tap.group(1) == "ok" and tap.group(2) == path:
        return ("skip" if "# SKIP" in tap.group(3) else "pass"), "", seconds
    return "fail", why(out, err), seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", required=True, help="fdplug-host")
    ap.add_argument("--cache", default=os.environ.get("FDPLUG_QEMU_QTEST_CACHE",
                                                      "/var/cache/fdplug/qemu-qtest"),
                    help="fetch-build.sh's cache: one directory per Debian version")
    ap.add_argument("--accepted", required=True, help="accepted-failures list")
    ap.add_argument("--only", help="run only the cases whose path contains this")
    args = ap.parse_args()

    built = find_build(args.cache)
    if not built:
        print(f"SKIP: no qmp-test and qmp-cmd-test in {args.cache}: tests/qemu/fetch-build.sh "
              "(run by scripts/setup) fetches Debian's QEMU source and builds them")
        return 77
    binaries = {p: os.path.join(built, p) for p in PROGRAMS}
    accepted = parse_accepted(args.accepted)
    version_file = os.path.join(built, "version")
    version = open(version_file).read().strip() if os.path.exists(version_file) else "?"
    print(f"QEMU's QMP tests from Debian's qemu {version} against {args.host}")

    with tempfile.TemporaryDirectory(prefix="fdplug-qemu-qmp-") as tmp:
        link = os.path.join(tmp, f"fdplug-system-{ARCH}")
        os.symlink(os.path.abspath(args.host), link)
        env = dict(os.environ, QTEST_QEMU_BINARY=link)
        env.pop("QTEST_LOG", None)
        problems = []
        seen = set()
        counts = {}
        for program, binary in binaries.items():
            for path in list_cases(binary, env):
                case = path[len(f"/{ARCH}"):] if path.startswith(f"/{ARCH}/") else path
                if args.only and args.only not in path:
                    continue
                seen.add((program, case))
                result, detail, seconds = run_case(binary, path, env)
                reason = accepted.get((program, case))
                if result == "fail" and reason:
                    verdict = "accepted failure"
                elif result == "fail":
                    verdict = "FAIL"
                    problems.append(f"{program} {case}: fails and is not accepted: {detail}")
                elif reason:
                    verdict = "UNEXPECTED " + result
                    did = "passes" if result == "pass" else "is skipped"
                    problems.append(f"{program} {case}: {did} but is listed as an accepted "
                                    f"failure: remove it from {args.accepted}")
                else:
                    verdict = result
                counts[verdict] = counts.get(verdict, 0) + 1
                print(f"{program:13} {case:40} {verdict:17} {seconds:5.2f} s"
                      + (f"  {detail}" if detail else ""), flush=True)
        if not args.only:
            for program, case in sorted(set(accepted) - seen):
                problems.append(f"{program} {case}: listed as an accepted failure but no such "
                                "case exists")

    print("summary: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    for p in problems:
        print("ERROR: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
