"""SMTP smuggling: only CRLF.CRLF ends DATA. A bare LF or bare CR before or
after the dot must not end the message, the smuggled commands stay
content, and bare line ends are stored as CRLF.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_smuggling.py -v
"""

import socket
import time

import harness
import smtp_cases
from harness import SmtpConn, parse_replies, queue_id_of


class SmugglingTest(smtp_cases.SmtpCase):
    """Five ways to fake an end of data, in one message."""

    SMUGGLE_BODY = (b'From: <sender@example.test>\r\n'
                    b'Subject: smuggling attempt\r\n'
                    b'\r\n'
                    b'legit first line\r\n'
                    b'variant one\n.\n'
                    b'MAIL FROM:<evil1@example.test>\r\nRCPT TO:<victim1@example.test>\r\nDATA\r\n'
                    b'smuggled-one\r\n'
                    b'variant two\r\n.\n'
                    b'MAIL FROM:<evil2@example.test>\r\nRCPT TO:<victim2@example.test>\r\nDATA\r\n'
                    b'smuggled-two\r\n'
                    b'variant three\n.\r\n'
                    b'MAIL FROM:<evil3@example.test>\r\nRCPT TO:<victim3@example.test>\r\nDATA\r\n'
                    b'From: <ceo@example.test>\r\nSubject: smuggled\r\n\r\n'
                    b'smuggled-three body\r\n'
                    b'variant four\r.\r\n'
                    b'MAIL FROM:<evil4@example.test>\r\nRCPT TO:<victim4@example.test>\r\nDATA\r\n'
                    b'smuggled-four\r\n'
                    b'variant five\r\n.\r'
                    b'MAIL FROM:<evil5@example.test>\r\nRCPT TO:<victim5@example.test>\r\nDATA\r\n'
                    b'smuggled-five\r\n'
                    b'\r\n.\r\n')

    def check_smuggling(self, send):
        eng = self.start_engine()
        with SmtpConn(eng.host, eng.port) as c:
            self.assertReply(c.reply(), 220)
            self.assertReply(c.cmd('EHLO client.example.test'), 250)
            self.assertReply(c.cmd('MAIL FROM:<sender@example.test>'), 250)
            self.assertReply(c.cmd('RCPT TO:<rcpt@example.test>'), 250)
            self.assertReply(c.cmd('DATA'), 354)
            send(c, self.SMUGGLE_BODY)
            c.send(b'QUIT\r\n')
            replies = parse_replies(c.read_until_close())
        self.assertEqual([r[0] for r in replies], [250, 221],
                         'expected one 250 for the one message, then 221: %r' % replies)
        qid = queue_id_of(replies[0][1][-1])
        self.assertIsNotNone(qid, replies)
        self.assertEqual(harness.spool_ids(eng.spool), [qid])
        listing = harness.spool_message(eng.spool, qid)
        for text in (b'legit first line', b'MAIL FROM:<evil1@example.test>', b'smuggled-one',
                     b'MAIL FROM:<evil2@example.test>', b'smuggled-two',
                     b'MAIL FROM:<evil3@example.test>', b'smuggled-three body',
                     b'MAIL FROM:<evil4@example.test>', b'smuggled-four',
                     b'MAIL FROM:<evil5@example.test>', b'smuggled-five'):
            self.assertIn(text, listing)
        # The recipients of the smuggled transactions are not recipients.
        envelope, _ = harness.split_listing(listing)
        for victim in (b'victim1', b'victim2', b'victim3', b'victim4', b'victim5'):
            self.assertNotIn(victim, envelope)
        # Bare LF and bare CR are stored as CRLF, so that nothing relayed
        # later can be read as a different end of data.
        _, content = harness.split_listing(listing)
        self.assertEqual(content.count(b'\n'), content.count(b'\r\n'),
                         'bare LF in the stored content: %r' % content)
        self.assertEqual(content.count(b'\r'), content.count(b'\r\n'),
                         'bare CR in the stored content: %r' % content)
        eng.stop()

    def test_smuggling_one_write(self):
        self.check_smuggling(lambda c, body: c.send(body))

    def test_smuggling_in_small_pieces(self):
        def send(c, body):
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(0, len(body), 3):
                c.send(body[i:i + 3])
                if i % 60 == 0:
                    time.sleep(0.002)
        self.check_smuggling(send)


if __name__ == '__main__':
    harness.main()
