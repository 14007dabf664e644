"""Shared helpers for ringmta's integration tests.

The tests start the real daemon (RINGMTA_BIN) on a free loopback port with a
temporary spool, talk SMTP to it with real clients, and inspect the spool
with ringmta-spool (RINGMTA_SPOOL_TOOL). Both paths come from the
environment (meson sets them, see meson.build here).

Everything that waits has a deadline: a test that hangs is a failed test.

    class MyTest(harness.EngineTestCase):
        def test_it(self):
            eng = self.start_engine('--max-message-size', '100000')
            ...
            ids = self.spool_ids(eng.spool)
            eng.stop()   # SIGTERM, asserts exit code 0
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

QUEUE_ID_RE = re.compile(r'^([0-9A-Fa-f]{16})\b')
QUEUED_AS_RE = re.compile(r'queued as ([0-9A-Fa-f]{16})\s*$')

SANITIZER_RE = re.compile(r'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error: |'
                          r'WARNING: ThreadSanitizer')

START_DEADLINE = 15.0  # seconds for the engine to accept connections
STOP_DEADLINE = 10.0   # seconds for SIGTERM to end it
TOOL_DEADLINE = 30.0   # seconds for one ringmta-spool run


def _env_path(name, what):
    path = os.environ.get(name)
    if not path:
        raise RuntimeError(
            '%s is not set: it must name the built %s (meson test sets it; by hand: '
            '%s=BUILD/%s)' % (name, what, name,
                              'engine/ringmta' if name == 'RINGMTA_BIN' else 'tools/ringmta-spool'))
    if not os.access(path, os.X_OK):
        raise RuntimeError('%s=%s is not an executable file: build it first' % (name, path))
    return path


def ringmta_bin():
    return _env_path('RINGMTA_BIN', 'ringmta daemon')


def spool_tool():
    return _env_path('RINGMTA_SPOOL_TOOL', 'ringmta-spool tool')


def _die_with_parent():
    # A test killed by meson's timeout must not leave an engine (or a load
    # generator) running: PR_SET_PDEATHSIG sends it SIGKILL when we die.
    try:
        import ctypes
        libc = ctypes.CDLL('libc.so.6', use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def popen(cmd, **kwargs):
    """subprocess.Popen for programs the tests start: killed if the test dies."""
    return subprocess.Popen(cmd, preexec_fn=_die_with_parent, **kwargs)


def free_port(host='127.0.0.1'):
    """A TCP port that was free a moment ago (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def require_tool(path, package):
    """Fails (not skips) when a peer program is missing: the environment is
    incomplete and someone has to install it."""
    found = shutil.which(path) or (os.access(path, os.X_OK) and path)
    if not found:
        raise AssertionError('%s is not installed: install the Debian package %r '
                             '(tools/setup.sh installs every test peer)' % (path, package))
    return found


class Engine:
    """One ringmta process on a loopback port."""

    def __init__(self, spool, args=(), shards=2, host='127.0.0.1', workdir=None, raw=False,
                 port=None, deliver=False):
        # raw: the command line is exactly args (with --config, say); then
        # port must be the port the config listens on.
        self.raw = raw
        self.fixed_port = port
        # The acceptance tests check what stays in the spool, so by default
        # the engine holds mail (--hold true); delivery tests pass deliver=True.
        self.deliver = deliver
        self.spool = spool
        self.args = list(args)
        self.shards = shards
        self.host = host
        self.port = None
        self.proc = None
        self.workdir = workdir or os.path.dirname(spool)
        self._log_path = None
        self._log_file = None
        self.returncode = None

    def command(self):
        hold = [] if self.deliver or '--hold' in self.args else ['--hold', 'true']
        if self.raw:
            return [ringmta_bin()] + self.args + hold
        cmd = [ringmta_bin(), '--listen', '%s:%d' % (self.host, self.port),
               '--spool', self.spool, '--hostname', 'mta.ringmta.test']
        if self.shards is not None:
            cmd += ['--shards', str(self.shards)]
        return cmd + self.args + hold

    def start(self, deadline=START_DEADLINE):
        """Starts the engine and waits until its port accepts connections."""
        for attempt in range(3):
            self.port = self.fixed_port or free_port(self.host)
            fd, self._log_path = tempfile.mkstemp(prefix='ringmta-', suffix='.log',
                                                  dir=self.workdir)
            os.close(fd)
            self._log_file = open(self._log_path, 'wb')
            self.proc = popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=self._log_file, stderr=subprocess.STDOUT)
            self.returncode = None
            err = self._wait_ready(deadline)
            if err is None:
                return self
            if 'Address already in use' in self.log() and attempt < 2 and not self.fixed_port:
                continue  # someone took the port between free_port and bind
            raise AssertionError(err)
        raise AssertionError('could not start ringmta')

    def _wait_ready(self, deadline):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            rc = self.proc.poll()
            if rc is not None:
                self.returncode = rc
                self._log_file.close()
                return ('ringmta exited with status %d before accepting connections:\n'
                        'command: %s\n--- its log ---\n%s' % (rc, ' '.join(self.command()),
                                                              self.log()))
            # Ready once it says so: every listener is open by then (the
            # first one accepts connections into its backlog before the
            # others exist) and so are the shards.
            quiet = any(a in ('warn', 'error') for a in self.args)  # --log-level: no "started" line
            if not quiet and ' started: ' not in self.log():
                time.sleep(0.02)
                continue
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0):
                    pass
                return None
            except OSError:
                time.sleep(0.02)
        self.kill()
        return ('ringmta did not accept connections on %s:%d within %.0f s\n--- its log ---\n%s'
                % (self.host, self.port, deadline, self.log()))

    @property
    def address(self):
        return '%s:%d' % (self.host, self.port)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        """Everything the engine wrote to stderr/stdout so far."""
        if not self._log_path or not os.path.exists(self._log_path):
            return ''
        with open(self._log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def wait_log(self, pattern, deadline=5.0):
        """Waits until a log line matches the regex; returns the match."""
        rx = re.compile(pattern, re.M)
        end = time.monotonic() + deadline
        while True:
            m = rx.search(self.log())
            if m or time.monotonic() >= end:
                return m
            time.sleep(0.05)

    def signal_stop(self, sig=signal.SIGTERM):
        if self.running():
            self.proc.send_signal(sig)

    def wait(self, deadline=STOP_DEADLINE):
        """Waits for the process to end; returns its exit code or None."""
        try:
            self.returncode = self.proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            return None
        finally:
            if self.proc.poll() is not None and self._log_file and not self._log_file.closed:
                self._log_file.close()
        return self.returncode

    def stop(self, deadline=STOP_DEADLINE, expect_rc=0):
        """SIGTERM; asserts that it exits with expect_rc within the deadline."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        rc = self.wait(deadline)
        if rc is None:
            self.kill()
            raise AssertionError('ringmta did not exit within %.0f s of SIGTERM\n--- its log ---\n%s'
                                 % (deadline, self.log()))
        if expect_rc is not None and rc != expect_rc:
            raise AssertionError('ringmta exited with %d after SIGTERM, expected %d\n--- its log ---\n%s'
                                 % (rc, expect_rc, self.log()))
        self.stop_seconds = time.monotonic() - t0
        return rc

    def kill(self):
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                pass
        if self._log_file and not self._log_file.closed:
            self._log_file.close()


def run_spool_tool(spool, *args, deadline=TOOL_DEADLINE, check=True):
    """Runs ringmta-spool SPOOL [ARGS...]; returns (returncode, stdout bytes, stderr text)."""
    cmd = [spool_tool(), spool] + list(args)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=deadline)
    if check and p.returncode != 0:
        raise AssertionError('%s exited with %d\nstdout: %s\nstderr: %s'
                             % (' '.join(cmd), p.returncode, p.stdout[-2000:].decode('utf-8', 'replace'),
                                p.stderr.decode('utf-8', 'replace')))
    return p.returncode, p.stdout, p.stderr.decode('utf-8', 'replace')


def parse_ids(listing):
    """Queue ids from a ringmta-spool listing: lines that start with 16 hex digits."""
    if isinstance(listing, bytes):
        listing = listing.decode('utf-8', 'replace')
    ids = []
    for line in listing.splitlines():
        m = QUEUE_ID_RE.match(line)
        if m:
            ids.append(m.group(1))
    return ids


def spool_ids(spool):
    """The queue ids ringmta-spool lists (messages not yet final)."""
    _, out, _ = run_spool_tool(spool)
    return parse_ids(out)


def spool_message(spool, queue_id):
    """ringmta-spool SPOOL ID: the envelope and content, as bytes."""
    _, out, _ = run_spool_tool(spool, queue_id)
    return out


def split_listing(listing):
    """`ringmta-spool DIR ID` output -> (envelope bytes, content bytes): the
    tool prints the envelope as "key: value" lines, a blank line, then the
    content (trace headers + body) as stored."""
    end = listing.find(b'\n\n')
    if end < 0:
        return listing, b''
    return listing[:end + 1], listing[end + 2:]


def queue_id_of(reply):
    """The queue id in a '250 2.0.0 Ok: queued as ID' reply text, or None."""
    if isinstance(reply, bytes):
        reply = reply.decode('utf-8', 'replace')
    m = QUEUED_AS_RE.search(reply.strip())
    return m.group(1) if m else None


def send_messages(eng, count, sender='sender@example.test', rcpt='rcpt@example.test',
                  subject='test message', timeout=10.0):
    """Sends count messages over one smtplib connection; returns their queue ids."""
    import smtplib
    ids = []
    with smtplib.SMTP(eng.host, eng.port, local_hostname='client.example.test',
                      timeout=timeout) as s:
        s.ehlo()
        for i in range(count):
            code, resp = s.mail(sender)
            if code != 250:
                raise AssertionError('MAIL got %d %r' % (code, resp))
            code, resp = s.rcpt(rcpt)
            if code != 250:
                raise AssertionError('RCPT got %d %r' % (code, resp))
            code, resp = s.data(b'Subject: %s %d\r\n\r\nbody of message %d\r\n'
                                % (subject.encode(), i, i))
            qid = queue_id_of(resp) if code == 250 else None
            if qid is None:
                raise AssertionError('end of DATA got %d %r' % (code, resp))
            ids.append(qid)
        s.quit()
    return ids


# ---- the spool's files (format: spool/record.h, layout: spool/layout.h) ----

RECORD_HEADER = 12  # u32 payload length, u8 type, u8 version, u16 reserved, u32 crc32c


def segment_files(spool):
    """Every SPOOL/shard-N/seg-*.log as (shard, segment number, path), oldest first per shard."""
    out = []
    for name in sorted(os.listdir(spool)):
        m = re.match(r'^shard-(\d+)$', name)
        if not m:
            continue
        d = os.path.join(spool, name)
        for seg in sorted(os.listdir(d)):
            sm = re.match(r'^seg-([0-9A-Fa-f]{16})\.log$', seg)
            if sm:
                out.append((int(m.group(1)), int(sm.group(1), 16), os.path.join(d, seg)))
    return out


def segment_records(path):
    """(offset, total size) of each record before the end of data: a zero
    header, the file's end, or a record that runs past it. Checksums are not
    verified here."""
    import struct
    with open(path, 'rb') as f:
        data = f.read()
    out = []
    off = 0
    while off + RECORD_HEADER <= len(data):
        length, rtype = struct.unpack_from('<IB', data, off)
        if length == 0 and rtype == 0:
            break
        if off + RECORD_HEADER + length > len(data):
            break
        out.append((off, RECORD_HEADER + length))
        off += RECORD_HEADER + length
    return out


def segment_data_end(path):
    recs = segment_records(path)
    return recs[-1][0] + recs[-1][1] if recs else 0


class SmtpConn:
    """A raw SMTP client over one socket, for what smtplib will not send
    (pipelined batches, bare LFs, BDAT, over-long lines)."""

    def __init__(self, host, port, source=None, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=source)
        self.buf = b''
        self.timeout = timeout

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode('utf-8')
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout('no complete reply before the deadline; have %r' % self.buf[-300:])
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError('connection closed; unread: %r' % self.buf)
        self.buf += chunk

    def reply(self, deadline=None):
        """Reads one (possibly multi-line) reply: (code, [text lines])."""
        end = time.monotonic() + (deadline or self.timeout)
        lines = []
        while True:
            while b'\r\n' not in self.buf:
                self._fill(end)
            line, self.buf = self.buf.split(b'\r\n', 1)
            text = line.decode('utf-8', 'replace')
            if len(text) < 3 or not text[:3].isdigit():
                raise AssertionError('malformed reply line %r' % text)
            lines.append(text[4:])
            if len(text) == 3 or text[3] == ' ':
                return int(text[:3]), lines

    def cmd(self, line):
        """Sends one command line (CRLF added) and returns its reply."""
        self.send(line + '\r\n' if isinstance(line, str) else line + b'\r\n')
        return self.reply()

    def read_until_close(self, deadline=10.0):
        """Reads everything until the server closes; returns the bytes."""
        end = time.monotonic() + deadline
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise socket.timeout('server did not close within %.0f s; have %r'
                                     % (deadline, self.buf[-500:]))
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b''
            if not chunk:
                data, self.buf = self.buf, b''
                return data
            self.buf += chunk


def parse_replies(data):
    """Splits raw server output into replies: [(code, [text lines])]."""
    out = []
    cur = []
    for raw in data.split(b'\r\n'):
        if not raw:
            continue
        text = raw.decode('utf-8', 'replace')
        cur.append(text[4:])
        if len(text) == 3 or text[3] == ' ':
            out.append((int(text[:3]), cur))
            cur = []
    if cur:
        out.append((None, cur))
    return out


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
                     deliver=False):
        eng = Engine(spool or os.path.join(self.tmp, 'spool'), args=args, shards=shards, deliver=deliver,
                     host=host, workdir=self.tmp, raw=raw, port=port)
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
