"""ringmta against curl's SMTP client (Debian `curl`).

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_curl.py -v
"""

import os
import re
import subprocess

import harness

CURL_DEADLINE = 60


class CurlTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        self.curl_bin = harness.require_tool('curl', 'curl')

    def curl(self, eng, path, sender, rcpts, *extra):
        cmd = [self.curl_bin, '-sS', '-v', '--max-time', '30',
               'smtp://%s/client.example.test' % eng.address, '--mail-from', sender]
        for r in rcpts:
            cmd += ['--mail-rcpt', r]
        cmd += ['--upload-file', path] + list(extra)
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=CURL_DEADLINE)
        err = p.stderr.decode('utf-8', 'replace')
        self.assertEqual(p.returncode, 0, 'curl exited with %d:\n%s\n%s'
                         % (p.returncode, ' '.join(cmd), err[-6000:]))
        ids = re.findall(r'^< 250 .*queued as ([0-9A-Fa-f]{16})\s*$', err, re.M)
        self.assertEqual(len(ids), 1, 'expected one "queued as ID" reply in curl -v:\n%s' % err[-6000:])
        return ids[0], err

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def test_upload_file(self):
        eng = self.start_engine()
        path = self.write('msg.eml', b'From: <sender@example.test>\r\nTo: <rcpt@example.test>\r\n'
                                     b'Subject: from curl\r\n\r\nbody sent by curl\r\n'
                                     b'.dot-led line\r\n')
        qid, _ = self.curl(eng, path, 'sender@example.test', ['rcpt@example.test'])
        ids = harness.spool_ids(eng.spool)
        self.assertIn(qid, ids)
        envelope, content = harness.split_listing(harness.spool_message(eng.spool, qid))
        self.assertIn(b'<sender@example.test>', envelope)
        self.assertIn(b'<rcpt@example.test>', envelope)
        self.assertIn(b'Subject: from curl\r\n', content)
        self.assertIn(b'\r\nbody sent by curl\r\n.dot-led line\r\n', content)
        eng.stop()

    def test_several_recipients_and_large_file(self):
        eng = self.start_engine()
        body = b''.join(b'line %05d %s\r\n' % (i, b'q' * 60) for i in range(4000))
        path = self.write('big.eml', b'Subject: big from curl\r\n\r\n' + body)
        qid, _ = self.curl(eng, path, 'sender@example.test',
                           ['r1@example.test', 'r2@example.test', 'r3@example.test'])
        self.assertIn(qid, harness.spool_ids(eng.spool))
        envelope, content = harness.split_listing(harness.spool_message(eng.spool, qid))
        for r in (b'r1', b'r2', b'r3'):
            self.assertIn(b'<' + r + b'@example.test>', envelope)
        self.assertIn(body, content)
        eng.stop()


if __name__ == '__main__':
    harness.main()
