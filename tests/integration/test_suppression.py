"""The suppression list end to end (engine/suppression/): a real SMTP sink
(aiosmtpd) that answers 550 5.1.1 to one address and 451 to another,
smtplib as the client, curl-free HTTP (urllib) for /api/v1/suppressions and
/api/v1/inject, and the built ringmta-ctl for suppress add / check / list /
import / export.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
    RINGMTA_CTL_BIN=BUILD/tools/ctl/ringmta-ctl PYTHONPATH=tests/integration \
        /usr/bin/python3 tests/integration/test_suppression.py -v
"""

import json
import os
import random
import re
import smtplib
import subprocess
import time
import urllib.error
import urllib.request

import harness
import peers
from test_ctl_dns import ctl

DEADLINE = 20


def api(eng, method, path, body=None):
    """(status, parsed JSON) of one admin API call."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(eng.admin_url + path, data=data, method=method,
                                 headers={'Content-Type': 'application/json'} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=DEADLINE) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def rcpt_replies(eng, rcpts, tenant=None, sender='sender@example.com'):
    """RCPT replies of one transaction, and the queue id if any was taken."""
    with smtplib.SMTP(eng.host, eng.port, local_hostname='client.example.test', timeout=10) as s:
        s.ehlo()
        s.mail(sender)
        replies = [s.rcpt(r) for r in rcpts]
        if not any(code == 250 for code, _ in replies):
            return replies, None
        headers = 'Subject: suppression\r\n'
        if tenant:
            headers += 'X-Ringmta-Tenant: %s\r\n' % tenant
        code, msg = s.data((headers + '\r\nbody\r\n').encode())
        assert code == 250, (code, msg)
        return replies, harness.queue_id_of(msg.decode())


class SuppressionTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        self.defer = set()  # recipients the sink answers 451 (until removed)
        self.sink = self.peer(peers.AioSink(rcpt_reply=lambda s, r, n: self.reply_for(r)))

    def reply_for(self, rcpt):
        if rcpt.startswith('nobody@'):
            return '550 5.1.1 <%s>: user unknown' % rcpt
        if rcpt.startswith('full@'):
            return '552 5.2.2 mailbox full'  # QuotaIssues: a hard reply, not a suppressing class
        if rcpt in self.defer:
            return '451 4.3.0 try again later'
        return None

    def engine(self, *extra, spool=None):
        return self.start_engine('--relay-host', '127.0.0.1:%d' % self.sink.port, '--event-log', self.events,
                                 *extra, deliver=True, admin=True, spool=spool)

    def ctl(self, eng, *args, expect=0):
        p = ctl(*args, '--admin', eng.admin_url, timeout=120)
        self.assertEqual(p.returncode, expect, 'ringmta-ctl %s: exit %d\n%s%s' % (' '.join(args), p.returncode,
                                                                                 p.stdout, p.stderr))
        return p.stdout + p.stderr

    def test_a_hard_bounce_suppresses_the_next_rcpt(self):
        eng = self.engine()
        replies, _ = rcpt_replies(eng, ['nobody@example.test', 'full@example.test', 'ok@example.test'])
        self.assertEqual([c for c, _ in replies], [250, 250, 250])
        added = peers.wait_events(self.events, lambda e: e['type'] == 'suppression_added')
        self.assertEqual(added[0]['recipient'], 'nobody@example.test')
        self.assertEqual(added[0]['reason'], 'bounce')
        self.assertEqual(added[0]['class'], 'InvalidRecipient')
        self.assertRegex(added[0]['queue_id'], harness.QUEUE_ID_RE)
        peers.wait_events(self.events, lambda e: e['type'] in ('bounced', 'delivered'), n=4)  # 3 + the DSN
        # The event is logged when the entry goes to the store's writer; it
        # is in force once committed (milliseconds later).
        end = time.monotonic() + DEADLINE
        while api(eng, 'GET', '/api/v1/suppressions/nobody@example.test')[0] != 200 and time.monotonic() < end:
            time.sleep(0.05)
        # The next message to that address is refused at RCPT; the others pass.
        replies, _ = rcpt_replies(eng, ['Nobody@example.test', 'full@example.test', 'ok@example.test'])
        code, text = replies[0]
        self.assertEqual(code, 550, replies)
        self.assertRegex(text.decode(), r'^5\.7\.1 <Nobody@example\.test>: recipient is on the suppression list '
                                        r'\(bounce since \d{4}-\d\d-\d\d\)$')
        self.assertEqual([c for c, _ in replies[1:]], [250, 250], 'a soft class or a delivery suppresses nothing')
        status, body = api(eng, 'GET', '/api/v1/suppressions/nobody@example.test')
        self.assertEqual(status, 200, body)
        self.assertEqual(body['entry']['class'], 'InvalidRecipient')
        self.assertIn('550 5.1.1', body['entry']['note'])
        status, body = api(eng, 'GET', '/api/v1/suppressions/full@example.test')
        self.assertEqual((status, body['suppressed']), (404, False))
        # /metrics counts it (snapshots are up to 250 ms old), and promtool takes the text.
        want = {'ringmta_suppression_entries': 1, 'ringmta_suppression_added_total': 1,
                'ringmta_suppressed_recipients_total{how="refused"}': 1}
        end = time.monotonic() + DEADLINE
        while True:
            with urllib.request.urlopen(eng.admin_url + '/metrics', timeout=DEADLINE) as r:
                text = r.read().decode()
            got = {k: float(m.group(1)) for k in want
                   for m in [re.search(r'^%s (\S+)$' % re.escape(k), text, re.M)] if m}
            if got == want or time.monotonic() > end:
                break
            time.sleep(0.1)
        self.assertEqual(got, want)
        promtool = harness.require_tool('/usr/bin/promtool', 'prometheus')
        p = subprocess.run([promtool, 'check', 'metrics'], input=text, capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # --suppression-auto false: a hard bounce adds nothing.
        eng.stop()
        eng2 = self.engine('--suppression-auto', 'false', spool=os.path.join(self.tmp, 'spool2'))
        rcpt_replies(eng2, ['nobody@other.test'])
        peers.wait_events(self.events, lambda e: e['type'] == 'bounced' and e['recipient'] == 'nobody@other.test')
        self.assertEqual(api(eng2, 'GET', '/api/v1/suppressions/nobody@other.test')[0], 404)

    def test_only_a_refused_rcpt_adds_an_entry(self):
        # A 550 5.1.1 after DATA is the server's word on the message, copied
        # to every recipient: it bounces them, and says nothing about the
        # addresses (the class is InvalidRecipient all the same).
        sink = self.peer(peers.AioSink(data_reply=lambda env, n: '550 5.1.1 user unknown'))
        eng = self.start_engine('--relay-host', '127.0.0.1:%d' % sink.port, '--event-log', self.events,
                                deliver=True, admin=True)
        rcpt_replies(eng, ['a@example.test', 'b@example.test'])
        evs = peers.wait_events(self.events, lambda e: e['type'] == 'bounced', n=2)
        self.assertEqual({e['class'] for e in evs}, {'InvalidRecipient'})
        # The DSN to the sender was tried (and refused the same way): the attempt is over.
        peers.wait_events(self.events, lambda e: e['recipient'] == 'sender@example.com', deadline=DEADLINE)
        time.sleep(0.3)
        self.assertEqual([e for e in peers.read_events(self.events) if e['type'] == 'suppression_added'], [])
        self.assertEqual(api(eng, 'GET', '/api/v1/suppressions')[1]['addresses'], 0)

    def test_drop_mode_accepts_and_drops_with_an_event(self):
        eng = self.engine('--suppression-mode', 'drop')
        self.assertEqual(api(eng, 'POST', '/api/v1/suppressions',
                             {'address': 'gone@example.test', 'reason': 'unsubscribe'})[0], 200)
        replies, qid = rcpt_replies(eng, ['gone@example.test', 'here@example.test'])
        self.assertEqual([c for c, _ in replies], [250, 250])
        got = self.sink.wait_messages(1)
        self.assertEqual(got[0].rcpts, ['here@example.test'])
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'suppressed')[0]
        self.assertEqual((ev['recipient'], ev['queue_id'], ev['status']), ('gone@example.test', qid, '5.7.1'))
        self.assertIn('unsubscribe since', ev['response'])
        time.sleep(0.5)
        self.assertEqual(len(self.sink.messages), 1, 'no DSN for a suppressed recipient')

    def test_mail_queued_before_the_entry_is_not_delivered(self):
        self.defer.add('later@example.test')
        eng = self.engine('--retry-min', '300')
        _, qid = rcpt_replies(eng, ['later@example.test'])
        peers.wait_events(self.events, lambda e: e['type'] == 'deferred')
        self.assertEqual(self.ctl(eng, 'suppress', 'add', 'later@example.test', '--reason', 'complaint').strip(),
                         'suppressed later@example.test (complaint)')
        self.defer.clear()
        self.assertEqual(api(eng, 'POST', '/api/v1/flush')[0], 200)
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'suppressed')[0]
        self.assertEqual((ev['queue_id'], ev['recipient']), (qid, 'later@example.test'))
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end and api(eng, 'GET', '/api/v1/messages/' + qid)[0] != 404:
            time.sleep(0.1)
        self.assertEqual(api(eng, 'GET', '/api/v1/messages/' + qid)[0], 404, 'the message is final')
        with self.sink.lock:
            self.assertEqual(self.sink.rcpt_attempts.get('later@example.test'), 1)

    def test_tenant_entries_apply_to_their_tenant_and_domains_to_every_address(self):
        eng = self.engine()
        for entry in ({'address': 'carol@example.test', 'tenant': 'acme', 'reason': 'unsubscribe'},
                      {'address': '@blocked.example'}):
            self.assertEqual(api(eng, 'POST', '/api/v1/suppressions', entry)[0], 200)
        # At RCPT the tenant is not known yet: carol passes, the domain does not.
        replies, acme = rcpt_replies(eng, ['carol@example.test', 'x@blocked.example'], tenant='acme')
        self.assertEqual([c for c, _ in replies], [250, 550])
        _, other = rcpt_replies(eng, ['carol@example.test'], tenant='zeta')
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'suppressed')[0]
        self.assertEqual((ev['queue_id'], ev.get('tenant')), (acme, 'acme'))
        got = self.sink.wait_messages(1)
        self.assertEqual(got[0].rcpts, ['carol@example.test'])
        delivered = peers.wait_events(self.events, lambda e: e['type'] == 'delivered')
        self.assertEqual(delivered[0]['queue_id'], other)
        self.assertIn('is suppressed', self.ctl(eng, 'suppress', 'check', 'carol@example.test', '--tenant', 'acme'))
        self.assertIn('not suppressed', self.ctl(eng, 'suppress', 'check', 'carol@example.test', expect=1))
        self.assertIn('@blocked.example', self.ctl(eng, 'suppress', 'check', 'anyone@blocked.example'))

    def test_injection_reports_suppressed_recipients(self):
        eng = self.engine()
        self.assertEqual(api(eng, 'POST', '/api/v1/suppressions', {'address': 'no@example.test'})[0], 200)
        status, body = api(eng, 'POST', '/api/v1/inject', {
            'envelope_sender': 'sender@example.com',
            'content': {'from': 'sender@example.com', 'subject': 'hi', 'text_body': 'hello'},
            'recipients': [{'email': 'yes@example.test'}, {'email': 'not-an-address'}, {'email': 'No@example.test'}]})
        self.assertEqual(status, 200, body)
        self.assertEqual(body['success_count'], 1)
        failed = {f['email']: f for f in body['failed_recipients']}
        self.assertIn('recipient is on the suppression list (manual since', failed['No@example.test']['reason'])
        self.assertEqual(failed['No@example.test']['index'], 2)
        self.assertEqual(failed['not-an-address']['index'], 1)
        status, body = api(eng, 'POST', '/api/v1/inject', {
            'envelope_sender': 'sender@example.com', 'content': {'from': 'a@b.c', 'subject': 's', 'text_body': 't'},
            'recipients': [{'email': 'no@example.test'}]})
        self.assertEqual(status, 422, body)

    def test_entries_survive_restart_and_kill(self):
        spool = os.path.join(self.tmp, 'spool')
        eng = self.engine(spool=spool)
        entries = [{'address': 'k%d@example.test' % i, 'reason': 'complaint', 'note': 'n%d' % i} for i in range(50)]
        self.assertEqual(api(eng, 'POST', '/api/v1/suppressions', {'entries': entries}), (200, {'added': 50}))
        eng.stop()
        eng = self.engine(spool=spool)
        self.assertEqual(api(eng, 'GET', '/api/v1/suppressions/k7@example.test')[0], 200)
        self.assertEqual(api(eng, 'POST', '/api/v1/suppressions', {'address': 'after@example.test'})[0], 200)
        eng.kill()  # SIGKILL right after the 200: the entry was durable before it
        eng = self.engine(spool=spool)
        status, body = api(eng, 'GET', '/api/v1/suppressions?limit=1000')
        self.assertEqual((body['addresses'], len(body['entries'])), (51, 51))
        self.assertEqual(api(eng, 'GET', '/api/v1/suppressions/after@example.test')[0], 200)

    def test_import_100000_then_check_and_export(self):
        eng = self.engine()
        path = os.path.join(self.tmp, 'list.csv')
        n = 100000
        with open(path, 'w') as f:
            f.write('address,reason,note\r\n')
            for i in range(n):
                f.write('user%d@import%d.example,bounce,"row %d, imported"\r\n' % (i, i % 97, i))
        out = self.ctl(eng, 'suppress', 'import', path)
        self.assertIn('imported %d entries' % n, out)
        for i in random.Random(7).sample(range(n), 20):
            self.assertIn('is suppressed', self.ctl(eng, 'suppress', 'check', 'USER%d@import%d.example' % (i, i % 97)))
        self.ctl(eng, 'suppress', 'check', 'user%d@import0.example' % n, expect=1)
        csv_out = os.path.join(self.tmp, 'out.csv')
        self.assertIn('exported %d entries' % n, self.ctl(eng, 'suppress', 'export', '--out', csv_out))
        with open(csv_out) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], 'address,reason,class,time,tenant,note')
        self.assertEqual(len(lines), n + 1)
        self.assertIn('"row 5, imported"', [l for l in lines if l.startswith('user5@')][0])
        listing = self.ctl(eng, 'suppress', 'list', '--reason', 'bounce', '--limit', '5')
        self.assertEqual(len([l for l in listing.splitlines() if '@import' in l]), 5)

    def test_bad_input_gets_clear_errors(self):
        eng = self.engine()
        for body, want in (('{', 'malformed JSON'), ('{"address": "nobody"}', 'not an address'),
                           ('{"address": "a@b.c", "reason": "spite"}', 'is not bounce, complaint'),
                           ('{"address": "a@b.c", "colour": 1}', 'unknown key "colour"'),
                           ('[{"address": "a@b.c"}, {"address": 5}]', 'entry 1: "address" must be a string'),
                           ('{"address": "a@b.c", "time": "yesterday"}', 'is not RFC 3339')):
            req = urllib.request.Request(eng.admin_url + '/api/v1/suppressions', data=body.encode(), method='POST')
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(req, timeout=DEADLINE)
            self.assertEqual(cm.exception.code, 400, body)
            self.assertIn(want, json.loads(cm.exception.read())['error'], body)
        self.assertEqual(api(eng, 'DELETE', '/api/v1/suppressions/absent@example.test')[0], 404)
        self.assertEqual(api(eng, 'GET', '/api/v1/suppressions?reason=spite')[0], 400)
        out = self.ctl(eng, 'suppress', 'add', 'not-an-address', expect=2)
        self.assertIn('not an address', out)
        # Nothing above reached the list.
        self.assertEqual(api(eng, 'GET', '/api/v1/suppressions')[1]['addresses'], 0)
        eng.stop()
        off = self.engine('--suppression', 'false', spool=os.path.join(self.tmp, 'off'))
        self.assertEqual(api(off, 'GET', '/api/v1/suppressions')[0], 409)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, 'off', 'suppression')))


if __name__ == '__main__':
    harness.main()
