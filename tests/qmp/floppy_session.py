#!/usr/bin/env python3
"""Runs the socat sessions of docs/floppy-management.md (and docs/media.md's) against a real fdplug-host with the floppy
plugin, exactly as the document tells the reader to (socat - UNIX-CONNECT:…), and checks that every
line the host sends is the documented one (timestamp values aside). With --update it writes what
the host said into the document instead, so the transcripts are always real output.

usage: floppy_session.py [--update] SOCAT FDPLUG_HOST PLUGIN_DIR DOC.md

Each session is a block
    <!-- floppy-session NAME: HOST ARGUMENTS -->
    ```
    -> request
    <- reply or event
    ```
The host runs in a scratch directory prepared as the document's set-up shows; the document
names it /tmp/floppy, and the loop device (session "host-drive", which needs root and losetup
and is skipped otherwise) /dev/loop0. Those names are swapped for the real ones both ways. When
the tests run as root the image session's host runs as `nobody`, as a reader's would, so that
file permissions apply.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replay_transcript import SocatClient, normalise  # noqa: E402

DOC_DIR, DOC_LOOP = '/tmp/floppy', '/dev/loop0'
BLOCK = re.compile(r'(<!-- floppy-session (\S+): (.*?) -->\n```\n)(.*?)(```)', re.S)


def td0_crc(data):
    """Teledisk's CRC-16 (docs/media.md#teledisk-td0-files): polynomial 0xA097, from 0."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0xA097 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def blank360_td0():
    """docs/media.md's blank 360K TD0 file (normal compression, a comment, every sector 0xE5)."""
    head = bytearray(b'TD\x00\x00\x15\x00\x01\x80\x00\x02')
    head += td0_crc(head).to_bytes(2, 'little')
    text = b'A 360K disk\x00'
    rest = len(text).to_bytes(2, 'little') + bytes([124, 0, 1, 0, 0, 0]) + text
    body = td0_crc(rest).to_bytes(2, 'little') + rest
    data_crc = td0_crc(bytes([0xE5]) * 512) & 0xFF
    for c in range(40):
        for h in range(2):
            body += bytes([9, c, h, td0_crc(bytes([9, c, h])) & 0xFF])
            for r in range(1, 10):
                body += bytes([c, h, r, 2, 0, data_crc, 5, 0, 1, 0, 1, 0xE5, 0xE5])
    return bytes(head + body + b'\xff')


def prepare(tmp):
    """The set-up of docs/floppy-management.md, in `tmp`."""
    def image(name, size):
        with open(os.path.join(tmp, name), 'wb') as f:
            f.truncate(size)
    for name in ('a.img', 'b.img', 'ro.img', 'disk.img'):
        image(name, 1474560)
    image('odd.img', 1000)
    for name in ('a.img', 'b.img', 'disk.img', 'odd.img'):
        os.chmod(os.path.join(tmp, name), 0o666)  # writable by the reader (or `nobody`)
    os.chmod(os.path.join(tmp, 'ro.img'), 0o444)
    os.mkfifo(os.path.join(tmp, 'fifo.img'))
    with open(os.path.join(tmp, 'blank360.td0'), 'wb') as f:
        f.write(blank360_td0())
    os.chmod(tmp, 0o777)  # the host (maybe `nobody`) makes its socket here


def run_session(socat, host, plugin_dir, args, requests, tmp, loop, unprivileged):
    """Sends the requests; returns every line the host sent, in document form."""
    def to_real(text):
        text = text.replace(DOC_DIR, tmp)
        return text.replace(DOC_LOOP, loop) if loop else text

    def to_doc(text):
        text = text.replace(tmp, DOC_DIR)
        return text.replace(loop, DOC_LOOP) if loop else text

    sock = os.path.join(tmp, 'fdplug.qmp')
    argv = [host, '-plugin-dir', plugin_dir] + to_real(args).split() + \
        ['-qmp', 'unix:%s,server=on,wait=off' % sock]
    if unprivileged and os.geteuid() == 0:
        argv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] + argv
    proc = subprocess.Popen(argv, cwd=tmp)
    client = None
    lines = []
    try:
        for _ in range(250):
            if os.path.exists(sock) or proc.poll() is not None:
                break
            time.sleep(0.02)
        client = SocatClient(socat, sock)

        def receive():
            got = client.readline().decode()
            if got:
                lines.append('<- ' + to_doc(got.rstrip('\r\n')))
            return got

        receive()  # the greeting
        for request in requests:
            lines.append('-> ' + request)
            client.send(to_real(request).encode() + b'\n')
            while '"event"' in receive():  # events come before the reply
                pass
        while receive():  # after quit's reply, its SHUTDOWN event, then the end
            pass
        client.close()
        client = None
        if proc.poll() is None:
            proc.terminate()
        status = proc.wait(10)
        if status != 0:
            lines.append('(fdplug-host exited with status %d)' % status)
        return lines
    finally:
        if client:
            client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def loop_device(image):
    if os.geteuid() != 0 or not shutil.which('losetup') or not os.path.exists('/dev/loop-control'):
        return None
    r = subprocess.run(['losetup', '-f', '--show', image], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.startswith('/dev/loop') else None


def main():
    args = sys.argv[1:]
    update = args[:1] == ['--update']
    if update:
        args = args[1:]
    socat, host, plugin_dir, doc = args
    host, plugin_dir = os.path.abspath(host), os.path.abspath(plugin_dir)
    text = open(doc).read()
    blocks = list(BLOCK.finditer(text))
    if not blocks:
        sys.exit('no floppy-session blocks in ' + doc)
    failures, pieces, last = 0, [], 0
    for m in blocks:
        name, host_args, body = m.group(2), m.group(3), m.group(4)
        documented = [l for l in body.splitlines() if l.strip()]
        requests = [l[3:] for l in documented if l.startswith('-> ')]
        tmp = tempfile.mkdtemp(prefix='fdplug-floppy-doc.')
        loop = None
        try:
            prepare(tmp)
            if name == 'host-drive':
                loop = loop_device(os.path.join(tmp, 'disk.img'))
                if not loop:
                    print('session %s: skipped (no loop device: needs root and losetup)' % name)
                    pieces.append(text[last:m.end()])
                    last = m.end()
                    continue
            got = run_session(socat, host, plugin_dir, host_args, requests, tmp, loop,
                              unprivileged=name != 'host-drive')
        finally:
            if loop:
                subprocess.run(['losetup', '-d', loop])
            shutil.rmtree(tmp, ignore_errors=True)
        if update:
            pieces.append(text[last:m.start()] + m.group(1) + '\n'.join(got) + '\n' + m.group(5))
            last = m.end()
            continue
        bad = 0
        for i in range(max(len(got), len(documented))):
            want = documented[i] if i < len(documented) else '(nothing)'
            have = got[i] if i < len(got) else '(nothing)'
            if normalise(want) != normalise(have):
                print('session %s, line %d:\n  documented: %s\n         got: %s' % (name, i + 1, want, have))
                bad += 1
        print('session %s: %d lines, %d differ' % (name, len(documented), bad))
        failures += bad
    if update:
        pieces.append(text[last:])
        open(doc, 'w').write(''.join(pieces))
        print('updated ' + doc)
        return 0
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
