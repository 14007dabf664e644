"""Traffic shaping with real peers: dnsmasq for MX records and aiosmtpd as
the receiving mail exchanger, which counts the connections it holds at
once and when each message arrives.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_shaping.py -v
"""

import os
import signal
import smtplib
import subprocess
import threading
import time

import harness
import peers


def send_many(eng, rcpts, threads=4):
    """One message per recipient, from a few client connections at once."""
    chunks = [rcpts[i::threads] for i in range(threads)]
    errors = []

    def run(chunk):
        try:
            with smtplib.SMTP(eng.host, eng.port, local_hostname='client.example.test', timeout=30) as s:
                for r in chunk:
                    s.sendmail('alice@sender.test', [r], b'Subject: shaped\r\n\r\nHello.\r\n')
        except Exception as e:  # reported below, in the test's thread
            errors.append(e)

    ts = [threading.Thread(target=run, args=(c,)) for c in chunks if c]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    if errors:
        raise errors[0]


class ShapingTest(harness.EngineTestCase):

    def config(self, text):
        path = os.path.join(self.tmp, 'ringmta.toml')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def engine(self, dns, sink, toml, *extra, spool=None):
        return self.start_engine('--resolver', dns.address, '--mx-port', str(sink.port),
                                 '--event-log', self.events, '--config', self.config(toml), *extra,
                                 deliver=True, spool=spool)

    def shared_mx(self):
        # a.test and b.test list the same two MX hosts (in different orders):
        # one site. c.test has a host of its own.
        return self.peer(peers.Dnsmasq([('mx-host', 'a.test,mx1.shared.test,10'),
                                        ('mx-host', 'a.test,mx2.shared.test,20'),
                                        ('mx-host', 'b.test,mx2.shared.test,10'),
                                        ('mx-host', 'b.test,mx1.shared.test,20'),
                                        ('mx-host', 'c.test,mx.c.test,10'),
                                        ('host-record', 'mx1.shared.test,127.0.0.1'),
                                        ('host-record', 'mx2.shared.test,127.0.0.1'),
                                        ('host-record', 'mx.c.test,127.0.0.1')]))

    def test_connection_limit_holds_across_shards(self):
        sink = self.peer(peers.AioSink(data_delay=0.2))
        eng = self.engine(self.shared_mx(), sink, '[shaping.default]\nconnection_limit = 3\n')
        rcpts = ['u%d@a.test' % i for i in range(40)]
        send_many(eng, rcpts, threads=8)  # both shards spool, one owns the site
        sink.wait_messages(40, deadline=60)
        self.assertLessEqual(sink.max_open, 3)
        self.assertGreaterEqual(sink.max_open, 2, 'the limit was never reached: the test shows nothing')

    def test_domains_with_the_same_mx_hosts_share_one_site(self):
        sink = self.peer(peers.AioSink(data_delay=0.3))
        eng = self.engine(self.shared_mx(), sink, '[shaping.default]\nconnection_limit = 2\n')
        rcpts = ['u%d@%s.test' % (i, d) for i in range(15) for d in ('a', 'b')]
        send_many(eng, rcpts, threads=6)
        got = sink.wait_messages(30, deadline=60)
        self.assertEqual({m.rcpts[0].split('@')[1] for m in got}, {'a.test', 'b.test'})
        self.assertLessEqual(sink.max_open, 2, 'a.test and b.test are one site with one limit')

    def test_mx_rollup_false_gives_a_domain_its_own_site(self):
        sink = self.peer(peers.AioSink(data_delay=0.3))
        toml = ('[shaping.default]\nconnection_limit = 2\n'
                '[shaping.domain."a.test"]\nmx_rollup = false\n')
        eng = self.engine(self.shared_mx(), sink, toml)
        rcpts = ['u%d@%s.test' % (i, d) for i in range(20) for d in ('a', 'b')]
        send_many(eng, rcpts, threads=8)
        sink.wait_messages(40, deadline=60)
        self.assertLessEqual(sink.max_open, 4)
        self.assertGreater(sink.max_open, 2, 'two sites of 2 connections each should overlap')

    def test_message_rate(self):
        # 10/s with no burst, measured over 100 intervals (10 s).
        sink = self.peer(peers.AioSink())
        toml = '[shaping.domain."c.test"]\nmax_message_rate = "10/s,max_burst=1"\n'
        eng = self.engine(self.shared_mx(), sink, toml)
        send_many(eng, ['u%d@c.test' % i for i in range(101)], threads=4)
        sink.wait_messages(101, deadline=60)
        times = sorted(sink.times)
        span = times[-1] - times[0]
        rate = 100 / span
        self.assertGreaterEqual(span, 9.0)
        self.assertTrue(9.0 <= rate <= 11.0, 'measured %.2f messages/s over %.1f s, want 10 +- 10%%'
                        % (rate, span))

    def test_message_rate_is_per_site(self):
        # The rate of c.test does not slow a.test.
        sink = self.peer(peers.AioSink())
        toml = '[shaping.domain."c.test"]\nmax_message_rate = "1/min,max_burst=1"\n'
        eng = self.engine(self.shared_mx(), sink, toml)
        send_many(eng, ['u0@c.test', 'u1@c.test'] + ['u%d@a.test' % i for i in range(20)], threads=2)
        got = sink.wait_messages(21, deadline=30)
        self.assertEqual(sum(1 for m in got if m.rcpts[0].endswith('@c.test')), 1,
                         'the second c.test message waits a minute')

    def test_recipients_are_split_into_transactions(self):
        sink = self.peer(peers.AioSink())
        toml = '[shaping.default]\nmax_recipients_per_message = 3\n'
        eng = self.engine(self.shared_mx(), sink, toml)
        rcpts = ['u%d@a.test' % i for i in range(8)]
        with smtplib.SMTP(eng.host, eng.port, timeout=10) as s:
            s.sendmail('alice@sender.test', rcpts, b'Subject: many\r\n\r\nHello.\r\n')
        got = sink.wait_messages(3)
        self.assertEqual(sorted(len(m.rcpts) for m in got), [2, 3, 3])
        self.assertEqual(sorted(r for m in got for r in m.rcpts), sorted(rcpts))
        evs = peers.wait_events(self.events, lambda e: e['type'] == 'delivered', n=8)
        self.assertEqual(sorted(e['recipient'] for e in evs), sorted(rcpts))

    def test_max_deliveries_per_connection(self):
        sink = self.peer(peers.AioSink())
        toml = ('[shaping.default]\nconnection_limit = 1\n'
                '[shaping.domain."a.test"]\nmax_deliveries_per_connection = 2\n')
        # Held first, so that all six wait in the queue when delivery starts.
        held = self.start_engine()
        send_many(held, ['u%d@a.test' % i for i in range(6)], threads=1)
        held.stop()
        self.engine(self.shared_mx(), sink, toml, spool=held.spool)
        sink.wait_messages(6)
        self.assertEqual(sink.connections, 3, 'two messages per connection')

    def shaping_events(self, pred=lambda e: True, n=1, deadline=15.0):
        return peers.wait_events(self.events, lambda e: e['type'] == 'shaping' and pred(e), n=n,
                                 deadline=deadline)

    def test_421_at_connect_suspends_the_site(self):
        # The first connection is refused with a 421 matching the rule; for
        # the rule's 3 s nothing connects; then the message goes out.
        sink = self.peer(peers.AioSink(greeting=lambda n: '421 4.7.0 [TSS04] rate limited' if n == 1 else None))
        toml = ("[[shaping.rule]]\nregex = ['^421 4\\.7\\.0 .*(rate|too many)', 'TSS04']\n"
                'action = "suspend"\nduration = "3s"\n')
        eng = self.engine(self.shared_mx(), sink, toml, '--retry-min', '1')
        send_many(eng, ['u0@a.test'], threads=1)
        ev = self.shaping_events()[0]
        self.assertEqual(ev['action'], 'suspend')
        self.assertEqual(ev['site'], 'mx:mx1.shared.test,mx2.shared.test')
        self.assertEqual(ev['source'], '')
        self.assertEqual(ev['rule'], 'rule 1')
        self.assertIn('TSS04', ev['response'])
        self.assertIn('until', ev)
        deferred = peers.wait_events(self.events, lambda e: e['type'] == 'deferred')[0]
        self.assertEqual(deferred['attempt'], 0, 'a suspension is not a failed attempt')
        sink.wait_messages(1, deadline=15)
        with sink.lock:
            first, later = sink.connect_times[0], sink.connect_times[1:]
        self.assertTrue(later, 'delivered over a second connection')
        self.assertGreaterEqual(later[0] - first, 2.5, 'no connection while suspended (3 s)')
        end = self.shaping_events(lambda e: e['action'] == 'suspend_end')[0]
        self.assertEqual(end['site'], ev['site'])
        delivered = peers.wait_events(self.events, lambda e: e['type'] == 'delivered')[0]
        self.assertEqual(delivered['recipient'], 'u0@a.test')

    def test_throttle_rule_slows_the_site_then_ends(self):
        sink = self.peer(peers.AioSink(
            rcpt_reply=lambda s, r, n: '451 4.7.1 slow down' if r == 'u0@a.test' and n == 1 else None))
        toml = ('[[shaping.rule]]\nregex = \'^451 4\\.7\\.1 slow down\'\naction = "throttle"\n'
                'duration = "4s"\nmax_message_rate = "1/min,max_burst=1"\nconnection_limit = 1\n')
        eng = self.engine(self.shared_mx(), sink, toml, '--retry-min', '1')
        send_many(eng, ['u0@a.test'], threads=1)
        ev = self.shaping_events()[0]
        seen = time.monotonic()  # within 4 s of the throttle's start
        self.assertEqual(ev['action'], 'throttle')
        send_many(eng, ['u%d@a.test' % i for i in range(1, 6)], threads=1)
        time.sleep(max(0.0, seen + 2.5 - time.monotonic()))
        with sink.lock:
            during = len(sink.messages)
        self.assertLessEqual(during, 1, 'at most one message while throttled to 1/min')
        end = self.shaping_events(lambda e: e['action'] == 'throttle_end', deadline=10)[0]
        got = sink.wait_messages(6, deadline=20)
        self.assertEqual(sorted(m.rcpts[0] for m in got), ['u%d@a.test' % i for i in range(6)])
        self.assertTrue(end['site'].startswith('mx:'))

    def test_bounce_rule_and_trigger(self):
        # 452 4.2.2 bounces at once; 451 4.7.0 suspends only on its second match.
        def rcpt(s, r, n):
            if r.startswith('full'):
                return '452 4.2.2 mailbox full'
            if r.startswith('busy'):
                return '451 4.7.0 try later'
            return None
        sink = self.peer(peers.AioSink(rcpt_reply=rcpt))
        toml = ("[[shaping.rule]]\nregex = '^452 4\\.2\\.2 '\naction = \"bounce\"\n"
                "[[shaping.rule]]\nregex = '^451 4\\.7\\.0 '\naction = \"suspend\"\nduration = \"1m\"\n"
                'trigger = "2/1min"\n')
        eng = self.engine(self.shared_mx(), sink, toml)
        send_many(eng, ['full@a.test'], threads=1)
        bounced = peers.wait_events(self.events, lambda e: e['type'] == 'bounced')[0]
        self.assertEqual(bounced['recipient'], 'full@a.test')
        self.assertEqual(bounced['code'], 452)
        send_many(eng, ['busy1@a.test'], threads=1)
        peers.wait_events(self.events, lambda e: e['type'] == 'deferred' and e['recipient'] == 'busy1@a.test')
        self.assertEqual([e for e in peers.read_events(self.events) if e['type'] == 'shaping'], [],
                         'one match of a 2/1min trigger does nothing')
        send_many(eng, ['busy2@a.test'], threads=1)
        ev = self.shaping_events()[0]
        self.assertEqual((ev['action'], ev['rule']), ('suspend', 'rule 2'))

    def test_internal_failures_need_match_internal(self):
        dns = self.peer(peers.Dnsmasq([('mx-host', 'dead.test,mx.dead.test,10'),
                                       ('host-record', 'mx.dead.test,127.0.0.1')]))
        closed = harness.free_port()  # nothing listens there
        for internal in (False, True):
            toml = ("[[shaping.rule]]\nregex = 'connect to .*refused'\naction = \"suspend\"\n"
                    'duration = "1m"\nmatch_internal = %s\n' % ('true' if internal else 'false'))
            eng = self.start_engine('--resolver', dns.address, '--mx-port', str(closed), '--event-log',
                                    self.events, '--config', self.config(toml), deliver=True,
                                    spool=self.new_spool('spool-%s' % internal))
            send_many(eng, ['u@dead.test'], threads=1)
            peers.wait_events(self.events, lambda e: e['type'] == 'deferred', n=1 + internal)
            if internal:
                ev = self.shaping_events()[0]
                self.assertIn('Connection refused', ev['response'])
            else:
                self.assertEqual([e for e in peers.read_events(self.events) if e['type'] == 'shaping'], [])
            eng.stop()

    EGRESS = (
        '[egress.source."ip-2"]\naddress = "127.0.0.2"\nehlo = "mta2.sender.test"\n'
        '[egress.source."ip-3"]\naddress = "127.0.0.3"\n'
        '[egress.pool."main"]\nsources = [{ name = "ip-2", weight = 3 }, { name = "ip-3", weight = 1 }]\n'
        '[egress.pool."other"]\nsources = [{ name = "ip-3" }]\n'
        '[egress]\ndefault_pool = "main"\npool_by_sender_domain = { "other.test" = "other" }\n')

    def test_egress_sources_weights_and_ehlo(self):
        sink = self.peer(peers.AioSink(host='0.0.0.0'))
        eng = self.engine(self.shared_mx(), sink, self.EGRESS)
        send_many(eng, ['u%d@a.test' % i for i in range(40)], threads=4)
        got = sink.wait_messages(40, deadline=30)
        by_ip = {}
        for m in got:
            by_ip[m.peer[0]] = by_ip.get(m.peer[0], 0) + 1
        self.assertEqual(set(by_ip), {'127.0.0.2', '127.0.0.3'}, by_ip)
        ratio = by_ip['127.0.0.2'] / by_ip['127.0.0.3']
        self.assertTrue(2.5 <= ratio <= 3.5, 'weights 3:1 gave %r' % by_ip)
        self.assertEqual({m.helo for m in got if m.peer[0] == '127.0.0.2'}, {'mta2.sender.test'})
        self.assertEqual({m.helo for m in got if m.peer[0] == '127.0.0.3'}, {'mta.ringmta.test'},
                         'a source without ehlo uses --hostname')
        evs = peers.wait_events(self.events, lambda e: e['type'] == 'delivered', n=40)
        self.assertEqual({(e['source'], e['pool']) for e in evs}, {('ip-2', 'main'), ('ip-3', 'main')})

    def test_pool_header_sender_domain_tenant_and_campaign(self):
        sink = self.peer(peers.AioSink(host='0.0.0.0'))
        eng = self.engine(self.shared_mx(), sink, self.EGRESS)
        body = (b'X-Ringmta-Pool: other\r\nSubject: pooled\r\nX-Ringmta-Tenant: acme\r\n'
                b'X-Ringmta-Campaign: spring-sale\r\n\r\nHello.\r\n')
        with smtplib.SMTP(eng.host, eng.port, timeout=10) as s:
            s.sendmail('alice@sender.test', ['h@a.test'], body)
            s.sendmail('bob@Other.test', ['d@a.test'], b'Subject: by domain\r\n\r\nHi.\r\n')
        got = {m.rcpts[0]: m for m in sink.wait_messages(2)}
        self.assertEqual(got['h@a.test'].peer[0], '127.0.0.3', 'X-Ringmta-Pool: other')
        self.assertEqual(got['d@a.test'].peer[0], '127.0.0.3', 'pool_by_sender_domain')
        content = got['h@a.test'].content
        self.assertNotIn(b'X-Ringmta', content, 'control headers are removed before delivery')
        self.assertIn(b'Subject: pooled\r\n', content)
        evs = {e['recipient']: e for e in peers.wait_events(self.events, lambda e: e['type'] == 'delivered', n=2)}
        self.assertEqual((evs['h@a.test']['tenant'], evs['h@a.test']['campaign']), ('acme', 'spring-sale'))
        self.assertEqual((evs['h@a.test']['pool'], evs['h@a.test']['source']), ('other', 'ip-3'))
        self.assertNotIn('tenant', evs['d@a.test'])

    def test_tenant_rule_suspends_only_that_tenant(self):
        def rcpt(s, r, n):
            return '421 4.7.0 acme is sending too much' if r == 'first@a.test' else None
        sink = self.peer(peers.AioSink(rcpt_reply=rcpt))
        toml = ("[[shaping.rule]]\nregex = 'too much'\naction = \"suspend\"\nduration = \"1m\"\n"
                'tenant = "acme"\n')
        eng = self.engine(self.shared_mx(), sink, toml)
        acme = b'X-Ringmta-Tenant: acme\r\nSubject: a\r\n\r\nHi.\r\n'
        with smtplib.SMTP(eng.host, eng.port, timeout=10) as s:
            s.sendmail('alice@sender.test', ['first@a.test'], acme)
        ev = self.shaping_events()[0]
        self.assertEqual((ev['action'], ev['tenant']), ('suspend', 'acme'))
        with smtplib.SMTP(eng.host, eng.port, timeout=10) as s:
            s.sendmail('alice@sender.test', ['second@a.test'], acme)
            s.sendmail('alice@sender.test', ['other@a.test'], b'Subject: b\r\n\r\nHi.\r\n')
        got = sink.wait_messages(1)
        held = peers.wait_events(self.events, lambda e: e['type'] == 'deferred' and e['recipient'] == 'second@a.test')
        self.assertIn('suspended', held[0]['response'])
        self.assertEqual([m.rcpts[0] for m in got], ['other@a.test'], 'other tenants still go')

    def test_a_source_that_cannot_be_bound_exits_2(self):
        path = self.config('[egress.source."far"]\naddress = "192.0.2.10"\n'
                           '[egress.pool."p"]\nsources = [{ name = "far" }]\n[egress]\ndefault_pool = "p"\n')
        p = subprocess.run([harness.ringmta_bin(), '--config', path, '--spool', self.tmp],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn('egress.source."far"', p.stderr)
        self.assertIn('192.0.2.10', p.stderr)

    def test_sighup_reloads_the_shaping_file_keeping_queued_mail(self):
        sink = self.peer(peers.AioSink())
        shaping = os.path.join(self.tmp, 'shaping.toml')
        with open(shaping, 'w') as f:
            f.write('[shaping.domain."c.test"]\nmax_message_rate = "1/h,max_burst=1"\n')
        eng = self.engine(self.shared_mx(), sink, '[shaping]\nfile = "%s"\n' % shaping)
        send_many(eng, ['u0@c.test', 'u1@c.test'], threads=1)
        sink.wait_messages(1)
        time.sleep(1.0)
        self.assertEqual(len(sink.messages), 1, 'the second waits an hour')
        with open(shaping, 'w') as f:
            f.write('[shaping.domain."c.test"]\nmax_message_rate = "not a rate"\n')
        eng.proc.send_signal(signal.SIGHUP)
        end = time.time() + 10
        while 'the shaping tables in use stay' not in eng.log() and time.time() < end:
            time.sleep(0.05)
        self.assertIn('max_message_rate: expected a rate', eng.log(), 'the bad file is refused, named')
        self.assertEqual(len(sink.messages), 1)
        with open(shaping, 'w') as f:
            f.write('[shaping.domain."c.test"]\nconnection_limit = 5\n')
        eng.proc.send_signal(signal.SIGHUP)
        got = sink.wait_messages(2, deadline=10)
        self.assertEqual(sorted(m.rcpts[0] for m in got), ['u0@c.test', 'u1@c.test'])
        self.assertIn('SIGHUP: shaping tables loaded from %s' % shaping, eng.log())

    def test_bad_shaping_values_exit_2_naming_the_key(self):
        for toml, key in [('[shaping.default]\nconnection_limit = 0\n', 'shaping.default.connection_limit'),
                          ('[shaping.domain."x.test"]\nmax_message_rate = "often"\n',
                           'shaping.domain."x.test".max_message_rate'),
                          ('[shaping.default]\nconection_limit = 3\n', 'shaping.default.conection_limit')]:
            path = self.config(toml)
            p = subprocess.run([harness.ringmta_bin(), '--config', path, '--spool', self.tmp],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(key, p.stderr)
            self.assertIn(path, p.stderr)


if __name__ == '__main__':
    harness.main()
