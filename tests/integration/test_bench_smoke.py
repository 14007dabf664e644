"""bench/relay_compare.sh still runs: a tiny ringmta-vs-Postfix relay run.

    RINGMTA_BIN=BUILD/engine/ringmta PYTHONPATH=tests/integration \
        /usr/bin/python3 tests/integration/test_bench_smoke.py -v

Needs root (the script starts a private Postfix instance) and the Debian
`postfix` package (smtp-source, smtp-sink, postfix).
"""

import os
import re
import signal
import subprocess
import unittest

import harness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, 'bench', 'relay_compare.sh')
DEADLINE = 90  # seconds for the whole script
# "ringmta   4684   17.01x   101.2": MTA, msg/s, ratio to Postfix, CPU us/msg
SUMMARY_ROW = re.compile(r'^(ringmta|postfix)\s+(\d+)\s+[\d.]+x\s+([\d.]+)$')


def _own_group_term_with_parent():
    # Its own process group, so a timeout can stop the script and everything
    # it started; SIGTERM (not SIGKILL) if this test dies, so the script's
    # trap still stops the Postfix instance and removes its files.
    os.setsid()
    try:
        import ctypes
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class BenchSmokeTest(unittest.TestCase):

    def setUp(self):
        for tool, package in (('/usr/sbin/smtp-source', 'postfix'),
                              ('/usr/sbin/smtp-sink', 'postfix'),
                              ('/usr/sbin/postfix', 'postfix')):
            harness.require_tool(tool, package)
        if os.geteuid() != 0:
            self.skipTest('relay_compare.sh needs root (it starts a private Postfix instance)')

    def test_relay_compare_small(self):
        build = os.path.dirname(os.path.dirname(harness.ringmta_bin()))
        env = dict(os.environ, RELAY_DEADLINE='40')
        p = subprocess.Popen(['bash', SCRIPT, build, '200', '5', '1024', '1'],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=env,
                             preexec_fn=_own_group_term_with_parent)
        try:
            out, _ = p.communicate(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGTERM)  # the script's trap cleans up
            try:
                out, _ = p.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                out, _ = p.communicate()
            self.fail('relay_compare.sh ran over %d s:\n%s'
                      % (DEADLINE, out.decode('utf-8', 'replace')[-4000:]))
        text = out.decode('utf-8', 'replace')
        self.assertEqual(p.returncode, 0, 'relay_compare.sh exited with %d:\n%s'
                         % (p.returncode, text[-4000:]))
        lines = text.splitlines()
        for mta in ('ringmta', 'postfix'):
            rows = [m for m in (SUMMARY_ROW.match(l) for l in lines) if m and m.group(1) == mta]
            self.assertEqual(len(rows), 1, 'no summary row for %s:\n%s' % (mta, text))
            rate, cpu = float(rows[0].group(2)), float(rows[0].group(3))
            self.assertGreater(rate, 0, text)
            self.assertGreater(cpu, 0, text)
        self.assertIn('ringmta / Postfix:', text)


if __name__ == '__main__':
    harness.main()
