"""ringmta-ctl (tools/ctl) with real peers: `dkim keygen` checked with
openssl, `dns check` against a dnsmasq that publishes the records, first
all of them right (exit 0, every line OK), then each one broken in turn
(exit 1, and exactly the line for it MISSING or WRONG), then a resolver
that never answers (UNKNOWN with a timeout, never MISSING).

    RINGMTA_CTL_BIN=BUILD/tools/ctl/ringmta-ctl PYTHONPATH=tests/integration \
        /usr/bin/python3 tests/integration/test_ctl_dns.py -v
"""

import base64
import os
import re
import socket
import stat
import subprocess

import harness
import peers

DOMAIN = 'example.test'
STATUS_RE = re.compile(r'^(OK|MISSING|WRONG|UNKNOWN|SKIP) +(.*?): (.*)$')


def ctl_bin():
    path = os.environ.get('RINGMTA_CTL_BIN')
    if not path or not os.access(path, os.X_OK):
        raise AssertionError('RINGMTA_CTL_BIN=%r is not the built ringmta-ctl (meson test sets it; by hand: '
                             'RINGMTA_CTL_BIN=BUILD/tools/ctl/ringmta-ctl)' % path)
    return path


def ctl(*args, timeout=60):
    return subprocess.run([ctl_bin(), *args], capture_output=True, text=True, timeout=timeout)


def pem_body(pem):
    return base64.b64decode(''.join(l for l in pem.splitlines() if l and not l.startswith('-----')))


class Keygen:
    """What one `dkim keygen` printed."""

    def __init__(self, out):
        self.out = out
        self.path = re.search(r'private key \(\d+ bits\) to (\S+) \(mode 0600\)', out).group(1)
        self.name = re.search(r'^  name:  (\S+)$', out, re.M).group(1)
        self.value = re.search(r'^  value: (.*)$', out, re.M).group(1)
        zone = re.search(r'^(\S+) IN TXT \((.*?)\)$', out, re.M | re.S)
        self.zone_name = zone.group(1)
        self.strings = re.findall(r'"((?:[^"\\]|\\.)*)"', zone.group(2))
        self.block = re.search(r'^\[\[dkim\]\]\n(?:.+\n)+', out, re.M).group(0)
        self.p = self.value.split('p=', 1)[1]


class CtlTestCase(harness.EngineTestCase):

    def keygen(self, selector, *extra, out=None):
        out = out or self.tmp
        r = ctl('dkim', 'keygen', '--domain', DOMAIN, '--selector', selector, '--out', out, *extra)
        self.assertEqual(r.returncode, 0, 'keygen failed: %s%s' % (r.stdout, r.stderr))
        return Keygen(r.stdout)


class KeygenTest(CtlTestCase):

    def check_key_file(self, k, openssl):
        mode = stat.S_IMODE(os.stat(k.path).st_mode)
        self.assertEqual(mode, 0o600, 'key file mode %o' % mode)
        r = subprocess.run([openssl, 'pkey', '-in', k.path, '-noout'], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, 'openssl cannot read %s: %s' % (k.path, r.stderr))
        pub = subprocess.run([openssl, 'pkey', '-in', k.path, '-pubout'], capture_output=True, text=True,
                             timeout=30, check=True).stdout
        return pem_body(pub)

    def check_strings(self, k):
        for s in k.strings:
            self.assertLessEqual(len(s.encode()), 255, 'a TXT string over 255 octets: %r' % s)
        self.assertEqual(''.join(k.strings), k.value, 'the zone strings do not join to the one-line value')
        self.assertEqual(k.name, 's1._domainkey.%s.' % DOMAIN if 's1' in k.name else k.name)
        self.assertEqual(k.zone_name, k.name)

    def test_rsa_key_is_what_openssl_reads_and_the_record_is_its_public_half(self):
        openssl = harness.require_tool('/usr/bin/openssl', 'openssl')
        k = self.keygen('s1')
        self.assertEqual(k.path, os.path.join(os.path.realpath(self.tmp), 'example.test.s1.key'))
        spki = self.check_key_file(k, openssl)
        # RSA: p= is the SubjectPublicKeyInfo DER, exactly what -pubout writes.
        self.assertEqual(base64.b64decode(k.p), spki)
        self.assertTrue(k.value.startswith('v=DKIM1; k=rsa; p='), k.value)
        self.assertEqual(k.name, 's1._domainkey.example.test.')
        self.assertGreater(len(k.strings), 2, 'a 2048-bit key needs several strings')
        self.assertEqual(k.strings[0], 'v=DKIM1; k=rsa; ')
        self.check_strings(k)
        self.assertEqual(k.block, '[[dkim]]\ndomain = "example.test"\nselector = "s1"\nkey = "%s"\n'
                         'algorithm = "rsa-sha256"\n' % k.path)

    def test_ed25519_key_and_record(self):
        openssl = harness.require_tool('/usr/bin/openssl', 'openssl')
        k = self.keygen('e1', '--algorithm', 'ed25519-sha256')
        spki = self.check_key_file(k, openssl)
        # Ed25519: p= is the raw 32-octet key (RFC 8463 4.2), the SPKI's tail.
        raw = base64.b64decode(k.p)
        self.assertEqual(len(raw), 32)
        self.assertEqual(spki[-32:], raw)
        self.assertTrue(k.value.startswith('v=DKIM1; k=ed25519; p='), k.value)
        self.check_strings(k)
        self.assertIn('algorithm = "ed25519-sha256"', k.block)

    def test_rsa_bits(self):
        openssl = harness.require_tool('/usr/bin/openssl', 'openssl')
        k = self.keygen('b1', '--bits', '1024')
        text = subprocess.run([openssl, 'pkey', '-in', k.path, '-noout', '-text'], capture_output=True, text=True,
                              timeout=30, check=True).stdout
        self.assertIn('1024 bit', text)

    def test_refuses_to_overwrite(self):
        k = self.keygen('s1')
        with open(k.path, 'rb') as f:
            before = f.read()
        r = ctl('dkim', 'keygen', '--domain', DOMAIN, '--selector', 's1', '--out', self.tmp)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn('exists; refusing to overwrite', r.stderr)
        self.assertEqual(r.stdout, '', 'nothing to publish when no key was written')
        with open(k.path, 'rb') as f:
            self.assertEqual(f.read(), before, 'the existing key was changed')

    def test_usage_errors_exit_2_and_name_the_fix(self):
        cases = [
            (['dkim', 'keygen', '--selector', 's', '--out', self.tmp], 'missing --domain D'),
            (['dkim', 'keygen', '--domain', DOMAIN, '--selector', 's', '--out', self.tmp, '--bits', '512'],
             '--bits 512: RSA keys are 1024..4096 bits'),
            (['dkim', 'keygen', '--domain', DOMAIN, '--selector', 's', '--out', self.tmp, '--algorithm',
              'ed25519-sha256', '--bits', '2048'], '--bits is for rsa-sha256'),
            (['dkim', 'keygen', '--domain', DOMAIN, '--selector', 's', '--out', self.tmp, '--algorithm', 'dsa'],
             'use rsa-sha256 or ed25519-sha256'),
            (['dkim', 'keygen', '--domain', DOMAIN, '--selector', 's', '--out', os.path.join(self.tmp, 'none')],
             'create it first'),
            (['dkim', 'keygen', '--domain', 'bad domain', '--selector', 's', '--out', self.tmp],
             'is not a domain name'),
            (['dkim', 'keygen', '--domian', DOMAIN], 'unknown flag --domian'),
            (['dkim', 'nope'], "unknown command 'nope'"),
            (['dkm', 'keygen'], "unknown group 'dkm'"),
            (['dns'], 'which command?'),
            (['dns', 'check', '--domain', DOMAIN, '--resolver', 'not-an-address'], '--resolver not-an-address'),
            (['dns', 'check', '--domain', DOMAIN, '--ip', '300.1.1.1'], "--ip '300.1.1.1'"),
            ([], 'Usage: ringmta-ctl GROUP COMMAND'),
        ]
        for args, want in cases:
            r = ctl(*args)
            self.assertEqual(r.returncode, 2, '%s: exit %d\n%s%s' % (args, r.returncode, r.stdout, r.stderr))
            self.assertIn(want, r.stderr, args)
        self.assertEqual(os.listdir(self.tmp), [], 'a usage error wrote a file')

    def test_help(self):
        for args, want in [(['--help'], 'dkim keygen'), (['--help'], 'dns check'),
                           (['dkim', '--help'], '--selector S'), (['dns', 'check', '--help'], '--resolver IP:PORT')]:
            r = ctl(*args)
            self.assertEqual(r.returncode, 0, args)
            self.assertIn(want, r.stdout, args)


class DnsCheckTest(CtlTestCase):
    """Two [[dkim]] keys (RSA, whose record comes in several strings, and
    Ed25519) and two egress sources on loopback addresses (the check binds
    none of them)."""

    def setUp(self):
        super().setUp()
        self.rsa = self.keygen('s1')
        self.ed = self.keygen('e1', '--algorithm', 'ed25519-sha256')
        self.config = os.path.join(self.tmp, 'ringmta.toml')
        with open(self.config, 'w') as f:
            f.write(self.rsa.block + '\n' + self.ed.block + '\n'
                    '[egress.source."ip-1"]\naddress = "127.0.0.2"\nehlo = "mta1.example.test"\n'
                    '[egress.source."ip-2"]\naddress = "127.0.0.3"\nehlo = "mta2.example.test"\n')

    def good(self):
        """Every record right, by kind and name, so a case can replace one."""
        # dnsmasq on the command line: commas separate the strings of one
        # TXT record (quotes are for its config file only).
        return {
            'dkim-rsa': [('txt-record', 's1._domainkey.%s,%s' % (DOMAIN, ','.join(self.rsa.strings)))],
            'dkim-ed': [('txt-record', 'e1._domainkey.%s,%s' % (DOMAIN, self.ed.value))],
            'spf': [('txt-record', '%s,v=spf1 ip4:127.0.0.2 a:mta2.%s -all' % (DOMAIN, DOMAIN))],
            'dmarc': [('txt-record', '_dmarc.%s,v=DMARC1; p=quarantine; rua=mailto:dmarc@%s' % (DOMAIN, DOMAIN))],
            'ptr-2': [('ptr-record', '2.0.0.127.in-addr.arpa,mta1.%s' % DOMAIN)],
            'ptr-3': [('ptr-record', '3.0.0.127.in-addr.arpa,mta2.%s' % DOMAIN)],
            # address= gives the A record alone (host-record would add a PTR).
            'hosts': [('address', '/mta1.%s/127.0.0.2' % DOMAIN), ('address', '/mta2.%s/127.0.0.3' % DOMAIN)],
            # Reverse names dnsmasq has no record for: NXDOMAIN, not REFUSED.
            'reverse-zone': [('local', '/in-addr.arpa/')],
        }

    def check(self, records, *extra):
        """Runs dns check against a dnsmasq with `records`; returns the exit
        status and the lines as {what: (status, rest)}."""
        flat = [r for rs in records.values() for r in rs]
        dns = self.peer(peers.Dnsmasq(flat))
        r = ctl('dns', 'check', '--domain', DOMAIN, '--config', self.config, '--resolver', dns.address, *extra)
        self.assertEqual(r.stderr, '', 'dns check wrote to stderr')
        lines = {}
        for line in r.stdout.splitlines():
            m = STATUS_RE.match(line)
            if m:
                self.assertNotIn(m.group(2), lines, 'two lines for %s' % m.group(2))
                lines[m.group(2)] = (m.group(1), m.group(3))
            else:
                self.assertRegex(line, r'^%s: \d+ checks: ' % DOMAIN, 'a line that is not a check or the summary')
        self.output = r.stdout
        return r.returncode, lines

    ALL = ['DKIM s1._domainkey.example.test', 'DKIM e1._domainkey.example.test', 'SPF example.test',
           'SPF example.test for 127.0.0.2 (source ip-1)', 'SPF example.test for 127.0.0.3 (source ip-2)',
           'DMARC _dmarc.example.test', 'FCrDNS 127.0.0.2 (source ip-1)', 'FCrDNS 127.0.0.3 (source ip-2)']

    def assertOnly(self, records, expect):
        """dns check exits 1, and the lines in `expect` ({what: (status,
        text the line holds)}) are the only ones not OK."""
        rc, lines = self.check(records)
        self.assertEqual(sorted(lines), sorted(self.ALL), self.output)
        for what, (status, rest) in lines.items():
            if what in expect:
                want_status, want_text = expect[what]
                self.assertEqual(status, want_status, '%s\n%s' % (what, self.output))
                self.assertIn(want_text, rest, '%s\n%s' % (what, self.output))
            else:
                self.assertEqual(status, 'OK', '%s should be OK\n%s' % (what, self.output))
        self.assertEqual(rc, 1, self.output)
        return lines

    def test_all_good(self):
        rc, lines = self.check(self.good())
        self.assertEqual(sorted(lines), sorted(self.ALL), self.output)
        for what, (status, rest) in lines.items():
            self.assertEqual(status, 'OK', '%s: %s\n%s' % (what, rest, self.output))
        self.assertEqual(rc, 0, self.output)
        self.assertIn('publishes the rsa key of %s' % self.rsa.path, lines['DKIM s1._domainkey.example.test'][1])
        self.assertIn('publishes the ed25519 key', lines['DKIM e1._domainkey.example.test'][1])
        self.assertIn("'a:mta2.example.test'", lines['SPF example.test for 127.0.0.3 (source ip-2)'][1])
        self.assertRegex(self.output, r'example.test: 8 checks: 8 OK\n$')

    def test_dkim_record_of_another_key(self):
        other = self.keygen('s1', out=self.new_spool('other'))
        rec = self.good()
        rec['dkim-rsa'] = [('txt-record', 's1._domainkey.%s,%s' % (DOMAIN, ','.join(other.strings)))]
        lines = self.assertOnly(rec, {'DKIM s1._domainkey.example.test': ('WRONG', 'p= is another key')})
        # What to publish instead: this key's record, in strings.
        self.assertIn(' '.join('"%s"' % s for s in self.rsa.strings), lines['DKIM s1._domainkey.example.test'][1])

    def test_dkim_record_missing(self):
        rec = self.good()
        del rec['dkim-ed']
        lines = self.assertOnly(rec, {'DKIM e1._domainkey.example.test': ('MISSING', 'no TXT record')})
        self.assertIn('publish: e1._domainkey.example.test. IN TXT "%s"' % self.ed.value,
                      lines['DKIM e1._domainkey.example.test'][1])

    def test_spf_missing(self):
        rec = self.good()
        del rec['spf']
        self.assertOnly(rec, {
            'SPF example.test': ('MISSING', 'publish: example.test. IN TXT "v=spf1 ip4:127.0.0.2 ip4:127.0.0.3 -all"'),
            'SPF example.test for 127.0.0.2 (source ip-1)': ('WRONG', 'not authorized (none'),
            'SPF example.test for 127.0.0.3 (source ip-2)': ('WRONG', 'not authorized (none'),
        })

    def test_spf_plus_all(self):
        rec = self.good()
        rec['spf'] = [('txt-record', '%s,v=spf1 ip4:127.0.0.2 a:mta2.%s +all' % (DOMAIN, DOMAIN))]
        self.assertOnly(rec, {'SPF example.test': ('WRONG', "'+all' in example.test authorizes every host")})

    def test_spf_not_authorizing_one_source(self):
        rec = self.good()
        rec['spf'] = [('txt-record', '%s,v=spf1 ip4:127.0.0.2 -all' % DOMAIN)]
        self.assertOnly(rec, {'SPF example.test for 127.0.0.3 (source ip-2)': (
            'WRONG', "not authorized (fail: '-all' in example.test): receivers may reject or junk its mail; "
                     'publish: example.test. IN TXT "v=spf1 ip4:127.0.0.2 ip4:127.0.0.3 -all"')})

    def test_spf_over_the_lookup_limit(self):
        rec = self.good()
        includes = ' '.join('include:i%d.%s' % (i, DOMAIN) for i in range(11))
        rec['spf'] = [('txt-record', '%s,v=spf1 ip4:127.0.0.2 ip4:127.0.0.3 %s -all' % (DOMAIN, includes))]
        rec['includes'] = [('txt-record', 'i%d.%s,v=spf1 ip4:10.0.0.%d -all' % (i, DOMAIN, i)) for i in range(11)]
        self.assertOnly(rec, {'SPF example.test': ('WRONG', 'more than 10 DNS-querying terms')})

    def test_two_spf_records(self):
        rec = self.good()
        rec['spf'].append(('txt-record', '%s,v=spf1 ip4:127.0.0.3 -all' % DOMAIN))
        self.assertOnly(rec, {
            'SPF example.test': ('WRONG', '2 v=spf1 records'),
            'SPF example.test for 127.0.0.2 (source ip-1)': ('WRONG', 'permerror'),
            'SPF example.test for 127.0.0.3 (source ip-2)': ('WRONG', 'permerror'),
        })

    def test_dmarc_missing(self):
        rec = self.good()
        del rec['dmarc']
        self.assertOnly(rec, {'DMARC _dmarc.example.test': (
            'MISSING', 'publish: _dmarc.example.test. IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test"')})

    def test_dmarc_bogus_policy(self):
        rec = self.good()
        rec['dmarc'] = [('txt-record', '_dmarc.%s,v=DMARC1; p=bogus' % DOMAIN)]
        self.assertOnly(rec, {'DMARC _dmarc.example.test': ('WRONG', 'p=bogus is not none, quarantine or reject')})

    def test_dmarc_none_only_monitors(self):
        rec = self.good()
        rec['dmarc'] = [('txt-record', '_dmarc.%s,v=DMARC1; p=none' % DOMAIN)]
        rc, lines = self.check(rec)
        self.assertEqual(rc, 0, self.output)
        self.assertEqual(lines['DMARC _dmarc.example.test'][0], 'OK')
        self.assertIn('only monitors', lines['DMARC _dmarc.example.test'][1])

    def test_ptr_missing(self):
        rec = self.good()
        del rec['ptr-3']
        self.assertOnly(rec, {'FCrDNS 127.0.0.3 (source ip-2)': (
            'MISSING', 'publish: 3.0.0.127.in-addr.arpa. IN PTR mta2.example.test.')})

    def test_ptr_name_not_resolving_back(self):
        rec = self.good()
        rec['ptr-3'] = [('ptr-record', '3.0.0.127.in-addr.arpa,elsewhere.%s' % DOMAIN),
                        ('address', '/elsewhere.%s/127.0.0.9' % DOMAIN)]
        self.assertOnly(rec, {'FCrDNS 127.0.0.3 (source ip-2)': (
            'WRONG', 'PTR elsewhere.example.test (127.0.0.9): the name does not resolve back to 127.0.0.3')})

    def test_ptr_not_the_ehlo(self):
        rec = self.good()
        rec['ptr-3'] = [('ptr-record', '3.0.0.127.in-addr.arpa,other.%s' % DOMAIN),
                        ('address', '/other.%s/127.0.0.3' % DOMAIN)]
        self.assertOnly(rec, {'FCrDNS 127.0.0.3 (source ip-2)': (
            'WRONG', "resolves back, but the source's ehlo is mta2.example.test")})

    def test_selector_and_ip_without_config(self):
        dns = self.peer(peers.Dnsmasq([r for rs in self.good().values() for r in rs]))
        r = ctl('dns', 'check', '--domain', DOMAIN, '--selector', 's1', '--selector', 'gone', '--ip', '127.0.0.2',
                '--resolver', dns.address)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r'(?m)^OK +DKIM s1._domainkey.example.test: a k=rsa key record')
        self.assertRegex(r.stdout, r'(?m)^MISSING +DKIM gone._domainkey.example.test: no TXT record')
        self.assertRegex(r.stdout, r'(?m)^OK +SPF example.test for 127.0.0.2 \(--ip\): authorized')
        self.assertRegex(r.stdout, r'(?m)^OK +FCrDNS 127.0.0.2 \(--ip\): PTR mta1.example.test resolves back')

    def test_a_resolver_that_never_answers_is_a_timeout_not_a_missing_record(self):
        # A UDP socket that reads nothing and answers nothing.
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(silent.close)
        silent.bind(('127.0.0.1', 0))
        r = ctl('dns', 'check', '--domain', DOMAIN, '--resolver', '127.0.0.1:%d' % silent.getsockname()[1])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertNotIn('MISSING', r.stdout)
        self.assertRegex(r.stdout, r'(?m)^UNKNOWN +SPF example.test: TXT lookup: no answer from 127.0.0.1:\d+ '
                                   r'\(2 tries of 2 s\)$')
        self.assertRegex(r.stdout, r'(?m)^UNKNOWN +DMARC _dmarc.example.test: TXT lookup: no answer')
        self.assertRegex(r.stdout, r'(?m)^SKIP +DKIM example.test: no --config and no --selector')


if __name__ == '__main__':
    harness.main()
