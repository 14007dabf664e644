"""ringmta under systemd: the unit file (tools/systemd/ringmta.service) is
one systemd accepts without a warning, the example configuration it names
passes --check-config, and the daemon speaks the sd_notify protocol
(engine/daemon/service_notify.h) to a listener on $NOTIFY_SOCKET: READY=1
once it serves, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_systemd.py -v
"""

import os
import signal
import socket
import subprocess
import time

import harness
from engine_process import require_tool

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(ROOT, 'tools', 'systemd', 'ringmta.service')
EXAMPLE = os.path.join(ROOT, 'tools', 'systemd', 'ringmta.toml')


class NotifyListener:
    """The service manager's end: an AF_UNIX datagram socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        bind = '\0' + path[1:] if path.startswith('@') else path
        self.sock.bind(bind)
        if not path.startswith('@'):
            os.chmod(path, 0o777)  # like /run/systemd/notify: the daemon writes after dropping root
        self.path = path

    def next(self, deadline=15):
        self.sock.settimeout(deadline)
        try:
            data = self.sock.recv(4096).decode()
        except socket.timeout:
            raise AssertionError('no sd_notify message within %d s on %s' % (deadline, self.path))
        return dict(line.split('=', 1) for line in data.split('\n') if line)

    def stop(self):
        self.sock.close()


class SystemdTest(harness.EngineTestCase):

    def verify(self, text):
        require_tool('systemd-analyze', 'systemd')
        path = os.path.join(self.tmp, 'ringmta.service')
        with open(path, 'w') as f:
            f.write(text)
        p = subprocess.run(['systemd-analyze', 'verify', '--man=no', path], capture_output=True, text=True,
                           timeout=60)
        return p.returncode, (p.stdout + p.stderr).strip()

    def test_unit_file_verifies_without_a_warning(self):
        with open(UNIT) as f:
            unit = f.read()
        # The installed paths, pointed at this build (verify checks that
        # ExecStart= programs exist).
        unit = unit.replace('/usr/local/sbin/ringmta', os.path.abspath(harness.ringmta_bin()))
        rc, out = self.verify(unit)
        self.assertEqual((rc, out), (0, ''), 'systemd-analyze verify complained: ' + out)
        # The same check sees a mistake (so the empty output above means something).
        rc, out = self.verify(unit.replace('Type=notify', 'Type=notfy'))
        self.assertIn('Failed to parse service type', out)
        for want in ('Type=notify', 'ExecReload=/bin/kill -HUP $MAINPID', 'Restart=on-failure',
                     'ProtectSystem=strict', 'ReadWritePaths=/var/spool/ringmta', 'NoNewPrivileges=true',
                     'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'LimitNOFILE='):
            self.assertIn(want, unit)

    def test_example_configuration_is_valid(self):
        p = subprocess.run([harness.ringmta_bin(), '--config', EXAMPLE, '--check-config'], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('configuration OK', p.stdout + p.stderr)

    def notify_cycle(self, path):
        listener = NotifyListener(path)
        self.addCleanup(listener.stop)
        os.environ['NOTIFY_SOCKET'] = path
        try:
            eng = self.start_engine()
        finally:
            del os.environ['NOTIFY_SOCKET']
        ready = listener.next()
        self.assertEqual(ready.get('READY'), '1', ready)
        self.assertIn('serving on 127.0.0.1:%d' % eng.port, ready.get('STATUS', ''))
        eng.proc.send_signal(signal.SIGHUP)
        reloading = listener.next()
        self.assertEqual(reloading.get('RELOADING'), '1', reloading)
        now_us = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
        self.assertLess(abs(int(reloading['MONOTONIC_USEC']) - now_us), 10e6, reloading)
        self.assertEqual(listener.next().get('READY'), '1')
        eng.signal_stop()
        self.assertEqual(listener.next().get('STOPPING'), '1')
        eng.wait()

    def test_notify_protocol_on_a_path_socket(self):
        path = os.path.join(self.tmp, 'notify.sock')
        self.notify_cycle(path)

    def test_notify_protocol_on_an_abstract_socket(self):
        self.notify_cycle('@ringmta-test-notify-%d' % os.getpid())

    def test_without_notify_socket_nothing_is_sent(self):
        eng = self.start_engine()
        eng.stop()
        self.assertNotIn('sd_notify', eng.log())
        self.assertNotIn('NOTIFY_SOCKET', eng.log())


if __name__ == '__main__':
    harness.main()
