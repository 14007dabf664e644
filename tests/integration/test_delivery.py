"""Delivery with real peers: dnsmasq for MX/A records, aiosmtpd and
Postfix's smtp-sink as the receiving mail exchangers.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_delivery.py -v
"""

import os
import smtplib
import socket
import subprocess
import threading
import time

import harness
import peers


def send(eng, sender, rcpts, body=b'Subject: hello\r\n\r\nHello there.\r\n'):
    with smtplib.SMTP(eng.host, eng.port, local_hostname='client.example.test', timeout=10) as s:
        s.sendmail(sender, rcpts, body)


class DeliveryTest(harness.EngineTestCase):

    def engine(self, dns, mx_port, *extra, spool=None):
        return self.start_engine('--resolver', dns.address, '--mx-port', str(mx_port),
                                 '--event-log', self.events, *extra, deliver=True, spool=spool)

    def test_delivers_to_the_mx_found_in_dns(self):
        sink = self.peer(peers.AioSink())
        dns = self.peer(peers.Dnsmasq([('mx-host', 'example.test,mx1.example.test,10'),
                                       ('host-record', 'mx1.example.test,127.0.0.1')]))
        eng = self.engine(dns, sink.port)
        send(eng, 'alice@sender.test', ['bob@example.test'])
        got = sink.wait_messages(1)
        self.assertEqual(got[0].sender, 'alice@sender.test')
        self.assertEqual(got[0].rcpts, ['bob@example.test'])
        self.assertIn(b'by mta.ringmta.test (ringmta)', got[0].content)
        self.assertIn(b'Hello there.', got[0].content)
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'delivered')[0]
        self.assertEqual(ev['recipient'], 'bob@example.test')
        self.assertEqual(ev['sender'], 'alice@sender.test')
        self.assertEqual(ev['host'], 'mx1.example.test')
        self.assertEqual(ev['ip'], '127.0.0.1')
        self.assertEqual(ev['code'], 250)
        self.assertEqual(ev['attempt'], 1)
        for field in ('queue_id', 'response', 'time'):
            self.assertIn(field, ev)
        # Delivered means final: nothing left in the spool.
        deadline = time.time() + 5
        while harness.spool_ids(eng.spool) and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(harness.spool_ids(eng.spool), [])

    def test_relay_host_by_name_is_looked_up_without_mx(self):
        sink = self.peer(peers.AioSink())
        # smart.relay.test has an MX pointing elsewhere: a named relay host
        # is Postfix's [host], its own address, never its MX.
        dns = self.peer(peers.Dnsmasq([('host-record', 'smart.relay.test,127.0.0.1'),
                                       ('mx-host', 'smart.relay.test,elsewhere.relay.test,10')]))
        eng = self.engine(dns, 1, '--relay-host', 'smart.relay.test:%d' % sink.port)
        send(eng, 'alice@sender.test', ['bob@example.test'])
        got = sink.wait_messages(1)
        self.assertEqual(got[0].rcpts, ['bob@example.test'])
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'delivered')[0]
        self.assertEqual((ev['host'], ev['ip']), ('smart.relay.test', '127.0.0.1'))
        eng.stop()
        # A name that does not resolve is the configuration's problem: deferred, never bounced.
        eng = self.engine(dns, 1, '--relay-host', 'nowhere.relay.test:25', spool=self.new_spool('spool2'))
        send(eng, 'alice@sender.test', ['carol@example.test'])
        ev = peers.wait_events(self.events, lambda e: e['type'] in ('deferred', 'bounced')
                               and e['recipient'] == 'carol@example.test')[0]
        self.assertEqual((ev['type'], ev['code']), ('deferred', 451))
        self.assertIn('nowhere.relay.test', ev['response'])

    def test_second_mx_when_the_first_refuses_connections(self):
        sink = self.peer(peers.AioSink(host='127.0.0.1'))
        # mxa (preference 10) is 127.0.0.2, where nothing listens on the port.
        dns = self.peer(peers.Dnsmasq([('mx-host', 'two.test,mxa.two.test,10'),
                                       ('mx-host', 'two.test,mxb.two.test,20'),
                                       ('host-record', 'mxa.two.test,127.0.0.2'),
                                       ('host-record', 'mxb.two.test,127.0.0.1')]))
        eng = self.engine(dns, sink.port)
        send(eng, 'alice@sender.test', ['bob@two.test'])
        sink.wait_messages(1)
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'delivered')[0]
        self.assertEqual(ev['host'], 'mxb.two.test')

    def test_4xx_is_retried_until_accepted(self):
        sink = self.peer(peers.AioSink(
            rcpt_reply=lambda s, r, n: '451 4.3.0 try again later' if n == 1 else None))
        dns = self.peer(peers.Dnsmasq([('mx-host', 'example.test,mx1.example.test,10'),
                                       ('host-record', 'mx1.example.test,127.0.0.1')]))
        eng = self.engine(dns, sink.port, '--retry-min', '1', '--retry-max', '2')
        send(eng, 'alice@sender.test', ['bob@example.test'])
        sink.wait_messages(1, deadline=20)
        evs = peers.wait_events(self.events, lambda e: e['type'] in ('deferred', 'delivered'), n=2)
        self.assertEqual([e['type'] for e in evs], ['deferred', 'delivered'])
        self.assertEqual(evs[0]['code'], 451)
        self.assertEqual(evs[0]['status'], '4.3.0')
        self.assertIn('next_retry', evs[0])
        self.assertEqual(evs[1]['attempt'], 2)

    def test_5xx_bounces_with_a_dsn_to_the_sender(self):
        sink = self.peer(peers.AioSink(
            rcpt_reply=lambda s, r, n: '550 5.1.1 no such user' if r.startswith('nobody@') else None))
        dns = self.peer(peers.Dnsmasq([('mx-host', 'example.test,mx1.example.test,10'),
                                       ('mx-host', 'sender.test,mx1.example.test,10'),
                                       ('host-record', 'mx1.example.test,127.0.0.1')]))
        eng = self.engine(dns, sink.port)
        send(eng, 'alice@sender.test', ['nobody@example.test', 'bob@example.test'],
             body=b'Subject: original subject\r\nMessage-ID: <orig@x>\r\n\r\nbody\r\n')
        got = sink.wait_messages(2)
        by_sender = {m.sender: m for m in got}
        self.assertIn('alice@sender.test', by_sender)  # bob's copy
        self.assertEqual(by_sender['alice@sender.test'].rcpts, ['bob@example.test'])
        dsn = by_sender.get('<>')  # aiosmtpd spells the null sender <>
        self.assertIsNotNone(dsn, 'no DSN with the null sender arrived: %r' % [m.sender for m in got])
        self.assertEqual(dsn.rcpts, ['alice@sender.test'])
        text = dsn.content.decode('utf-8', 'replace')
        self.assertIn('multipart/report', text)
        self.assertIn('report-type=delivery-status', text)
        self.assertIn('Final-Recipient: rfc822; nobody@example.test', text)
        self.assertIn('Action: failed', text)
        self.assertIn('Status: 5.1.1', text)
        self.assertIn('550 5.1.1 no such user', text)
        self.assertIn('Subject: original subject', text)  # the original headers
        bounced = peers.wait_events(self.events, lambda e: e['type'] == 'bounced')
        self.assertEqual(bounced[0]['recipient'], 'nobody@example.test')
        self.assertEqual(bounced[0]['code'], 550)

    def test_null_mx_bounces_at_once(self):
        sink = self.peer(peers.AioSink())
        dns = self.peer(peers.Dnsmasq([('mx-host', 'nullmx.test,.,0'),
                                       ('mx-host', 'sender.test,mx1.sender.test,10'),
                                       ('host-record', 'mx1.sender.test,127.0.0.1')]))
        eng = self.engine(dns, sink.port)
        send(eng, 'alice@sender.test', ['bob@nullmx.test'])
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'bounced')[0]
        self.assertEqual(ev['recipient'], 'bob@nullmx.test')
        self.assertEqual(ev['status'], '5.1.10')
        dsn = sink.wait_messages(1)[0]
        self.assertEqual(dsn.sender, '<>')
        self.assertEqual(dsn.rcpts, ['alice@sender.test'])

    def test_no_bounce_for_a_bounce(self):
        sink = self.peer(peers.AioSink(rcpt_reply=lambda s, r, n: '550 5.1.1 no such user'))
        dns = self.peer(peers.Dnsmasq([('mx-host', 'example.test,mx1.example.test,10'),
                                       ('host-record', 'mx1.example.test,127.0.0.1')]))
        eng = self.engine(dns, sink.port)
        send(eng, '<>', ['nobody@example.test'])
        peers.wait_events(self.events, lambda e: e['type'] == 'bounced')
        time.sleep(1.0)
        # No DSN attempted: one delivery outcome (the suppression entry the
        # 5.1.1 made is an event of another kind).
        outcomes = [e for e in peers.read_events(self.events) if e['type'] in ('delivered', 'deferred', 'bounced')]
        self.assertEqual(len(outcomes), 1)
        self.assertEqual(sink.messages, [])

    def test_connection_dropped_in_data_is_deferred_then_retried(self):
        sink = self.peer(peers.AioSink(data_reply=lambda env, n: 'DROP' if n == 1 else None))
        dns = self.peer(peers.Dnsmasq([('mx-host', 'example.test,mx1.example.test,10'),
                                       ('host-record', 'mx1.example.test,127.0.0.1')]))
        eng = self.engine(dns, sink.port, '--retry-min', '1')
        send(eng, 'alice@sender.test', ['bob@example.test'])
        evs = peers.wait_events(self.events, lambda e: e['type'] in ('deferred', 'delivered'), n=2,
                                deadline=20)
        self.assertEqual(evs[0]['type'], 'deferred')
        self.assertEqual(evs[1]['type'], 'delivered')
        self.assertEqual(len(sink.wait_messages(1)), 1)

    def test_deferred_messages_survive_a_restart(self):
        accept = threading.Event()
        sink = self.peer(peers.AioSink(
            rcpt_reply=lambda s, r, n: None if accept.is_set() else '451 4.3.0 not now'))
        dns = self.peer(peers.Dnsmasq([('mx-host', 'example.test,mx1.example.test,10'),
                                       ('host-record', 'mx1.example.test,127.0.0.1')]))
        eng = self.engine(dns, sink.port, '--retry-min', '2')
        send(eng, 'alice@sender.test', ['bob@example.test'])
        peers.wait_events(self.events, lambda e: e['type'] == 'deferred')
        eng.stop()
        ids = harness.spool_ids(eng.spool)
        self.assertEqual(len(ids), 1, 'the deferred message must stay in the spool')
        accept.set()
        eng2 = self.start_engine('--resolver', dns.address, '--mx-port', str(sink.port),
                                 '--event-log', self.events, '--retry-min', '2',
                                 spool=eng.spool, deliver=True)
        eng2.wait_log(r'1 messages not yet final')
        got = sink.wait_messages(1, deadline=20)
        self.assertEqual(got[0].rcpts, ['bob@example.test'])
        delivered = peers.wait_events(self.events, lambda e: e['type'] == 'delivered')[0]
        self.assertEqual(delivered['queue_id'], ids[0])
        self.assertEqual(delivered['attempt'], 2)

    def test_connections_are_reused(self):
        sink = self.peer(peers.AioSink())
        eng = self.start_engine('--relay-host', '127.0.0.1:%d' % sink.port, '--event-log', self.events,
                                '--dest-connections', '2', shards=1, deliver=True)
        harness.send_messages(eng, 40, rcpt='r@example.test')
        sink.wait_messages(40)
        self.assertLessEqual(sink.connections, 2 * 2, 'one connection per message: no reuse')

    def test_relay_to_smtp_sink_under_load(self):
        sink = self.peer(peers.SmtpSink())
        eng = self.start_engine('--relay-host', sink.address, '--event-log', self.events, deliver=True)
        src = harness.require_tool('/usr/sbin/smtp-source', 'postfix')
        subprocess.run([src, '-s', '10', '-m', '2000', '-l', '1024', '-d', '-f', 'a@sender.test',
                        '-t', 'b@example.test', eng.address], check=True, timeout=120)
        evs = peers.wait_events(self.events, lambda e: e['type'] == 'delivered', n=2000, deadline=60)
        self.assertEqual(len(evs), 2000)
        self.assertEqual(len({e['queue_id'] for e in evs}), 2000)


class PostfixReceiverTest(harness.EngineTestCase):
    """Postfix itself as the receiving server: ringmta -> Postfix (a private
    instance, bench/postfix_instance.sh) -> aiosmtpd."""

    SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'bench',
                          'postfix_instance.sh')

    def test_postfix_receives_and_passes_it_on(self):
        harness.require_tool('/usr/sbin/postfix', 'postfix')
        sink = peers.AioSink()
        self.addCleanup(sink.stop)
        pdir = os.path.join(self.tmp, 'postfix')
        os.makedirs(pdir)
        os.chmod(self.tmp, 0o755)  # the postfix user must reach its queue
        port = harness.free_port()
        subprocess.run(['bash', self.SCRIPT, 'start', pdir, str(port), '127.0.0.1:%d' % sink.port],
                       check=True, timeout=60, stdout=subprocess.DEVNULL)
        self.addCleanup(subprocess.run, ['bash', self.SCRIPT, 'stop', pdir], timeout=60,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        events = os.path.join(self.tmp, 'events.log')
        eng = self.start_engine('--relay-host', '127.0.0.1:%d' % port, '--event-log', events, deliver=True)
        send(eng, 'alice@sender.test', ['bob@example.test', 'carol@example.test'])
        ev = peers.wait_events(events, lambda e: e['type'] == 'delivered', n=2)
        self.assertEqual(ev[0]['code'], 250)
        got = sink.wait_messages(1, deadline=30, what='through Postfix')
        self.assertEqual(sorted(got[0].rcpts), ['bob@example.test', 'carol@example.test'])
        self.assertIn(b'by mta.ringmta.test (ringmta)', got[0].content)
        self.assertIn(b'postfix-bench.test', got[0].content)  # Postfix's own Received line


class SmtpSinkFailureTest(harness.EngineTestCase):
    """Postfix's smtp-sink injecting failures: -r (4xx), -f (5xx), -Q (421 and close)."""

    def run_against(self, *sink_args):
        sink = peers.SmtpSink(*sink_args)
        self.addCleanup(sink.stop)
        eng = self.start_engine('--relay-host', sink.address, '--event-log', self.events,
                                '--retry-min', '60', deliver=True)
        send(eng, 'alice@sender.test', ['bob@example.test'])
        return peers.wait_events(self.events, lambda e: e['recipient'] == 'bob@example.test')[0]

    def test_soft_reject_at_rcpt_defers(self):
        ev = self.run_against('-r', 'rcpt')
        self.assertEqual(ev['type'], 'deferred')
        self.assertEqual(ev['code'] // 100, 4)

    def test_hard_reject_at_rcpt_bounces(self):
        ev = self.run_against('-f', 'rcpt')
        self.assertEqual(ev['type'], 'bounced')
        self.assertEqual(ev['code'] // 100, 5)

    def test_hard_reject_of_the_data_bounces(self):
        ev = self.run_against('-f', '.')
        self.assertEqual(ev['type'], 'bounced')

    def test_421_and_disconnect_in_mail_defers(self):
        ev = self.run_against('-Q', 'mail')
        self.assertEqual(ev['type'], 'deferred')
        self.assertEqual(ev['code'], 421)


class StartTlsTest(harness.EngineTestCase):

    def sink(self, tls):
        sink = peers.AioSink(tls_context=peers.make_tls_context(self.tmp) if tls else None)
        self.addCleanup(sink.stop)
        return sink

    def relay(self, sink, policy):
        return self.start_engine('--relay-host', '127.0.0.1:%d/%s' % (sink.port, policy),
                                 '--event-log', self.events, '--retry-min', '60', deliver=True)

    def test_opportunistic_encrypts_when_offered(self):
        sink = self.sink(tls=True)
        eng = self.relay(sink, 'opportunistic')
        send(eng, 'alice@sender.test', ['bob@example.test'])
        got = sink.wait_messages(1)
        self.assertTrue(got[0].tls, 'the message must arrive over STARTTLS')
        self.assertEqual(got[0].rcpts, ['bob@example.test'])

    def test_opportunistic_delivers_in_plaintext_without_tls(self):
        sink = self.sink(tls=False)
        eng = self.relay(sink, 'opportunistic')
        send(eng, 'alice@sender.test', ['bob@example.test'])
        got = sink.wait_messages(1)
        self.assertFalse(got[0].tls)

    def test_required_defers_when_the_server_has_no_tls(self):
        sink = self.sink(tls=False)
        eng = self.relay(sink, 'required')
        send(eng, 'alice@sender.test', ['bob@example.test'])
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'deferred')[0]
        self.assertIn('TLS is required', ev['response'])
        self.assertEqual(sink.messages, [])

    def test_required_encrypts(self):
        sink = self.sink(tls=True)
        eng = self.relay(sink, 'required')
        send(eng, 'alice@sender.test', ['bob@example.test'])
        self.assertTrue(sink.wait_messages(1)[0].tls)

    def test_off_never_starts_tls(self):
        sink = self.sink(tls=True)
        eng = self.start_engine('--relay-host', '127.0.0.1:%d' % sink.port, '--outbound-tls', 'off',
                                deliver=True)
        send(eng, 'alice@sender.test', ['bob@example.test'])
        self.assertFalse(sink.wait_messages(1)[0].tls)


class PipeliningProbe:
    """A receiving server that offers PIPELINING and records, per read,
    which commands arrived together (aiosmtpd does not offer PIPELINING)."""

    def __init__(self):
        self.port = harness.free_port()
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', self.port))
        self.sock.listen(8)
        self.reads = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.sock.accept()
        conn.settimeout(10)
        conn.sendall(b'220 probe ESMTP\r\n')
        buf = b''
        in_data = False
        while True:
            data = conn.recv(65536)
            if not data:
                return
            self.reads.append(data)
            buf += data
            while True:
                if in_data:
                    end = buf.find(b'\r\n.\r\n')
                    if end < 0:
                        break
                    buf = buf[end + 5:]
                    in_data = False
                    conn.sendall(b'250 2.0.0 queued\r\n')
                    continue
                nl = buf.find(b'\r\n')
                if nl < 0:
                    break
                line, buf = buf[:nl], buf[nl + 2:]
                verb = line[:4].upper()
                if verb == b'EHLO':
                    conn.sendall(b'250-probe\r\n250-PIPELINING\r\n250 8BITMIME\r\n')
                elif verb == b'DATA':
                    conn.sendall(b'354 go\r\n')
                    in_data = True
                elif verb == b'QUIT':
                    conn.sendall(b'221 bye\r\n')
                    conn.close()
                    return
                else:
                    conn.sendall(b'250 ok\r\n')

    def stop(self):
        self.sock.close()


class PipeliningTest(harness.EngineTestCase):

    def test_mail_rcpt_and_data_go_in_one_write(self):
        probe = PipeliningProbe()
        self.addCleanup(probe.stop)
        eng = self.start_engine('--relay-host', '127.0.0.1:%d' % probe.port, shards=1, deliver=True)
        send(eng, 'alice@sender.test', ['a@example.test', 'b@example.test', 'c@example.test'])
        deadline = time.time() + 10
        while time.time() < deadline and not any(b'DATA' in r for r in probe.reads):
            time.sleep(0.05)
        together = [r for r in probe.reads if b'MAIL FROM' in r]
        self.assertTrue(together, 'no MAIL FROM seen: %r' % probe.reads)
        self.assertIn(b'RCPT TO:<c@example.test>', together[0])
        self.assertIn(b'DATA\r\n', together[0], 'MAIL, RCPTs and DATA must arrive in one write')



class PostmasterTest(harness.EngineTestCase):
    """RCPT TO:<postmaster> (RFC 5321 4.5.1) without backscatter."""

    def test_postmaster_goes_to_the_configured_address_or_is_refused(self):
        sink = self.peer(peers.AioSink())
        eng = self.start_engine('--postmaster', 'ops@ops.test', '--route', 'ops.test=127.0.0.1:%d' % sink.port,
                                '--event-log', self.events, deliver=True)
        send(eng, 'someone@sender.test', ['postmaster'])
        got = sink.wait_messages(1)
        self.assertEqual(got[0].rcpts, ['ops@ops.test'])
        eng.stop()
        # Without server.postmaster: refused at RCPT, so no DSN can follow.
        eng = self.start_engine(spool=self.new_spool('spool2'), deliver=True)
        with smtplib.SMTP(eng.host, eng.port, local_hostname='client.example.test', timeout=10) as s:
            s.ehlo()
            s.mail('someone@sender.test')
            code, msg = s.rcpt('postmaster')
        self.assertEqual(code, 550)
        self.assertIn(b'5.1.1 <postmaster>: no postmaster mailbox is configured here (server.postmaster)', msg)

if __name__ == '__main__':
    harness.main()
