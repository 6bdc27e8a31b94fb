#!/usr/bin/env python3
"""Replays the socat transcripts in a Markdown document against a real fdplug-host, one host per
transcript block, and checks that every line the host sends is the documented one (timestamp
values aside), and that the host then exits with status 0.

usage: replay_transcript.py [--socat SOCAT] FDPLUG_HOST DOC.md
  --socat SOCAT  talk through `SOCAT - UNIX-CONNECT:PATH`, exactly as the document tells the
                 reader to; without it, through a socket of this script's own
"""
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

LINE_TIMEOUT = 10  # seconds to wait for one line from the host


def transcripts(doc):
    """Every block: its host arguments and its lines."""
    text = open(doc).read()
    blocks = [(m.group(1).split(), [l for l in m.group(2).splitlines() if l.strip()])
              for m in re.finditer(r'<!-- transcript: (.*?) -->\n```\n(.*?)```', text, re.S)]
    if not blocks:
        sys.exit('no transcript block in ' + doc)
    return blocks


def normalise(line):
    """The line byte for byte, except the digits of an event's timestamp."""
    return re.sub(r'"seconds": \d+, "microseconds": \d+', '"seconds": S, "microseconds": US', line)


class LineReader:
    """Lines (bytes, terminator included) from a file descriptor, with a timeout per line."""

    def __init__(self, fd):
        self.fd, self.buf = fd, b''

    def readline(self):
        deadline = time.monotonic() + LINE_TIMEOUT
        while b'\n' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return b''
            chunk = os.read(self.fd, 65536)
            if not chunk:
                break
            self.buf += chunk
        line, sep, self.buf = self.buf.partition(b'\n')
        return line + sep


class SocketClient:
    def __init__(self, path):
        # The socket's file appears at bind(), a moment before listen(): a connect in between
        # is refused, so retry for up to 5 s.
        self.sock = socket.socket(socket.AF_UNIX)
        for attempt in range(250):
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if attempt == 249:
                    raise
                time.sleep(0.02)
        self.reader = LineReader(self.sock.fileno())

    def send(self, data):
        self.sock.sendall(data)

    def readline(self):
        return self.reader.readline()

    def close(self):
        self.sock.close()


class SocatClient:
    def __init__(self, socat, path):
        self.proc = subprocess.Popen([socat, '-', 'UNIX-CONNECT:' + path],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.reader = LineReader(self.proc.stdout.fileno())

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def readline(self):
        return self.reader.readline()

    def close(self):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    args = sys.argv[1:]
    socat = None
    if args[:1] == ['--socat']:
        socat, args = args[1], args[2:]
    host, doc = args
    results = [replay(host, socat, host_args, lines) for host_args, lines in transcripts(doc)]
    return 1 if any(results) else 0


def replay(host, socat, host_args, lines):
    tmp = tempfile.mkdtemp(prefix='fdplug-transcript.')
    path = os.path.join(tmp, 'qmp.sock')
    proc = subprocess.Popen([host] + host_args + ['-qmp', 'unix:%s,server=on,wait=off' % path])
    client = None
    try:
        for _ in range(250):
            if os.path.exists(path) or proc.poll() is not None:
                break
            time.sleep(0.02)
        client = SocatClient(socat, path) if socat else SocketClient(path)
        failures = 0
        for line in lines:
            direction, payload = line[:2], line[3:]
            if direction == '->':
                client.send(payload.encode() + b'\n')
                continue
            got = client.readline().decode()
            if not got.endswith('\r\n'):
                print('line not CRLF-terminated: %r' % got)
                failures += 1
            if normalise(got.strip()) != normalise(payload):
                print('expected: %s\n     got: %s' % (payload, got.strip()))
                failures += 1
        client.close()
        client = None
        if proc.poll() is None:  # a transcript that does not end in quit: SIGTERM, as libqtest
            proc.terminate()
        status = proc.wait(10)
        if status != 0:
            print('fdplug-host exited with status %d' % status)
            failures += 1
        print('%d lines, %d failures%s' % (len(lines), failures, ' (through socat)' if socat else ''))
        return 1 if failures else 0
    finally:
        if client:
            client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
