"""The SMTP server's errors and limits within a session: over-long lines,
bad commands and sequences, SIZE, recipients, hops, timeouts, the
connection limit, and a large message that is within them.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_smtp_errors.py -v
"""

import smtplib
import socket
import time

import harness
import smtp_cases
from harness import SmtpConn, parse_replies, queue_id_of
from smtp_cases import SIMPLE, headers_named, split_content


class CommandErrorsTest(smtp_cases.SmtpCase):
    """Lines and commands the server refuses; the session goes on."""

    def test_long_command_line(self):
        eng = self.start_engine()
        with SmtpConn(eng.host, eng.port) as c:
            self.assertReply(c.reply(), 220)
            self.assertReply(c.cmd('EHLO client.example.test'), 250)
            line = b'MAIL FROM:<' + b'a' * 500 + b'@example.test>'
            line += b'x' * (598 - len(line))
            self.assertEqual(len(line) + 2, 600)
            self.assertReply(c.cmd(line), 500, '5.5.6')
            # The session goes on: a full transaction still works.
            self.assertReply(c.cmd('NOOP'), 250)
            self.assertReply(c.cmd('MAIL FROM:<sender@example.test>'), 250)
            self.assertReply(c.cmd('RCPT TO:<rcpt@example.test>'), 250)
            self.assertReply(c.cmd('DATA'), 354)
            c.send(b'Subject: after long line\r\n\r\nstill here\r\n.\r\n')
            code, lines = c.reply()
            self.assertEqual(code, 250, lines)
            qid = queue_id_of(lines[-1])
            self.assertReply(c.cmd('QUIT'), 221)
        self.assertEqual(harness.spool_ids(eng.spool), [qid])
        eng.stop()

    def test_long_command_line_in_pieces(self):
        # The same over-long line sent in pieces (framing across reads).
        eng = self.start_engine()
        with SmtpConn(eng.host, eng.port) as c:
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.assertReply(c.reply(), 220)
            self.assertReply(c.cmd('EHLO client.example.test'), 250)
            line = b'NOOP ' + b'z' * 1995 + b'\r\n'
            for i in range(0, len(line), 300):
                c.send(line[i:i + 300])
                time.sleep(0.01)
            self.assertReply(c.reply(), 500, '5.5.6')
            self.assertReply(c.cmd('NOOP'), 250)
            self.assertReply(c.cmd('QUIT'), 221)
        eng.stop()

    def test_command_line_limit_boundary(self):
        eng = self.start_engine()
        c = self.session(eng)
        at_limit = b'NOOP ' + b'x' * (512 - 2 - 5)
        self.assertEqual(len(at_limit) + 2, 512)
        self.assertReply(c.cmd(at_limit), 250)
        self.assertReply(c.cmd(at_limit + b'x'), 500, '5.5.6')
        self.assertReply(c.cmd('NOOP'), 250)
        eng.stop()

    def test_bad_command(self):
        eng = self.start_engine()
        with SmtpConn(eng.host, eng.port) as c:
            self.assertReply(c.reply(), 220)
            self.assertReply(c.cmd('EHLO client.example.test'), 250)
            self.assertReply(c.cmd('FROBNICATE now'), 500, '5.5.2')
            self.assertReply(c.cmd('NOOP'), 250)
            self.assertReply(c.cmd('QUIT'), 221)
        eng.stop()

    def test_rcpt_before_mail(self):
        eng = self.start_engine()
        s = self.smtp(eng)
        s.ehlo()
        code, resp = s.rcpt('rcpt@example.test')
        self.assertEqual(code, 503, resp)
        self.assertTrue(resp.startswith(b'5.5.1'), resp)
        code, resp = s.docmd('DATA')
        self.assertEqual(code, 503, resp)
        s.quit()
        eng.stop()

    def test_too_many_errors_closes(self):
        eng = self.start_engine('--max-errors', '3')
        with SmtpConn(eng.host, eng.port) as c:
            self.assertReply(c.reply(), 220)
            c.send(b'BAD1\r\nBAD2\r\nBAD3\r\nBAD4\r\nNOOP\r\n')
            replies = parse_replies(c.read_until_close())
        codes = [r[0] for r in replies]
        self.assertEqual(codes[-1], 421, replies)
        self.assertTrue(all(code >= 500 for code in codes[:-1]), replies)
        self.assertNotIn(250, codes)
        eng.stop()


class MessageLimitsTest(smtp_cases.SmtpCase):
    """Limits on what a message may be."""

    def test_size_parameter_over_limit(self):
        eng = self.start_engine('--max-message-size', '10000')
        s = self.smtp(eng)
        s.ehlo()
        self.assertEqual(s.esmtp_features.get('size', '').strip(), '10000')
        code, resp = s.docmd('MAIL FROM:<sender@example.test> SIZE=20000')
        self.assertEqual(code, 552, resp)
        self.assertTrue(resp.startswith(b'5.3.4'), resp)
        # At the limit is fine.
        code, resp = s.docmd('MAIL FROM:<sender@example.test> SIZE=10000')
        self.assertEqual(code, 250, resp)
        s.quit()
        eng.stop()

    def test_message_over_limit(self):
        eng = self.start_engine('--max-message-size', '10000')
        s = self.smtp(eng)
        s.ehlo()
        self.assertEqual(s.mail('sender@example.test')[0], 250)
        self.assertEqual(s.rcpt('rcpt@example.test')[0], 250)
        big = b'Subject: big\r\n\r\n' + (b'x' * 76 + b'\r\n') * 300  # ~23 KB
        code, resp = s.data(big)
        self.assertEqual(code, 552, resp)
        self.assertTrue(resp.startswith(b'5.3.4'), resp)
        # The session survives and a small message still goes through.
        self.assertEqual(s.noop()[0], 250)
        self.assertEqual(s.mail('sender@example.test')[0], 250)
        self.assertEqual(s.rcpt('rcpt@example.test')[0], 250)
        code, resp = s.data(SIMPLE)
        self.assertEqual(code, 250, resp)
        qid = queue_id_of(resp)
        s.quit()
        self.assertEqual(harness.spool_ids(eng.spool), [qid])
        eng.stop()

    def test_bdat_over_limit(self):
        eng = self.start_engine('--max-message-size', '10000')
        with SmtpConn(eng.host, eng.port) as c:
            self.assertReply(c.reply(), 220)
            self.assertReply(c.cmd('EHLO client.example.test'), 250)
            self.assertReply(c.cmd('MAIL FROM:<sender@example.test>'), 250)
            self.assertReply(c.cmd('RCPT TO:<rcpt@example.test>'), 250)
            c.send(b'BDAT 8000\r\n' + b'y' * 8000)
            self.assertReply(c.reply(), 250)
            c.send(b'BDAT 8000 LAST\r\n' + b'y' * 8000)
            self.assertReply(c.reply(), 552, '5.3.4')
            self.assertReply(c.cmd('NOOP'), 250)
            self.assertReply(c.cmd('QUIT'), 221)
        self.assertEqual(harness.spool_ids(eng.spool), [])
        eng.stop()

    def test_too_many_received_headers(self):
        eng = self.start_engine()
        s = self.smtp(eng)
        s.ehlo()
        hops = b''.join(b'Received: from hop%d.example.test by hop%d.example.test;'
                        b' Mon, 01 Jan 2024 10:00:00 +0000\r\n' % (i, i + 1) for i in range(101))
        self.assertEqual(s.mail('sender@example.test')[0], 250)
        self.assertEqual(s.rcpt('rcpt@example.test')[0], 250)
        code, resp = s.data(hops + SIMPLE)
        self.assertEqual(code, 554, resp)
        self.assertTrue(resp.startswith(b'5.4.6'), resp)
        # A few hops are fine.
        self.assertEqual(s.mail('sender@example.test')[0], 250)
        self.assertEqual(s.rcpt('rcpt@example.test')[0], 250)
        few = b''.join(b'Received: from hop%d.example.test by x; Mon, 01 Jan 2024 10:00:00 +0000\r\n'
                       % i for i in range(5))
        code, resp = s.data(few + SIMPLE)
        self.assertEqual(code, 250, resp)
        qid = queue_id_of(resp)
        s.quit()
        self.assertEqual(harness.spool_ids(eng.spool), [qid])
        content = split_content(harness.spool_message(eng.spool, qid))
        self.assertEqual(len(headers_named(content, 'Received')), 6, content)
        eng.stop()

    def test_max_recipients(self):
        eng = self.start_engine('--max-recipients', '3')
        c = self.session(eng)
        self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 250)
        for i in range(3):
            self.assertReply(c.cmd('RCPT TO:<r%d@example.test>' % i), 250)
        self.assertReply(c.cmd('RCPT TO:<r3@example.test>'), 452, '4.5.3')
        self.assertReply(c.cmd('DATA'), 354)
        qid = self.finish_data(c, b'Subject: three\r\n\r\nhi\r\n')
        envelope, _ = harness.split_listing(harness.spool_message(eng.spool, qid))
        self.assertEqual(envelope.count(b'recipient: '), 3, envelope)
        eng.stop()

    def test_large_message(self):
        eng = self.start_engine()
        s = smtplib.SMTP(eng.host, eng.port, local_hostname='client.example.test', timeout=30)
        self.addCleanup(s.close)
        s.ehlo()
        line = b'0123456789' * 7 + b'abcdef\r\n'
        body = b'Subject: ten megabytes\r\n\r\n' + line * (10 * 1024 * 1024 // len(line)) + b'END\r\n'
        self.assertEqual(s.mail('a@example.test', ['SIZE=%d' % len(body)])[0], 250)
        self.assertEqual(s.rcpt('b@example.test')[0], 250)
        code, resp = s.data(body)
        self.assertEqual(code, 250, resp)
        qid = queue_id_of(resp)
        s.quit()
        _, content = harness.split_listing(harness.spool_message(eng.spool, qid))
        self.assertTrue(content.endswith(body[-100:]))
        self.assertGreater(len(content), len(body))
        eng.stop()


class SessionLimitsTest(smtp_cases.SmtpCase):
    """Timeouts and the connection limit."""

    def test_command_timeout(self):
        eng = self.start_engine('--timeout-command', '1')
        c = self.session(eng)
        t0 = time.monotonic()
        code, lines = c.reply(deadline=5)
        self.assertEqual(code, 421, lines)
        self.assertIn('4.4.2', lines[0])
        c.read_until_close(deadline=5)
        self.assertLess(time.monotonic() - t0, 4)
        eng.stop()

    def test_data_timeout(self):
        eng = self.start_engine('--timeout-data', '1', '--timeout-command', '30')
        c = self.session(eng)
        self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 250)
        self.assertReply(c.cmd('RCPT TO:<b@example.test>'), 250)
        self.assertReply(c.cmd('DATA'), 354)
        c.send(b'Subject: slow\r\n\r\nthen silence\r\n')
        t0 = time.monotonic()
        code, lines = c.reply(deadline=5)
        self.assertEqual(code, 421, lines)
        self.assertIn('4.4.2', lines[0])
        self.assertLess(time.monotonic() - t0, 4)
        self.assertEqual(harness.spool_ids(eng.spool), [])
        eng.stop()

    def test_connection_limit(self):
        eng = self.start_engine('--max-connections', '2', shards=1)
        # The start-up probe's connection may still hold a slot until the
        # engine sees its close (slow under ASan on a busy machine): retry
        # until two sessions are greeted, then a third must be refused.
        first = self.session_when_free(eng)
        second = self.session_when_free(eng)
        with SmtpConn(eng.host, eng.port) as third:
            code, lines = third.reply()
            self.assertEqual(code, 421, lines)
            self.assertIn('4.3.2', lines[0])
        self.assertReply(first.cmd('NOOP'), 250)
        self.assertReply(second.cmd('QUIT'), 221)
        second.read_until_close()
        # A slot is free again once a session ends.
        deadline = time.monotonic() + 5
        while True:
            with SmtpConn(eng.host, eng.port) as again:
                code, lines = again.reply()
                if code == 220 or time.monotonic() > deadline:
                    break
            time.sleep(0.05)
        self.assertEqual(code, 220, lines)
        eng.stop()


if __name__ == '__main__':
    harness.main()
