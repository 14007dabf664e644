"""smtpblast (bench/smtpblast.cc): the load generator against its own sink and
against ringmta, the sink's reply mix, and STARTTLS on both sides (--tls,
--tls-cert/--tls-key), also through ringmta's outbound STARTTLS.

    SMTPBLAST_BIN=BUILD/bench/smtpblast RINGMTA_BIN=BUILD/engine/ringmta \
        RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool PYTHONPATH=tests/integration \
        /usr/bin/python3 tests/integration/test_smtpblast.py -v

SMTPBLAST_BIN is empty when the build has -Dbenchmarks=false: then every
test here is skipped (smtpblast is not built).
"""

import json
import os
import re
import select
import signal
import subprocess
import time
import unittest

import harness

CLIENT_DEADLINE = 60  # seconds for one smtpblast client run
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LISTEN_RE = re.compile(r'^sink: listening on (\S+):(\d+)$')
LATENCY_RE = re.compile(r'latency \(us, [^)]*\): p50 (\d+)\s+p90 (\d+)\s+p99 (\d+)\s+p99\.9 (\d+)\s+max (\d+)')


def smtpblast_bin():
    path = os.environ.get('SMTPBLAST_BIN', '')
    if not path:
        raise unittest.SkipTest('SMTPBLAST_BIN is not set (built with -Dbenchmarks=false?)')
    if not os.access(path, os.X_OK):
        raise AssertionError('SMTPBLAST_BIN=%s is not an executable file: build it first' % path)
    return path


def make_cert(tmp):
    """A fresh self-signed P-256 certificate and key (openssl); their paths."""
    openssl = harness.require_tool('/usr/bin/openssl', 'openssl')
    cert, key = os.path.join(tmp, 'cert.pem'), os.path.join(tmp, 'key.pem')
    subprocess.run([openssl, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=mta.ringmta.test'],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    return cert, key


def spool_count(spool, pattern):
    """How often a regex (bytes) occurs in the spool's segment files: each
    stored message's Received: header appears there as received."""
    rx = re.compile(pattern)
    n = 0
    for _, _, path in harness.segment_files(spool):
        with open(path, 'rb') as f:
            n += len(rx.findall(f.read()))
    return n


def replies(text):
    """The client summary's 'replies: 250: 20000, 451: 0' as {code: count}."""
    m = re.search(r'^\s*replies: (.*)$', text, re.M)
    if not m:
        raise AssertionError('no replies line in:\n%s' % text)
    return {int(c): int(n) for c, n in re.findall(r'(\d+): (\d+)', m.group(1))}


class Sink:
    """One `smtpblast --sink` on a port it picked itself (--listen HOST:0)."""

    def __init__(self, test, *args):
        self.test = test
        self.json = os.path.join(test.tmp, 'sink-%d.json' % len(test.sinks))
        self.cmd = [smtpblast_bin(), '--sink', '--listen', '127.0.0.1:0', '--json', self.json] + list(args)
        self.proc = harness.popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = ''
        self.err = ''
        line = self._first_line(10.0)
        m = LISTEN_RE.match(line)
        if not m:
            self.proc.kill()
            raise AssertionError('sink did not report its address: %r\n%s' % (line, self.cmd))
        self.address = '%s:%s' % (m.group(1), m.group(2))

    def _first_line(self, deadline):
        end = time.monotonic() + deadline
        buf = b''
        while b'\n' not in buf:
            remaining = end - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                break
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
        line, _, rest = buf.partition(b'\n')
        self.out = rest.decode('utf-8', 'replace')
        return line.decode('utf-8', 'replace')

    def wait(self, deadline=15.0, stop=False):
        """Waits for the sink to exit (SIGTERM first when stop); returns
        (exit code, stdout, the JSON summary)."""
        if stop and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=deadline)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError('sink did not exit within %.0f s:\n%s' % (deadline, out.decode()))
        self.out += out.decode('utf-8', 'replace')
        self.err = err.decode('utf-8', 'replace')
        self.test.check_sanitizer('sink', self.err)
        summary = None
        if os.path.exists(self.json):
            with open(self.json) as f:
                summary = json.load(f)
        return self.proc.returncode, self.out, summary


class SmtpblastTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        smtpblast_bin()
        self.sinks = []
        self.addCleanup(self._kill_sinks)

    def _kill_sinks(self):
        for s in self.sinks:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.communicate()

    def check_sanitizer(self, what, text):
        m = harness.SANITIZER_RE.search(text)
        if m:
            self.fail('sanitizer report from %s:\n%s' % (what, text[-6000:]))

    def start_sink(self, *args):
        s = Sink(self, *args)
        self.sinks.append(s)
        return s

    def client(self, address, *args, expect_rc=0):
        """Runs the client; returns (stdout, the JSON summary)."""
        path = os.path.join(self.tmp, 'client-%d.json' % time.monotonic_ns())
        cmd = [smtpblast_bin(), '--server', address, '--json', path] + list(args)
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=CLIENT_DEADLINE)
        out = p.stdout.decode('utf-8', 'replace')
        err = p.stderr.decode('utf-8', 'replace')
        self.check_sanitizer('client', err)
        self.assertEqual(p.returncode, expect_rc, 'smtpblast exited with %d, expected %d:\n%s\n%s\n%s'
                         % (p.returncode, expect_rc, ' '.join(cmd), out, err[-3000:]))
        with open(path) as f:
            return out, json.load(f)

    def test_client_to_sink_expect(self):
        sink = self.start_sink('--expect', '1000')
        out, summary = self.client(sink.address, '--messages', '1000', '--connections', '10')
        rc, sink_out, sink_summary = sink.wait()
        self.assertEqual(rc, 0, sink_out + sink.err)
        self.assertRegex(sink_out, r'sink: 1000 messages, last at [\d.]+ \([\d.]+ s after the first connection\)')
        self.assertEqual(replies(out)[250], 1000)
        for key in ('messages', 'seconds', 'msgs_per_s', 'replies', 'connections',
                    'connection_errors', 'latency_us', 'success'):
            self.assertIn(key, summary)
        for key in ('p50', 'p90', 'p99', 'p99_9', 'max', 'count'):
            self.assertIn(key, summary['latency_us'])
        self.assertEqual(summary['messages'], 1000)
        self.assertEqual(summary['replies']['250'], 1000)
        self.assertEqual(summary['connections'], 10)
        self.assertTrue(summary['success'])
        self.assertEqual(sink_summary['accepted'], 1000)
        self.assertEqual(sink_summary['messages'], 1000)
        self.assertEqual(sink_summary['connections'], 10)

    def test_pipelining_against_sink_and_ringmta(self):
        sink = self.start_sink('--expect', '500')
        out, summary = self.client(sink.address, '--messages', '500', '--pipelining')
        self.assertEqual(summary['replies'], {'250': 500, '451': 0}, out)
        rc, sink_out, _ = sink.wait()
        self.assertEqual(rc, 0, sink_out)

        eng = self.start_engine(shards=1)
        out, summary = self.client(eng.address, '--messages', '500', '--pipelining',
                                   '--recipients', '2')
        self.assertEqual(summary['replies'], {'250': 500, '451': 0}, out)
        self.assertEqual(len(harness.spool_ids(eng.spool)), 500)
        eng.stop()

    def test_reply_mix_counts_both_codes_and_fails(self):
        sink = self.start_sink('--reply-mix', '250:50,451:50', '--seed', '42')
        out, summary = self.client(sink.address, '--messages', '400', '--pipelining', expect_rc=1)
        codes = replies(out)
        self.assertGreater(codes.get(250, 0), 50, out)
        self.assertGreater(codes.get(451, 0), 50, out)
        self.assertEqual(codes[250] + codes[451], 400, out)
        self.assertIn('FAILED', out)
        self.assertFalse(summary['success'])
        rc, sink_out, sink_summary = sink.wait(stop=True)
        self.assertEqual(rc, 0, sink_out)
        self.assertEqual(sink_summary['replies'], {'250': codes[250], '451': codes[451]})
        self.assertEqual(sink_summary['messages'], 400)

    def test_open_loop_rate(self):
        sink = self.start_sink()
        out, summary = self.client(sink.address, '--rate', '200', '--duration', '2')
        self.assertEqual(summary['messages'], 400, out)
        self.assertGreaterEqual(summary['seconds'], 1.8, out)
        self.assertLess(summary['seconds'], 3.0, out)
        m = LATENCY_RE.search(out)
        self.assertTrue(m, 'no latency percentiles in:\n%s' % out)
        p50, p90, p99, p999, mx = (int(v) for v in m.groups())
        self.assertTrue(0 < p50 <= p90 <= p99 <= p999 <= mx, out)
        self.assertEqual(summary['latency_us']['from'], 'scheduled')
        sink.wait(stop=True)

    def test_no_reuse_one_connection_per_message(self):
        sink = self.start_sink()
        out, summary = self.client(sink.address, '--messages', '200', '--no-reuse')
        self.assertEqual(summary['connections'], 200, out)
        rc, sink_out, sink_summary = sink.wait(stop=True)
        self.assertEqual(rc, 0, sink_out)
        self.assertEqual(sink_summary['connections'], 200)
        self.assertEqual(sink_summary['accepted'], 200)

    def test_delays_disconnects_and_lock_step(self):
        # Held replies (io_uring timeouts) and 421-and-close: every message
        # still ends with a reply, and the client reconnects.
        sink = self.start_sink('--delay', 'connect=5,mail=1,data=2', '--disconnect-rate', '0.1',
                               '--seed', '3')
        out, summary = self.client(sink.address, '--messages', '300', expect_rc=1)
        codes = replies(out)
        self.assertEqual(codes.get(250, 0) + codes.get(421, 0), 300, out)
        self.assertGreater(codes.get(421, 0), 5, out)
        self.assertEqual(summary['no_reply'], 0, out)
        self.assertGreater(summary['connections'], 20, out)
        m = LATENCY_RE.search(out)
        self.assertGreaterEqual(int(m.group(1)), 2000, 'data=2 ms should show in p50:\n%s' % out)
        rc, sink_out, sink_summary = sink.wait(stop=True)
        self.assertEqual(sink_summary['disconnects'], codes[421])


    # ---- STARTTLS ------------------------------------------------------------

    def assert_client_tls(self, summary, messages, handshakes):
        self.assertTrue(summary['success'], summary)
        self.assertEqual(summary['messages'], messages)
        self.assertTrue(summary['tls'])
        self.assertEqual(summary['tls_version'], 'TLSv1.3')
        self.assertEqual(summary['tls_cipher'], 'TLS_CHACHA20_POLY1305_SHA256')
        self.assertEqual(summary['tls_handshakes'], handshakes)
        self.assertEqual(summary['tls_messages'], messages)

    def test_tls_against_ringmta_every_message_says_esmtps(self):
        cert, key = make_cert(self.tmp)
        eng = self.start_engine('--tls-cert', cert, '--tls-key', key, shards=1)
        out, summary = self.client(eng.address, '--tls', '--pipelining', '--messages', '300',
                                   '--connections', '10')
        self.assertIn('tls: on, TLSv1.3 TLS_CHACHA20_POLY1305_SHA256; 10 handshakes', out)
        self.assert_client_tls(summary, 300, 10)
        # --no-reuse --tls: a connection and a full handshake per message.
        out, summary = self.client(eng.address, '--tls', '--no-reuse', '--messages', '60',
                                   '--connections', '4')
        self.assertEqual(summary['connections'], 60, out)
        self.assert_client_tls(summary, 60, 60)
        ids = harness.spool_ids(eng.spool)
        self.assertEqual(len(ids), 360)
        # The engine's own word that each message came over TLS (RFC 3848).
        self.assertEqual(spool_count(eng.spool, rb'\bwith ESMTPS\b'), 360)
        self.assertEqual(spool_count(eng.spool, rb'\bwith ESMTP\b(?!S)'), 0)
        content = harness.spool_message(eng.spool, ids[-1]).decode('utf-8', 'replace')
        self.assertIn('using TLSv1.3 with cipher TLS_CHACHA20_POLY1305_SHA256', content)
        eng.stop()

    def test_tls_against_the_sink_counts_tls_sessions_and_messages(self):
        cert, key = make_cert(self.tmp)
        sink = self.start_sink('--tls-cert', cert, '--tls-key', key, '--expect', '650')
        # Plaintext first: the sink must not count it as TLS.
        out, summary = self.client(sink.address, '--messages', '100', '--connections', '5')
        self.assertFalse(summary['tls'], out)
        self.assertIn('tls: off', out)
        self.assertEqual(summary['tls_handshakes'], 0)
        out, summary = self.client(sink.address, '--tls', '--pipelining', '--messages', '500',
                                   '--connections', '10', '--tls-ciphers', 'TLS13-AES128-GCM-SHA256')
        self.assertEqual(summary['tls_cipher'], 'TLS_AES_128_GCM_SHA256', out)
        self.assertEqual(summary['tls_handshakes'], 10, out)
        self.assertEqual(summary['tls_messages'], 500, out)
        out, summary = self.client(sink.address, '--tls', '--tls-version', '1.2', '--messages', '50',
                                   '--connections', '5')
        self.assertEqual(summary['tls_version'], 'TLSv1.2', out)
        self.assertEqual(summary['tls_cipher'], 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', out)
        self.assertEqual(summary['tls_messages'], 50, out)
        rc, sink_out, sink_summary = sink.wait()
        self.assertEqual(rc, 0, sink_out + sink.err)
        self.assertEqual(sink_summary['accepted'], 650)
        self.assertTrue(sink_summary['tls'])
        self.assertEqual(sink_summary['tls_sessions'], 15)
        self.assertEqual(sink_summary['tls_messages'], 550)
        self.assertEqual(sink_summary['tls_failures'], 0)
        self.assertEqual(sink_summary['tls_version'], 'TLSv1.3')
        self.assertEqual(sink_summary['tls_cipher'], 'TLS_AES_128_GCM_SHA256')
        self.assertIn('tls: 15 STARTTLS sessions (TLSv1.3 TLS_AES_128_GCM_SHA256), 550 messages over TLS',
                      sink_out)

    def test_tls_relay_through_ringmta_outbound_starttls_to_the_sink(self):
        # smtpblast --tls -> ringmta (STARTTLS in, --outbound-tls required out)
        # -> the sink with TLS: every message crosses both hops encrypted.
        cert, key = make_cert(self.tmp)
        sink = self.start_sink('--tls-cert', cert, '--tls-key', key, '--expect', '200')
        eng = self.start_engine('--tls-cert', cert, '--tls-key', key, '--relay-host', sink.address,
                                '--outbound-tls', 'required', shards=1, deliver=True)
        out, summary = self.client(eng.address, '--tls', '--pipelining', '--messages', '200')
        self.assert_client_tls(summary, 200, 20)
        rc, sink_out, sink_summary = sink.wait(deadline=30.0)
        self.assertEqual(rc, 0, sink_out + sink.err)
        self.assertEqual(sink_summary['accepted'], 200)
        self.assertEqual(sink_summary['tls_messages'], 200)
        self.assertGreaterEqual(sink_summary['tls_sessions'], 1)
        self.assertEqual(sink_summary['tls_failures'], 0)
        eng.stop()

    def test_tls_without_starttls_fails_at_once_with_the_reason(self):
        sink = self.start_sink()  # no --tls-cert: STARTTLS is not offered
        eng = self.start_engine(shards=1)  # likewise
        for address in (sink.address, eng.address):
            t0 = time.monotonic()
            out, summary = self.client(address, '--tls', '--messages', '50', expect_rc=1)
            self.assertLess(time.monotonic() - t0, 10, 'it should stop at once, not retry:\n' + out)
            self.assertRegex(out, r'FAILED: --tls with %s: 451 4\.7\.4 TLS is required, but the server '
                                  r'does not offer STARTTLS' % re.escape(address))
            self.assertFalse(summary['success'])
            self.assertTrue(summary['tls'])
            self.assertEqual(summary['tls_handshakes'], 0)
            self.assertEqual(summary['messages'], 0)
        rc, sink_out, sink_summary = sink.wait(stop=True)
        self.assertEqual(sink_summary['messages'], 0, sink_out)
        self.assertEqual(harness.spool_ids(eng.spool), [])
        eng.stop()

    def test_tls_handshake_refused_fails_at_once_with_the_reason(self):
        cert, key = make_cert(self.tmp)
        sink = self.start_sink('--tls-cert', cert, '--tls-key', key)
        t0 = time.monotonic()
        # A suite the server does not take: it gives up in the handshake.
        out, summary = self.client(sink.address, '--tls', '--tls-ciphers', 'TLS13-AES128-CCM-SHA256',
                                   '--messages', '50', expect_rc=1)
        self.assertLess(time.monotonic() - t0, 10, 'it should stop at once, not retry:\n' + out)
        self.assertIn('FAILED: --tls: TLS with %s failed: the server closed the connection during the '
                      'handshake' % sink.address, out)
        self.assertEqual(summary['tls_handshakes'], 0)
        rc, sink_out, sink_summary = sink.wait(stop=True)
        self.assertGreaterEqual(sink_summary['tls_failures'], 1, sink_out)
        self.assertEqual(sink_summary['tls_sessions'], 0, sink_out)
        self.assertIn("can't match cipher suite", sink_out)

    def test_tls_flag_errors_are_clear(self):
        cert, key = make_cert(self.tmp)
        bad = [
            (['--sink', '--listen', '127.0.0.1:0', '--tls'], 2, '--tls, --tls-ciphers and --tls-version are client flags'),
            (['--sink', '--listen', '127.0.0.1:0', '--tls-cert', cert], 2, '--tls-cert and --tls-key go together'),
            (['--server', '127.0.0.1:1', '--tls-cert', cert, '--tls-key', key], 2, 'are sink flags'),
            (['--server', '127.0.0.1:1', '--tls-ciphers', 'TLS13-AES128-GCM-SHA256'], 2,
             '--tls-ciphers and --tls-version need --tls'),
            (['--server', '127.0.0.1:1', '--tls', '--tls-version', '1.1'], 2,
             "bad value '1.1' for --tls-version"),
            (['--server', '127.0.0.1:1', '--tls', '--tls-ciphers', 'NO-SUCH-CIPHER'], 1,
             'cipher_list "NO-SUCH-CIPHER": no cipher this wolfSSL knows'),
            (['--sink', '--listen', '127.0.0.1:0', '--tls-cert', os.path.join(self.tmp, 'missing.pem'),
              '--tls-key', key], 1, 'missing.pem": No such file or directory'),
            (['--sink', '--listen', '127.0.0.1:0', '--tls-cert', key, '--tls-key', cert], 1,
             'no usable PEM certificate'),
        ]
        for args, rc, text in bad:
            p = subprocess.run([smtpblast_bin()] + args, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=30)
            self.check_sanitizer('smtpblast', p.stderr)
            self.assertEqual(p.returncode, rc, '%s: %s%s' % (args, p.stdout, p.stderr))
            self.assertIn(text, p.stderr, args)

    def test_tls_compare_script_runs_small(self):
        # bench/tls_compare.sh with tiny counts: every row is there, the TLS
        # rows did their handshakes and the sink got every relayed message
        # over TLS, and the ratios are printed.
        build = os.path.dirname(os.path.dirname(os.path.abspath(smtpblast_bin())))
        p = subprocess.run(['bash', os.path.join(ROOT, 'bench', 'tls_compare.sh'), build, '300', '5', '1024',
                            '1', '60'], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=120, env=dict(os.environ, TLS_DEADLINE='40'))
        text = p.stdout + p.stderr
        self.check_sanitizer('tls_compare.sh', text)
        self.assertEqual(p.returncode, 0, text)
        hs = {m.group(1): m.groups() for m in
              re.finditer(r'^1\s+(plain|tls)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)$', text, re.M)}
        self.assertEqual(hs['plain'][4], '0', text)
        self.assertEqual(hs['tls'][4], '60', text)
        relay = {m.group(1): m.groups() for m in
                 re.finditer(r'^1\s+(plain|tls)\s+[\d.]+\s+(\d+)\s+([\d.]+)\s+[\d.]+\s+[\d.]+\s+(\d+)$',
                             text, re.M)}
        self.assertEqual(relay['plain'][3], '0', text)
        self.assertEqual(relay['tls'][3], '300', text)
        self.assertRegex(text, r'\(a\) new connection per message: plaintext \d+ msg/s, TLS \d+ msg/s')
        self.assertRegex(text, r'\(b\) relay: plaintext \d+ msg/s, STARTTLS both hops \d+ msg/s: [\d.]+x')


if __name__ == '__main__':
    harness.main()
