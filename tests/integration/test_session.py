"""The server session's rules over a raw socket: greeting, HELO/EHLO,
RSET/NOOP/VRFY/HELP, addresses and parameters, dot-stuffing, empty and
abandoned messages, IPv6.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_session.py -v
"""

import socket

import harness
import smtp_cases
from harness import SmtpConn, queue_id_of
from smtp_cases import headers_named, split_content


class SessionTest(smtp_cases.SmtpCase):
    """More of the server session's rules, over a raw socket."""

    def test_greeting_names_host(self):
        eng = self.start_engine()
        with SmtpConn(eng.host, eng.port) as c:
            code, lines = c.reply()
            self.assertEqual(code, 220)
            self.assertTrue(lines[0].startswith('mta.ringmta.test'), lines)
        eng.stop()

    def test_mail_before_helo(self):
        eng = self.start_engine()
        c = self.session(eng, ehlo=False)
        self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 503, '5.5.1')
        self.assertReply(c.cmd('HELO client.example.test'), 250)
        self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 250)
        self.assertReply(c.cmd('RCPT TO:<b@example.test>'), 250)
        self.assertReply(c.cmd('DATA'), 354)
        qid = self.finish_data(c, b'Subject: via HELO\r\n\r\nhi\r\n')
        self.assertReply(c.cmd('QUIT'), 221)
        content = split_content(harness.spool_message(eng.spool, qid))
        self.assertIn('with SMTP', headers_named(content, 'Received')[0])
        eng.stop()

    def test_rset_noop_vrfy_help_nested_mail(self):
        eng = self.start_engine()
        c = self.session(eng)
        self.assertReply(c.cmd('NOOP'), 250)
        self.assertReply(c.cmd('VRFY someone'), 252)
        self.assertReply(c.cmd('HELP'), 214)
        self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 250)
        self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 503, '5.5.1')
        self.assertReply(c.cmd('RCPT TO:<b@example.test>'), 250)
        self.assertReply(c.cmd('RSET'), 250)
        self.assertReply(c.cmd('DATA'), 503, '5.5.1')  # RSET ended the transaction
        self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 250)
        self.assertReply(c.cmd('DATA'), 503, '5.5.1')  # no recipient yet
        self.assertReply(c.cmd('RCPT TO:<b@example.test>'), 250)
        self.assertReply(c.cmd('DATA'), 354)
        self.finish_data(c, b'Subject: after RSET\r\n\r\nhi\r\n')
        self.assertReply(c.cmd('QUIT'), 221)
        self.assertEqual(len(harness.spool_ids(eng.spool)), 1)
        eng.stop()

    def test_null_sender_and_duplicate_recipient(self):
        eng = self.start_engine()
        c = self.session(eng)
        self.assertReply(c.cmd('MAIL FROM:<>'), 250)
        self.assertReply(c.cmd('RCPT TO:<b@example.test>'), 250)
        self.assertReply(c.cmd('RCPT TO:<b@example.test>'), 250)
        self.assertReply(c.cmd('RCPT TO:<c@example.test>'), 250)
        self.assertReply(c.cmd('DATA'), 354)
        qid = self.finish_data(c, b'Subject: a bounce\r\n\r\nhi\r\n')
        envelope, _ = harness.split_listing(harness.spool_message(eng.spool, qid))
        self.assertIn(b'sender: <>\n', envelope)
        self.assertEqual(envelope.count(b'recipient: <b@example.test>'), 1, envelope)
        self.assertEqual(envelope.count(b'recipient: '), 2, envelope)
        eng.stop()

    def test_bad_addresses_and_parameters(self):
        eng = self.start_engine()
        c = self.session(eng)
        self.assertEqual(c.cmd('MAIL FROM:<no-at-sign>')[0] // 100, 5)
        self.assertEqual(c.cmd('MAIL FROM:<a@example.test> SIZE=abc')[0], 501)
        self.assertEqual(c.cmd('MAIL FROM:<a@example.test> FROBNICATE=yes')[0], 555)
        self.assertReply(c.cmd('MAIL FROM:<a@example.test> BODY=8BITMIME SIZE=100'), 250)
        self.assertEqual(c.cmd('RCPT TO:<two@@example.test>')[0] // 100, 5)
        self.assertEqual(c.cmd('RCPT TO:')[0], 501)
        self.assertReply(c.cmd('RCPT TO:<ok@example.test>'), 250)
        self.assertReply(c.cmd('QUIT'), 221)
        eng.stop()

    def test_dot_stuffing_and_long_text_lines(self):
        eng = self.start_engine()
        c = self.session(eng)
        self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 250)
        self.assertReply(c.cmd('RCPT TO:<b@example.test>'), 250)
        self.assertReply(c.cmd('DATA'), 354)
        long_line = b'L' * 5000
        qid = self.finish_data(c, b'Subject: dots\r\n\r\n..one dot\r\n...two dots\r\n.\tdot tab\r\n'
                                  + long_line + b'\r\nend\r\n')
        _, content = harness.split_listing(harness.spool_message(eng.spool, qid))
        self.assertIn(b'\r\n.one dot\r\n..two dots\r\n\tdot tab\r\n' + long_line + b'\r\nend\r\n',
                      content)
        eng.stop()

    def test_empty_message(self):
        eng = self.start_engine()
        c = self.session(eng)
        self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 250)
        self.assertReply(c.cmd('RCPT TO:<b@example.test>'), 250)
        self.assertReply(c.cmd('DATA'), 354)
        qid = self.finish_data(c, b'')  # DATA then "." at once: an empty message
        self.assertIn(qid, harness.spool_ids(eng.spool))
        eng.stop()

    def test_client_drops_mid_data(self):
        eng = self.start_engine()
        c = self.session(eng)
        self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 250)
        self.assertReply(c.cmd('RCPT TO:<b@example.test>'), 250)
        self.assertReply(c.cmd('DATA'), 354)
        c.send(b'Subject: never finished\r\n\r\nhalf a message\r\n')
        c.close()
        # Nothing is stored, and the engine goes on serving.
        ids = harness.send_messages(eng, 1)
        self.assertEqual(harness.spool_ids(eng.spool), ids)
        eng.stop()

    def test_ipv6_and_two_listen_addresses(self):
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
                probe.bind(('::1', 0))
        except OSError:
            self.skipTest('no IPv6 loopback on this machine')
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
            s6.bind(('::1', 0))
            port6 = s6.getsockname()[1]
        eng = self.start_engine('--listen', '[::1]:%d' % port6)
        with SmtpConn('::1', port6) as c:
            self.assertReply(c.reply(), 220)
            self.assertReply(c.cmd('EHLO client.example.test'), 250)
            self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 250)
            self.assertReply(c.cmd('RCPT TO:<b@other.test>'), 250)  # ::1 may relay
            self.assertReply(c.cmd('DATA'), 354)
            c.send(b'Subject: v6\r\n\r\nhi\r\n.\r\n')
            code, lines = c.reply()
            self.assertEqual(code, 250, lines)
            qid = queue_id_of(lines[-1])
        ids = harness.send_messages(eng, 1)  # and the IPv4 address still works
        self.assertEqual(sorted(harness.spool_ids(eng.spool)), sorted(ids + [qid]))
        envelope, content = harness.split_listing(harness.spool_message(eng.spool, qid))
        self.assertIn(b'client: ::1', envelope)
        # RFC 5321 4.4: TCP-info is an address literal, "[IPv6:::1]" for ::1.
        received = headers_named(split_content(harness.spool_message(eng.spool, qid)), 'Received')
        self.assertIn('[IPv6:::1]', received[0])
        eng.stop()


if __name__ == '__main__':
    harness.main()
