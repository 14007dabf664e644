"""The crash test: kill -9 ringmta under load, then check that every message
it acknowledged with 250 is in the spool (the durability contract: 250 only
after the record is on stable storage), and that it starts again on that
spool.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_crash.py -v
"""

import os
import socket
import subprocess
import threading
import time

import harness
from harness import SmtpConn, queue_id_of

SMTP_SOURCE = '/usr/sbin/smtp-source'
CLIENTS = 4
LOAD_SECONDS = 1.5


class Client(threading.Thread):
    """Sends messages in a loop over one connection, recording every queue
    id acknowledged with 250, until told to stop or the connection fails."""

    def __init__(self, eng, n, stop):
        super().__init__(daemon=True)
        self.host, self.port = eng.host, eng.port
        self.n = n
        self.stop = stop
        self.acked = []
        self.error = None
        self.unexpected = []
        self.pipelined = n % 2 == 1  # half the clients send each message in one write

    def body(self, i):
        return (b'Subject: crash test %d/%d\r\n\r\n' % (self.n, i) +
                b'x' * 500 + b'\r\nmessage %d of client %d\r\n.\r\n' % (i, self.n))

    def send_pipelined(self, c, i):
        c.send(b'MAIL FROM:<client%d@example.test>\r\nRCPT TO:<rcpt%d@example.test>\r\nDATA\r\n'
               % (self.n, i) + self.body(i))
        for what, want in (('MAIL', 250), ('RCPT', 250), ('DATA', 354)):
            code, lines = c.reply()
            if code != want:
                self.unexpected.append((what, code, lines))
                return False
        code, lines = c.reply()
        qid = queue_id_of(lines[-1]) if code == 250 else None
        if qid is None:
            self.unexpected.append(('end of data', code, lines))
            return False
        self.acked.append(qid)
        return True

    def run(self):
        try:
            with SmtpConn(self.host, self.port, timeout=5) as c:
                if c.reply()[0] != 220:
                    return
                c.cmd('EHLO client%d.example.test' % self.n)
                i = 0
                while not self.stop.is_set():
                    i += 1
                    if self.pipelined:
                        if not self.send_pipelined(c, i):
                            return
                        continue
                    code, lines = c.cmd('MAIL FROM:<client%d@example.test>' % self.n)
                    if code != 250:
                        self.unexpected.append(('MAIL', code, lines))
                        return
                    code, lines = c.cmd('RCPT TO:<rcpt%d@example.test>' % i)
                    if code != 250:
                        self.unexpected.append(('RCPT', code, lines))
                        return
                    code, lines = c.cmd('DATA')
                    if code != 354:
                        self.unexpected.append(('DATA', code, lines))
                        return
                    c.send(self.body(i))
                    code, lines = c.reply()
                    qid = queue_id_of(lines[-1]) if code == 250 else None
                    if qid is None:
                        self.unexpected.append(('end of data', code, lines))
                        return
                    self.acked.append(qid)
        except (OSError, ConnectionError, socket.timeout) as e:
            self.error = e  # expected once the engine is killed


class CrashTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        harness.require_tool(SMTP_SOURCE, 'postfix')

    def recovery_count(self, eng):
        m = eng.wait_log(r'recovery\b.*?\b(\d+) messages?\b', deadline=5)
        self.assertIsNotNone(m, 'no recovery line with a message count in the log:\n%s' % eng.log())
        return int(m.group(1))

    def load_and_kill(self, eng, seconds=LOAD_SECONDS):
        """Runs the clients and smtp-source against eng, kills it with
        SIGKILL after LOAD_SECONDS, and returns the acknowledged ids."""
        stop = threading.Event()
        clients = [Client(eng, n, stop) for n in range(CLIENTS)]
        source = harness.popen(
            [SMTP_SOURCE, '-s', '4', '-m', '1000000', '-l', '700', '-d',
             '-f', 'load@example.test', '-t', 'sink@example.test', eng.address],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for c in clients:
                c.start()
            time.sleep(seconds)
            eng.kill()  # SIGKILL while they run
            killed_at = time.monotonic()
            stop.set()
            for c in clients:
                c.join(timeout=max(0.1, killed_at + 15 - time.monotonic()))
            hung = [c.n for c in clients if c.is_alive()]
            self.assertFalse(hung, 'clients %r did not stop within 15 s of the kill' % hung)
        finally:
            stop.set()
            if source.poll() is None:
                source.terminate()
            try:
                source.wait(timeout=5)
            except subprocess.TimeoutExpired:
                source.kill()
                source.wait(timeout=5)
        for c in clients:
            self.assertEqual(c.unexpected, [], 'client %d got an unexpected reply' % c.n)
        acked = [q for c in clients for q in c.acked]
        self.assertEqual(len(acked), len(set(acked)), 'a queue id was acknowledged twice')
        self.assertGreater(len(acked), 0, 'no message was acknowledged in %.1f s:\n%s'
                           % (LOAD_SECONDS, eng.log()))
        return acked

    def check_none_lost(self, spool, acked):
        _, out, err = harness.run_spool_tool(spool)
        listed = set(harness.parse_ids(out))
        lost = sorted(set(acked) - listed)
        self.assertEqual(lost, [], '%d of %d acknowledged messages are not in the spool '
                         '(e.g. %s); ringmta-spool said on stderr: %s'
                         % (len(lost), len(acked), lost[:5], err[-2000:]))
        return listed

    def test_kill_9_under_load_loses_nothing(self):
        spool = self.new_spool()
        all_acked = []
        listed = set()
        # Four crashes at different moments; the third run has one shard,
        # so recovery also reads a spool written with a different count.
        for round_no, (shards, seconds) in enumerate([(2, LOAD_SECONDS), (2, 0.7), (1, 1.1),
                                                      (2, 0.4)]):
            eng = self.start_engine(spool=spool, shards=shards)
            recovered = self.recovery_count(eng)
            self.assertEqual(recovered, len(listed), 'recovery found %d, ringmta-spool listed %d'
                             % (recovered, len(listed)))
            acked = self.load_and_kill(eng, seconds)
            all_acked += acked
            listed = self.check_none_lost(spool, all_acked)
            print('\nround %d (%d shards, killed after %.1f s): %d acknowledged to the test '
                  'clients, %d listed in all' % (round_no, shards, seconds, len(acked), len(listed)))

        # The engine comes back on the crashed spool, finds them all, and works.
        eng = self.start_engine(spool=spool, shards=2)
        self.assertEqual(self.recovery_count(eng), len(listed))
        new = harness.send_messages(eng, 3)
        listed_after = self.check_none_lost(spool, all_acked + new)
        self.assertEqual(len(listed_after), len(listed) + 3)
        eng.stop()
        self.check_none_lost(spool, all_acked + new)

if __name__ == '__main__':
    harness.main()
