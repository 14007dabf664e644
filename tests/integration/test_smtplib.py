"""ringmta against Python's smtplib: messages through the spool with their
trace headers, EHLO's extensions, SMTPUTF8, and the relay policy.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_smtplib.py -v
"""

import harness
import smtp_cases
from harness import queue_id_of
from smtp_cases import SIMPLE, headers_named, split_content


class SmtplibTest(smtp_cases.SmtpCase):
    """The happy path and SMTPUTF8, with smtplib."""

    def test_simple_message_is_spooled_with_trace_headers(self):
        eng = self.start_engine()
        qid = self.send_one(eng, 'sender@example.test', ['rcpt@example.test'], SIMPLE)
        ids = harness.spool_ids(eng.spool)
        self.assertIn(qid, ids)
        self.assertEqual(ids.count(qid), 1)
        listing = harness.spool_message(eng.spool, qid)
        self.assertIn(b'sender@example.test', listing)
        self.assertIn(b'rcpt@example.test', listing)
        content = split_content(listing)
        self.assertTrue(content.startswith('Received:'), 'trace headers first: %r' % content[:300])
        self.assertIn('Hello from the smtplib test.\nSecond line of the body.\n', content)
        received = headers_named(content, 'Received')
        self.assertEqual(len(received), 1, content)
        self.assertIn('mta.ringmta.test', received[0])
        self.assertIn('from client.example.test', received[0])
        self.assertIn('[127.0.0.1]', received[0])
        self.assertIn('with ESMTP', received[0])
        self.assertIn('id ' + qid, received[0])
        self.assertIn('for <rcpt@example.test>', received[0])
        self.assertRegex(received[0], r'; \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$')
        # The message lacked Date: and Message-ID:, so ringmta added them.
        self.assertEqual(len(headers_named(content, 'Date')), 1, content)
        msgids = headers_named(content, 'Message-ID')
        self.assertEqual(len(msgids), 1, content)
        self.assertRegex(msgids[0], r'^<[^<>@\s]+@[^<>@\s]+>$')
        self.assertEqual(headers_named(content, 'Subject'), ['integration hello'])
        eng.stop()

    def test_date_and_message_id_kept_when_present(self):
        eng = self.start_engine()
        msg = (b'Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n'
               b'Message-ID: <fixed.1234@client.example.test>\r\n' + SIMPLE)
        qid = self.send_one(eng, 'sender@example.test', ['rcpt@example.test'], msg)
        self.assertIn(qid, harness.spool_ids(eng.spool))
        content = split_content(harness.spool_message(eng.spool, qid))
        self.assertEqual(headers_named(content, 'Date'), ['Mon, 01 Jan 2024 10:00:00 +0000'])
        self.assertEqual(headers_named(content, 'Message-ID'), ['<fixed.1234@client.example.test>'])
        self.assertEqual(len(headers_named(content, 'Received')), 1, content)
        eng.stop()

    def test_several_messages_one_connection_distinct_ids(self):
        eng = self.start_engine()
        s = self.smtp(eng)
        s.ehlo()
        qids = []
        for i in range(5):
            self.assertEqual(s.mail('sender@example.test')[0], 250)
            self.assertEqual(s.rcpt('rcpt%d@example.test' % i)[0], 250)
            code, resp = s.data(SIMPLE)
            self.assertEqual(code, 250, resp)
            qids.append(queue_id_of(resp))
        s.quit()
        self.assertEqual(len(set(qids)), 5, qids)
        ids = harness.spool_ids(eng.spool)
        for q in qids:
            self.assertIn(q, ids)
        eng.stop()

    def test_ehlo_advertises_extensions(self):
        eng = self.start_engine('--max-message-size', '123456')
        s = self.smtp(eng)
        code, _ = s.ehlo()
        self.assertEqual(code, 250)
        for ext in ('pipelining', 'size', '8bitmime', 'smtputf8', 'chunking',
                    'enhancedstatuscodes'):
            self.assertTrue(s.has_extn(ext), 'EHLO lacks %s: %r' % (ext, s.esmtp_features))
        self.assertEqual(s.esmtp_features['size'].strip(), '123456')
        s.quit()
        eng.stop()

    def test_smtputf8_address_and_subject_accepted(self):
        eng = self.start_engine()
        rcpt = 'jösé@exämple.test'
        sender = 'sénder@exämple.test'
        msg = ('From: <%s>\r\nTo: <%s>\r\nSubject: grüße ✓ ünïcödé\r\n\r\n'
               'Körper ✓\r\n' % (sender, rcpt)).encode('utf-8')
        qid = self.send_one(eng, sender, [rcpt], msg, mail_options=['SMTPUTF8', 'BODY=8BITMIME'])
        self.assertIn(qid, harness.spool_ids(eng.spool))
        listing = harness.spool_message(eng.spool, qid)
        self.assertIn(rcpt.encode('utf-8'), listing)
        self.assertIn(sender.encode('utf-8'), listing)
        self.assertIn('Subject: grüße ✓ ünïcödé'.encode('utf-8'), listing)
        self.assertIn('Körper ✓'.encode('utf-8'), listing)
        envelope, _ = harness.split_listing(listing)
        self.assertIn(b'smtputf8: yes', envelope)
        received = headers_named(split_content(listing), 'Received')
        self.assertEqual(len(received), 1)
        self.assertIn('with UTF8SMTP', received[0])  # RFC 6531 3.7.3
        eng.stop()

    def test_smtputf8_sendmail(self):
        eng = self.start_engine()
        s = self.smtp(eng)
        msg = 'Subject: grüße\r\n\r\nhallo\r\n'.encode('utf-8')
        refused = s.sendmail('sender@example.test', ['jösé@exämple.test'], msg,
                             mail_options=['SMTPUTF8'])
        self.assertEqual(refused, {})
        s.quit()
        self.assertEqual(len(harness.spool_ids(eng.spool)), 1)
        eng.stop()

    def test_utf8_address_without_smtputf8_refused(self):
        eng = self.start_engine()
        s = self.smtp(eng)
        s.ehlo()
        s.command_encoding = 'utf-8'  # let smtplib send the octets, without the parameter
        code, resp = s.mail('jösé@exämple.test')
        self.assertGreaterEqual(code, 500, 'MAIL FROM a UTF-8 address without SMTPUTF8 got %d %r'
                                % (code, resp))
        self.assertIn(b'5.6.7', resp)
        # And a UTF-8 recipient in an ASCII transaction.
        self.assertEqual(s.mail('sender@example.test')[0], 250)
        code, resp = s.rcpt('jösé@exämple.test')
        self.assertGreaterEqual(code, 500, 'RCPT TO a UTF-8 address without SMTPUTF8 got %d %r'
                                % (code, resp))
        self.assertIn(b'5.6.7', resp)
        s.quit()
        self.assertEqual(harness.spool_ids(eng.spool), [])
        eng.stop()

    def test_relay_denied_outside_relay_networks(self):
        eng = self.start_engine('--relay-networks', '127.0.0.1/32', '--local-domains', 'local.test')
        s = self.smtp(eng, source='127.0.0.2')
        s.ehlo()
        self.assertEqual(s.mail('sender@example.test')[0], 250)
        code, resp = s.rcpt('someone@other.test')
        self.assertEqual(code, 554, resp)
        self.assertTrue(resp.startswith(b'5.7.1'), resp)
        code, resp = s.rcpt('user@local.test')
        self.assertEqual(code, 250, resp)
        code, resp = s.rcpt('Other.User@LOCAL.TEST')
        self.assertEqual(code, 250, resp)
        code, resp = s.data(SIMPLE)
        self.assertEqual(code, 250, resp)
        qid = queue_id_of(resp)
        s.quit()
        listing = harness.spool_message(eng.spool, qid)
        self.assertIn(b'user@local.test', listing)
        self.assertNotIn(b'someone@other.test', listing)

        # From inside the relay network, any domain.
        s2 = self.smtp(eng, source='127.0.0.1')
        s2.ehlo()
        self.assertEqual(s2.mail('sender@example.test')[0], 250)
        code, resp = s2.rcpt('someone@other.test')
        self.assertEqual(code, 250, resp)
        code, resp = s2.rcpt('user@local.test')
        self.assertEqual(code, 250, resp)
        code, resp = s2.data(SIMPLE)
        self.assertEqual(code, 250, resp)
        s2.quit()
        self.assertEqual(len(harness.spool_ids(eng.spool)), 2)
        eng.stop()


if __name__ == '__main__':
    harness.main()
