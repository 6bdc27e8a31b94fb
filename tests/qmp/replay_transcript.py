#!/usr/bin/env python3
"""Replays the socat transcript in a Markdown document against a real fdplug-host and checks
that every line the host sends is the documented one (timestamp values aside).

usage: replay_transcript.py FDPLUG_HOST DOC.md
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time


def transcript(doc):
    text = open(doc).read()
    m = re.search(r'<!-- transcript: (.*?) -->\n```\n(.*?)```', text, re.S)
    if not m:
        sys.exit('no transcript block in ' + doc)
    return m.group(1).split(), [l for l in m.group(2).splitlines() if l.strip()]


def normalise(line):
    """The line byte for byte, except the digits of an event's timestamp."""
    return re.sub(r'"seconds": \d+, "microseconds": \d+', '"seconds": S, "microseconds": US', line)


def main():
    host, doc = sys.argv[1], sys.argv[2]
    args, lines = transcript(doc)
    path = os.path.join(tempfile.mkdtemp(), 'qmp.sock')
    proc = subprocess.Popen([host] + args + ['-qmp', 'unix:%s,server=on,wait=off' % path])
    try:
        for _ in range(200):
            if os.path.exists(path):
                break
            time.sleep(0.02)
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(path)
        f = sock.makefile('rwb', buffering=0)
        failures = 0
        for line in lines:
            direction, payload = line[:2], line[3:]
            if direction == '->':
                f.write(payload.encode() + b'\n')
                continue
            got = f.readline().decode()
            if not got.endswith('\r\n'):
                print('line not CRLF-terminated: %r' % got)
                failures += 1
            if normalise(got.strip()) != normalise(payload):
                print('expected: %s\n     got: %s' % (payload, got.strip()))
                failures += 1
        print('%d passed, %d failed' % (len(lines) - failures, failures))
        return 1 if failures else 0
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == '__main__':
    sys.exit(main())
