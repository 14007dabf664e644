"""SMTP AUTH (RFC 4954), relay control and least privilege with real
clients: swaks --auth, Python smtplib login, openssl s_client. The clients
that must not relay connect from 127.0.0.2, outside --relay-networks.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_auth.py -v
"""

import base64
import os
import pwd
import signal
import smtplib
import ssl
import stat
import subprocess
import time

import harness

OUTSIDE = '127.0.0.2'  # a client address outside --relay-networks
USERS = {'app1': 's3cret-one', 'app2': 'password two'}


def make_cert(tmp, name, cn):
    openssl = harness.require_tool('/usr/bin/openssl', 'openssl')
    key = os.path.join(tmp, name + '.key')
    cert = os.path.join(tmp, name + '.pem')
    subprocess.run([openssl, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=' + cn],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    os.chmod(key, 0o600)  # as a real key is kept: only root may read it
    return cert, key


def hash_password(password, method):
    """A crypt hash as /etc/shadow keeps it, made by the usual tools."""
    if method == 'yescrypt':
        mkpasswd = harness.require_tool('/usr/bin/mkpasswd', 'whois')
        out = subprocess.run([mkpasswd, '-m', 'yescrypt', '--stdin'], input=password,
                             capture_output=True, text=True, check=True, timeout=30)
    else:
        openssl = harness.require_tool('/usr/bin/openssl', 'openssl')
        out = subprocess.run([openssl, 'passwd', '-6', '-stdin'], input=password,
                             capture_output=True, text=True, check=True, timeout=30)
    return out.stdout.strip()


def client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class AuthTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        self.cert, self.key = make_cert(self.tmp, 'mta', 'mta.ringmta.test')
        self.users = os.path.join(self.tmp, 'users')
        with open(self.users, 'w') as f:
            f.write('# user:hash\n')
            f.write('app1:%s\n' % hash_password(USERS['app1'], 'yescrypt'))
            f.write('app2:%s\n' % hash_password(USERS['app2'], 'sha512'))
        os.chmod(self.users, 0o600)
        self.tls_port = harness.free_port()

    def engine(self, *extra):
        return self.start_engine('--tls-cert', self.cert, '--tls-key', self.key,
                                 '--listen-tls', '127.0.0.1:%d' % self.tls_port,
                                 '--auth-users', self.users, '--relay-networks', '127.0.0.1/32',
                                 '--local-domains', 'here.test', *extra)

    def swaks(self, eng, *args, server=None):
        swaks = harness.require_tool('/usr/bin/swaks', 'swaks')
        cmd = [swaks, '--server', server or eng.address, '--local-interface', OUTSIDE,
               '--from', 'app@example.test', '--to', 'someone@far-away.test'] + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def stored_content(self, eng, swaks_out):
        qid = [l for l in swaks_out.splitlines() if 'queued as' in l][-1].split()[-1]
        content = harness.spool_message(eng.spool, qid)
        return content.decode() if isinstance(content, bytes) else content

    def test_swaks_starttls_auth_plain_relays_and_is_recorded(self):
        eng = self.engine()
        p = self.swaks(eng, '--tls', '--auth', 'PLAIN', '--auth-user', 'app1',
                       '--auth-password', USERS['app1'])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('235 2.7.0', p.stdout)
        content = self.stored_content(eng, p.stdout)
        self.assertIn('(Authenticated sender: app1)', content)
        self.assertIn('with ESMTPSA', content)
        self.assertIn("AUTH ok for 'app1' from 127.0.0.2", eng.log())

    def test_swaks_implicit_tls_auth_login_with_a_sha512_hash(self):
        eng = self.engine()
        p = self.swaks(eng, '--tlsc', '--auth', 'LOGIN', '--auth-user', 'app2',
                       '--auth-password', USERS['app2'], server='127.0.0.1:%d' % self.tls_port)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('(Authenticated sender: app2)', self.stored_content(eng, p.stdout))

    def test_smtplib_starttls_and_login(self):
        eng = self.engine()
        for user, password in USERS.items():
            with smtplib.SMTP(eng.host, eng.port, source_address=(OUTSIDE, 0), timeout=30) as s:
                s.ehlo('client.test')
                self.assertFalse(s.has_extn('auth'), 'AUTH offered before TLS')
                s.starttls(context=client_context())
                s.ehlo('client.test')
                self.assertIn('PLAIN', s.esmtp_features.get('auth', ''))
                s.login(user, password)
                refused = s.sendmail('app@example.test', ['x@far-away.test'],
                                     b'Subject: authenticated\r\n\r\nhi\r\n')
                self.assertEqual(refused, {})

    def test_the_event_log_names_the_authenticated_user(self):
        import peers
        sink = peers.AioSink()
        self.addCleanup(sink.stop)
        events = os.path.join(self.tmp, 'events.jsonl')
        self.start_engine('--tls-cert', self.cert, '--tls-key', self.key, '--auth-users', self.users,
                          '--relay-networks', '127.0.0.1/32', '--relay-host', '127.0.0.1:%d' % sink.port,
                          '--outbound-tls', 'off', '--event-log', events, deliver=True)
        eng = self.engines[-1]
        with smtplib.SMTP(eng.host, eng.port, source_address=(OUTSIDE, 0), timeout=30) as s:
            s.starttls(context=client_context())
            s.ehlo('client.test')
            s.login('app1', USERS['app1'])
            s.sendmail('app@example.test', ['x@far-away.test'], b'Subject: a\r\n\r\nb\r\n')
        # A message from loopback without AUTH has no auth_user.
        with smtplib.SMTP(eng.host, eng.port, timeout=30) as s:
            s.sendmail('local@example.test', ['y@far-away.test'], b'Subject: a\r\n\r\nb\r\n')
        got = peers.wait_events(events, lambda e: e['type'] == 'delivered', n=2)
        by_rcpt = {e['recipient']: e for e in got}
        self.assertEqual(by_rcpt['x@far-away.test'].get('auth_user'), 'app1')
        self.assertNotIn('auth_user', by_rcpt['y@far-away.test'])
        sink.wait_messages(2)

    def test_auth_is_refused_before_tls(self):
        eng = self.engine()
        with harness.SmtpConn(eng.host, eng.port, source=(OUTSIDE, 0)) as c:
            self.assertReply(c.reply(), 220)
            code, lines = c.cmd('EHLO client.test')
            self.assertEqual(code, 250)
            self.assertFalse(any('AUTH' in l for l in lines), lines)
            self.assertReply(c.cmd('AUTH PLAIN AGFwcDEAczNjcmV0LW9uZQ=='), 538, '5.7.11')

    def test_openssl_s_client_sees_auth_after_starttls(self):
        openssl = harness.require_tool('/usr/bin/openssl', 'openssl')
        eng = self.engine()
        p = subprocess.run([openssl, 's_client', '-starttls', 'smtp', '-connect', eng.address, '-quiet'],
                           input='EHLO client.test\r\nQUIT\r\n', capture_output=True, text=True, timeout=30)
        self.assertIn('250-AUTH PLAIN LOGIN', p.stdout)

    def test_wrong_password_gets_535_after_a_delay(self):
        eng = self.engine()
        with smtplib.SMTP(eng.host, eng.port, source_address=(OUTSIDE, 0), timeout=30) as s:
            s.starttls(context=client_context())
            s.ehlo('client.test')
            t0 = time.monotonic()
            with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
                s.login('app1', 'not the password')
            self.assertEqual(e.exception.smtp_code, 535)
            self.assertIn(b'5.7.8', e.exception.smtp_error)
            # The delay is a floor, so this cannot pass by luck of timing.
            self.assertGreaterEqual(time.monotonic() - t0, 0.9)
            # An unknown user gets the very same answer.
            with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
                s.login('nobody', 'whatever')
            self.assertEqual(e.exception.smtp_code, 535)
            # The session goes on, and a right password still works.
            s.login('app1', USERS['app1'])
        self.assertNotIn('not the password', eng.log())

    def test_failed_auth_limit_per_ip(self):
        eng = self.engine('--max-auth-failures', '2')
        with smtplib.SMTP(eng.host, eng.port, source_address=(OUTSIDE, 0), timeout=30) as s:
            s.starttls(context=client_context())
            s.ehlo('client.test')
            guess = base64.b64encode(b'\0app1\0guess').decode()
            for _ in range(2):
                self.assertEqual(s.docmd('AUTH', 'PLAIN ' + guess)[0], 535)
            # The count is per minute (a fixed window): should the window
            # turn during the test, two more failures are allowed, no more.
            for _ in range(3):
                code, msg = s.docmd('AUTH', 'PLAIN ' + guess)
                if code != 535:
                    break
            self.assertEqual(code, 421, msg)
            self.assertIn(b'4.7.0', msg)

    def test_relay_denied_without_auth_outside_relay_networks(self):
        eng = self.engine()
        with smtplib.SMTP(eng.host, eng.port, source_address=(OUTSIDE, 0), timeout=30) as s:
            s.ehlo('client.test')
            self.assertEqual(s.mail('app@example.test')[0], 250)
            code, msg = s.rcpt('victim@far-away.test')
            self.assertEqual(code, 554, msg)
            self.assertIn(b'5.7.1', msg)
            # A local domain is accepted from anyone.
            self.assertEqual(s.rcpt('postbox@here.test')[0], 250)
        # From a relay network, the same recipient is fine.
        with smtplib.SMTP(eng.host, eng.port, timeout=30) as s:
            s.ehlo('client.test')
            s.mail('app@example.test')
            self.assertEqual(s.rcpt('victim@far-away.test')[0], 250)

    def test_auth_required(self):
        eng = self.engine('--auth-required', 'true')
        with smtplib.SMTP(eng.host, eng.port, source_address=(OUTSIDE, 0), timeout=30) as s:
            s.ehlo('client.test')
            code, msg = s.mail('app@example.test')
            self.assertEqual(code, 530, msg)
            self.assertIn(b'5.7.0', msg)

    def test_sighup_reloads_the_certificate_and_the_users(self):
        eng = self.engine()
        old = smtplib.SMTP(eng.host, eng.port, timeout=30)
        self.addCleanup(old.close)
        old.starttls(context=client_context())
        old.ehlo('client.test')
        # New certificate and users in place, readable by the daemon's user
        # (after the start it no longer is root).
        cert, key = make_cert(self.tmp, 'new', 'renewed.ringmta.test')
        os.chmod(key, 0o644)
        os.replace(cert, self.cert)
        os.replace(key, self.key)
        with open(self.users, 'a') as f:
            f.write('app3:%s\n' % hash_password('third', 'sha512'))
        os.chmod(self.users, 0o644)
        eng.proc.send_signal(signal.SIGHUP)
        self.assertTrue(eng.wait_log(r'SIGHUP: 3 AUTH users loaded'), eng.log())
        for shard in (0, 1):  # a new connection may land on either shard
            self.assertTrue(eng.wait_log(r'shard %d: TLS certificate reloaded' % shard), eng.log())
        with smtplib.SMTP(eng.host, eng.port, source_address=(OUTSIDE, 0), timeout=30) as s:
            s.starttls(context=client_context())
            der = s.sock.getpeercert(binary_form=True)
            self.assertIn(b'renewed.ringmta.test', der)
            s.ehlo('client.test')
            s.login('app3', 'third')
        # The session from before the reload goes on with its old keys.
        self.assertEqual(old.noop()[0], 250)
        self.assertEqual(old.sendmail('a@example.test', ['b@example.test'], b'Subject: s\r\n\r\nx\r\n'), {})

    def test_a_bad_users_file_stops_the_start_naming_the_line(self):
        with open(self.users, 'a') as f:
            f.write('broken-line-without-hash\n')
        p = subprocess.run([harness.ringmta_bin(), '--listen', '127.0.0.1:%d' % harness.free_port(),
                            '--spool', os.path.join(self.tmp, 's2'), '--tls-cert', self.cert,
                            '--tls-key', self.key, '--auth-users', self.users],
                           capture_output=True, text=True, timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('line 4', p.stderr)
        self.assertIn('mkpasswd', p.stderr)


@harness.unittest.skipUnless(os.geteuid() == 0, 'privileges are dropped only when started as root')
class PrivilegeTest(harness.EngineTestCase):

    def uid_of(self, eng):
        with open('/proc/%d/status' % eng.proc.pid) as f:
            for line in f:
                if line.startswith('Uid:'):
                    return [int(x) for x in line.split()[1:]]
        return None

    def test_runs_as_ringmta_and_owns_its_spool(self):
        try:
            user = pwd.getpwnam('ringmta')
        except KeyError:
            self.skipTest('no ringmta user (tools/setup.sh creates it)')
        cert, key = make_cert(self.tmp, 'mta', 'mta.ringmta.test')
        eng = self.start_engine('--tls-cert', cert, '--tls-key', key)
        harness.send_messages(eng, 3)
        # Real, effective, saved and filesystem uid: all of them.
        self.assertEqual(set(self.uid_of(eng)), {user.pw_uid})
        for root, dirs, files in os.walk(eng.spool):
            for name in [root] + [os.path.join(root, f) for f in files]:
                st = os.lstat(name)
                self.assertEqual(st.st_uid, user.pw_uid, name)
                want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
                # The maildrop (SPOOL/maildrop) takes every local user's
                # files, like /tmp: 01733; so the spool root may be
                # entered (o+x), never listed.
                if name == os.path.join(eng.spool, 'maildrop'):
                    want = 0o1733
                elif name == eng.spool:
                    want = 0o711
                self.assertEqual(stat.S_IMODE(st.st_mode), want, name)
        self.assertTrue(eng.wait_log(r'running as user ringmta'), eng.log())

    def test_a_missing_user_is_a_warning_and_root_stays(self):
        eng = self.start_engine('--user', 'no-such-user-here')
        self.assertTrue(eng.wait_log(r"user 'no-such-user-here' does not exist"), eng.log())
        self.assertEqual(self.uid_of(eng)[0], 0)
        harness.send_messages(eng, 1)


if __name__ == '__main__':
    harness.main()
