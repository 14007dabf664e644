"""Shared helpers for ringmta's integration tests.

The tests start the real daemon (RINGMTA_BIN) on a free loopback port with a
temporary spool, talk SMTP to it with real clients, and inspect the spool
with ringmta-spool (RINGMTA_SPOOL_TOOL). Both paths come from the
environment (meson sets them, see meson.build here).

Everything that waits has a deadline: a test that hangs is a failed test.

The helpers are in one module per job, and every name is re-exported here,
so a test needs only `import harness`: engine_process.py (the built
programs, Engine, ports, peers' processes), smtp_client.py (SmtpConn,
queue ids, send_messages), spool_files.py (ringmta-spool, segment files).
This file keeps EngineTestCase: a temporary directory per test, and the
engines' logs when a test fails.

    class MyTest(harness.EngineTestCase):
        def test_it(self):
            eng = self.start_engine('--max-message-size', '100000')
            ...
            ids = harness.spool_ids(eng.spool)
            eng.stop()   # SIGTERM, asserts exit code 0
"""

import os
import shutil
import sys
import tempfile
import unittest

from engine_process import (SANITIZER_RE, START_DEADLINE, STOP_DEADLINE, TOOL_DEADLINE, Engine, free_port,
                            popen, require_tool, ringmta_bin, spool_tool)
from smtp_client import QUEUED_AS_RE, SmtpConn, parse_replies, queue_id_of, send_messages
from spool_files import (QUEUE_ID_RE, RECORD_HEADER, parse_ids, run_spool_tool, segment_data_end, segment_files,
                         segment_records, spool_ids, spool_message, split_listing)

__all__ = [
    # engine_process.py
    'SANITIZER_RE', 'START_DEADLINE', 'STOP_DEADLINE', 'TOOL_DEADLINE', 'Engine', 'free_port', 'popen',
    'require_tool', 'ringmta_bin', 'spool_tool',
    # smtp_client.py
    'QUEUED_AS_RE', 'SmtpConn', 'parse_replies', 'queue_id_of', 'send_messages',
    # spool_files.py
    'QUEUE_ID_RE', 'RECORD_HEADER', 'parse_ids', 'run_spool_tool', 'segment_data_end', 'segment_files',
    'segment_records', 'spool_ids', 'spool_message', 'split_listing',
    # here
    'others_may_enter', 'EngineTestCase', 'main',
]


def others_may_enter(path):
    """True when every directory from / down to path lets other users pass
    (o+x): started as root, the engine runs as the ringmta user."""
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


class EngineTestCase(unittest.TestCase):
    """Gives each test a temporary directory and cleans up the engines it
    started (killed if still running; their logs shown when a test fails)."""

    def setUp(self):
        base = os.environ.get('RINGMTA_TEST_TMP')
        if base and not others_may_enter(base):
            base = None  # e.g. a checkout under /root: the system temp dir instead
        self.tmp = tempfile.mkdtemp(prefix='ringmta-integ-', dir=base)
        # Started as root, the engine runs as the ringmta user: it must be
        # able to reach the spool inside this directory.
        os.chmod(self.tmp, 0o755)
        self.engines = []
        self.addCleanup(self._cleanup)
        # Where a test's --event-log goes, if it asks for one.
        self.events = os.path.join(self.tmp, 'events.log')

    def peer(self, p):
        """A peer (peers.py) stopped when the test ends."""
        self.addCleanup(p.stop)
        return p

    def _cleanup(self):
        for eng in self.engines:
            eng.kill()
        # Under -Db_sanitize the engine keeps running after a UBSan report,
        # so look for reports in every engine's log.
        reports = [(i, m.group(0)) for i, eng in enumerate(self.engines)
                   for m in [SANITIZER_RE.search(eng.log())] if m]
        if self.engines and (self._failed() or reports or os.environ.get('RINGMTA_SHOW_LOGS')):
            for i, eng in enumerate(self.engines):
                try:
                    what = ' '.join(eng.command())
                except RuntimeError:
                    what = 'not started'
                sys.stderr.write('\n--- %s: log of engine %d (%s) ---\n%s'
                                 % (self.id(), i, what, eng.log()[-20000:]))
        if os.environ.get('RINGMTA_KEEP_TMP'):
            sys.stderr.write('kept %s\n' % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if reports:
            self.fail('sanitizer reports in the engine logs (shown above): %r' % reports)

    def new_spool(self, name='spool'):
        path = os.path.join(self.tmp, name)
        os.makedirs(path, exist_ok=True)
        return path

    def start_engine(self, *args, spool=None, shards=2, host='127.0.0.1', raw=False, port=None,
                     deliver=False, admin=False):
        eng = Engine(spool or os.path.join(self.tmp, 'spool'), args=args, shards=shards, deliver=deliver,
                     host=host, workdir=self.tmp, raw=raw, port=port, admin=admin)
        os.makedirs(eng.spool, exist_ok=True)
        self.engines.append(eng)
        eng.start()
        return eng

    def _failed(self):
        outcome = getattr(self, '_outcome', None)
        res = getattr(outcome, 'result', None)
        if res is None:
            return False
        return any(t is self for t, _ in list(res.failures) + list(res.errors))

    def assertReply(self, reply, code, enhanced=None, msg=None):
        got_code, lines = reply
        text = ' / '.join(lines)
        self.assertEqual(got_code, code, msg or 'expected %d%s, got %s %s'
                         % (code, ' ' + enhanced if enhanced else '', got_code, text))
        if enhanced:
            self.assertTrue(lines and lines[-1].startswith(enhanced),
                            msg or 'expected enhanced code %s, got %s %s' % (enhanced, got_code, text))


def main():
    unittest.main(verbosity=2)
