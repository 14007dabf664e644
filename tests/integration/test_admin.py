"""The HTTP admin API (engine/admin/) and /metrics with real clients: curl,
Python's http.client, a raw socket for pipelining, Prometheus' promtool and
a real Prometheus server scraping the engine.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_admin.py -v
"""

import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import harness

DEADLINE = 30


def read_response(f):
    """One HTTP/1.1 response from a file object: (status, headers, body)."""
    status_line = f.readline().decode()
    m = re.match(r'HTTP/1\.1 (\d{3}) ', status_line)
    assert m, 'not a status line: %r' % status_line
    headers = {}
    while True:
        line = f.readline().decode()
        if line in ('\r\n', ''):
            break
        k, v = line.split(':', 1)
        headers[k.strip().lower()] = v.strip()
    body = f.read(int(headers.get('content-length', '0')))
    return int(m.group(1)), headers, body


def metric(text, name, labels=''):
    """The value of one sample in Prometheus text, or None."""
    m = re.search(r'^%s%s (\S+)$' % (re.escape(name), re.escape(labels)), text, re.M)
    return float(m.group(1)) if m else None


class AdminApiTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        self.curl_bin = harness.require_tool('curl', 'curl')

    def get(self, eng, path, headers=None, source=None):
        conn = http.client.HTTPConnection(eng.host, eng.admin_port, timeout=DEADLINE,
                                          source_address=(source, 0) if source else None)
        try:
            conn.request('GET', path, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
        finally:
            conn.close()

    def scrape(self, eng):
        status, headers, body = self.get(eng, '/metrics')
        self.assertEqual(status, 200)
        self.assertTrue(headers['content-type'].startswith('text/plain; version=0.0.4'), headers)
        return body.decode()

    def wait_metric(self, eng, name, want, labels=''):
        end = time.monotonic() + DEADLINE
        while True:
            v = metric(self.scrape(eng), name, labels)
            if v == want or time.monotonic() > end:
                return v
            time.sleep(0.1)

    def test_metrics_count_messages_and_pass_promtool(self):
        promtool = harness.require_tool('promtool', 'prometheus')
        eng = self.start_engine(admin=True)
        harness.send_messages(eng, 5)
        # Each shard publishes its counters every 250 ms: wait for both.
        self.assertEqual(self.wait_metric(eng, 'ringmta_messages_received_total', 5), 5)
        # Two connections: the harness's readiness probe and smtplib's.
        self.assertEqual(self.wait_metric(eng, 'ringmta_connections_total', 2, '{direction="in"}'), 2)
        text = self.scrape(eng)
        # A histogram per shard, each with +Inf equal to its count.
        for shard in ('0', '1'):
            inf = metric(text, 'ringmta_loop_iteration_seconds_bucket', '{shard="%s",le="+Inf"}' % shard)
            count = metric(text, 'ringmta_loop_iteration_seconds_count', '{shard="%s"}' % shard)
            self.assertIsNotNone(inf)
            self.assertEqual(inf, count)
        syncs = sum(metric(text, 'ringmta_spool_sync_seconds_count', '{shard="%s"}' % s) for s in '01')
        self.assertGreaterEqual(syncs, 1)
        self.assertGreater(metric(text, 'ringmta_spool_bytes'), 0)
        p = subprocess.run([promtool, 'check', 'metrics'], input=text.encode(), capture_output=True,
                           timeout=DEADLINE)
        self.assertEqual(p.returncode, 0, 'promtool check metrics:\n%s%s\n--- metrics ---\n%s'
                         % (p.stdout.decode(), p.stderr.decode(), text))

    def test_prometheus_server_scrapes_the_engine(self):
        prometheus = harness.require_tool('prometheus', 'prometheus')
        eng = self.start_engine(admin=True)
        harness.send_messages(eng, 7)
        port = harness.free_port()
        cfg = os.path.join(self.tmp, 'prometheus.yml')
        with open(cfg, 'w') as f:
            f.write('global:\n  scrape_interval: 1s\n'
                    'scrape_configs:\n  - job_name: ringmta\n    static_configs:\n'
                    '      - targets: ["%s:%d"]\n' % (eng.host, eng.admin_port))
        log = open(os.path.join(self.tmp, 'prometheus.log'), 'wb')
        proc = harness.popen([prometheus, '--config.file', cfg, '--storage.tsdb.path',
                              os.path.join(self.tmp, 'tsdb'), '--web.listen-address', '127.0.0.1:%d' % port],
                             stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (proc.kill(), proc.wait(), log.close()))
        url = ('http://127.0.0.1:%d/api/v1/query?query=%s'
               % (port, urllib.parse.quote('sum(ringmta_messages_received_total)')))
        got = None
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    data = json.load(r)
                result = data['data']['result']
                if result:
                    got = float(result[0]['value'][1])
                    if got == 7:
                        break
            except (urllib.error.URLError, ConnectionError, KeyError):
                pass
            time.sleep(0.5)
        with open(os.path.join(self.tmp, 'prometheus.log'), 'rb') as f:
            plog = f.read().decode('utf-8', 'replace')[-4000:]
        self.assertEqual(got, 7, 'Prometheus never reported 7 received messages (last: %r)\n%s' % (got, plog))
        # And Prometheus saw the target as up.
        with urllib.request.urlopen('http://127.0.0.1:%d/api/v1/targets' % port, timeout=5) as r:
            targets = json.load(r)['data']['activeTargets']
        self.assertEqual([t['health'] for t in targets], ['up'], targets)

    def test_keep_alive_pipelining_and_chunked(self):
        eng = self.start_engine(admin=True)
        # Keep-alive: several requests on one http.client connection.
        conn = http.client.HTTPConnection(eng.host, eng.admin_port, timeout=DEADLINE)
        for _ in range(3):
            conn.request('GET', '/api/v1/health')
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.read())['status'], 'ok')
        # A chunked body on the same connection: consumed whole, so the
        # request after it is read right.
        conn.putrequest('POST', '/api/v1/health')
        conn.putheader('Transfer-Encoding', 'chunked')
        conn.endheaders()
        conn.send(b'5\r\nhello\r\n0\r\n\r\n')
        r = conn.getresponse()
        self.assertEqual(r.status, 405)
        self.assertIn('GET', json.loads(r.read())['error'])
        conn.request('GET', '/metrics')
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        r.read()
        conn.close()

        # Pipelining: three requests in one write, three answers in order.
        with socket.create_connection((eng.host, eng.admin_port), timeout=DEADLINE) as s:
            s.sendall(b'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n'
                      b'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n'
                      b'GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
            f = s.makefile('rb')
            a = read_response(f)
            b = read_response(f)
            c = read_response(f)
            self.assertEqual([a[0], b[0], c[0]], [200, 404, 200])
            self.assertIn(b'ringmta_messages_received_total', c[2])
            self.assertEqual(c[1].get('connection'), 'close')
            self.assertEqual(f.read(), b'')  # and then it closed

    def test_bad_requests_get_json_errors(self):
        eng = self.start_engine('--admin-max-body', '1024', admin=True)
        # Too large by Content-Length: 413 before the body is sent.
        with socket.create_connection((eng.host, eng.admin_port), timeout=DEADLINE) as s:
            s.sendall(b'POST /api/v1/inject HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n')
            status, headers, body = read_response(s.makefile('rb'))
            self.assertEqual(status, 413)
            self.assertIn('1024', json.loads(body)['error'])
            self.assertEqual(headers.get('connection'), 'close')
        # Too large, chunked (no length declared): 413 once it passes the limit.
        with socket.create_connection((eng.host, eng.admin_port), timeout=DEADLINE) as s:
            s.sendall(b'POST /api/v1/inject HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
                      + (b'200\r\n' + b'x' * 512 + b'\r\n') * 3)
            self.assertEqual(read_response(s.makefile('rb'))[0], 413)
        # curl with a body over the limit: 413 and its JSON.
        big = os.path.join(self.tmp, 'big.json')
        with open(big, 'wb') as f:
            f.write(b'{' + b' ' * 4000 + b'}')
        p = subprocess.run([self.curl_bin, '-sS', '--max-time', '20', '-o', '-', '-w', '\n%{http_code}',
                            '--data-binary', '@' + big, eng.admin_url + '/api/v1/inject'],
                           capture_output=True, timeout=DEADLINE)
        out = p.stdout.decode()
        self.assertTrue(out.endswith('\n413'), out + p.stderr.decode())
        # Not HTTP at all: 400 with the parser's reason.
        with socket.create_connection((eng.host, eng.admin_port), timeout=DEADLINE) as s:
            s.sendall(b'HELLO THERE\r\n\r\n')
            status, _, body = read_response(s.makefile('rb'))
            self.assertEqual(status, 400)
            self.assertIn('malformed HTTP', json.loads(body)['error'])
        # A header section over the bound: 431, and the client reads it
        # even though it goes on sending (the server closes lingering: it
        # reads and drops the rest rather than reset the connection).
        with socket.create_connection((eng.host, eng.admin_port), timeout=DEADLINE) as s:
            s.sendall(b'GET / HTTP/1.1\r\nX-Big: ' + b'a' * 20000 + b'\r\n\r\n' + b'z' * 300000)
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(read_response(s.makefile('rb'))[0], 431)
        # Unknown path: 404, and the engine is still serving.
        status, _, body = self.get(eng, '/api/v1/nothing')
        self.assertEqual(status, 404)
        self.assertIn('/api/v1/nothing', json.loads(body)['error'])
        self.assertEqual(self.get(eng, '/api/v1/health')[0], 200)

    def test_tokens_and_trusted_networks(self):
        tokens = os.path.join(self.tmp, 'tokens')
        good = 'a' * 20 + 'GOODTOKEN'
        with open(tokens, 'w') as f:
            f.write('# admin tokens\n%s\n' % good)
        os.chmod(tokens, 0o600)
        eng = self.start_engine('--admin-trusted-networks', '127.0.0.1/32', '--admin-tokens-file', tokens,
                                admin=True)
        # From 127.0.0.1: trusted, no token needed.
        self.assertEqual(self.get(eng, '/api/v1/health')[0], 200)
        # From 127.0.0.2: outside the trusted networks.
        status, headers, body = self.get(eng, '/api/v1/health', source='127.0.0.2')
        self.assertEqual(status, 401)
        self.assertIn('trusted_networks', json.loads(body)['error'])
        self.assertTrue(headers['www-authenticate'].startswith('Bearer'))
        status, _, body = self.get(eng, '/metrics', {'Authorization': 'Bearer wrong-token-xxxxxxxx'},
                                   source='127.0.0.2')
        self.assertEqual(status, 401)
        self.assertIn('not one of', json.loads(body)['error'])
        status, _, body = self.get(eng, '/metrics', {'Authorization': 'Bearer ' + good}, source='127.0.0.2')
        self.assertEqual(status, 200)
        self.assertIn(b'ringmta_messages_received_total', body)
        # curl with the token, from 127.0.0.2.
        p = subprocess.run([self.curl_bin, '-sS', '--max-time', '20', '--interface', '127.0.0.2',
                            '-H', 'Authorization: Bearer ' + good, eng.admin_url + '/api/v1/health'],
                           capture_output=True, timeout=DEADLINE)
        self.assertEqual(json.loads(p.stdout)['status'], 'ok', p.stderr)

    def test_token_file_readable_by_others_is_refused(self):
        tokens = os.path.join(self.tmp, 'tokens')
        with open(tokens, 'w') as f:
            f.write('b' * 32 + '\n')
        os.chmod(tokens, 0o644)
        eng = harness.Engine(os.path.join(self.tmp, 'spool'), args=['--admin-tokens-file', tokens],
                             workdir=self.tmp, admin=True)
        self.engines.append(eng)
        with self.assertRaises(AssertionError) as cm:
            eng.start()
        self.assertIn('readable by others; chmod 600', str(cm.exception))

    def test_admin_tls(self):
        openssl = harness.require_tool('/usr/bin/openssl', 'openssl')
        key, cert = os.path.join(self.tmp, 'key.pem'), os.path.join(self.tmp, 'cert.pem')
        subprocess.run([openssl, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                        '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=mta.ringmta.test'],
                       check=True, capture_output=True, timeout=30)
        os.chmod(key, 0o644)  # started as root, the engine reads it before dropping privileges
        eng = self.start_engine('--tls-cert', cert, '--tls-key', key, '--admin-tls', 'true', admin=True)
        url = 'https://%s:%d' % (eng.host, eng.admin_port)
        # curl over TLS, keep-alive: two requests on one connection; a
        # /metrics answer larger than one TLS record.
        p = subprocess.run([self.curl_bin, '-sS', '--max-time', '20', '--cacert', cert, '--resolve',
                            'mta.ringmta.test:%d:%s' % (eng.admin_port, eng.host),
                            'https://mta.ringmta.test:%d/api/v1/health' % eng.admin_port,
                            'https://mta.ringmta.test:%d/metrics' % eng.admin_port],
                           capture_output=True, timeout=DEADLINE)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b'"status":"ok"', p.stdout)
        self.assertIn(b'ringmta_loop_iteration_seconds_bucket', p.stdout)
        # Python's ssl with a large pipelined burst.
        import ssl
        ctx = ssl.create_default_context(cafile=cert)
        ctx.check_hostname = False
        with socket.create_connection((eng.host, eng.admin_port), timeout=DEADLINE) as raw:
            with ctx.wrap_socket(raw) as s:
                s.sendall(b'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' * 20)
                f = s.makefile('rb')
                for _ in range(20):
                    status, _, body = read_response(f)
                    self.assertEqual(status, 200)
                    self.assertIn(b'ringmta_spool_bytes', body)
        # Plain HTTP to the TLS port: refused, and the engine keeps serving.
        with socket.create_connection((eng.host, eng.admin_port), timeout=DEADLINE) as s:
            s.sendall(b'GET /metrics HTTP/1.1\r\n\r\n')
            self.assertNotIn(b'200 OK', s.recv(1000))
        self.assertIn(b'ok', subprocess.run([self.curl_bin, '-sS', '-k', url + '/api/v1/health'],
                                            capture_output=True, timeout=DEADLINE).stdout)

    def test_concurrent_scrapes_during_load(self):
        promtool = harness.require_tool('promtool', 'prometheus')
        eng = self.start_engine(admin=True, shards=2)
        errors = []
        seen = []
        done = threading.Event()

        def scraper():
            while not done.is_set():
                try:
                    text = self.scrape(eng)
                    seen.append(metric(text, 'ringmta_messages_received_total'))
                    if len(seen) % 10 == 0:
                        p = subprocess.run([promtool, 'check', 'metrics'], input=text.encode(),
                                           capture_output=True, timeout=DEADLINE)
                        if p.returncode != 0:
                            errors.append(p.stderr.decode())
                except Exception as e:  # noqa: BLE001 — reported below
                    errors.append(repr(e))

        threads = [threading.Thread(target=scraper) for _ in range(4)]
        for t in threads:
            t.start()
        senders = [threading.Thread(target=harness.send_messages, args=(eng, 50)) for _ in range(4)]
        for t in senders:
            t.start()
        for t in senders:
            t.join(DEADLINE)
        done.set()
        for t in threads:
            t.join(DEADLINE)
        self.assertEqual(errors, [])
        self.assertGreater(len(seen), 10)
        self.assertEqual(self.wait_metric(eng, 'ringmta_messages_received_total', 200), 200)
        eng.stop()


if __name__ == '__main__':
    harness.main()
