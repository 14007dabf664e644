"""PIPELINING (RFC 2920) and CHUNKING/BDAT (RFC 3030) over a raw socket:
batches in one write, replies in command order across group commits,
commands byte by byte, many sessions at once.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_pipelining.py -v
"""

import socket
import time

import harness
import smtp_cases
from harness import SmtpConn, parse_replies, queue_id_of


class PipeliningTest(smtp_cases.SmtpCase):
    """Many commands, or many messages, per write."""

    def test_pipelining_one_write(self):
        eng = self.start_engine()
        with SmtpConn(eng.host, eng.port) as c:
            self.assertReply(c.reply(), 220)
            c.send(b'EHLO client.example.test\r\n'
                   b'MAIL FROM:<sender@example.test>\r\n'
                   b'RCPT TO:<one@example.test>\r\n'
                   b'RCPT TO:<two@example.test>\r\n'
                   b'DATA\r\n'
                   b'Subject: pipelined\r\n\r\n'
                   b'pipelined body\r\n'
                   b'.\r\n'
                   b'QUIT\r\n')
            replies = parse_replies(c.read_until_close())
        codes = [r[0] for r in replies]
        self.assertEqual(codes, [250, 250, 250, 250, 354, 250, 221], replies)
        self.assertIn('PIPELINING', [l.split()[0].upper() for l in replies[0][1] if l])
        self.assertTrue(replies[1][1][0].startswith('2.1.0'), replies[1])
        self.assertTrue(replies[2][1][0].startswith('2.1.5'), replies[2])
        qid = queue_id_of(replies[5][1][-1])
        self.assertIsNotNone(qid, replies[5])
        self.assertTrue(replies[6][1][0].startswith('2.0.0'), replies[6])
        self.assertEqual(harness.spool_ids(eng.spool), [qid])
        listing = harness.spool_message(eng.spool, qid)
        self.assertIn(b'one@example.test', listing)
        self.assertIn(b'two@example.test', listing)
        self.assertIn(b'pipelined body', listing)
        eng.stop()

    def test_pipelining_two_messages_one_write(self):
        # Replies must stay in command order even though the second
        # message's commands arrive before the first one is durable.
        eng = self.start_engine()
        with SmtpConn(eng.host, eng.port) as c:
            self.assertReply(c.reply(), 220)
            c.send(b'EHLO client.example.test\r\n'
                   b'MAIL FROM:<sender@example.test>\r\nRCPT TO:<a@example.test>\r\nDATA\r\n'
                   b'Subject: first\r\n\r\nfirst body\r\n.\r\n'
                   b'MAIL FROM:<sender@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n'
                   b'Subject: second\r\n\r\nsecond body\r\n.\r\n'
                   b'NOOP\r\nQUIT\r\n')
            replies = parse_replies(c.read_until_close())
        codes = [r[0] for r in replies]
        self.assertEqual(codes, [250, 250, 250, 354, 250, 250, 250, 354, 250, 250, 221], replies)
        q1, q2 = queue_id_of(replies[4][1][-1]), queue_id_of(replies[8][1][-1])
        self.assertIsNotNone(q1)
        self.assertIsNotNone(q2)
        self.assertNotEqual(q1, q2)
        self.assertIn(b'first body', harness.spool_message(eng.spool, q1))
        self.assertIn(b'second body', harness.spool_message(eng.spool, q2))
        eng.stop()

    def test_whole_session_byte_by_byte(self):
        eng = self.start_engine()
        with SmtpConn(eng.host, eng.port) as c:
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.assertReply(c.reply(), 220)
            stream = (b'EHLO client.example.test\r\nMAIL FROM:<a@example.test>\r\n'
                      b'RCPT TO:<b@example.test>\r\nDATA\r\n'
                      b'Subject: bytes\r\n\r\n..dotted\r\nbody\r\n.\r\n'
                      b'BDAT_IS_NOT_A_VERB\r\nQUIT\r\n')
            for i in range(len(stream)):
                c.send(stream[i:i + 1])
                if i % 16 == 0:
                    time.sleep(0.001)
            replies = parse_replies(c.read_until_close())
        self.assertEqual([r[0] for r in replies], [250, 250, 250, 354, 250, 500, 221], replies)
        qid = queue_id_of(replies[4][1][-1])
        _, content = harness.split_listing(harness.spool_message(eng.spool, qid))
        self.assertIn(b'\r\n.dotted\r\nbody\r\n', content)
        eng.stop()

    def test_200_messages_in_one_write(self):
        # Replies stay in command order across many group commits.
        eng = self.start_engine()
        batch = b''.join(b'MAIL FROM:<a@example.test>\r\nRCPT TO:<r%d@example.test>\r\nDATA\r\n'
                         b'Subject: batch %d\r\n\r\nmessage number %d\r\n.\r\n' % (i, i, i)
                         for i in range(200))
        with SmtpConn(eng.host, eng.port, timeout=30) as c:
            self.assertReply(c.reply(), 220)
            self.assertReply(c.cmd('EHLO client.example.test'), 250)
            c.send(batch + b'QUIT\r\n')
            replies = parse_replies(c.read_until_close(deadline=30))
        self.assertEqual([r[0] for r in replies], [250, 250, 354, 250] * 200 + [221])
        qids = [queue_id_of(replies[4 * i + 3][1][-1]) for i in range(200)]
        self.assertEqual(len(set(qids)), 200)
        self.assertEqual(sorted(harness.spool_ids(eng.spool)), sorted(qids))
        for i in (0, 77, 199):
            listing = harness.spool_message(eng.spool, qids[i])
            self.assertIn(b'<r%d@example.test>' % i, listing)
            self.assertIn(b'message number %d\r\n' % i, listing)
        eng.stop()

    def test_500_recipients_in_one_write(self):
        eng = self.start_engine()
        with SmtpConn(eng.host, eng.port, timeout=30) as c:
            self.assertReply(c.reply(), 220)
            self.assertReply(c.cmd('EHLO client.example.test'), 250)
            c.send(b'MAIL FROM:<a@example.test>\r\n' +
                   b''.join(b'RCPT TO:<rcpt-%04d@example.test>\r\n' % i for i in range(500)) +
                   b'DATA\r\n')
            replies = [c.reply() for _ in range(502)]
            self.assertEqual([r[0] for r in replies], [250] * 501 + [354])
            qid_reply = None
            c.send(b'Subject: many\r\n\r\nhi\r\n.\r\n')
            qid_reply = c.reply()
            self.assertEqual(qid_reply[0], 250)
        envelope, _ = harness.split_listing(
            harness.spool_message(eng.spool, queue_id_of(qid_reply[1][-1])))
        self.assertEqual(envelope.count(b'recipient: '), 500)
        eng.stop()

    def test_many_concurrent_sessions(self):
        eng = self.start_engine()
        conns = [self.session(eng) for _ in range(100)]
        for i, c in enumerate(conns):
            c.send(b'MAIL FROM:<a@example.test>\r\nRCPT TO:<r%d@example.test>\r\nDATA\r\n' % i)
        for c in conns:
            self.assertReply(c.reply(), 250)
            self.assertReply(c.reply(), 250)
            self.assertReply(c.reply(), 354)
        for i, c in enumerate(conns):
            c.send(b'Subject: concurrent %d\r\n\r\nbody\r\n.\r\nQUIT\r\n' % i)
        qids = []
        for c in conns:
            code, lines = c.reply()
            self.assertEqual(code, 250, lines)
            qids.append(queue_id_of(lines[-1]))
            self.assertReply(c.reply(), 221)
        self.assertEqual(len(set(qids)), 100)
        self.assertEqual(sorted(harness.spool_ids(eng.spool)), sorted(qids))
        eng.stop()


class ChunkingTest(smtp_cases.SmtpCase):
    """BDAT: content as counted octets."""

    def test_bdat(self):
        eng = self.start_engine()
        with SmtpConn(eng.host, eng.port) as c:
            self.assertReply(c.reply(), 220)
            self.assertReply(c.cmd('EHLO client.example.test'), 250)
            self.assertReply(c.cmd('MAIL FROM:<sender@example.test>'), 250, '2.1.0')
            self.assertReply(c.cmd('RCPT TO:<rcpt@example.test>'), 250, '2.1.5')
            c.send(b'BDAT 5\r\nhello')
            self.assertReply(c.reply(), 250)
            last = b' world\r\n'
            c.send(b'BDAT %d LAST\r\n' % len(last) + last)
            code, lines = c.reply()
            self.assertEqual(code, 250, lines)
            qid = queue_id_of(lines[-1])
            self.assertIsNotNone(qid, lines)
            self.assertReply(c.cmd('QUIT'), 221)
        self.assertEqual(harness.spool_ids(eng.spool), [qid])
        self.assertIn(b'hello world', harness.spool_message(eng.spool, qid))
        eng.stop()

    def test_bdat_pipelined_with_dots_and_bare_lf(self):
        # BDAT content is octets: no dot-unstuffing, no end marker.
        eng = self.start_engine()
        body = b'Subject: chunks\r\n\r\n.leading dot\r\n.\r\nafter a lone dot\r\n'
        with SmtpConn(eng.host, eng.port) as c:
            self.assertReply(c.reply(), 220)
            c.send(b'EHLO client.example.test\r\nMAIL FROM:<s@example.test>\r\n'
                   b'RCPT TO:<r@example.test>\r\n' +
                   b'BDAT %d\r\n' % 10 + body[:10] +
                   b'BDAT %d LAST\r\n' % (len(body) - 10) + body[10:] + b'QUIT\r\n')
            replies = parse_replies(c.read_until_close())
        self.assertEqual([r[0] for r in replies], [250, 250, 250, 250, 250, 221], replies)
        qid = queue_id_of(replies[4][1][-1])
        self.assertIsNotNone(qid, replies)
        listing = harness.spool_message(eng.spool, qid)
        self.assertIn(b'.leading dot', listing)
        self.assertIn(b'after a lone dot', listing)
        eng.stop()

    def test_bdat_zero_last_and_data_after_bdat(self):
        eng = self.start_engine()
        c = self.session(eng)
        self.assertReply(c.cmd('MAIL FROM:<a@example.test>'), 250)
        self.assertReply(c.cmd('RCPT TO:<b@example.test>'), 250)
        chunk = b'Subject: zero\r\n\r\nhi\r\n'
        c.send(b'BDAT %d\r\n' % len(chunk) + chunk)
        self.assertReply(c.reply(), 250)
        self.assertReply(c.cmd('DATA'), 503, '5.5.1')
        c.send(b'BDAT 0 LAST\r\n')
        code, lines = c.reply()
        self.assertEqual(code, 250, lines)
        qid = queue_id_of(lines[-1])
        self.assertIsNotNone(qid, lines)
        self.assertIn(b'Subject: zero', harness.spool_message(eng.spool, qid))
        eng.stop()


if __name__ == '__main__':
    harness.main()
