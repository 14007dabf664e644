"""smtpblast (bench/smtpblast.cc): the load generator against its own sink and
against ringmta, and the sink's reply mix.

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
LISTEN_RE = re.compile(r'^sink: listening on (\S+):(\d+)$')
LATENCY_RE = re.compile(r'latency \(us, [^)]*\): p50 (\d+)\s+p90 (\d+)\s+p99 (\d+)\s+p99\.9 (\d+)\s+max (\d+)')


def smtpblast_bin():
    path = os.environ.get('SMTPBLAST_BIN', '')
    if not path:
        raise unittest.SkipTest('SMTPBLAST_BIN is not set (built with -Dbenchmarks=false?)')
    if not os.access(path, os.X_OK):
        raise AssertionError('SMTPBLAST_BIN=%s is not an executable file: build it first' % path)
    return path


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


if __name__ == '__main__':
    harness.main()
