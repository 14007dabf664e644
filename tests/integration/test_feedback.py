"""What comes back after delivery (engine/suppression/feedback.h), with real
peers: a private Postfix (bench/postfix_instance.sh) that takes a message
ringmta sent with a VERP sender, fails to deliver it to a local user that
does not exist and mails its own DSN back; ARF reports built like RFC 5965's
examples, with the VERP sender ringmta really used (read off an aiosmtpd
sink); forged tokens, auto-replies and malformed reports.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
    RINGMTA_CTL_BIN=BUILD/tools/ctl/ringmta-ctl PYTHONPATH=tests/integration \
        /usr/bin/python3 tests/integration/test_feedback.py -v
"""

import json
import os
import re
import smtplib
import subprocess
import time
import urllib.error
import urllib.request

import harness
import peers

FEEDBACK = 'bounces.test'
VERP_RE = re.compile(r'^bounces\+[a-z2-7]{16}=([0-9A-F]{16})=(.+)=([^=@]+)@bounces\.test$')
POSTFIX_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'bench',
                              'postfix_instance.sh')


def api_get(eng, path):
    try:
        with urllib.request.urlopen(eng.admin_url + path, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait_entry(eng, address, deadline=10):
    """The list entry for address once the store's writer has committed it
    (the suppression_added event is logged when the entry is handed over)."""
    end = time.monotonic() + deadline
    while True:
        status, body = api_get(eng, '/api/v1/suppressions/' + address)
        if status == 200 or time.monotonic() > end:
            assert status == 200, 'no entry for %s: %r' % (address, body)
            return body['entry']
        time.sleep(0.05)


def send(eng, sender, rcpts, content):
    with smtplib.SMTP(eng.host, eng.port, local_hostname='reporter.example.net', timeout=10) as s:
        s.sendmail(sender, rcpts, content)


def arf(verp_sender, rcpt, feedback_type='abuse', with_headers=True, rcpt_field=True):
    """An ARF report as RFC 5965 B.2 writes it, about a message ringmta sent
    from verp_sender to rcpt."""
    fields = ('Feedback-Type: %s\r\nUser-Agent: SomeGenerator/1.0\r\nVersion: 1\r\n'
              'Original-Mail-From: <%s>\r\n' % (feedback_type, verp_sender))
    if rcpt_field:
        fields += 'Original-Rcpt-To: <%s>\r\n' % rcpt
    fields += 'Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT\r\nSource-IP: 192.0.2.1\r\nReported-Domain: example.com\r\n'
    parts = [
        '--part1_13d.2e68ed54_boundary\r\nContent-Type: text/plain; charset="US-ASCII"\r\n'
        'Content-Transfer-Encoding: 7bit\r\n\r\nThis is an email abuse report for an email message\r\n'
        'received from IP 192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.\r\n',
        '--part1_13d.2e68ed54_boundary\r\nContent-Type: message/feedback-report\r\n\r\n' + fields,
    ]
    if with_headers:
        parts.append('--part1_13d.2e68ed54_boundary\r\nContent-Type: text/rfc822-headers\r\n\r\n'
                     'Return-Path: <%s>\r\nFrom: <news@example.com>\r\nTo: <%s>\r\n'
                     'Subject: the newsletter\r\nMessage-ID: <8787KJKJ3K4J3K4J3K4J3.mail@example.com>\r\n'
                     'Feedback-ID: 111:222:newsletter:acme\r\n' % (verp_sender, rcpt))
    return ('From: <abusedesk@example.net>\r\nDate: Thu, 8 Mar 2005 17:40:36 EDT\r\n'
            'Subject: FW: Earn money\r\nTo: <fbl@%s>\r\nMIME-Version: 1.0\r\n'
            'Content-Type: multipart/report; report-type=feedback-report;\r\n'
            '\tboundary="part1_13d.2e68ed54_boundary"\r\n\r\n' % FEEDBACK
            + ''.join(parts) + '--part1_13d.2e68ed54_boundary--\r\n').encode()


class FeedbackTest(harness.EngineTestCase):

    def engine(self, *extra, relay=None, verp=True):
        args = ['--feedback-domains', FEEDBACK, '--feedback-verp', 'true' if verp else 'false',
                '--event-log', self.events]
        if relay:
            args += ['--relay-host', relay]
        return self.start_engine(*args, *extra, deliver=True, admin=True)

    def verp_sender_of(self, eng, sink, rcpt):
        """Send one message to rcpt and read the VERP sender ringmta used."""
        send(eng, 'news@example.com', [rcpt], b'Subject: newsletter\r\n\r\nread me\r\n')
        got = sink.wait_messages(len(sink.messages) + 1)[-1]
        m = VERP_RE.match(got.sender)
        self.assertTrue(m, 'not a VERP sender: %r' % got.sender)
        self.assertEqual('%s@%s' % (m.group(2), m.group(3)), rcpt)
        return got.sender, m.group(1)

    def events_of(self, kind):
        return [e for e in peers.read_events(self.events) if e['type'] == kind]

    def test_postfix_dsn_for_an_unknown_local_user(self):
        harness.require_tool('/usr/sbin/postfix', 'postfix')
        pfport = harness.free_port()
        eng = self.engine('--route', 'postfix.test=127.0.0.1:%d' % pfport)
        pdir = os.path.join(self.tmp, 'postfix')
        os.makedirs(pdir)
        env = dict(os.environ, POSTFIX_MAIN_EXTRA='mydestination = postfix.test\nlocal_transport = local\n'
                                                  'local_recipient_maps =\n')
        subprocess.run(['bash', POSTFIX_SCRIPT, 'start', pdir, str(pfport), '127.0.0.1:%d' % eng.port],
                       check=True, timeout=60, stdout=subprocess.DEVNULL, env=env)
        self.addCleanup(subprocess.run, ['bash', POSTFIX_SCRIPT, 'stop', pdir], timeout=60,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        send(eng, 'news@example.com', ['nobody-here@postfix.test'], b'Subject: hello\r\n\r\nhello\r\n')
        sent = peers.wait_events(self.events, lambda e: e['type'] == 'delivered' and e['host'] != '')[0]
        # Postfix took it, found no such user, and mailed a DSN to the VERP
        # sender, which its relayhost (ringmta) reads instead of relaying.
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'async_bounce', deadline=60)[0]
        self.assertEqual(ev['recipient'], 'nobody-here@postfix.test')
        self.assertEqual(ev['queue_id'], sent['queue_id'])
        self.assertEqual(ev['status'], '5.1.1')
        self.assertEqual(ev['class'], 'InvalidRecipient')
        self.assertIn('postfix-bench.test', ev['reporter'])
        fb = peers.wait_events(self.events, lambda e: e['type'] == 'feedback')[0]
        self.assertIn('delivery status report: 1 failed', fb['response'])
        added = peers.wait_events(self.events, lambda e: e['type'] == 'suppression_added')[0]
        self.assertEqual((added['recipient'], added['reason'], added['queue_id']),
                         ('nobody-here@postfix.test', 'bounce', sent['queue_id']))
        self.assertIn('returned DSN', wait_entry(eng, 'nobody-here@postfix.test')['note'])
        # And the next message to it is refused at RCPT.
        with smtplib.SMTP(eng.host, eng.port, timeout=10) as s:
            s.ehlo()
            s.mail('news@example.com')
            code, text = s.rcpt('nobody-here@postfix.test')
        self.assertEqual(code, 550, text)

    def test_arf_complaint_with_the_real_verp_sender(self):
        sink = self.peer(peers.AioSink())
        eng = self.engine(relay='127.0.0.1:%d' % sink.port)
        sender, qid = self.verp_sender_of(eng, sink, 'reader@example.org')
        send(eng, '<>', ['fbl@' + FEEDBACK], arf(sender, 'reader@example.org'))
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'complaint')[0]
        self.assertEqual((ev['recipient'], ev['queue_id'], ev['reason']), ('reader@example.org', qid, 'abuse'))
        self.assertEqual(ev['reporter'], 'SomeGenerator/1.0')
        self.assertEqual(ev['feedback_id'], '111:222:newsletter:acme')
        peers.wait_events(self.events, lambda e: e['type'] == 'suppression_added')
        self.assertEqual(wait_entry(eng, 'reader@example.org')['reason'], 'complaint')
        # A not-spam report is an event, and suppresses nothing.
        sender2, _ = self.verp_sender_of(eng, sink, 'fan@example.org')
        send(eng, '<>', ['fbl@' + FEEDBACK], arf(sender2, 'fan@example.org', feedback_type='not-spam'))
        peers.wait_events(self.events, lambda e: e['type'] == 'complaint' and e['recipient'] == 'fan@example.org')
        self.assertEqual(api_get(eng, '/api/v1/suppressions/fan@example.org')[0], 404)
        time.sleep(0.3)
        self.assertEqual(len(sink.messages), 2, 'nothing sent to the feedback domain was relayed or answered')

    def test_forged_tokens_and_junk_are_dropped(self):
        sink = self.peer(peers.AioSink())
        eng = self.engine(relay='127.0.0.1:%d' % sink.port)
        sender, _ = self.verp_sender_of(eng, sink, 'victim@example.org')
        mac = sender[8:24]
        forged = sender.replace(mac, ('a' if mac[0] != 'a' else 'b') + mac[1:])
        other = sender.replace('victim@example.org'.split('@')[0], 'someone-else')
        dsn = ('From: MAILER-DAEMON@mx.example.org\r\nTo: %s\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\n'
               'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
               '--B\r\nContent-Type: text/plain\r\n\r\nIt failed.\r\n'
               '--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n'
               'Final-Recipient: rfc822; victim@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n'
               'Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n--B--\r\n')
        for to in (forged, other, 'bounces@' + FEEDBACK):
            send(eng, '<>', [to], (dsn % to).encode())
        # An auto-reply, an ARF report without its parts, a huge junk message.
        send(eng, 'someone@example.net', ['bounces@' + FEEDBACK],
             b'Subject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n')
        send(eng, '<>', ['fbl@' + FEEDBACK],
             b'Content-Type: multipart/report; report-type=feedback-report; boundary="x"\r\n\r\n--x--\r\n')
        send(eng, '<>', ['fbl@' + FEEDBACK],
             b'Content-Type: multipart/report; report-type=delivery-status; boundary="y"\r\n\r\n'
             + b'--y\r\nContent-Type: message/delivery-status; charset=ebcdic\r\n\r\n' + b'X' * 3000000 + b'\r\n')
        evs = peers.wait_events(self.events, lambda e: e['type'] == 'feedback', n=6, deadline=30)
        self.assertEqual(len(evs), 6)
        for e in evs:
            self.assertTrue(e['response'].startswith('dropped: '), e)
        # The three DSNs and the huge one (a delivery-status report with no
        # recipient): no token verifies; the auto-reply and the empty ARF: no report.
        self.assertEqual(sum('no VERP token verifies' in e['response'] for e in evs), 4)
        self.assertEqual(sum('not a report' in e['response'] for e in evs), 2)
        self.assertEqual(self.events_of('async_bounce'), [])
        self.assertEqual(self.events_of('suppression_added'), [])
        self.assertEqual(api_get(eng, '/api/v1/suppressions')[1]['addresses'], 0)
        time.sleep(0.3)
        self.assertEqual(len(sink.messages), 1, 'no backscatter, nothing relayed')
        # /metrics counts them (its snapshots are up to 250 ms old).
        want = ['ringmta_feedback_total{kind="unattributed"} 4\n', 'ringmta_feedback_total{kind="dropped"} 2\n',
                'ringmta_feedback_total{kind="async_bounce"} 0\n']
        end = time.monotonic() + 10
        while True:
            with urllib.request.urlopen(eng.admin_url + '/metrics', timeout=10) as r:
                text = r.read().decode()
            if all(w in text for w in want) or time.monotonic() > end:
                break
            time.sleep(0.1)
        for w in want:
            self.assertIn(w, text)
        # The engine is fine: it still relays.
        self.verp_sender_of(eng, sink, 'still@example.org')

    def test_without_verp_the_report_is_trusted(self):
        sink = self.peer(peers.AioSink())
        eng = self.engine(relay='127.0.0.1:%d' % sink.port, verp=False)
        send(eng, 'news@example.com', ['plain@example.org'], b'Subject: x\r\n\r\ny\r\n')
        got = sink.wait_messages(1)
        self.assertEqual(got[0].sender, 'news@example.com', 'no VERP when feedback.verp is false')
        send(eng, '<>', ['fbl@' + FEEDBACK], arf('news@example.com', 'plain@example.org', with_headers=False))
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'complaint')[0]
        self.assertEqual((ev['recipient'], ev.get('queue_id')), ('plain@example.org', None))
        peers.wait_events(self.events, lambda e: e['type'] == 'suppression_added')
        # No Original-Rcpt-To: the returned To: names the recipient.
        send(eng, '<>', ['fbl@' + FEEDBACK], arf('news@example.com', 'other@example.org', rcpt_field=False))
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'complaint', n=2)[1]
        self.assertEqual(ev['recipient'], 'other@example.org')
        # A delayed DSN is an event only.
        send(eng, '<>', ['bounces@' + FEEDBACK],
             b'Content-Type: multipart/report; report-type=delivery-status; boundary="D"\r\n\r\n'
             b'--D\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n'
             b'Final-Recipient: rfc822; slow@example.org\r\nAction: delayed\r\nStatus: 4.4.7\r\n--D--\r\n')
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'async_delayed')[0]
        self.assertEqual((ev['recipient'], ev['status']), ('slow@example.org', '4.4.7'))
        self.assertEqual(api_get(eng, '/api/v1/suppressions/slow@example.org')[0], 404)

    def test_reports_pass_the_bulk_mail_policy(self):
        # --require-list-unsubscribe refuses mail without one-click
        # unsubscribe; a DSN has none, and to a feedback domain it is read.
        eng = self.engine('--require-list-unsubscribe', 'true', verp=False)
        send(eng, '<>', ['bounces@' + FEEDBACK],
             b'Content-Type: multipart/report; report-type=delivery-status; boundary="D"\r\n\r\n'
             b'--D\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n'
             b'Final-Recipient: rfc822; gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n--D--\r\n')
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'async_bounce')[0]
        self.assertEqual(ev['recipient'], 'gone@example.org')
        self.assertEqual(wait_entry(eng, 'gone@example.org')['reason'], 'bounce')
        # Other mail is still held to the policy.
        with self.assertRaises(smtplib.SMTPDataError):
            send(eng, 'news@example.com', ['reader@example.org'], b'Subject: no unsubscribe\r\n\r\nx\r\n')

    def test_settings_are_checked(self):
        for args, want in ((['--feedback-verp', 'true'], 'needs --feedback-domains'),
                           (['--feedback-domains', 'a.test', '--feedback-verp-domain', 'b.test'],
                            'is not one of --feedback-domains'),
                           (['--feedback-domains', 'a.test', '--suppression', 'false'], 'needs the suppression list')):
            p = subprocess.run([harness.ringmta_bin(), '--spool', os.path.join(self.tmp, 's'), *args],
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(want, p.stderr)
        key = os.path.join(self.tmp, 'key')
        with open(key, 'wb') as f:
            f.write(b'x' * 32)
        os.chmod(key, 0o644)
        p = subprocess.run([harness.ringmta_bin(), '--spool', os.path.join(self.tmp, 's'), '--listen',
                            '127.0.0.1:%d' % harness.free_port(), '--admin-listen', '', '--feedback-domains',
                            'a.test', '--feedback-key-file', key], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn('readable by other users', p.stderr)


if __name__ == '__main__':
    harness.main()
