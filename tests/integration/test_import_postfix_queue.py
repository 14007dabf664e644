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

    def test_queues_hashed_dirs_and_skips(self):
        """Without a Postfix running: the committed queue files (written by a
        real Postfix 3.7) placed in hold/, a hashed deferred/B/ and active/;
        an unfinished incoming/ file (no owner-execute bit), a corrupt one and
        a stale master.pid are handled as they should be."""
        fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools', 'postfix', 'testdata')
        queue = os.path.join(self.tmp, 'queue')
        for q in ('incoming', 'active', 'deferred/B', 'hold', 'pid'):
            os.makedirs(os.path.join(queue, q))
        place = {'3AB4EA7206F': 'hold', '3DBA3A72070': 'active', 'B892BA721DE': 'deferred/B'}
        for name, q in place.items():
            with open(os.path.join(fixtures, name), 'rb') as f, open(os.path.join(queue, q, name), 'wb') as o:
                o.write(f.read())
            os.chmod(os.path.join(queue, q, name), 0o700)
        with open(os.path.join(fixtures, '3DBA3A72070'), 'rb') as f:
            data = f.read()
        with open(os.path.join(queue, 'incoming', 'C0FFEE1'), 'wb') as o:
            o.write(data[:len(data) // 2])
        os.chmod(os.path.join(queue, 'incoming', 'C0FFEE1'), 0o600)  # cleanup had not finished it
        with open(os.path.join(queue, 'deferred', 'B', 'BAD0001'), 'wb') as o:
            o.write(data[:200])
        os.chmod(os.path.join(queue, 'deferred', 'B', 'BAD0001'), 0o700)
        # A master.pid whose process is gone does not block the import.
        p = subprocess.Popen(['true'])
        p.wait()
        with open(os.path.join(queue, 'pid', 'master.pid'), 'w') as f:
            f.write('%10d\n' % p.pid)
        maildrop = os.path.join(self.tmp, 'md')
        r = self.ctl(queue, '--maildrop', maildrop, rc=1)
        self.assertRegex(r.stdout, r'imported 3 messages \(5 recipients\) from .* into .*; 2 skipped: ')
        self.assertIn('C0FFEE1 (incoming, unfinished)', r.stdout)
        self.assertRegex(r.stdout, r'BAD0001 \(offset \d+: ')
        self.assertEqual(len(os.listdir(maildrop)), 3)
        self.assertEqual(sorted(os.listdir(os.path.join(queue, 'ringmta-imported'))), sorted(place))
        # What was written is what the pickup reads: the envelope of each.
        headers = []
        for name in os.listdir(maildrop):
            with open(os.path.join(maildrop, name), 'rb') as f:
                headers.append(f.read().split(b'\n\n', 1)[0].decode())
        joined = '\n---\n'.join(sorted(headers))
        self.assertIn('sender alice@example.org\nrcpt a@dest.example\nrcpt b@dest.example\nrcpt c@other.example\n'
                      'arrival 1796417133229713\norigin postfix 3AB4EA7206F', joined)
        self.assertIn('sender\nrcpt d@dest.example\n', joined)
        self.assertIn('sender bob@example.org\nrcpt e@dest.example\narrival', joined)  # f@ was delivered
        # The skipped files stay; a second run skips them again and imports nothing.
        r = self.ctl(queue, '--maildrop', maildrop, rc=1)
        self.assertIn('imported 0 messages (0 recipients)', r.stdout)


if __name__ == '__main__':
    harness.main()
