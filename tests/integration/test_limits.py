"""Abuse limits: connections and new connections per client IP, slowloris
on commands and on data, commands without a message, session time, and
10,000 idle connections that do not stop anyone else.

Clients that the limits apply to connect from 127.0.0.2, outside
--relay-networks (the relay networks are exempt, as Postfix exempts
$mynetworks).

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_limits.py -v
"""

import resource
import socket
import time

import harness

OUTSIDE = ('127.0.0.2', 0)


class LimitsTest(harness.EngineTestCase):

    def engine(self, *extra, shards=2):
        return self.start_engine('--relay-networks', '127.0.0.1/32', '--local-domains', 'here.test',
                                 *extra, shards=shards)

    def greet(self, eng, source=OUTSIDE):
        c = harness.SmtpConn(eng.host, eng.port, source=source)
        self.addCleanup(c.close)
        return c, c.reply()

    def test_connections_per_ip(self):
        eng = self.engine('--max-connections-per-ip', '3')
        held = []
        for _ in range(3):
            c, (code, lines) = self.greet(eng)
            self.assertEqual(code, 220, lines)
            held.append(c)
        c, (code, lines) = self.greet(eng)
        self.assertEqual(code, 421, lines)
        self.assertIn('4.7.0', lines[0])
        # The relay networks are not counted.
        for _ in range(5):
            self.assertEqual(self.greet(eng, source=None)[1][0], 220)
        # A slot comes back when a connection ends.
        self.assertReply(held[0].cmd('QUIT'), 221)
        held[0].read_until_close()
        deadline = time.monotonic() + 5
        while True:
            c, (code, lines) = self.greet(eng)
            if code == 220 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(code, 220, lines)

    def test_new_connections_per_second(self):
        eng = self.engine('--max-connect-rate', '5')
        refused = 0
        t0 = time.monotonic()
        for _ in range(40):
            c, (code, lines) = self.greet(eng)
            if code == 421:
                self.assertIn('4.7.0', lines[0])
                refused += 1
            c.close()
        # Fixed one-second windows: at most 5 per window get through, and
        # the run touched at most int(elapsed) + 2 windows.
        windows = int(time.monotonic() - t0) + 2
        self.assertGreaterEqual(refused, 40 - 5 * windows)
        if windows < 8:
            self.assertGreater(refused, 0)

    def test_slowloris_command_is_closed_at_the_command_timeout(self):
        eng = self.engine('--timeout-command', '2')
        c, (code, _) = self.greet(eng)
        self.assertEqual(code, 220)
        # One byte every 0.25 s of a line that never ends: bytes alone do
        # not restart the timer, so the session ends ~2 s after the greeting.
        t0 = time.monotonic()
        closed = None
        for i in range(60):
            try:
                c.send(b'x')
            except OSError:
                closed = time.monotonic() - t0
                break
            time.sleep(0.25)
            c.sock.settimeout(0)
            try:
                data = c.sock.recv(4096)
            except BlockingIOError:
                continue
            finally:
                c.sock.settimeout(10)
            self.assertIn(b'421 4.4.2', data)
            closed = time.monotonic() - t0
            break
        self.assertIsNotNone(closed, 'a 1-byte trickle kept the session open for 15 s')

    def test_slow_data_is_closed_below_the_minimum_rate(self):
        eng = self.engine('--timeout-data', '2', '--min-data-rate', '100')
        c, _ = self.greet(eng)
        self.assertReply(c.cmd('EHLO client.test'), 250)
        self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 250)
        self.assertReply(c.cmd('RCPT TO:<b@here.test>'), 250)
        self.assertReply(c.cmd('DATA'), 354)
        got = b''
        for _ in range(60):  # 4 bytes/s, never idle for long: only the rate can stop it
            try:
                c.send(b'abcd\r\n'[:1])
            except OSError:
                break
            time.sleep(0.25)
            c.sock.settimeout(0)
            try:
                got += c.sock.recv(4096)
            except BlockingIOError:
                pass
            finally:
                c.sock.settimeout(10)
            if got:
                break
        self.assertIn(b'421 4.4.2', got)
        self.assertEqual(harness.spool_ids(eng.spool), [])

    def test_commands_without_a_message(self):
        eng = self.engine('--max-junk-commands', '5')
        c, _ = self.greet(eng)
        self.assertReply(c.cmd('EHLO client.test'), 250)  # 1
        for _ in range(4):                                 # 2..5
            self.assertReply(c.cmd('NOOP'), 250)
        self.assertReply(c.cmd('NOOP'), 421, '4.7.0')
        # A message resets the count.
        c2, _ = self.greet(eng)
        self.assertReply(c2.cmd('EHLO client.test'), 250)
        for _ in range(3):
            self.assertReply(c2.cmd('NOOP'), 250)
        self.assertReply(c2.cmd('MAIL FROM:<a@example.test>'), 250)
        self.assertReply(c2.cmd('RCPT TO:<b@here.test>'), 250)
        self.assertReply(c2.cmd('DATA'), 354)
        c2.send(b'Subject: x\r\n\r\nx\r\n.\r\n')
        self.assertReply(c2.reply(), 250)
        for _ in range(5):
            self.assertReply(c2.cmd('NOOP'), 250)

    def test_session_time_limit(self):
        eng = self.engine('--max-session-time', '2', '--max-junk-commands', '0')
        c, _ = self.greet(eng)
        self.assertReply(c.cmd('EHLO client.test'), 250)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 15:
            code, lines = c.cmd('NOOP')
            if code != 250:
                break
            time.sleep(0.2)
        self.assertEqual(code, 421, lines)
        self.assertIn('4.4.2', lines[0])

    def test_ten_thousand_idle_connections_do_not_stop_others(self):
        want = 10000
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < want + 1000:
            self.skipTest('RLIMIT_NOFILE hard limit %d is too low for %d connections' % (hard, want))
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        # From the relay network (no per-IP cap), one shard: every idle
        # connection sits on the ring that serves the test's message.
        eng = self.engine('--max-connections', str(want + 100), shards=1)
        idle = []
        try:
            for _ in range(want):
                s = socket.create_connection((eng.host, eng.port), timeout=30)
                idle.append(s)
            # Every idle connection was greeted (read the last few).
            for s in idle[-20:]:
                self.assertTrue(s.recv(512).startswith(b'220'))
            ids = harness.send_messages(eng, 3)
            self.assertEqual(len(ids), 3)
            self.assertEqual(sorted(harness.spool_ids(eng.spool)), sorted(ids))
        finally:
            for s in idle:
                s.close()


if __name__ == '__main__':
    harness.main()
