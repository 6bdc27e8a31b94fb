#!/usr/bin/env python3
"""Round-trip latency of QMP query-status over a UNIX socket: starts the host, negotiates,
sends N requests one at a time and prints the median and 99th percentile.

usage: qmp_roundtrip.py HOST_BINARY [N] [extra host args...]
Works with fdplug-host and with qemu-system-x86_64 (e.g. extra args: -machine pc -S -display none).
Exits 1 if a reply is not a return or the host does not exit 0 on SIGTERM; the 'qmp-roundtrip'
test runs it with a small N so that it keeps working.
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    extra = sys.argv[3:] or ['-machine', 'pc']
    tmp = tempfile.mkdtemp(prefix='fdplug-bench.')
    path = os.path.join(tmp, 'qmp.sock')
    proc = subprocess.Popen([binary] + extra + ['-qmp', 'unix:%s,server=on,wait=off' % path],
                            stdout=subprocess.DEVNULL)
    try:
        for _ in range(500):
            if os.path.exists(path) or proc.poll() is not None:
                break
            time.sleep(0.01)
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(path)
        sock.settimeout(10)
        f = sock.makefile('rb')  # buffered: one read per reply, not one per byte
        assert b'"QMP"' in f.readline()
        sock.sendall(b'{"execute": "qmp_capabilities"}\n')
        assert b'"return"' in f.readline()
        request = b'{"execute": "query-status"}\n'
        samples = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            sock.sendall(request)
            line = f.readline()
            samples.append(time.perf_counter_ns() - t0)
            if b'"return"' not in line:
                print('not a return: %r' % line)
                return 1
        samples.sort()
        print('%s: query-status round trip over %d requests: median %.1f us, p99 %.1f us, min %.1f us'
              % (os.path.basename(binary), n, statistics.median(samples) / 1000,
                 samples[int(len(samples) * 0.99)] / 1000, samples[0] / 1000))
        sock.close()
        proc.terminate()
        status = proc.wait(10)
        if status != 0:
            print('%s exited with status %d on SIGTERM' % (os.path.basename(binary), status))
            return 1
        return 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
