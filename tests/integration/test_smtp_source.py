"""ringmta under load from Postfix's smtp-source (Debian `postfix`).

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_smtp_source.py -v
"""

import subprocess
import time

import harness

SMTP_SOURCE = '/usr/sbin/smtp-source'
LOAD_DEADLINE = 120


class SmtpSourceTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        harness.require_tool(SMTP_SOURCE, 'postfix')

    def smtp_source(self, eng, *args):
        cmd = [SMTP_SOURCE] + list(args) + [eng.address]
        t0 = time.monotonic()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=LOAD_DEADLINE)
        elapsed = time.monotonic() - t0
        out = p.stdout.decode('utf-8', 'replace')
        self.assertEqual(p.returncode, 0, 'smtp-source exited with %d:\n%s\n%s'
                         % (p.returncode, ' '.join(cmd), out[-4000:]))
        return elapsed

    def check_listed(self, eng, count):
        _, out, _ = harness.run_spool_tool(eng.spool)
        ids = harness.parse_ids(out)
        self.assertEqual(len(ids), count, 'ringmta-spool lists %d messages, expected %d'
                         % (len(ids), count))
        self.assertEqual(len(set(ids)), count, 'duplicate queue ids in the listing')
        last = out.decode('utf-8', 'replace').strip().splitlines()[-1]
        self.assertIn(str(count), last, 'the final count line: %r' % last)
        return ids

    def test_2000_messages_reused_connections(self):
        eng = self.start_engine()
        elapsed = self.smtp_source(eng, '-s', '10', '-m', '2000', '-l', '1024', '-d',
                                   '-f', 'from@example.test', '-t', 'to@example.test')
        print('\n2000 messages in %.2f s (%.0f msg/s)' % (elapsed, 2000 / elapsed))
        ids = self.check_listed(eng, 2000)
        envelope, content = harness.split_listing(harness.spool_message(eng.spool, ids[-1]))
        self.assertIn(b'<from@example.test>', envelope)
        self.assertIn(b'<to@example.test>', envelope)
        self.assertGreater(len(content), 1024)
        eng.stop()
        # And the same count after a restart.
        eng2 = self.start_engine()
        self.check_listed(eng2, 2000)
        eng2.stop()

    def test_connection_per_message_many_recipients(self):
        eng = self.start_engine()
        self.smtp_source(eng, '-s', '20', '-m', '300', '-r', '3', '-l', '200',
                         '-f', 'from@example.test', '-t', 'to@example.test')
        ids = self.check_listed(eng, 300)
        envelope, _ = harness.split_listing(harness.spool_message(eng.spool, ids[0]))
        self.assertEqual(envelope.count(b'recipient: '), 3, envelope)
        eng.stop()

    def test_segment_rotation(self):
        # Small segments (1 MiB): 2000 messages of ~1.3 KB fill several per
        # shard; all of them are listed, also after a restart.
        eng = self.start_engine('--segment-size', '1048576')
        self.smtp_source(eng, '-s', '10', '-m', '2000', '-l', '1024', '-d',
                         '-f', 'from@example.test', '-t', 'to@example.test')
        self.check_listed(eng, 2000)
        eng.stop()
        segs = harness.segment_files(eng.spool)
        self.assertGreaterEqual(len(segs), 3, 'expected rotation to new segments: %r' % segs)
        eng2 = self.start_engine('--segment-size', '1048576')
        self.check_listed(eng2, 2000)
        self.smtp_source(eng2, '-s', '5', '-m', '500', '-l', '1024', '-d',
                         '-f', 'from@example.test', '-t', 'to@example.test')
        self.check_listed(eng2, 2500)
        eng2.stop()

if __name__ == '__main__':
    harness.main()
