"""`ringmta-ctl queue | show | flush | suspend | resume | suspend-list | hold |
release` end to end: a running engine (admin API on), a real SMTP sink
(aiosmtpd) that answers 451 to one domain, and the built ringmta-ctl.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
    RINGMTA_CTL_BIN=BUILD/tools/ctl/ringmta-ctl PYTHONPATH=tests/integration \
        /usr/bin/python3 tests/integration/test_ctl_queue.py -v
"""

import json
import re
import smtplib
import time

import harness
import peers
from test_ctl_dns import ctl

SLOW = 'slow.example'   # answers 451 while `slow_ok` is False
FAST = 'fast.example'


class CtlQueueTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        self.slow_ok = False
        self.sink = self.peer(peers.AioSink(
            rcpt_reply=lambda s, r, n: None if self.slow_ok or not r.endswith('@' + SLOW)
            else '451 4.7.1 greylisted, try again later'))

    def engine(self, *extra, spool=None):
        return self.start_engine('--relay-host', '127.0.0.1:%d' % self.sink.port, '--event-log', self.events,
                                 *extra, deliver=True, admin=True, spool=spool)

    def send(self, eng, rcpts, n=1):
        ids = []
        with smtplib.SMTP(eng.host, eng.port, timeout=10) as s:
            for i in range(n):
                s.sendmail('sender@example.com', rcpts, b'Subject: %d\r\n\r\nhello\r\n' % i)
        return ids

    def ctl(self, eng, *args, expect=0):
        p = ctl(*args, '--admin', eng.admin_url)
        self.assertEqual(p.returncode, expect, 'ringmta-ctl %s: exit %d\n%s%s' % (' '.join(args), p.returncode,
                                                                                 p.stdout, p.stderr))
        return p.stdout + p.stderr

    def queue_json(self, eng, *args):
        return json.loads(self.ctl(eng, 'queue', '--json', *args))['queues']

    def attempts(self, rcpt):
        with self.sink.lock:
            return self.sink.rcpt_attempts.get(rcpt, 0)

    def wait_attempts(self, rcpt, n, deadline=15):
        end = time.monotonic() + deadline
        while self.attempts(rcpt) < n and time.monotonic() < end:
            time.sleep(0.05)
        return self.attempts(rcpt)

    def test_queue_show_flush(self):
        eng = self.engine()
        self.send(eng, ['a@' + SLOW], n=3)
        self.send(eng, ['b@' + FAST])
        self.sink.wait_messages(1)
        peers.wait_events(self.events, lambda e: e['type'] == 'deferred', n=3)
        out = self.ctl(eng, 'queue')
        self.assertRegex(out, r'QUEUE +SOURCE +MSGS +RCPTS +OLDEST +CONNS +STATE +LAST ERROR')
        # Both domains go to the relay host: one site, [127.0.0.1:PORT],
        # which counts the 3 waiting for slow.example.
        site = '[127.0.0.1:%d]' % self.sink.port
        self.assertRegex(out, r'\n%s +3 +3 +\d+s +\d +ready +\d\d:\d\d:\d\d 451 4\.7\.1 greylisted, try again later' % re.escape(site))
        self.assertRegex(out, r'\n +for: .*slow\.example')
        rows = self.queue_json(eng, '--domain', SLOW)
        self.assertEqual([(r['queue'], r['messages'], r['recipients']) for r in rows], [(site, 3, 3)])
        self.assertIn(SLOW, rows[0]['domains'])
        self.assertIn('greylisted', rows[0]['last_error'])
        self.assertEqual(self.queue_json(eng, '--domain', 'nothing.example'), [])

        qid = harness.spool_ids(eng.spool)[0]
        out = self.ctl(eng, 'show', qid)
        self.assertIn('queue id:   %s' % qid, out)
        self.assertRegex(out, r'recipient 0: a@slow\.example deferred, 1 attempts, next retry ')
        self.assertIn('sender:     <sender@example.com>', out)
        self.assertRegex(out, r'size: +\d+ bytes')
        self.assertIn('last reply: 451 4.7.1 greylisted, try again later', out)
        self.assertIn('no live message', self.ctl(eng, 'show', '0000000000000000', expect=1))

        before = self.attempts('a@' + SLOW)
        out = self.ctl(eng, 'flush', '--domain', SLOW)
        self.assertIn('3 deferred recipients for slow.example will be retried now', out)
        self.assertEqual(self.wait_attempts('a@' + SLOW, before + 3), before + 3)
        self.assertIn('0 deferred recipients', self.ctl(eng, 'flush', '--domain', FAST))

    def test_suspend_resume_survive_a_restart(self):
        eng = self.engine()
        self.send(eng, ['a@' + SLOW])
        peers.wait_events(self.events, lambda e: e['type'] == 'deferred')
        out = self.ctl(eng, 'suspend', '--domain', SLOW, '--duration', '2h', '--reason', 'they asked us to wait')
        self.assertRegex(out, r'suspended slow\.example until \d{4}-\d\d-\d\d')
        listing = self.ctl(eng, 'suspend-list')
        self.assertRegex(listing, r'slow\.example +suspend .*they asked us to wait')
        # Suspended: a flush does not send it.
        n = self.attempts('a@' + SLOW)
        self.ctl(eng, 'flush')
        time.sleep(1.0)
        self.assertEqual(self.attempts('a@' + SLOW), n)
        rows = self.queue_json(eng, '--domain', SLOW)
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0]['state'], 'suspended')
        self.assertEqual(rows[0]['reason'], 'they asked us to wait')
        # New mail for it waits too.
        self.send(eng, ['c@' + SLOW])
        time.sleep(1.0)
        self.assertEqual(self.attempts('c@' + SLOW), 0)

        # The suspension is durable.
        eng.stop()
        eng = self.engine(spool=eng.spool)
        self.assertRegex(self.ctl(eng, 'suspend-list'), r'slow\.example +suspend')
        time.sleep(0.5)
        self.assertEqual(self.attempts('c@' + SLOW), 0)

        # Resumed: retried at once (and the sink now takes it).
        self.slow_ok = True
        self.assertIn('resumed slow.example', self.ctl(eng, 'resume', '--domain', SLOW))
        got = self.sink.wait_messages(2)
        self.assertEqual(sorted(r for m in got for r in m.rcpts), ['a@' + SLOW, 'c@' + SLOW])
        self.assertIn('(no suspensions or holds)', self.ctl(eng, 'suspend-list'))
        self.assertIn('is not suspended', self.ctl(eng, 'resume', '--domain', SLOW, expect=1))

    def test_held_mail_does_not_expire(self):
        # A queue lifetime of 2 s: held mail outlives it.
        eng = self.engine('--queue-lifetime', '2')
        self.assertIn('holding slow.example', self.ctl(eng, 'hold', '--domain', SLOW, '--reason', 'audit'))
        self.send(eng, ['h@' + SLOW])
        time.sleep(3.0)
        self.ctl(eng, 'flush')
        time.sleep(1.0)
        self.assertEqual(self.attempts('h@' + SLOW), 0)
        self.assertEqual(len(harness.spool_ids(eng.spool)), 1)  # still there: not bounced
        rows = self.queue_json(eng)
        self.assertEqual([(SLOW in r['domains'], r['state'], r['reason']) for r in rows], [(True, 'held', 'audit')])
        bounced = [e for e in peers.read_events(self.events) if e['type'] == 'bounced']
        self.assertEqual(bounced, [])
        self.slow_ok = True
        self.assertIn('released slow.example', self.ctl(eng, 'release', '--domain', SLOW))
        # Released past its lifetime: its first real attempt decides. The
        # sink takes it, so it is delivered.
        got = self.sink.wait_messages(1)
        self.assertEqual(got[0].rcpts, ['h@' + SLOW])

    def test_bounce_by_campaign_domain_and_id(self):
        eng = self.engine()
        with smtplib.SMTP(eng.host, eng.port, timeout=10) as s:
            for i in range(2):
                s.sendmail('sender@example.com', ['a@' + SLOW],
                           b'X-Ringmta-Campaign: spring\r\nSubject: %d\r\n\r\nhello\r\n' % i)
            s.sendmail('sender@example.com', ['b@' + SLOW], b'Subject: other\r\n\r\nhello\r\n')
        peers.wait_events(self.events, lambda e: e['type'] == 'deferred', n=3)
        self.assertEqual(len(harness.spool_ids(eng.spool)), 3)

        out = self.ctl(eng, 'bounce', '--campaign', 'spring', '--no-dsn')
        self.assertIn('checking 3 messages', out)
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'admin_bounce', n=2)
        self.assertEqual(sorted(e['campaign'] for e in ev), ['spring', 'spring'])
        self.assertEqual({e['code'] for e in ev}, {550})
        self.assertIn(self.ctl(eng, 'bounce', '--queue-id', '0000000000000000'), 'bouncing 0 messages, with a DSN to their senders\n')

        out = self.ctl(eng, 'bounce', '--domain', SLOW, '--reason', 'dead domain')
        self.assertIn('bouncing 1 messages, with a DSN', out)
        peers.wait_events(self.events, lambda e: e['type'] == 'admin_bounce', n=3)
        # One DSN, for the last one only (--no-dsn before), to the sender.
        dsn = self.sink.wait_messages(1)[0]
        self.assertEqual(dsn.sender, '<>')  # aiosmtpd's null sender
        self.assertEqual(dsn.rcpts, ['sender@example.com'])
        self.assertIn(b'administrative bounce: dead domain', dsn.content)
        time.sleep(1.0)
        self.assertEqual(len(self.sink.messages), 1)
        # Final, so the spool lets them go (only the DSN, delivered, was added).
        end = time.monotonic() + 10
        while harness.spool_ids(eng.spool) and time.monotonic() < end:
            time.sleep(0.1)
        self.assertEqual(harness.spool_ids(eng.spool), [])
        self.assertIn('exactly one of', self.ctl(eng, 'bounce', expect=2))

    def test_errors_name_the_fix(self):
        eng = self.engine()
        out = self.ctl(eng, 'suspend', '--domain', 'not a domain', expect=2)
        self.assertIn('not a domain name', out)
        out = self.ctl(eng, 'suspend', '--domain', SLOW, '--duration', 'soon', expect=2)
        self.assertIn('expected 90s, 15m, 1h', out)
        out = self.ctl(eng, 'suspend', expect=2)
        self.assertIn('missing --domain', out)
        p = ctl('queue', '--admin', 'http://127.0.0.1:%d' % harness.free_port())
        self.assertEqual(p.returncode, 1)
        self.assertIn('is ringmta running with --admin-listen there?', p.stderr)
        help_text = ctl('--help').stdout
        for cmd in ('queue', 'show', 'flush', 'suspend', 'resume', 'suspend-list', 'hold', 'release', 'bounce'):
            self.assertRegex(help_text, r'\n  %s ' % cmd)


if __name__ == '__main__':
    harness.main()
