"""ringmta-ctl import-postfix-queue against a real, private Postfix
(postfix_instance.py lists what running it as root here needs): five
messages submitted with smtplib (one with three recipients, one from the null
sender) defer towards a closed relayhost port; with Postfix running the
import refuses; stopped, --dry-run lists them and writes nothing; the import
writes five maildrop files into a ringmta spool; ringmta delivers each once,
with its sender, recipients and content, to an AioSink; a second import
finds nothing.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        RINGMTA_CTL_BIN=BUILD/tools/ctl/ringmta-ctl \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_import_postfix_queue.py -v
"""

import os
import re
import smtplib
import subprocess
import time

import harness
import peers
from postfix_instance import PrivatePostfix
from test_import_postfix import ctl_bin

MESSAGES = [
    ('alice@example.org', ['a1@dest.example', 'a2@dest.example', 'a3@other.example'], 'three recipients'),
    ('', ['bounce@dest.example'], 'null sender'),
    ('carol@example.org', ['c@dest.example'], 'long line'),
    ('dave@example.org', ['d@dest.example'], 'dot line'),
    ('erin@example.org', ['e@dest.example'], 'plain'),
]


def body(subject):
    text = 'From: x@example.org\r\nSubject: %s\r\nX-Test: %s\r\n\r\nfirst line\r\n' % (subject, subject)
    if subject == 'long line':
        text += 'y' * 5000 + '\r\n'
    if subject == 'dot line':
        text += '.starts with a dot\r\n..two dots\r\n'
    return text + 'last line\r\n'


class ImportPostfixQueueTest(harness.EngineTestCase):

    def ctl(self, *args, rc=0):
        r = subprocess.run([ctl_bin(), 'import-postfix-queue'] + list(args), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, rc, 'rc %d\nstdout:\n%s\nstderr:\n%s' % (r.returncode, r.stdout, r.stderr))
        return r

    def test_deferred_postfix_mail_is_delivered_once_by_ringmta(self):
        pf = PrivatePostfix(os.path.join(self.tmp, 'postfix'))
        self.addCleanup(pf.stop)
        pf.start()
        with smtplib.SMTP('127.0.0.1', pf.port, timeout=30) as s:
            for sender, rcpts, subject in MESSAGES:
                s.sendmail(sender, rcpts, body(subject))
        pf.wait_deferred(len(MESSAGES))
        maildrop = os.path.join(self.tmp, 'spool', 'maildrop')

        # Postfix still running: refused, nothing touched.
        r = self.ctl(pf.queue_dir, '--maildrop', maildrop, rc=1)
        self.assertIn('stop Postfix first: postfix stop', r.stderr)
        pf.stop()

        # --dry-run: the list, nothing written.
        r = self.ctl(pf.queue_dir, '--maildrop', maildrop, '--dry-run')
        self.assertIn('would import 5 messages (7 recipients)', r.stdout)
        self.assertRegex(r.stdout, r'\n[0-9A-Z]+ +deferred +alice@example\.org +3  \d{4}-\d\d-\d\d ')
        self.assertRegex(r.stdout, r'\n[0-9A-Z]+ +deferred +<> +1  ')
        self.assertFalse(os.path.exists(maildrop))
        self.assertEqual(len(pf.queue_files()), 5)

        # For real, into the spool's maildrop (named through --config's spool.dir).
        config = os.path.join(self.tmp, 'ringmta.toml')
        with open(config, 'w') as f:
            f.write('[spool]\ndir = "%s"\n' % os.path.join(self.tmp, 'spool'))
        r = self.ctl(pf.queue_dir, '--config', config)
        self.assertIn('imported 5 messages (7 recipients) from %s into %s; 0 skipped' % (pf.queue_dir, maildrop),
                      r.stdout)
        self.assertEqual(len(os.listdir(maildrop)), 5)
        self.assertEqual(pf.queue_files(), [])
        self.assertEqual(len(os.listdir(os.path.join(pf.queue_dir, 'ringmta-imported'))), 5)

        sink = self.peer(peers.AioSink())
        eng = self.start_engine('--relay-host', '127.0.0.1:%d' % sink.port, deliver=True)
        got = sink.wait_messages(len(MESSAGES), deadline=60, what='the imported Postfix messages')
        time.sleep(2.5)
        self.assertEqual(len(sink.messages), len(MESSAGES), 'a message was delivered twice')
        by_subject = {}
        for m in sink.messages:
            subject = re.search(rb'\r\nX-Test: ([^\r]*)\r\n', m.content).group(1).decode()
            self.assertNotIn(subject, by_subject, 'delivered twice: ' + subject)
            by_subject[subject] = m
        for sender, rcpts, subject in MESSAGES:
            m = by_subject[subject]
            self.assertEqual(m.sender, sender or '<>')
            self.assertEqual(sorted(m.rcpts), sorted(rcpts))
            # Postfix's own Received line, then the message as submitted.
            # The 5000-octet line: Postfix's cleanup stored it as L records of
            # 2048 (line_length_limit) that the import joins; ringmta's client
            # folds it at 998 on the wire ("\r\n "), as Postfix's smtp does.
            self.assertIn(b'(Postfix) with ESMTP id', m.content)
            content = m.content.replace(b'\r\n ', b'') if subject == 'long line' else m.content
            self.assertTrue(content.endswith(body(subject).split('\r\n\r\n', 1)[1].encode()), content[-300:])
            self.assertIn(body(subject).split('\r\n\r\n', 1)[0].split('\r\n', 1)[1].encode(), m.content)
        eng.wait_log(r'pickup: .* \(postfix [0-9A-Z]+\) queued as', deadline=5)
        self.assertIn(got[0].sender, [s or '<>' for s, _, _ in MESSAGES])

        # Idempotent: a second run finds nothing.
        r = self.ctl(pf.queue_dir, '--maildrop', maildrop)
        self.assertIn('imported 0 messages (0 recipients)', r.stdout)


if __name__ == '__main__':
    harness.main()
