"""ringmta's life as a process: flags, config files, the spool lock, stopping
on signals, restarting on the same spool, shard count changes, and
recovering from a torn spool tail.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_lifecycle.py -v
"""

import os
import re
import signal
import subprocess
import time

import harness
from harness import SmtpConn

QUICK = 10  # seconds: a flag error or --help must end well before this


class LifecycleTest(harness.EngineTestCase):

    def run_bin(self, *args, deadline=QUICK):
        """Runs ringmta to completion; returns (rc, stdout, stderr)."""
        cmd = [harness.ringmta_bin()] + list(args)
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(timeout=deadline)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            self.fail('%s still ran after %d s (it should have exited)\nstderr: %s'
                      % (' '.join(cmd), deadline, err.decode('utf-8', 'replace')[-3000:]))
        return p.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')

    def safe_args(self):
        """A spool and a port of our own, so that a flag wrongly accepted
        never starts an engine on the defaults."""
        return ['--spool', self.new_spool('spool-safe'),
                '--listen', '127.0.0.1:%d' % harness.free_port()]

    def write_config(self, text, name='ringmta.toml'):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    # ---- flags ----

    def test_help(self):
        rc, out, err = self.run_bin('--help')
        self.assertEqual(rc, 0, err)
        for flag in ('--listen', '--spool', '--shards', '--config', '--hostname', '--log-level',
                     '--relay-networks', '--local-domains', '--max-message-size',
                     '--max-recipients', '--max-errors', '--timeout-command', '--timeout-data',
                     '--shutdown-grace', '--help', '--version'):
            self.assertRegex(out, r'(?m)^\s*%s\b' % re.escape(flag), 'help lacks %s' % flag)

    def test_version(self):
        rc, out, err = self.run_bin('--version')
        self.assertEqual(rc, 0, err)
        self.assertRegex(out.strip(), r'^ringmta \d+\.\d+\.\d+')

    def test_bad_flags_exit_2_naming_them(self):
        cases = [
            (['--no-such-flag', 'x'], '--no-such-flag'),
            (['--frobnicate'], '--frobnicate'),
            (['--shards', 'many'], '--shards'),
            (['--max-message-size', '-5'], '--max-message-size'),
            (['--log-level', 'loud'], '--log-level'),
            (['--relay-networks', '10.0.0.0/99'], '--relay-networks'),
            (['--timeout-command', 'soon'], '--timeout-command'),
        ]
        for args, name in cases:
            with self.subTest(args=args):
                rc, out, err = self.run_bin(*(self.safe_args() + args))
                self.assertEqual(rc, 2, 'ringmta %s: exit %d, expected 2\n%s' % (args, rc, err))
                self.assertIn(name, err, 'the message does not name %s: %r' % (name, err))

    def test_flag_without_value(self):
        rc, _, err = self.run_bin(*(self.safe_args() + ['--shards']))
        self.assertEqual(rc, 2, err)
        self.assertIn('--shards', err)

    def test_config_errors_exit_2_naming_the_key(self):
        cases = [
            ('[server]\nshards = "two"\n', 'shards'),
            ('[limits]\nmax_message_size = "big"\n', 'max_message_size'),
            ('[server]\nbogus_key = 1\n', 'bogus_key'),
            ('[nosuchtable]\nshards = 1\n', 'nosuchtable'),
            ('[relay]\nnetworks = "127.0.0.1/32"\n', 'networks'),
        ]
        for i, (text, key) in enumerate(cases):
            with self.subTest(config=text):
                path = self.write_config(text, 'bad%d.toml' % i)
                rc, _, err = self.run_bin(*(self.safe_args() + ['--config', path]))
                self.assertEqual(rc, 2, 'config %r: exit %d, expected 2\n%s' % (text, rc, err))
                self.assertIn(key, err, 'the message does not name %s: %r' % (key, err))

    def test_config_syntax_error_and_missing_file(self):
        path = self.write_config('[server\nshards = 1\n')
        rc, _, err = self.run_bin(*(self.safe_args() + ['--config', path]))
        self.assertEqual(rc, 2, err)
        self.assertIn(path, err)
        missing = os.path.join(self.tmp, 'missing.toml')
        rc, _, err = self.run_bin(*(self.safe_args() + ['--config', missing]))
        self.assertEqual(rc, 2, err)
        self.assertIn('missing.toml', err)

    def test_check_config(self):
        spool = os.path.join(self.tmp, 'spool-never-made')
        good = self.write_config('[server]\nhostname = "cfg.ringmta.test"\n[spool]\ndir = "%s"\n' % spool)
        rc, out, err = self.run_bin('--check-config', '--config', good)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), 'ringmta: %s: configuration OK' % good)
        self.assertFalse(os.path.exists(spool), '--check-config must not create the spool')
        bad = self.write_config('[server]\nhostnam = "cfg.ringmta.test"\n', 'bad.toml')
        rc, out, err = self.run_bin('--check-config', '--config', bad)
        self.assertEqual(rc, 2, out + err)
        self.assertIn('server.hostnam: unknown key', err)
        self.assertNotIn('configuration OK', out)

    def test_config_file_is_used(self):
        port = harness.free_port()
        spool = self.new_spool('spool-from-config')
        path = self.write_config(
            '[server]\nlisten = ["127.0.0.1:%d"]\nshards = 1\nhostname = "cfg.ringmta.test"\n'
            '[spool]\ndir = "%s"\n[limits]\nmax_message_size = 20000\n' % (port, spool))
        eng = self.start_engine('--config', path, raw=True, port=port, spool=spool)
        with SmtpConn(eng.host, eng.port) as c:
            code, lines = c.reply()
            self.assertEqual(code, 220)
            self.assertIn('cfg.ringmta.test', lines[0])
            code, lines = c.cmd('EHLO client.example.test')
            self.assertEqual(code, 250)
            self.assertIn('SIZE 20000', lines)
            self.assertEqual(c.cmd('QUIT')[0], 221)
        ids = harness.send_messages(eng, 1)
        self.assertEqual(harness.spool_ids(spool), ids)
        eng.stop()

    def test_flag_overrides_config(self):
        path = self.write_config('[server]\nhostname = "from-file.test"\n'
                                 '[limits]\nmax_message_size = 20000\n')
        eng = self.start_engine('--config', path, '--max-message-size', '30000')
        with SmtpConn(eng.host, eng.port) as c:
            c.reply()
            code, lines = c.cmd('EHLO client.example.test')
            self.assertIn('SIZE 30000', lines)
            c.cmd('QUIT')
        eng.stop()

    # ---- the spool lock ----

    def test_second_engine_on_same_spool(self):
        eng = self.start_engine()
        rc, out, err = self.run_bin('--spool', eng.spool, '--shards', '1',
                                    '--listen', '127.0.0.1:%d' % harness.free_port())
        self.assertEqual(rc, 1, 'second engine: exit %d, expected 1\n%s%s' % (rc, out, err))
        self.assertIn('in use', out + err)
        # The first one is unharmed.
        ids = harness.send_messages(eng, 2)
        self.assertEqual(sorted(harness.spool_ids(eng.spool)), sorted(ids))
        eng.stop()

    # ---- stopping ----

    def test_sigterm_with_idle_session(self):
        eng = self.start_engine()
        with SmtpConn(eng.host, eng.port) as c:
            self.assertEqual(c.reply()[0], 220)
            self.assertEqual(c.cmd('EHLO client.example.test')[0], 250)
            self.assertEqual(c.cmd('MAIL FROM:<a@example.test>')[0], 250)
            t0 = time.monotonic()
            eng.signal_stop(signal.SIGTERM)
            code, lines = c.reply(deadline=5)
            self.assertEqual(code, 421, lines)
            self.assertIn('4.3.2', lines[0])
            c.read_until_close(deadline=5)
        rc = eng.wait(5)
        self.assertEqual(rc, 0, 'exit %r within 5 s of SIGTERM\n%s' % (rc, eng.log()))
        self.assertLess(time.monotonic() - t0, 5)

    def test_sigint_stops(self):
        eng = self.start_engine()
        harness.send_messages(eng, 1)
        eng.signal_stop(signal.SIGINT)
        self.assertEqual(eng.wait(5), 0, eng.log())

    def test_sigterm_lets_message_in_transfer_finish(self):
        eng = self.start_engine('--shutdown-grace', '5')
        with SmtpConn(eng.host, eng.port) as c:
            self.assertEqual(c.reply()[0], 220)
            self.assertEqual(c.cmd('EHLO client.example.test')[0], 250)
            self.assertEqual(c.cmd('MAIL FROM:<a@example.test>')[0], 250)
            self.assertEqual(c.cmd('RCPT TO:<b@example.test>')[0], 250)
            self.assertEqual(c.cmd('DATA')[0], 354)
            c.send(b'Subject: in flight\r\n\r\nfirst half\r\n')
            time.sleep(0.2)
            t0 = time.monotonic()
            eng.signal_stop(signal.SIGTERM)
            time.sleep(0.5)
            c.send(b'second half\r\n.\r\n')
            code, lines = c.reply(deadline=5)
            self.assertEqual(code, 250, 'a message finished within the grace: %d %r' % (code, lines))
            qid = harness.queue_id_of(lines[-1])
            try:
                c.read_until_close(deadline=8)
            except ConnectionError:
                pass
        rc = eng.wait(8)
        self.assertEqual(rc, 0, eng.log())
        self.assertLess(time.monotonic() - t0, 8)
        self.assertIn(qid, harness.spool_ids(eng.spool))

    # ---- restart, shard count, torn tail ----

    def recovery_count(self, eng):
        m = eng.wait_log(r'recovery\b.*?\b(\d+) messages?\b', deadline=5)
        self.assertIsNotNone(m, 'no recovery line with a message count in the log:\n%s' % eng.log())
        return int(m.group(1))

    def test_restart_keeps_messages(self):
        spool = self.new_spool()
        eng = self.start_engine(spool=spool)
        self.assertEqual(self.recovery_count(eng), 0)
        first = harness.send_messages(eng, 3)
        eng.stop()
        self.assertEqual(sorted(harness.spool_ids(spool)), sorted(first))

        eng2 = self.start_engine(spool=spool)
        self.assertEqual(self.recovery_count(eng2), 3)
        self.assertEqual(sorted(harness.spool_ids(spool)), sorted(first))
        second = harness.send_messages(eng2, 2)
        self.assertFalse(set(first) & set(second), 'queue ids reused after restart')
        self.assertEqual(sorted(harness.spool_ids(spool)), sorted(first + second))
        eng2.stop()

        eng3 = self.start_engine(spool=spool)
        self.assertEqual(self.recovery_count(eng3), 5)
        eng3.stop()

    def test_shard_count_change(self):
        spool = self.new_spool()
        eng = self.start_engine(spool=spool, shards=1)
        ids = harness.send_messages(eng, 2)
        eng.stop()
        eng2 = self.start_engine(spool=spool, shards=2)
        self.assertEqual(self.recovery_count(eng2), 2)
        # Several connections, so that both shards take some.
        for _ in range(4):
            ids += harness.send_messages(eng2, 1)
        self.assertEqual(sorted(harness.spool_ids(spool)), sorted(ids))
        eng2.stop()
        eng3 = self.start_engine(spool=spool, shards=1)
        self.assertEqual(self.recovery_count(eng3), 6)
        self.assertEqual(sorted(harness.spool_ids(spool)), sorted(ids))
        ids += harness.send_messages(eng3, 1)
        eng3.stop()
        self.assertEqual(sorted(harness.spool_ids(spool)), sorted(ids))

    def last_data_segment(self, spool):
        segs = [s for s in harness.segment_files(spool) if harness.segment_data_end(s[2]) > 0]
        self.assertTrue(segs, 'no segment with records under %s: %r'
                        % (spool, harness.segment_files(spool)))
        return max(segs, key=lambda s: (s[0], s[1]))[2]

    def test_torn_tail_garbage(self):
        spool = self.new_spool()
        eng = self.start_engine(spool=spool, shards=1)
        ids = harness.send_messages(eng, 3)
        eng.stop()
        seg = self.last_data_segment(spool)
        end = harness.segment_data_end(seg)
        # Garbage where the next record would start: at the file's end if
        # the segment was trimmed, over the preallocated zeros if not.
        with open(seg, 'r+b') as f:
            f.seek(end)
            f.write(b'\xde\xad\xbe\xef garbage from a torn write ' * 8)

        eng2 = self.start_engine(spool=spool, shards=1)
        m = eng2.wait_log(r'(?i)\bwarn\b.*\b(torn|cut)\b', deadline=5)
        self.assertIsNotNone(m, 'no warning about the cut tail in the log:\n%s' % eng2.log())
        self.assertEqual(sorted(harness.spool_ids(spool)), sorted(ids))
        # The engine cut the tail: the file ends where the data does.
        self.assertEqual(harness.segment_data_end(seg), end)
        with open(seg, 'rb') as f:
            self.assertNotIn(b'garbage from a torn write', f.read())
        more = harness.send_messages(eng2, 1)
        eng2.stop()

        eng3 = self.start_engine(spool=spool, shards=1)
        self.assertEqual(self.recovery_count(eng3), 4)
        self.assertIsNone(re.search(r'(?i)\bwarn\b.*\btorn\b', eng3.log()),
                          'the tail was cut the first time:\n%s' % eng3.log())
        self.assertEqual(sorted(harness.spool_ids(spool)), sorted(ids + more))
        eng3.stop()

    def test_torn_tail_half_written_record(self):
        # The last record written only in part (the file ends inside it):
        # the messages before it are all there, the torn one is dropped.
        spool = self.new_spool()
        eng = self.start_engine(spool=spool, shards=1)
        ids = harness.send_messages(eng, 4)
        eng.stop()
        seg = self.last_data_segment(spool)
        recs = harness.segment_records(seg)
        off, size = recs[-1]
        with open(seg, 'r+b') as f:
            f.truncate(off + size // 2)
        # Which message was that? The one ringmta-spool no longer lists.
        listed = harness.spool_ids(spool)
        self.assertEqual(len(listed), 3, listed)
        self.assertTrue(set(listed) <= set(ids))

        eng2 = self.start_engine(spool=spool, shards=1)
        self.assertEqual(self.recovery_count(eng2), 3)
        self.assertIsNotNone(eng2.wait_log(r'(?i)\bwarn\b.*\b(torn|cut)\b', deadline=5), eng2.log())
        self.assertEqual(sorted(harness.spool_ids(spool)), sorted(listed))
        harness.send_messages(eng2, 1)
        self.assertEqual(len(harness.spool_ids(spool)), 4)
        eng2.stop()

    def test_messages_larger_than_a_segment(self):
        spool = self.new_spool()
        eng = self.start_engine('--segment-size', '1048576', spool=spool)
        s = harness.SmtpConn(eng.host, eng.port, timeout=20)
        self.addCleanup(s.close)
        s.reply()
        s.cmd('EHLO client.example.test')
        ids = []
        for i in range(3):
            self.assertEqual(s.cmd('MAIL FROM:<a@example.test>')[0], 250)
            self.assertEqual(s.cmd('RCPT TO:<b@example.test>')[0], 250)
            self.assertEqual(s.cmd('DATA')[0], 354)
            s.send(b'Subject: big %d\r\n\r\n' % i + (b'z' * 98 + b'\r\n') * 15000 + b'.\r\n')
            code, lines = s.reply(deadline=20)
            self.assertEqual(code, 250, lines)
            ids.append(harness.queue_id_of(lines[-1]))
        s.cmd('QUIT')
        self.assertEqual(sorted(harness.spool_ids(spool)), sorted(ids))
        eng.stop()
        eng2 = self.start_engine('--segment-size', '1048576', spool=spool)
        self.assertEqual(self.recovery_count(eng2), 3)
        self.assertEqual(sorted(harness.spool_ids(spool)), sorted(ids))
        _, content = harness.split_listing(harness.spool_message(spool, ids[2]))
        self.assertGreater(len(content), 1500000)
        eng2.stop()

    # ---- start-up failures ----

    def test_spool_dir_created_if_missing(self):
        spool = os.path.join(self.tmp, 'not', 'yet', 'there')
        eng = self.start_engine(spool=spool)
        ids = harness.send_messages(eng, 1)
        self.assertEqual(harness.spool_ids(spool), ids)
        eng.stop()

    def test_spool_is_a_file(self):
        path = os.path.join(self.tmp, 'a-file')
        with open(path, 'w') as f:
            f.write('not a directory')
        rc, out, err = self.run_bin('--spool', path, '--listen', '127.0.0.1:%d' % harness.free_port())
        self.assertNotEqual(rc, 0, 'started on a spool that is a file:\n%s' % err)
        self.assertIn('a-file', err)

    def test_listen_port_taken(self):
        import socket
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
            taken.bind(('127.0.0.1', 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            rc, out, err = self.run_bin('--spool', self.new_spool(),
                                        '--listen', '127.0.0.1:%d' % port)
        self.assertEqual(rc, 1, err)
        self.assertIn(str(port), err)

    def test_sigterm_closes_many_idle_sessions(self):
        eng = self.start_engine()
        conns = []
        for _ in range(20):
            c = SmtpConn(eng.host, eng.port)
            self.addCleanup(c.close)
            self.assertEqual(c.reply()[0], 220)
            conns.append(c)
        t0 = time.monotonic()
        eng.signal_stop(signal.SIGTERM)
        for c in conns:
            code, lines = c.reply(deadline=5)
            self.assertEqual(code, 421, lines)
        self.assertEqual(eng.wait(5), 0, eng.log())
        self.assertLess(time.monotonic() - t0, 5)
    def test_startup_log_and_log_level(self):
        eng = self.start_engine()
        self.assertIsNotNone(eng.wait_log(r'info: listening on 127\.0\.0\.1:%d \(port %d, 2 shards\)'
                                          % (eng.port, eng.port)), eng.log())
        self.assertIsNotNone(eng.wait_log(r'info: ringmta \d+\.\d+\.\d+ started'), eng.log())
        eng.stop()
        quiet = self.start_engine('--log-level', 'warn', spool=self.new_spool('quiet'))
        harness.send_messages(quiet, 1)
        quiet.stop()
        self.assertNotIn(' info: ', quiet.log())
        self.assertNotIn(' debug: ', quiet.log())
        loud = self.start_engine('--log-level', 'debug', spool=self.new_spool('loud'))
        harness.send_messages(loud, 1)
        loud.stop()
        self.assertIn(' info: ', loud.log())

if __name__ == '__main__':
    harness.main()
