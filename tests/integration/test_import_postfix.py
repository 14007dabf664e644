"""ringmta-ctl import-postfix: a private Postfix config dir (the system's
main.cf and master.cf, else Debian's master.cf.proto), values set with
`postconf -c DIR -e`, imported to TOML; the mapped keys, the list of what
could not be mapped, and `ringmta --config FILE --check-config`.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_CTL_BIN=BUILD/tools/ctl/ringmta-ctl \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_import_postfix.py -v
"""

import os
import subprocess
import tomllib

import harness
from engine_process import ringmta_bin
from postfix_instance import base_config, postconf


def ctl_bin():
    path = os.environ.get('RINGMTA_CTL_BIN')
    if not path:
        raise AssertionError('RINGMTA_CTL_BIN is not set (the ringmta-ctl to test)')
    return path


class ImportPostfixTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        self.dir = os.path.join(self.tmp, 'postfix')
        base_config(self.dir)
        with open(os.path.join(self.dir, 'transport'), 'w') as f:
            f.write('# transport_maps source (hash: reads this text)\n'
                    'example.net    smtp:[10.0.0.5]:2525\n'
                    'mail.example   lmtp:[10.0.0.6]:24\n'
                    'box.example    lmtp:unix:private/dovecot-lmtp\n'
                    'slow.example   slow:[10.0.0.7]\n'
                    '.sub.example   smtp:[10.0.0.8]\n')
        with open(os.path.join(self.dir, 'master.cf'), 'a') as f:
            f.write('slow      unix  -       -       n       -       -       smtp\n'
                    '  -o syslog_name=postfix/slow\n')
        postconf(self.dir,
                 'myhostname=mx.example.com', 'inet_interfaces=127.0.0.1', 'inet_protocols=ipv4',
                 'mynetworks=127.0.0.0/8 [::1]/128 10.1.0.0/16',
                 'mydestination=$myhostname, localhost', 'relay_domains=relay.example',
                 'relayhost=[smart.example.com]:587',
                 'transport_maps=hash:%s/transport, inline:{x.example=smtp:[192.0.2.9]:25}' % self.dir,
                 'message_size_limit=20480000', 'smtpd_recipient_limit=500',
                 'smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem',
                 'smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key',
                 'smtp_tls_security_level=encrypt',
                 'default_destination_concurrency_limit=15',
                 'smtp_destination_concurrency_limit=12', 'smtp_destination_rate_delay=5s',
                 'slow_destination_concurrency_limit=2', 'slow_destination_rate_delay=30s',
                 'maximal_queue_lifetime=3', 'minimal_backoff_time=5m', 'maximal_backoff_time=2h',
                 'smtpd_milters=inet:127.0.0.1:8891', 'header_checks=regexp:/etc/postfix/header_checks',
                 'virtual_alias_maps=hash:/etc/postfix/virtual')

    def run_import(self, *extra):
        out = os.path.join(self.tmp, 'imported-%d.toml' % len(extra))
        r = subprocess.run([ctl_bin(), 'import-postfix', self.dir, '--output', out] + list(extra),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('Postfix settings not imported', r.stderr)
        with open(out) as f:
            text = f.read()
        return out, text, tomllib.loads(text)

    def check_mapping(self, text, t):
        self.assertEqual(t['server']['hostname'], 'mx.example.com')
        # master.cf's `smtp inet ... smtpd` on inet_interfaces
        self.assertEqual(t['server']['listen'], ['127.0.0.1:25'])
        self.assertEqual(t['relay']['networks'], ['127.0.0.0/8', '::1/128', '10.1.0.0/16'])
        self.assertEqual(t['relay']['local_domains'], ['mx.example.com', 'localhost', 'relay.example'])
        self.assertIn('ringmta does not deliver to local mailboxes', text)
        d = t['delivery']
        self.assertEqual(d['relay_host'], 'smart.example.com:587')
        self.assertEqual(d['routes'], ['example.net=10.0.0.5:2525', 'mail.example=lmtp:10.0.0.6:24',
                                       'box.example=lmtp:unix:/var/spool/postfix/private/dovecot-lmtp', 'slow.example=10.0.0.7:25',
                                       'x.example=192.0.2.9:25'])
        self.assertEqual(d['outbound_tls'], 'required')
        self.assertEqual(d['dest_connections'], 15)
        self.assertEqual(d['queue_lifetime'], 3 * 86400)  # a bare lifetime is in days
        self.assertEqual(d['retry_min'], 300)
        self.assertEqual(d['retry_max'], 7200)
        self.assertEqual(t['limits'], {'max_message_size': 20480000, 'max_recipients': 500})
        self.assertEqual(t['tls'], {'cert': '/etc/ssl/certs/ssl-cert-snakeoil.pem',
                                    'key': '/etc/ssl/private/ssl-cert-snakeoil.key'})
        self.assertEqual(t['shaping']['default'], {'connection_limit': 12, 'max_message_rate': '12/min'})
        self.assertEqual(t['shaping']['domain']['slow.example'],
                         {'connection_limit': 2, 'max_message_rate': '2/min'})
        unmapped = text[text.index('# Not imported'):]
        for name, why in [('smtpd_milters', 'milter'), ('header_checks', 'header or body checks'),
                          ('virtual_alias_maps', 'rewrite'),
                          ('.sub.example', 'whole domains only')]:
            line = [ln for ln in unmapped.split('\n') if name in ln]
            self.assertTrue(line, '%s not in the unmapped list:\n%s' % (name, unmapped))
            self.assertIn(why, line[0])
        # Mapped settings are not listed again.
        for name in ('myhostname', 'relayhost', 'message_size_limit', 'maximal_backoff_time'):
            self.assertNotIn('# ' + name + ' =', unmapped)

    def check_config(self, path):
        r = subprocess.run([ringmta_bin(), '--config', path, '--check-config'], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_with_postconf(self):
        path, text, t = self.run_import()
        self.assertIn('read with postconf', text)
        self.check_mapping(text, t)
        self.check_config(path)

    def test_own_parser_reads_the_same(self):
        path, text, t = self.run_import('--no-postconf')
        self.assertNotIn('read with postconf', text)
        self.check_mapping(text, t)
        self.check_config(path)

    def test_stdout_and_missing_dir(self):
        r = subprocess.run([ctl_bin(), 'import-postfix', self.dir], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(tomllib.loads(r.stdout)['server']['hostname'], 'mx.example.com')
        r = subprocess.run([ctl_bin(), 'import-postfix', os.path.join(self.tmp, 'nope'), '--no-postconf'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn('main.cf', r.stderr)


if __name__ == '__main__':
    harness.main()
