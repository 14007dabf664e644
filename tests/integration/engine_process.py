"""The engine as a process for the integration tests: the built programs
(RINGMTA_BIN, RINGMTA_SPOOL_TOOL, set by meson), peers the tests start
(killed if the test dies), free ports, and Engine, one ringmta on a
loopback port with its log. harness.py re-exports all of it.

    eng = Engine(spool, args=['--max-message-size', '100000']).start()
    m = eng.wait_log(r'listening on (\S+)')   # waits up to 5 s for a log line
    eng.stop()   # SIGTERM, asserts exit code 0
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

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
                 port=None, deliver=False, admin=False):
        # raw: the command line is exactly args (with --config, say); then
        # port must be the port the config listens on.
        self.raw = raw
        self.fixed_port = port
        # The acceptance tests check what stays in the spool, so by default
        # the engine holds mail (--hold true); delivery tests pass deliver=True.
        self.deliver = deliver
        # admin: the admin API on a free port of host (admin_url); without,
        # none (so that no test depends on the default port being free).
        self.admin = admin
        self.admin_port = None
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
        if self.admin:
            cmd += ['--admin-listen', '%s:%d' % (self.host, self.admin_port)]
        elif '--admin-listen' not in self.args:
            cmd += ['--admin-listen', '']
        return cmd + self.args + hold

    def start(self, deadline=START_DEADLINE):
        """Starts the engine and waits until its port accepts connections."""
        for attempt in range(3):
            self.port = self.fixed_port or free_port(self.host)
            if self.admin:
                self.admin_port = free_port(self.host)
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
    def admin_url(self):
        return 'http://%s:%d' % (self.host, self.admin_port)

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
