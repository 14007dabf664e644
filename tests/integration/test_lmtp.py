"""LMTP delivery (RFC 2033) to Dovecot's LMTP server: routes
DOMAIN=lmtp:HOST:PORT and DOMAIN=lmtp:unix:/PATH, one transaction with
per-recipient outcomes after the data: delivered into the user's maildir,
an unknown user bounced (a DSN to the sender), an over-quota user
deferred and retried.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_lmtp.py -v
"""

import smtplib
import subprocess

import harness
import peers
from dovecot_peer import Dovecot

BODY = ('From: app@sender.test\r\nTo: users@mail.test\r\nSubject: to the mailboxes\r\n\r\n'
        'Hello mailbox.\r\n.a line that starts with a dot\r\n' + 'x' * 4000 + '\r\n')


def send(eng, sender, rcpts, body=BODY):
    with smtplib.SMTP(eng.host, eng.port, local_hostname='client.example.test', timeout=10) as s:
        s.sendmail(sender, rcpts, body)


class LmtpTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        self.dovecot = self.peer(Dovecot(self.tmp, users={'alice': None, 'bob': None, 'full': '*:storage=1'}))
        self.sink = self.peer(peers.AioSink())  # sender.test's mail exchanger: the DSNs go there

    def engine(self, *extra):
        return self.start_engine('--route', 'mail.test=lmtp:127.0.0.1:%d' % self.dovecot.port,
                                 '--route', 'sock.test=lmtp:unix:%s' % self.dovecot.socket_path,
                                 '--route', 'sender.test=127.0.0.1:%d' % self.sink.port,
                                 '--event-log', self.events, *extra, deliver=True)

    def test_one_transaction_delivers_bounces_and_defers_per_recipient(self):
        eng = self.engine()
        send(eng, 'app@sender.test', ['alice@mail.test', 'bob@mail.test', 'nobody@mail.test', 'full@mail.test'])
        for user in ('alice', 'bob'):
            got = self.dovecot.wait_messages(user, 1)
            self.assertEqual(len(got), 1)
            self.assertIn(b'Subject: to the mailboxes', got[0])
            self.assertIn(b'by mta.ringmta.test (ringmta)', got[0])
            # Dot-stuffing undone by the server: the line is as written.
            self.assertIn(b'\n.a line that starts with a dot', got[0])
            self.assertIn(b'Return-Path: <app@sender.test>', got[0])
        events = peers.wait_events(self.events, lambda e: e['type'] in ('delivered', 'bounced', 'deferred')
                                   and e['recipient'].endswith('@mail.test'), n=4)
        by_rcpt = {e['recipient']: e for e in events}
        self.assertEqual(by_rcpt['alice@mail.test']['type'], 'delivered')
        self.assertEqual(by_rcpt['bob@mail.test']['type'], 'delivered')
        self.assertEqual(by_rcpt['nobody@mail.test']['type'], 'bounced')
        self.assertEqual(by_rcpt['nobody@mail.test']['code'], 550)
        self.assertEqual(by_rcpt['full@mail.test']['type'], 'deferred')
        self.assertEqual(by_rcpt['full@mail.test']['code'], 452)
        self.assertIn('Quota exceeded', by_rcpt['full@mail.test']['response'])
        # One message, one attempt each: the outcomes came from one transaction.
        self.assertEqual(len({e['queue_id'] for e in events}), 1)
        self.assertEqual({e['attempt'] for e in events}, {1})
        # The unknown user's DSN went to the sender, naming the server's reply.
        dsn = self.sink.wait_messages(1, what='the DSN for nobody@mail.test')[0]
        self.assertEqual(dsn.rcpts, ['app@sender.test'])
        self.assertIn(b'nobody@mail.test', dsn.content)
        self.assertIn(b'5.1.1', dsn.content)
        self.assertEqual(self.dovecot.messages('full'), [])
        self.assertEqual(len(harness.spool_ids(eng.spool)), 1, 'the deferred recipient keeps its message queued')

    def test_deferred_recipient_is_delivered_once_there_is_room(self):
        eng = self.engine('--retry-min', '1', '--retry-max', '1')
        send(eng, 'app@sender.test', ['full@mail.test'])
        peers.wait_events(self.events, lambda e: e['type'] == 'deferred')
        # The mailbox gets room (the quota rule raised), and the retry delivers.
        users = self.dovecot.dir + '/users'
        with open(users) as f:
            text = f.read()
        with open(users, 'w') as f:
            f.write(text.replace('*:storage=1', '*:storage=100M'))
        got = self.dovecot.wait_messages('full', 1, deadline=30)
        self.assertIn(b'Hello mailbox.', got[0])
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'delivered')[0]
        self.assertEqual(ev['recipient'], 'full@mail.test')
        self.assertGreaterEqual(ev['attempt'], 2)

    def test_unix_socket_route(self):
        eng = self.engine()
        send(eng, 'app@sender.test', ['alice@sock.test', 'bob@sock.test'])
        self.dovecot.wait_messages('alice', 1)
        self.dovecot.wait_messages('bob', 1)
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'delivered', n=2)
        self.assertEqual(ev[0]['ip'], self.dovecot.socket_path)
        eng.stop()

    def test_bad_lmtp_route_is_refused_at_start(self):
        p = subprocess.run([harness.ringmta_bin(), '--route', 'x.test=lmtp:unix:relative/path', '--check-config'],
                           capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b'expected lmtp:unix:/ABSOLUTE/PATH', p.stderr)


if __name__ == '__main__':
    harness.main()
