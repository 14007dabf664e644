"""DKIM signing, checked by independent verifiers: messages go in through
smtplib (and a raw client for bare LFs and BDAT), ringmta signs and relays
them to an aiosmtpd sink, and every signature the sink received is
verified by python3-dkim and by OpenDKIM's opendkim-testmsg, both reading
the public keys from a dnsmasq. Keys are made with the openssl command,
not with ringmta's code.

opendkim-testmsg reads /etc/resolv.conf, which cannot name a port, so the
dnsmasq listens on port 53 of a loopback address of its own, and each
opendkim-testmsg runs in a mount namespace (unshare -m) where
/etc/resolv.conf names it. That needs root, as the suite does.

    RINGMTA_BIN=BUILD/engine/ringmta PYTHONPATH=tests/integration \
        /usr/bin/python3 tests/integration/test_dkim.py -v
"""

import base64
import os
import random
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time

import harness
import peers
import smtp_client

DOMAIN_KEYS = {
    # selector, domain, algorithm, canonicalization
    's1': ('example.test', 'rsa-sha256', 'relaxed/relaxed'),
    'e1': ('example.test', 'ed25519-sha256', 'relaxed/relaxed'),
    's2': ('simple.test', 'rsa-sha256', 'simple/simple'),
    's3': ('mixed.test', 'ed25519-sha256', 'relaxed/simple'),
    's9': ('example.test', 'rsa-sha256', 'relaxed/relaxed'),  # the SIGHUP test's new key
}


def openssl(*args, data=None):
    tool = harness.require_tool('/usr/bin/openssl', 'openssl')
    return subprocess.run([tool] + list(args), input=data, check=True, capture_output=True).stdout


def make_key(path, algorithm):
    if algorithm == 'rsa-sha256':
        openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path)
    else:
        openssl('genpkey', '-algorithm', 'ED25519', '-out', path)
    os.chmod(path, 0o644)  # the SIGHUP reload reads it as the ringmta user
    der = openssl('pkey', '-in', path, '-pubout', '-outform', 'DER')
    if algorithm == 'rsa-sha256':
        return 'v=DKIM1; k=rsa; p=' + base64.b64encode(der).decode()
    return 'v=DKIM1; k=ed25519; p=' + base64.b64encode(der[-32:]).decode()  # RFC 8463: the raw key


def txt_strings(value):
    """A TXT value as dnsmasq takes it: strings of at most 255 octets, comma-separated."""
    return ','.join(value[i:i + 255] for i in range(0, len(value), 255))


def fields_of(msg):
    """The header fields of a message (each with its continuation lines and
    CRLF) and its body."""
    head, sep, body = msg.partition(b'\r\n\r\n')
    out = []
    for line in (head + b'\r\n').split(b'\r\n')[:-1]:
        if line[:1] in (b' ', b'\t') and out:
            out[-1] += line + b'\r\n'
        else:
            out.append(line + b'\r\n')
    return out, body if sep else b''


def signatures(msg):
    fields, _ = fields_of(msg)
    return [f for f in fields if f.lower().startswith(b'dkim-signature:')]


def tag(sig, name):
    flat = re.sub(rb'\s+', b'', sig.split(b':', 1)[1]).decode()
    for part in flat.split(';'):
        k, _, v = part.partition('=')
        if k == name:
            return v
    return None


def only_signature(msg, keep):
    """msg with every DKIM-Signature field but `keep` removed."""
    fields, body = fields_of(msg)
    kept = [f for f in fields if not f.lower().startswith(b'dkim-signature:') or f == keep]
    return b''.join(kept) + b'\r\n' + body


class Verifiers:
    """python3-dkim and opendkim-testmsg, both asking one dnsmasq."""

    def __init__(self, case, records):
        self.host = '127.53.%d.%d' % (random.randint(1, 254), random.randint(1, 254))
        self.dns = case.peer(peers.Dnsmasq(records, host=self.host, port=53))
        self.resolv = os.path.join(case.tmp, 'resolv.conf')
        with open(self.resolv, 'w') as f:
            f.write('nameserver %s\n' % self.host)
        self.opendkim = harness.require_tool('/usr/sbin/opendkim-testmsg', 'opendkim-tools')
        import dkim  # noqa: F401  python3-dkim
        import dns.resolver  # noqa: F401  python3-dnspython
        self.resolver = dns.resolver.Resolver(configure=False)
        self.resolver.nameservers = [self.host]
        self.resolver.port = 53

    def _txt(self, name, timeout=5):
        import dns.exception
        import dns.resolver
        try:
            answer = self.resolver.resolve(name.decode().rstrip('.'), 'TXT', lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.exception.Timeout):
            return None
        return b''.join(answer[0].strings)

    def python_dkim(self, msg, idx):
        import dkim
        try:
            return dkim.DKIM(msg).verify(idx=idx, dnsfunc=self._txt)
        except dkim.DKIMException:  # e.g. "body hash mismatch": a failed verification
            return False

    def opendkim_testmsg(self, msg):
        """(exit status, stderr) of opendkim-testmsg verifying msg."""
        script = 'mount --bind "$1" /etc/resolv.conf && exec "$2"'
        r = subprocess.run(['unshare', '-m', 'sh', '-c', script, 'sh', self.resolv, self.opendkim],
                           input=msg, capture_output=True, timeout=30)
        return r.returncode, r.stderr.decode('utf-8', 'replace').strip()

    def check_all(self, case, msg, what):
        """Every signature of msg passes both verifiers; returns them."""
        sigs = signatures(msg)
        case.assertTrue(sigs, '%s: no DKIM-Signature' % what)
        for i, sig in enumerate(sigs):
            case.assertTrue(self.python_dkim(msg, i), '%s: python3-dkim rejects signature %d:\n%s\n%r'
                            % (what, i, sig.decode(), msg[:3000]))
            rc, err = self.opendkim_testmsg(only_signature(msg, sig))
            case.assertEqual(rc, 0, '%s: opendkim-testmsg rejects signature %d (%s):\n%s'
                             % (what, i, err, sig.decode()))
        return sigs


class DkimTest(harness.EngineTestCase):

    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.mkdtemp(prefix='ringmta-dkim-keys-')
        os.chmod(cls.keydir, 0o755)
        cls.records = []
        for sel, (domain, alg, _) in DOMAIN_KEYS.items():
            value = make_key(os.path.join(cls.keydir, sel + '.key'), alg)
            cls.records.append(('txt-record', '%s._domainkey.%s,%s' % (sel, domain, txt_strings(value))))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.keydir, ignore_errors=True)

    def config(self, selectors=('s1', 'e1', 's2', 's3'), extra=''):
        text = ''
        for sel in selectors:
            domain, alg, canon = DOMAIN_KEYS[sel]
            text += ('[[dkim]]\ndomain = "%s"\nselector = "%s"\nkey = "%s"\nalgorithm = "%s"\n'
                     'canonicalization = "%s"\nexpire = "7d"\n'
                     % (domain, sel, os.path.join(self.keydir, sel + '.key'), alg, canon))
            if sel == 's3':  # fields that may repeat (RFC 5322 3.6), signed as often as they appear
                text += 'headers = ["From", "To", "Subject", "Date", "Message-ID", "Comments", "Keywords"]\n'
            text += '\n'
        path = os.path.join(self.tmp, 'ringmta.toml')
        with open(path, 'w') as f:
            f.write(text + extra)
        return path

    def start(self, sink, config, *args, spool=None):
        return self.start_engine('--config', config, '--route', 'example.net=127.0.0.1:%d' % sink.port,
                                 *args, spool=spool, deliver=True)

    def by_case(self, sink, n):
        got = sink.wait_messages(n, deadline=60)
        return {m.rcpts[0].split('@')[0]: m.content for m in got}

    def test_signatures_pass_python_dkim_and_opendkim(self):
        v = Verifiers(self, self.records)
        sink = self.peer(peers.AioSink())
        eng = self.start(sink, self.config())
        hdr = 'Subject: {c}\r\nTo: <{c}@example.net>\r\nMessage-ID: <{c}@example.test>\r\n'
        plain = {
            # case: (From domain, extra headers, body)
            'dual': ('example.test', '', 'Hello,\r\n\r\nthis   is  a test.  \r\n\r\n\r\n'),
            'simple': ('simple.test', '', 'Simple body\r\n \r\n'),
            'mixed': ('mixed.test', '', 'Mixed\t\tbody\r\n'),
            'subdomain': ('news.example.test', '', 'From a subdomain\r\n'),
            'empty': ('example.test', '', ''),
            'onekb': ('example.test', '', ('x' * 70 + '\r\n') * 14),
            'onemb': ('simple.test', '', ('y' * 76 + '\r\n') * 13400),
            'folded': ('example.test', 'Comments: one\r\n  two\r\n\tthree\r\n', 'folded\r\n'),
            # (OpenDKIM refuses a message with two To: or Cc: fields, which
            # RFC 5322 allows once: the repeated fields are ones it allows again.)
            'repeated': ('mixed.test', 'Comments: a\r\nKeywords: k1\r\nComments: b\r\nKeywords: k2\r\n'
                         'Comments: c\r\n', 'repeated\r\n'),
            'longline': ('example.test', '', 'a' * 2500 + '\r\n' + '.' + 'd' * 997 + '\r\nend\r\n'),
            'dotline': ('simple.test', '', '.' + 'e' * 997 + '\r\n'),
        }
        with smtplib.SMTP(eng.host, eng.port, timeout=30) as s:
            for case, (domain, extra, body) in plain.items():
                msg = ('From: Sender <news@%s>\r\n' % domain + hdr.format(c=case) + extra + '\r\n' + body)
                s.sendmail('bounce@%s' % domain, ['%s@example.net' % case], msg.encode())
            utf8 = ('From: news@example.test\r\n' + hdr.format(c='eightbit') + 'Content-Type: text/plain; '
                    'charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße, naïve café\r\n')
            s.sendmail('b@example.test', ['eightbit@example.net'], utf8.encode(), mail_options=['BODY=8BITMIME'])
            intl = ('From: news@example.test\r\n' + hdr.format(c='smtputf8').replace('Subject: smtputf8',
                    'Subject: Ünïcödé smtputf8') + '\r\nBody ✓\r\n')
            s.sendmail('b@example.test', ['smtputf8@example.net'], intl.encode(), mail_options=['SMTPUTF8'])
        with smtp_client.SmtpConn(eng.host, eng.port) as c:
            c.reply()
            c.cmd('EHLO raw.test')
            for case, data in (('barelf', None), ('bdat', None)):
                self.assertReply(c.cmd('MAIL FROM:<b@example.test>'), 250)
                self.assertReply(c.cmd('RCPT TO:<%s@example.net>' % case), 250)
                text = ('From: news@example.test\n' + hdr.format(c=case).replace('\r\n', '\n') +
                        '\nbare\nline feeds\n')
                if case == 'barelf':
                    self.assertReply(c.cmd('DATA'), 354)
                    c.send(text.encode() + b'\r\n.\r\n')  # CRLF.CRLF alone ends the data
                else:
                    payload = text.replace('\n', '\r\n').encode()
                    c.send(b'BDAT %d LAST\r\n' % len(payload) + payload)
                self.assertReply(c.reply(), 250)
        cases = list(plain) + ['eightbit', 'smtputf8', 'barelf', 'bdat']
        got = self.by_case(sink, len(cases))
        for case in cases:
            sigs = v.check_all(self, got[case], case)
            domain = plain.get(case, ('example.test',))[0]
            signer = 'example.test' if domain.endswith('example.test') else domain
            self.assertEqual({tag(s, 'd') for s in sigs}, {signer}, case)
            self.assertTrue(all(tag(s, 'l') is None for s in sigs), case)
            self.assertTrue(all(int(tag(s, 'x')) - int(tag(s, 't')) == 7 * 86400 for s in sigs), case)
            expect = {sel for sel, (d, _, _) in DOMAIN_KEYS.items() if d == signer and sel != 's9'}
            self.assertEqual({tag(s, 's') for s in sigs}, expect, case)
            for s in sigs:
                self.assertEqual(tag(s, 'a'), DOMAIN_KEYS[tag(s, 's')][1], case)
                self.assertEqual(tag(s, 'c'), DOMAIN_KEYS[tag(s, 's')][2], case)
        self.assertEqual(tag(signatures(got['repeated'])[0], 'h'),
                         'from:from:to:to:subject:subject:date:date:message-id:message-id:'
                         'comments:comments:comments:comments:keywords:keywords:keywords')
        # The long lines arrived folded (as ringmta sends them), and the
        # signature covers the folded form.
        self.assertTrue(all(len(line) <= 998 for line in got['longline'].split(b'\r\n')))
        self.assertIn(b'a' * 900, got['longline'])

    def test_a_changed_message_fails_both_verifiers(self):
        v = Verifiers(self, self.records)
        sink = self.peer(peers.AioSink())
        eng = self.start(sink, self.config())
        msg = b'From: news@example.test\r\nSubject: orig\r\nTo: <x@example.net>\r\n\r\nthe body\r\n'
        with smtplib.SMTP(eng.host, eng.port, timeout=30) as s:
            s.sendmail('b@example.test', ['x@example.net'], msg)
        good = sink.wait_messages(1)[0].content
        v.check_all(self, good, 'original')
        fields, body = fields_of(good)
        changed = {
            'body': b''.join(fields) + b'\r\n' + body.replace(b'the body', b'the b0dy'),
            'subject': good.replace(b'Subject: orig', b'Subject: 0rig'),
            # Over-signing: a second Subject (or a Reply-To where none was) breaks it.
            'added subject': b''.join(fields) + b'Subject: added\r\n\r\n' + body,
            'added reply-to': b''.join(fields) + b'Reply-To: evil@x.test\r\n\r\n' + body,
        }
        for what, bad in changed.items():
            for i, sig in enumerate(signatures(bad)):
                self.assertFalse(v.python_dkim(bad, i), '%s: python3-dkim accepts signature %d' % (what, i))
                rc, err = v.opendkim_testmsg(only_signature(bad, sig))
                self.assertNotEqual(rc, 0, '%s: opendkim-testmsg accepts signature %d' % (what, i))
        # A header not in the signed list may be added on the way.
        v.check_all(self, b''.join(fields) + b'X-Added: fine\r\n\r\n' + body, 'unsigned header added')

    def test_mail_from_a_domain_without_a_key_is_not_signed(self):
        sink = self.peer(peers.AioSink())
        eng = self.start(sink, self.config())
        with smtplib.SMTP(eng.host, eng.port, timeout=30) as s:
            s.sendmail('b@other.test', ['x@example.net'], b'From: a@other.test\r\nSubject: x\r\n\r\nbody\r\n')
            s.sendmail('b@other.test', ['y@example.net'], b'Subject: no from\r\n\r\nbody\r\n')
        for m in sink.wait_messages(2):
            self.assertEqual(signatures(m.content), [])
        eng.stop()
        self.assertRegex(eng.log(), r'dkim: 0 messages signed, 2 without a key')

    def test_a_retry_after_a_restart_sends_the_same_signature(self):
        v = Verifiers(self, self.records)
        first = []

        def refuse_once(envelope, n):
            first.append(envelope.original_content)
            return '451 4.3.0 try again later'

        sink = peers.AioSink(data_reply=refuse_once)  # stopped below, not by the cleanup
        cfg = self.config()
        eng = self.start(sink, cfg, '--retry-min', '1')
        with smtplib.SMTP(eng.host, eng.port, timeout=30) as s:
            s.sendmail('b@example.test', ['retry@example.net'],
                       b'From: news@example.test\r\nSubject: retry\r\n\r\nbody\r\n')
        end = time.time() + 15
        while not first and time.time() < end:
            time.sleep(0.05)
        eng.stop()
        # The second run delivers to a sink that takes it, on the same port.
        sink.stop()
        self.assertTrue(first, 'the first attempt never reached the sink')
        sink2 = self.peer(peers.AioSink(port=sink.port))
        eng2 = self.start(sink2, cfg, '--retry-min', '1', spool=eng.spool)
        got = sink2.wait_messages(1, deadline=30)[0].content
        self.assertEqual(signatures(got), signatures(first[0]))
        v.check_all(self, got, 'after restart')
        eng2.stop()
        self.assertRegex(eng2.log(), r'dkim: 0 messages signed')  # nothing signed twice

    def test_sighup_loads_new_keys(self):
        v = Verifiers(self, self.records)
        sink = self.peer(peers.AioSink())
        eng = self.start(sink, self.config(selectors=('s1',)))
        msg = b'From: news@example.test\r\nSubject: hup\r\n\r\nbody\r\n'
        with smtplib.SMTP(eng.host, eng.port, timeout=30) as s:
            s.sendmail('b@example.test', ['before@example.net'], msg)
        self.config(selectors=('s9',))
        eng.proc.send_signal(signal.SIGHUP)
        eng.wait_log(r'SIGHUP: 1 DKIM keys loaded')
        with smtplib.SMTP(eng.host, eng.port, timeout=30) as s:
            s.sendmail('b@example.test', ['after@example.net'], msg)
        got = self.by_case(sink, 2)
        self.assertEqual([tag(s, 's') for s in v.check_all(self, got['before'], 'before')], ['s1'])
        self.assertEqual([tag(s, 's') for s in v.check_all(self, got['after'], 'after')], ['s9'])

    def test_a_bad_key_stops_the_start_with_exit_2(self):
        def start(text):
            path = os.path.join(self.tmp, 'bad.toml')
            with open(path, 'w') as f:
                f.write(text)
            r = subprocess.run([harness.ringmta_bin(), '--config', path, '--spool', self.new_spool(),
                                '--listen', '127.0.0.1:%d' % harness.free_port()],
                               capture_output=True, timeout=30)
            return r.returncode, r.stderr.decode()

        garbage = os.path.join(self.tmp, 'garbage.key')
        with open(garbage, 'w') as f:
            f.write('-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n')
        small = os.path.join(self.tmp, 'small.key')
        openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:512', '-out', small)
        ed = os.path.join(self.keydir, 'e1.key')
        entry = '[[dkim]]\ndomain = "example.test"\nselector = "s"\nkey = "%s"\n'
        cases = [
            (entry % '/nonexistent/k.key', r'dkim\[1\]\.key: cannot read /nonexistent/k.key'),
            (entry % garbage, r'garbage.key: not a PEM private key'),
            (entry % small, r'small.key: an RSA key of 512 bits'),
            (entry % ed + 'algorithm = "rsa-sha256"\n', r'e1.key is an Ed25519 key, not one for rsa-sha256'),
            ('[[dkim]]\ndomain = "example.test"\nkey = "%s"\n' % ed, r'dkim\[1\]: needs selector'),
            (entry % ed + 'canonicalization = "relaxed"\n', r'canonicalization: expected'),
            (entry % ed + 'l = 100\n', r'dkim\[1\]\.l: unknown key'),
        ]
        for text, want in cases:
            rc, err = start(text)
            self.assertEqual(rc, 2, '%s\n%s' % (text, err))
            self.assertRegex(err, want)

    def test_list_unsubscribe_policy(self):
        sink = self.peer(peers.AioSink())
        eng = self.start(sink, self.config(selectors=(), extra='[policy]\nrequire_list_unsubscribe = true\n'))
        with smtplib.SMTP(eng.host, eng.port, timeout=30) as s:
            with self.assertRaises(smtplib.SMTPDataError) as e:
                s.sendmail('b@example.test', ['x@example.net'], b'From: a@example.test\r\nSubject: x\r\n\r\nb\r\n')
            self.assertEqual(e.exception.smtp_code, 550)
            self.assertIn(b'5.7.1', e.exception.smtp_error)
            self.assertIn(b'List-Unsubscribe', e.exception.smtp_error)
            s.sendmail('b@example.test', ['y@example.net'],
                       b'From: a@example.test\r\nList-Unsubscribe: <https://u.example.test/1>\r\n'
                       b'List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nb\r\n')
        self.assertEqual([m.rcpts for m in sink.wait_messages(1)], [['y@example.net']])


if __name__ == '__main__':
    harness.main()
