"""bench/compare still runs: direct, ringmta and Postfix rows, and a PNG.

    RINGMTA_BIN=BUILD/engine/ringmta SMTPBLAST_BIN=BUILD/bench/smtpblast \\
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_compare_smoke.py -v

Runs `bench/compare --quick` with COMPARE_SCALE=0.2 (about 30-60 s). Needs
root (the script starts a private Postfix instance and makes cgroups), the
Debian `postfix` package and SMTPBLAST_BIN (a build with -Dbenchmarks);
skips without them. gnuplot (gnuplot-nox) makes the PNG: without it the
test fails, since the script is then incomplete.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

import harness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, 'bench', 'compare')
DEADLINE = 150  # seconds for the whole script (it takes ~30-60 s; the machine may be busy)
# | 1KBx1 | smtp-source | ringmta | 800 | 0.28 | 2,857 | 0.67 | 117 | 13.2 | 9.2 | n/a |
ROW = re.compile(r'^\| (\S+) \| (smtp-source|smtpblast) \| (direct|ringmta|postfix) \| (\d+) \| '
                 r'([\d.]+) \| ([\d,]+) \| ([\d.]+) \|')


def _own_group_term_with_parent():
    # Its own process group, so a timeout can stop the script and everything
    # it started; SIGTERM (not SIGKILL) if this test dies, so the script's
    # trap still stops the Postfix instance and removes its cgroups.
    os.setsid()
    try:
        import ctypes
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class CompareSmokeTest(unittest.TestCase):

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest('bench/compare needs root (a private Postfix instance, cgroups)')
        for tool in ('/usr/sbin/smtp-source', '/usr/sbin/smtp-sink', '/usr/sbin/postfix'):
            if not os.access(tool, os.X_OK):
                self.skipTest('%s missing (apt-get install postfix)' % tool)
        if not os.environ.get('SMTPBLAST_BIN'):
            self.skipTest('SMTPBLAST_BIN is not set (build with -Dbenchmarks)')
        self.ringmta = harness.ringmta_bin()
        self.smtpblast = os.environ['SMTPBLAST_BIN']
        base = os.environ.get('RINGMTA_TEST_TMP') or None
        self.out = tempfile.mkdtemp(prefix='compare-smoke.', dir=base)
        self.addCleanup(shutil.rmtree, self.out, True)

    def test_quick_small(self):
        env = dict(os.environ, RINGMTA_BIN=self.ringmta, SMTPBLAST_BIN=self.smtpblast,
                   COMPARE_SCALE='0.2', COMPARE_DEADLINE='40')
        p = subprocess.Popen([SCRIPT, '--quick', '--out', self.out],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=env,
                             preexec_fn=_own_group_term_with_parent)
        try:
            out, _ = p.communicate(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGTERM)  # the script's trap cleans up
            try:
                out, _ = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                out, _ = p.communicate()
            self.fail('bench/compare ran over %d s:\n%s'
                      % (DEADLINE, out.decode('utf-8', 'replace')[-4000:]))
        text = out.decode('utf-8', 'replace')
        self.assertEqual(p.returncode, 0, 'bench/compare exited with %d:\n%s'
                         % (p.returncode, text[-4000:]))

        with open(os.path.join(self.out, 'results.md'), encoding='utf-8') as f:
            md = f.read()
        rows = [m for m in (ROW.match(l) for l in md.splitlines()) if m]
        targets = {m.group(3) for m in rows}
        self.assertEqual(targets, {'direct', 'ringmta', 'postfix'}, md)
        self.assertEqual(len(rows), 18, md)  # 3 scenarios x 2 generators x 3 targets
        for m in rows:
            self.assertGreater(float(m.group(6).replace(',', '')), 0, m.group(0))
        self.assertIn('Load average', md)

        with open(os.path.join(self.out, 'results.png'), 'rb') as f:
            self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n', 'results.png is not a PNG')


if __name__ == '__main__':
    harness.main()
