"""ringmta against swaks (the Swiss Army Knife for SMTP, Debian `swaks`).

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_swaks.py -v
"""

import os
import re
import subprocess

import harness

SWAKS_DEADLINE = 60


class SwaksTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        self.swaks_bin = harness.require_tool('swaks', 'swaks')

    def swaks(self, eng, *args):
        cmd = [self.swaks_bin, '--server', eng.address, '--helo', 'client.example.test',
               '--timeout', '20'] + list(args)
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=SWAKS_DEADLINE)
        out = p.stdout.decode('utf-8', 'replace')
        self.assertEqual(p.returncode, 0, 'swaks exited with %d:\n%s\n%s'
                         % (p.returncode, ' '.join(cmd), out[-6000:]))
        self.assertIn('queued as', out)
        ids = re.findall(r'<[-~]\s+250 .*queued as ([0-9A-Fa-f]{16})\s*$', out, re.M)
        self.assertEqual(len(ids), 1, 'expected one "queued as ID" reply:\n%s' % out[-6000:])
        return ids[0], out

    def test_simple(self):
        eng = self.start_engine()
        qid, out = self.swaks(eng, '--to', 'a@example.test', '--from', 'b@example.test')
        self.assertIn(qid, harness.spool_ids(eng.spool))
        listing = harness.spool_message(eng.spool, qid)
        envelope, content = harness.split_listing(listing)
        self.assertIn(b'<b@example.test>', envelope)
        self.assertIn(b'<a@example.test>', envelope)
        self.assertIn(b'This is a test mailing', content)
        eng.stop()

    def test_pipeline(self):
        eng = self.start_engine()
        qid, out = self.swaks(eng, '--pipeline', '--to', 'a@example.test,c@example.test',
                              '--from', 'b@example.test')
        self.assertIn('PIPELINING', out)
        self.assertIn(qid, harness.spool_ids(eng.spool))
        envelope, _ = harness.split_listing(harness.spool_message(eng.spool, qid))
        self.assertIn(b'<a@example.test>', envelope)
        self.assertIn(b'<c@example.test>', envelope)
        eng.stop()

    def test_200kb_body(self):
        eng = self.start_engine()
        path = os.path.join(self.tmp, 'body.txt')
        lines = [('line %06d ' % i) + 'abcdefghij' * 6 for i in range(2800)]
        lines.insert(100, '.a line that starts with a dot')
        lines.insert(200, '..two dots')
        lines.append('THE-END-MARKER')
        body = '\r\n'.join(lines) + '\r\n'
        self.assertGreater(len(body), 200 * 1024)
        with open(path, 'w') as f:
            f.write(body)
        qid, _ = self.swaks(eng, '--to', 'a@example.test', '--from', 'b@example.test',
                            '--body', '@' + path)
        self.assertIn(qid, harness.spool_ids(eng.spool))
        _, content = harness.split_listing(harness.spool_message(eng.spool, qid))
        self.assertGreater(len(content), 200 * 1024)
        # swaks dot-stuffs, ringmta un-stuffs: the lines come back as written.
        self.assertIn(b'\r\n.a line that starts with a dot\r\n', content)
        self.assertIn(b'\r\n..two dots\r\n', content)
        self.assertIn(b'line 002799 ', content)
        self.assertIn(b'THE-END-MARKER', content)
        eng.stop()

    def test_200kb_attachment(self):
        eng = self.start_engine()
        path = os.path.join(self.tmp, 'blob.bin')
        with open(path, 'wb') as f:
            f.write(os.urandom(200 * 1024))
        qid, _ = self.swaks(eng, '--pipeline', '--to', 'a@example.test', '--from', 'b@example.test',
                            '--attach', '@' + path)
        self.assertIn(qid, harness.spool_ids(eng.spool))
        _, content = harness.split_listing(harness.spool_message(eng.spool, qid))
        self.assertGreater(len(content), 200 * 1024 * 4 // 3)  # base64
        self.assertIn(b'blob.bin', content)
        eng.stop()


if __name__ == '__main__':
    harness.main()
