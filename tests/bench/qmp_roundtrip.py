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


class RoundTripError(Exception):
    pass


def measure(binary, n=2000, extra=None, quiet=False):
    """Starts binary with extra args and a QMP socket, negotiates, times n query-status round
    trips one at a time; returns {'median_us', 'p99_us', 'min_us', 'n'}. Raises RoundTripError
    if a reply is not a return or the host does not exit 0 on SIGTERM. quiet: the host's stderr
    goes to /dev/null (QEMU says 'terminating on signal 15')."""
    extra = extra or ['-machine', 'pc']
    tmp = tempfile.mkdtemp(prefix='fdplug-bench.')
    path = os.path.join(tmp, 'qmp.sock')
    proc = subprocess.Popen([binary] + extra + ['-qmp', 'unix:%s,server=on,wait=off' % path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL if quiet else None)
    try:
        # The socket's file appears at bind(), a moment before listen(): until then a connect
        # is refused, so retry (for up to 5 s) rather than take the first refusal as final.
        sock = socket.socket(socket.AF_UNIX)
        for attempt in range(500):
            try:
                sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if attempt == 499 or proc.poll() is not None:
                    raise
                time.sleep(0.01)
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
                raise RoundTripError('not a return: %r' % line)
        samples.sort()
        sock.close()
        proc.terminate()
        status = proc.wait(10)
        if status != 0:
            raise RoundTripError('%s exited with status %d on SIGTERM' % (os.path.basename(binary), status))
        return {'median_us': statistics.median(samples) / 1000,
                'p99_us': samples[int(len(samples) * 0.99)] / 1000,
                'min_us': samples[0] / 1000, 'n': n}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    try:
        r = measure(binary, n, sys.argv[3:])
    except RoundTripError as e:
        print(e)
        return 1
    print('%s: query-status round trip over %d requests: median %.1f us, p99 %.1f us, min %.1f us'
          % (os.path.basename(binary), n, r['median_us'], r['p99_us'], r['min_us']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
