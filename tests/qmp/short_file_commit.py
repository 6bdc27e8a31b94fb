#!/usr/bin/env python3
"""docs/media.md's example of a short raw file and a commit (section "Short raw files and a
commit"), run against a real fdplug-host with the floppy plugin: a guest (driven over qtest: DMA
channel 2 and WRITE DATA through the controller's ports) writes to a 1 296 384-byte image taken
as a 1.44M disk, attached directly and then transient, and floppy-commit-image is sent over QMP.
It prints what happened; with --doc it also checks that docs/media.md shows exactly that output.

usage: short_file_commit.py [--doc DOC.md] FDPLUG_HOST PLUGIN_DIR
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

SHORT_BYTES = 1296384  # 2 532 sectors: a size in no format, taken as a 1.44M disk
HOST_ARGS = ['-machine', 'pc', '-nodefaults', '-device', 'floppy,id=fd0,drive-type=144',
             '-global', 'isa-fdc.timing=fast', '-display', 'none', '-accel', 'qtest']
IC_TEXT = {0: 'IC = 00, written', 1: 'IC = 01, failed'}
DOC_BLOCK = '<!-- short-file-commit output -->\n```\n'


class Lines:
    """A socket read line by line."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b''

    def send(self, text):
        self.sock.sendall(text.encode() + b'\n')

    def readline(self):
        while b'\n' not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError('the host closed the socket')
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return line.decode().rstrip('\r')


class Guest:
    """The guest's side over qtest: port and memory accesses, IRQ 6."""

    def __init__(self, lines):
        self.q, self.irq6 = lines, False
        self.request('irq_intercept_in ioapic')

    def request(self, text):
        self.q.send(text)
        while True:
            reply = self.q.readline()
            if reply.startswith('IRQ '):
                if reply.split()[-1] == '6':
                    self.irq6 = reply.startswith('IRQ raise')
                continue
            if not reply.startswith('OK'):
                raise RuntimeError('qtest %r: %s' % (text, reply))
            return reply

    def outb(self, port, value):
        self.request('outb 0x%x 0x%x' % (port, value))

    def inb(self, port):
        return int(self.request('inb 0x%x' % port).split()[1], 16)

    def wait_irq(self):
        for _ in range(1000):
            self.inb(0x80)  # a round trip delivers the IRQ lines sent before it
            if self.irq6:
                return
            self.request('clock_step')
        raise RuntimeError('no interrupt from the floppy controller')

    def send(self, *command):
        for byte in command:
            if self.inb(0x3F4) & 0xC0 != 0x80:
                raise RuntimeError('controller not ready for byte 0x%02x' % byte)
            self.outb(0x3F5, byte)

    def result(self, count):
        return [self.inb(0x3F5) for _ in range(count)]

    def seek(self, cylinder):
        self.send(0x0F, 0, cylinder)
        self.wait_irq()
        self.send(0x08)  # SENSE INTERRUPT
        return self.result(2)[1]

    def write(self, c, h, r, byte):
        """WRITE DATA of one 512-byte sector of `byte` from 0x30000 by DMA; ST0."""
        self.request('memset 0x30000 0x200 0x%02x' % byte)
        # Channel 2: mask, flip-flop, mode (single, increment, memory to device), address,
        # page, count - 1, unmask.
        for port, value in ((0x0A, 0x06), (0x0C, 0), (0x0B, 0x4A), (0x04, 0), (0x04, 0),
                            (0x81, 3), (0x05, 0xFF), (0x05, 0x01), (0x0A, 0x02)):
            self.outb(port, value)
        self.irq6 = False
        self.send(0x45, h << 2, c, h, r, 2, 18, 0x1B, 0xFF)
        self.wait_irq()
        return self.result(7)[0]


def listen(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(1)
    sock.settimeout(30)
    return sock


def run(host, plugin_dir, tmp):
    """The example; the lines it prints, with the scratch directory shown as /tmp/floppy."""
    out = []
    image = os.path.join(tmp, 'short.img')
    original = bytes(i // 512 & 0xFF for i in range(SHORT_BYTES))
    with open(image, 'wb') as f:
        f.write(original)
    qtest_path, qmp_path = os.path.join(tmp, 'qtest.sock'), os.path.join(tmp, 'qmp.sock')
    qtest_listen, qmp_listen = listen(qtest_path), listen(qmp_path)
    proc = subprocess.Popen([host, '-plugin-dir', plugin_dir, '-qtest', 'unix:' + qtest_path,
                             '-chardev', 'socket,path=%s,id=qmp' % qmp_path,
                             '-qtest-log', '/dev/null', '-mon', 'chardev=qmp,mode=control'] +
                            HOST_ARGS)
    try:
        guest = Guest(Lines(qtest_listen.accept()[0]))
        qmp = Lines(qmp_listen.accept()[0])
        qmp.readline()  # the greeting

        def execute(command, **arguments):
            request = {'execute': command}
            if arguments:
                request['arguments'] = arguments
            qmp.send(json.dumps(request))
            out.append('-> ' + json.dumps(request).replace(tmp, '/tmp/floppy'))
            while True:
                reply = json.loads(qmp.readline())
                if 'event' not in reply:
                    text = json.dumps(reply).replace(tmp, '/tmp/floppy')
                    out.append('<- ' + text)
                    return reply

        def write(c, h, r, byte):
            ic = guest.write(c, h, r, byte) >> 6
            out.append('guest: WRITE DATA C%d H%d R%d: %s' % (c, h, r, IC_TEXT.get(ic, ic)))

        def file_state():
            now = open(image, 'rb').read()
            changed = sum(a != b for a, b in zip(now, original))
            out.append('short.img: %d bytes, %d of them changed' % (len(now), changed))

        execute('qmp_capabilities')
        guest.outb(0x3F2, 0x1C)  # DOR: drive 0, its motor, out of reset, DMA
        guest.send(0x03, 0xDF, 0x02)  # SPECIFY
        execute('floppy-attach-image', id='fd0', filename=image)
        guest.seek(79)
        write(79, 1, 18, 0xAB)  # past the end: the direct path fails it
        file_state()
        execute('floppy-release-image', id='fd0')
        execute('floppy-attach-image', id='fd0', filename=image, transient=True)
        guest.seek(70)
        write(70, 0, 12, 0xAB)  # the file's last sector
        execute('floppy-commit-image', id='fd0')
        file_state()
        guest.seek(79)
        write(79, 1, 18, 0xAB)  # past the end: the overlay takes it
        guest.seek(0)
        write(0, 0, 1, 0xAB)  # within the file, and not committed either
        execute('floppy-commit-image', id='fd0')
        file_state()
        execute('floppy-export-image', id='fd0', filename=os.path.join(tmp, 'whole.img'),
                format='raw')
        out.append('whole.img: %d bytes' % os.path.getsize(os.path.join(tmp, 'whole.img')))
        execute('quit')
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        qtest_listen.close()
        qmp_listen.close()
    return out


def documented(doc):
    text = open(doc).read()
    start = text.index(DOC_BLOCK) + len(DOC_BLOCK)
    return text[start:text.index('```', start)].splitlines()


def main():
    parser = argparse.ArgumentParser(description='docs/media.md\'s short raw file example')
    parser.add_argument('--doc', help='check that this document shows the output')
    parser.add_argument('host', help='the fdplug-host binary')
    parser.add_argument('plugin_dir', help='the directory of the floppy plugin')
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix='fdplug-short.')
    try:
        os.chmod(tmp, 0o755)
        out = run(args.host, args.plugin_dir, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('\n'.join(out))
    if args.doc and documented(args.doc) != out:
        print('%s does not show this output (in its "%s" block)' %
              (args.doc, DOC_BLOCK.split('\n')[0]))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
