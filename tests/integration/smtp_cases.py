"""What the SMTP server tests share (test_smtplib.py, test_session.py,
test_pipelining.py, test_smtp_errors.py, test_smuggling.py): a sample
message, header parsing of stored content, and SmtpCase, a test case with
smtplib and raw-socket sessions to an engine.

    class MyTest(smtp_cases.SmtpCase):
        def test_it(self):
            eng = self.start_engine()
            qid = self.send_one(eng, 'a@example.test', ['b@example.test'], smtp_cases.SIMPLE)
            c = self.session(eng)   # greeted, EHLO done
"""

import re
import smtplib
import time

import harness
from harness import SmtpConn, queue_id_of

SIMPLE = (b'From: Sender <sender@example.test>\r\n'
          b'To: Rcpt <rcpt@example.test>\r\n'
          b'Subject: integration hello\r\n'
          b'\r\n'
          b'Hello from the smtplib test.\r\n'
          b'Second line of the body.\r\n')


def split_content(listing):
    """From `ringmta-spool DIR ID` output: the message content as text with
    LF line ends, starting at its first (trace) header."""
    _, content = harness.split_listing(listing)
    return content.decode('utf-8', 'replace').replace('\r\n', '\n')


def header_block(content):
    """The header section of content (up to the first empty line)."""
    end = content.find('\n\n')
    return content if end < 0 else content[:end + 1]


def headers_named(content, name):
    """Values of every header called name (unfolded), in order."""
    out = []
    rx = re.compile(r'^%s:[ \t]*(.*(?:\n[ \t].*)*)' % re.escape(name), re.I | re.M)
    for m in rx.finditer(header_block(content)):
        out.append(re.sub(r'\n[ \t]+', ' ', m.group(1)).strip())
    return out


class SmtpCase(harness.EngineTestCase):
    """An engine test case with SMTP sessions that end with the test."""

    def smtp(self, eng, source=None):
        s = smtplib.SMTP(eng.host, eng.port, local_hostname='client.example.test', timeout=10,
                         source_address=(source, 0) if source else None)
        self.addCleanup(s.close)
        return s

    def send_one(self, eng, sender, rcpts, content, mail_options=(), source=None):
        """One transaction with smtplib; returns the queue id of the 250."""
        s = self.smtp(eng, source)
        code, _ = s.ehlo()
        self.assertEqual(code, 250)
        code, resp = s.mail(sender, list(mail_options))
        self.assertEqual(code, 250, resp)
        for r in rcpts:
            code, resp = s.rcpt(r)
            self.assertEqual(code, 250, resp)
        code, resp = s.data(content)
        self.assertEqual(code, 250, resp)
        qid = queue_id_of(resp)
        self.assertIsNotNone(qid, 'no "queued as ID" (16 hex digits) in %r' % resp)
        s.quit()
        return qid

    def session(self, eng, ehlo=True):
        c = SmtpConn(eng.host, eng.port)
        self.addCleanup(c.close)
        code, lines = c.reply()
        self.assertEqual(code, 220, lines)
        if ehlo:
            self.assertReply(c.cmd('EHLO client.example.test'), 250)
        return c

    def session_when_free(self, eng, deadline_s=10):
        """Like session(), but retries while the engine answers 421 4.3.2."""
        deadline = time.monotonic() + deadline_s
        while True:
            c = SmtpConn(eng.host, eng.port)
            self.addCleanup(c.close)
            code, lines = c.reply()
            if code == 220:
                self.assertReply(c.cmd('EHLO client.example.test'), 250)
                return c
            c.close()
            self.assertLess(time.monotonic(), deadline, lines)
            time.sleep(0.05)

    def finish_data(self, c, content):
        """After 354: sends content + CRLF.CRLF; returns the queue id."""
        c.send(content + b'.\r\n')
        code, lines = c.reply()
        self.assertEqual(code, 250, lines)
        qid = queue_id_of(lines[-1])
        self.assertIsNotNone(qid, lines)
        return qid
