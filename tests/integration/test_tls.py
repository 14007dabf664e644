"""Inbound TLS with real clients: STARTTLS (RFC 3207) and implicit TLS
(RFC 8314) with swaks, Python smtplib/ssl and openssl s_client.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_tls.py -v
"""

import os
import smtplib
import socket
import ssl
import subprocess

import harness


class TlsTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        openssl = harness.require_tool('/usr/bin/openssl', 'openssl')
        self.key = os.path.join(self.tmp, 'key.pem')
        self.cert = os.path.join(self.tmp, 'cert.pem')
        subprocess.run([openssl, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                        '-nodes', '-keyout', self.key, '-out', self.cert, '-days', '1',
                        '-subj', '/CN=mta.ringmta.test'], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)
        self.tls_port = harness.free_port()

    def engine(self):
        return self.start_engine('--tls-cert', self.cert, '--tls-key', self.key,
                                 '--listen-tls', '127.0.0.1:%d' % self.tls_port)

    def client_context(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def test_swaks_starttls_and_the_received_header(self):
        swaks = harness.require_tool('/usr/bin/swaks', 'swaks')
        eng = self.engine()
        p = subprocess.run([swaks, '--server', eng.address, '--tls', '--to', 'a@example.test',
                            '--from', 'b@example.test'], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('TLS started', p.stdout)
        qid = [l for l in p.stdout.splitlines() if 'queued as' in l][-1].split()[-1]
        content = harness.spool_message(eng.spool, qid)
        content = content.decode() if isinstance(content, bytes) else content
        self.assertIn('with ESMTPS', content)
        self.assertIn('using TLSv1.3 with cipher', content)

    def test_swaks_implicit_tls(self):
        swaks = harness.require_tool('/usr/bin/swaks', 'swaks')
        self.engine()
        p = subprocess.run([swaks, '--server', '127.0.0.1:%d' % self.tls_port, '--tlsc',
                            '--to', 'a@example.test', '--from', 'b@example.test'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('queued as', p.stdout)

    def test_smtplib_starttls(self):
        eng = self.engine()
        with smtplib.SMTP(eng.host, eng.port, timeout=10) as s:
            s.ehlo('client.test')
            self.assertTrue(s.has_extn('starttls'))
            s.starttls(context=self.client_context())
            s.ehlo('client.test')
            self.assertFalse(s.has_extn('starttls'))  # not offered twice
            s.sendmail('b@example.test', ['a@example.test'], b'Subject: t\r\n\r\nover TLS\r\n')

    def test_openssl_s_client_starttls(self):
        openssl = harness.require_tool('/usr/bin/openssl', 'openssl')
        eng = self.engine()
        p = subprocess.run([openssl, 's_client', '-starttls', 'smtp', '-connect', eng.address, '-quiet'],
                           input='EHLO client.test\r\nQUIT\r\n', capture_output=True, text=True, timeout=30)
        self.assertIn('250-SIZE', p.stdout)
        self.assertIn('221 2.0.0', p.stdout)

    def test_plaintext_pipelined_after_starttls_is_never_executed(self):
        eng = self.engine()
        raw = socket.create_connection((eng.host, eng.port), timeout=10)
        f = raw.makefile('rb')
        f.readline()  # greeting
        # One write: STARTTLS and a MAIL FROM an attacker injected behind it.
        raw.sendall(b'EHLO client.test\r\nSTARTTLS\r\nMAIL FROM:<evil@example.test>\r\n')
        while True:
            line = f.readline()
            if line.startswith(b'220'):
                break
            self.assertTrue(line.startswith(b'250'), line)
        tls = self.client_context().wrap_socket(raw, server_hostname='mta.ringmta.test')
        tf = tls.makefile('rb')
        tls.sendall(b'EHLO client.test\r\n')
        while not tf.readline().startswith(b'250 '):
            pass
        # Had the injected MAIL run, RCPT would now be accepted.
        tls.sendall(b'RCPT TO:<a@example.test>\r\n')
        reply = tf.readline()
        self.assertTrue(reply.startswith(b'503'), reply)
        tls.close()

    def test_no_starttls_without_a_certificate(self):
        eng = self.start_engine()
        with smtplib.SMTP(eng.host, eng.port, timeout=10) as s:
            s.ehlo('client.test')
            self.assertFalse(s.has_extn('starttls'))

    def test_a_bad_key_file_stops_the_start_naming_it(self):
        bad = os.path.join(self.tmp, 'missing.pem')
        p = subprocess.run([harness.ringmta_bin(), '--listen', '127.0.0.1:%d' % harness.free_port(),
                            '--spool', os.path.join(self.tmp, 's2'), '--tls-cert', self.cert,
                            '--tls-key', bad], capture_output=True, text=True, timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('missing.pem', p.stderr)


if __name__ == '__main__':
    harness.main()
