"""Bounce classes with real peers: aiosmtpd answering 550 5.1.1 and
452 4.2.2, dnsmasq for MX records (and a domain that does not exist),
a port where nothing listens. Every event carries a "class"; the DSN
carries the class of each bounced recipient; a rules file of one's own
replaces the built-in one, and a bad one stops the start with exit 2.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_bounce_classes.py -v
"""

import os
import smtplib
import subprocess

import harness
import peers


def send(eng, sender, rcpts):
    with smtplib.SMTP(eng.host, eng.port, local_hostname='client.example.test', timeout=10) as s:
        s.sendmail(sender, rcpts, b'Subject: classes\r\nMessage-ID: <classes@x>\r\n\r\nbody\r\n')


def reply_for(rcpt):
    if rcpt.startswith('nobody@'):
        return '550 5.1.1 no such user'
    if rcpt.startswith('full@'):
        return '452 4.2.2 mailbox full'
    return None


class BounceClassTest(harness.EngineTestCase):

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def outcome_events(self):
        return [e for e in peers.read_events(self.events) if e['type'] in ('delivered', 'deferred', 'bounced')]

    def test_events_and_the_dsn_carry_the_class(self):
        sink = self.peer(peers.AioSink(rcpt_reply=lambda s, r, n: reply_for(r)))
        dns = self.peer(peers.Dnsmasq([('mx-host', 'example.test,mx1.example.test,10'),
                                       ('mx-host', 'sender.test,mx1.example.test,10'),
                                       ('host-record', 'mx1.example.test,127.0.0.1')]))
        eng = self.start_engine('--resolver', dns.address, '--mx-port', str(sink.port), '--event-log',
                                self.events, '--retry-min', '300', deliver=True)
        send(eng, 'alice@sender.test', ['nobody@example.test', 'full@example.test', 'bob@example.test'])
        # bob's copy and the DSN to alice.
        got = sink.wait_messages(2)
        evs = peers.wait_events(self.events, lambda e: e['type'] in ('delivered', 'deferred', 'bounced'), n=4)
        by_rcpt = {e['recipient']: e for e in evs}
        self.assertEqual(by_rcpt['nobody@example.test']['type'], 'bounced')
        self.assertEqual(by_rcpt['nobody@example.test']['class'], 'InvalidRecipient')
        self.assertEqual(by_rcpt['full@example.test']['type'], 'deferred')
        self.assertEqual(by_rcpt['full@example.test']['class'], 'QuotaIssues')
        self.assertEqual(by_rcpt['bob@example.test']['type'], 'delivered')
        self.assertEqual(by_rcpt['bob@example.test']['class'], 'Uncategorized')
        self.assertEqual(by_rcpt['alice@sender.test']['class'], 'Uncategorized')  # the DSN's delivery
        for e in self.outcome_events():
            self.assertIn('class', e)

        dsn = [m for m in got if m.sender == '<>']
        self.assertEqual(len(dsn), 1, 'no DSN with the null sender: %r' % [m.sender for m in got])
        text = dsn[0].content.decode('utf-8', 'replace')
        self.assertIn('Final-Recipient: rfc822; nobody@example.test', text)
        self.assertIn('X-Ringmta-Bounce-Class: InvalidRecipient', text)
        self.assertIn('(bounce class: InvalidRecipient)', text)
        self.assertNotIn('full@example.test', text)  # deferred, not in the DSN

    def test_failures_ringmta_meets_itself_are_classified(self):
        closed = harness.free_port()  # nothing listens there
        dns = self.peer(peers.Dnsmasq([('mx-host', 'nullmx.test,.,0')]))
        eng = self.start_engine('--resolver', dns.address, '--route', 'dead.test=127.0.0.1:%d' % closed,
                                '--event-log', self.events, '--retry-min', '300', deliver=True)
        send(eng, '<>', ['a@dead.test', 'b@nowhere.test', 'c@nullmx.test'])
        evs = peers.wait_events(self.events, lambda e: e['type'] in ('deferred', 'bounced'), n=3)
        by_rcpt = {e['recipient']: e for e in evs}
        self.assertEqual((by_rcpt['a@dead.test']['type'], by_rcpt['a@dead.test']['class']),
                         ('deferred', 'NoAnswerFromHost'), by_rcpt['a@dead.test'])
        self.assertIn('Connection refused', by_rcpt['a@dead.test']['response'])
        self.assertEqual((by_rcpt['b@nowhere.test']['status'], by_rcpt['b@nowhere.test']['class']),
                         ('5.1.2', 'BadDomain'), by_rcpt['b@nowhere.test'])
        self.assertEqual((by_rcpt['c@nullmx.test']['status'], by_rcpt['c@nullmx.test']['class']),
                         ('5.1.10', 'BadDomain'), by_rcpt['c@nullmx.test'])

    def test_queue_lifetime_is_message_expired(self):
        closed = harness.free_port()
        eng = self.start_engine('--route', 'dead.test=127.0.0.1:%d' % closed, '--queue-lifetime', '0',
                                '--event-log', self.events, deliver=True)
        send(eng, '<>', ['a@dead.test'])
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'bounced')[0]
        self.assertEqual(ev['status'], '4.4.7')
        self.assertIn('gave up after 1 attempts', ev['response'])
        self.assertEqual(ev['class'], 'MessageExpired')

    def test_own_rules_file_replaces_the_built_in_one(self):
        rules = self.write('classes.toml', '# mine\n[[rule]]\nclass = "SpamBlock"\n'
                                           "regex = ['^550 ', '(?i)never']\n")
        sink = self.peer(peers.AioSink(rcpt_reply=lambda s, r, n: reply_for(r)))
        config = self.write('ringmta.toml', '[delivery]\nbounce_classes = "%s"\n' % rules)
        eng = self.start_engine('--relay-host', '127.0.0.1:%d' % sink.port, '--config', config, '--event-log',
                                self.events, '--retry-min', '300', deliver=True)
        send(eng, '<>', ['nobody@example.test', 'full@example.test'])
        evs = peers.wait_events(self.events, lambda e: e['type'] in ('deferred', 'bounced'), n=2)
        by_rcpt = {e['recipient']: e for e in evs}
        self.assertEqual(by_rcpt['nobody@example.test']['class'], 'SpamBlock')
        self.assertEqual(by_rcpt['full@example.test']['class'], 'Uncategorized')  # no rule of mine knows it

    def test_bad_rules_file_exits_2_naming_it(self):
        for text, what in [("[[rule]]\nclass = \"SpamBlock\"\nregex = ['ok', '(unclosed']\n",
                            "rule 1 (line 1): regex 2 '(unclosed': missing )"),
                           ('[[rule]]\nclass = "Spam"\nregex = \'x\'\n', "rule 1 (line 1): unknown class 'Spam'"),
                           ('[[rule]]\nclass = "SpamBlock"\nregex = \'x\'\n[[rule]]\nclas = "x"\n',
                            "rule 2 (line 4): unknown key 'clas'")]:
            path = self.write('bad.toml', text)
            for args in (['--bounce-classes', path],
                         ['--config', self.write('c.toml', '[delivery]\nbounce_classes = "%s"\n' % path)]):
                p = subprocess.run([harness.ringmta_bin(), '--spool', self.tmp] + args,
                                   capture_output=True, text=True, timeout=10)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn('bounce classes %s: %s' % (path, what), p.stderr)
        missing = os.path.join(self.tmp, 'missing.toml')
        p = subprocess.run([harness.ringmta_bin(), '--spool', self.tmp, '--bounce-classes', missing],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn('bounce classes %s: cannot read the file' % missing, p.stderr)

    def test_help_lists_the_flag(self):
        p = subprocess.run([harness.ringmta_bin(), '--help'], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn('--bounce-classes', p.stdout)
        self.assertIn('delivery.bounce_classes', p.stdout)


if __name__ == '__main__':
    harness.main()
