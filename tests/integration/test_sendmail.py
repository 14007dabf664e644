"""ringmta-sendmail (tools/sendmail/) with real callers: Python's subprocess
with sendmail(1) flags, bsd-mailx, PHP's mail(), an SMTP session on -bs,
and the server down (the maildrop, then the engine's pickup).

Each test starts a ringmta that relays everything to an aiosmtpd sink and
checks what the sink received.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
    RINGMTA_SENDMAIL_BIN=BUILD/tools/sendmail/ringmta-sendmail \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_sendmail.py -v
"""

import os
import re
import socket
import subprocess
import time

import harness
import peers

DEADLINE = 60
EX_DATAERR = 65
EX_USAGE = 64


def sendmail_bin():
    path = os.environ.get('RINGMTA_SENDMAIL_BIN')
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError('RINGMTA_SENDMAIL_BIN must name the built ringmta-sendmail '
                           '(meson test sets it; by hand: BUILD/tools/sendmail/ringmta-sendmail)')
    return path


def parse_maildrop_file(data):
    """spool/maildrop.h's format: "key value" lines, an empty line, the content."""
    head, sep, content = data.partition(b'\n\n')
    assert sep, 'no empty line ends the maildrop header'
    lines = head.decode().split('\n')
    assert lines[0] == 'ringmta-maildrop 1', lines[0]
    env = {'sender': None, 'rcpt': [], 'arrival': None, 'origin': None}
    for line in lines[1:]:
        key, _, value = line.partition(' ')
        if key == 'rcpt':
            env['rcpt'].append(value)
        else:
            assert key in env and env[key] is None, 'unexpected line %r' % line
            env[key] = value
    return env, content


class SendmailTest(harness.EngineTestCase):

    def setUp(self):
        super().setUp()
        self.bin = sendmail_bin()
        self.sink = self.peer(peers.AioSink())
        self.host = socket.gethostname()

    def engine(self, *args, spool=None):
        return self.start_engine('--relay-host', '127.0.0.1:%d' % self.sink.port, *args, spool=spool,
                                 deliver=True)

    def env(self, eng=None, **extra):
        env = dict(os.environ)
        env.pop('RINGMTA_SERVER', None)
        # No machine-wide /etc/ringmta/ringmta.toml: an empty config of the test's own.
        cfg = os.path.join(self.tmp, 'empty.toml')
        if not os.path.exists(cfg):
            open(cfg, 'w').close()
        env['RINGMTA_CONFIG'] = cfg
        if eng is not None:
            env['RINGMTA_SERVER'] = eng.address
        env.update(extra)
        return env

    def sendmail(self, eng, args, message, expect_rc=0, env=None):
        p = subprocess.run([self.bin] + list(args), input=message, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env or self.env(eng), timeout=DEADLINE)
        self.assertEqual(p.returncode, expect_rc, 'ringmta-sendmail %s exited with %d\nstderr: %s'
                         % (' '.join(args), p.returncode, p.stderr.decode('utf-8', 'replace')))
        return p

    def one_message(self):
        msgs = self.sink.wait_messages(1)
        time.sleep(0.2)  # a duplicate would show up here
        self.assertEqual(len(self.sink.messages), 1)
        return msgs[0]

    def test_recipients_sender_and_added_headers(self):
        eng = self.engine()
        self.sendmail(eng, ['-f', 'app@example.test', 'a@example.test', 'b@example.test'],
                      b'Subject: plain\n\nhello\nsecond line\n')
        m = self.one_message()
        self.assertEqual(m.sender, 'app@example.test')
        self.assertEqual(sorted(m.rcpts), ['a@example.test', 'b@example.test'])
        c = m.content
        self.assertIn(b'Subject: plain\r\n', c)
        # -f's address, as Postfix does, with the caller's GECOS name (root's is "root").
        self.assertRegex(c, rb'\r\nFrom: (.* <app@example\.test>|app@example\.test)\r\n')
        self.assertRegex(c, rb'\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n')
        self.assertRegex(c, rb'\r\nMessage-ID: <[^>@]+@' + re.escape(self.host.encode()) + rb'>\r\n')
        self.assertIn(b'\r\n\r\nhello\r\nsecond line\r\n', c)  # bare LF made CRLF
        self.assertNotIn(b'\n\n', c.replace(b'\r\n', b''))
        eng.stop()

    def test_joined_f_and_full_name(self):
        eng = self.engine()
        self.sendmail(eng, ['-fjoined@example.test', '-F', 'Jane Q. Doe', 'a@example.test'],
                      b'Subject: named\n\nbody\n')
        m = self.one_message()
        self.assertEqual(m.sender, 'joined@example.test')
        self.assertIn(b'\r\nFrom: "Jane Q. Doe" <joined@example.test>\r\n', m.content)
        eng.stop()

    def test_default_sender_is_the_calling_user(self):
        import pwd
        eng = self.engine()
        self.sendmail(eng, ['a@example.test'], b'Subject: who\n\nbody\n')
        m = self.one_message()
        user = pwd.getpwuid(os.getuid()).pw_name
        self.assertEqual(m.sender, '%s@%s' % (user, self.host))
        self.assertRegex(m.content, rb'\r\nFrom: (.* <)?' + re.escape(('%s@%s' % (user, self.host)).encode()))
        eng.stop()

    def test_t_reads_to_cc_bcc_and_removes_bcc(self):
        eng = self.engine()
        msg = (b'From: App <app@example.test>\nTo: "Doe, J" <to@example.test>, to2@example.test\n'
               b'Cc: cc@example.test\nBcc: hidden@example.test,\n  hidden2@example.test\n'
               b'Subject: t\n\nbody\n')
        self.sendmail(eng, ['-t', '-i', 'extra@example.test'], msg)
        m = self.one_message()
        self.assertEqual(sorted(m.rcpts), sorted(['to@example.test', 'to2@example.test', 'cc@example.test',
                                                   'hidden@example.test', 'hidden2@example.test',
                                                   'extra@example.test']))
        self.assertNotIn(b'Bcc', m.content)
        self.assertNotIn(b'hidden', m.content)
        self.assertIn(b'From: App <app@example.test>\r\n', m.content)  # kept, not added
        self.assertEqual(m.content.count(b'From:'), 1)
        eng.stop()

    def test_t_without_any_recipient_is_a_usage_error(self):
        eng = self.engine()
        p = self.sendmail(eng, ['-t'], b'Subject: nobody\n\nbody\n', expect_rc=EX_USAGE)
        self.assertIn(b'no recipients', p.stderr)
        eng.stop()

    def test_bad_addresses_are_refused_before_anything_is_sent(self):
        eng = self.engine()
        p = self.sendmail(eng, ['a\x7fb@example.test'], b'Subject: x\n\nb\n', expect_rc=EX_USAGE)
        self.assertIn(b'bad address', p.stderr)
        p = self.sendmail(eng, ['-f', 'x\x01@example.test', 'a@example.test'], b'Subject: x\n\nb\n',
                          expect_rc=EX_USAGE)
        p = self.sendmail(eng, ['-t'], b'To: "a b"@example.test\nSubject: x\n\nb\n', expect_rc=EX_DATAERR)
        self.assertIn(b'in To:', p.stderr)
        time.sleep(0.3)
        self.assertEqual(self.sink.messages, [])
        eng.stop()

    def test_lone_dot_ends_input_without_i(self):
        eng = self.engine()
        self.sendmail(eng, ['a@example.test'], b'Subject: dot\n\nbefore\n.\nafter\n')
        m = self.one_message()
        self.assertIn(b'before\r\n', m.content)
        self.assertNotIn(b'after', m.content)
        eng.stop()

    def test_i_keeps_lone_dots_and_leading_dots(self):
        eng = self.engine()
        for flag in ('-i', '-oi'):
            self.sendmail(eng, [flag, 'a@example.test'],
                          b'Subject: dot ' + flag.encode() + b'\n\nbefore\n.\n..two\n.one\nafter\n')
        msgs = self.sink.wait_messages(2)
        for m in msgs:
            # Dot-stuffed on the wire by ringmta-sendmail, un-stuffed by ringmta, stuffed again and
            # un-stuffed by the sink: the lines arrive as written.
            self.assertIn(b'\r\n\r\nbefore\r\n.\r\n..two\r\n.one\r\nafter\r\n', m.content)
        eng.stop()

    def test_8bitmime_and_smtputf8_only_when_needed(self):
        eng = self.engine()
        cases = [(b'Subject: ascii\n\nplain\n', []),
                 (b'Subject: body\n\ncaf\xc3\xa9\n', ['BODY=8BITMIME']),
                 (b'Subject: caf\xc3\xa9\n\ncaf\xc3\xa9\n', ['BODY=8BITMIME', 'SMTPUTF8'])]
        for i, (msg, params) in enumerate(cases):
            p = self.sendmail(eng, ['-v', 'u%d@example.test' % i], msg)
            mail = [l for l in p.stderr.decode('utf-8', 'replace').splitlines() if l.startswith('-> MAIL FROM:')]
            self.assertEqual(len(mail), 1, p.stderr)
            for param in ('BODY=8BITMIME', 'SMTPUTF8'):
                self.assertEqual(param in mail[0], param in params, mail[0])
            self.assertIn(' SIZE=', mail[0])  # ringmta offers SIZE
        p = self.sendmail(eng, ['j\u00f6rg@example.test'], b'Subject: to utf-8\n\nb\n')
        msgs = self.sink.wait_messages(4)
        self.assertIn('j\u00f6rg@example.test', [r for m in msgs for r in m.rcpts])
        self.assertTrue(any('caf\u00e9'.encode() in m.content for m in msgs))
        eng.stop()

    def test_unknown_flags_warn_and_accepted_ones_do_not(self):
        eng = self.engine()
        p = self.sendmail(eng, ['-oem', '-odb', '-odi', '-N', 'never', '-x', 'a@example.test'],
                          b'Subject: flags\n\nbody\n')
        self.assertIn(b'warning: -x option ignored', p.stderr)
        self.assertEqual(p.stderr.count(b'warning'), 1, p.stderr)
        self.one_message()
        eng.stop()

    def test_server_from_the_config_file(self):
        eng = self.engine()
        cfg = os.path.join(self.tmp, 'ringmta.toml')
        with open(cfg, 'w') as f:
            f.write('[submit]\nserver = "%s"\n' % eng.address)
        self.sendmail(eng, ['a@example.test'], b'Subject: cfg\n\nbody\n', env=self.env(RINGMTA_CONFIG=cfg))
        self.one_message()
        eng.stop()

    def test_too_large_for_the_server_is_a_data_error(self):
        eng = self.engine('--max-message-size', '2000')
        p = self.sendmail(eng, ['a@example.test'], b'Subject: big\n\n' + b'x' * 70 + b'\n' * 100 * 30,
                          expect_rc=EX_DATAERR)
        self.assertIn(b'refused', p.stderr)
        time.sleep(0.5)
        self.assertEqual(self.sink.messages, [])
        eng.stop()

    def test_too_large_for_the_configured_limit_is_refused_even_when_the_server_is_down(self):
        cfg = os.path.join(self.tmp, 'ringmta.toml')
        drop = os.path.join(self.tmp, 'drop')
        os.makedirs(drop)
        with open(cfg, 'w') as f:
            f.write('[limits]\nmax_message_size = 4096\n[submit]\nserver = "127.0.0.1:%d"\nmaildrop = "%s"\n'
                    % (harness.free_port(), drop))
        p = self.sendmail(None, ['a@example.test'], b'Subject: big\n\n' + (b'y' * 60 + b'\n') * 100,
                          expect_rc=EX_DATAERR, env=self.env(RINGMTA_CONFIG=cfg))
        self.assertIn(b'larger than 4096 octets', p.stderr)
        self.assertEqual(os.listdir(drop), [])

    def test_bsd_mailx(self):
        mail = harness.require_tool('/usr/bin/bsd-mailx', 'bsd-mailx')
        eng = self.engine()
        rc = os.path.join(self.tmp, 'mailrc')
        with open(rc, 'w') as f:
            f.write('set sendmail=%s\n' % self.bin)
        p = subprocess.run([mail, '-s', 'from mailx', 'mx@example.test'], input=b'sent by bsd-mailx\n',
                           env=self.env(eng, MAILRC=rc, HOME=self.tmp), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=DEADLINE)
        self.assertEqual(p.returncode, 0, p.stderr)
        m = self.one_message()
        self.assertEqual(m.rcpts, ['mx@example.test'])
        self.assertIn(b'Subject: from mailx\r\n', m.content)
        self.assertIn(b'sent by bsd-mailx\r\n', m.content)
        self.assertIn(b'\r\nFrom: ', m.content)  # mailx writes none: ringmta-sendmail added it
        eng.stop()

    def test_php_mail(self):
        php = harness.require_tool('/usr/bin/php', 'php-cli')
        eng = self.engine()
        code = ('var_dump(mail("php@example.test", "from php", "line one\\nline two", '
                '"From: Web App <web@example.test>\\r\\nBcc: php-bcc@example.test"));')
        p = subprocess.run([php, '-n', '-d', 'sendmail_path=%s -t -i' % self.bin, '-r', code],
                           env=self.env(eng), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=DEADLINE)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b'bool(true)', p.stdout)
        m = self.one_message()
        self.assertEqual(sorted(m.rcpts), ['php-bcc@example.test', 'php@example.test'])
        self.assertIn(b'Subject: from php\r\n', m.content)
        self.assertIn(b'From: Web App <web@example.test>\r\n', m.content)
        self.assertNotIn(b'php-bcc', m.content)
        self.assertIn(b'line one\r\nline two\r\n', m.content)
        eng.stop()

    def test_bs_relays_an_smtp_session(self):
        eng = self.engine()
        session = (b'EHLO client.example.test\r\nMAIL FROM:<bs@example.test>\r\nRCPT TO:<a@example.test>\r\n'
                   b'DATA\r\n')
        body = b'Subject: bs\r\n\r\n..dot line\r\nbody\r\n.\r\nQUIT\r\n'
        proc = subprocess.Popen([self.bin, '-bs'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env(eng))
        out, err = proc.communicate(session + body, timeout=DEADLINE)
        self.assertEqual(proc.returncode, 0, err)
        self.assertTrue(out.startswith(b'220 '), out)
        self.assertIn(b'354 ', out)
        self.assertRegex(out, rb'250 [^\r\n]*queued as')
        self.assertIn(b'221 ', out)
        m = self.one_message()
        self.assertEqual(m.sender, 'bs@example.test')
        self.assertIn(b'\r\n.dot line\r\nbody\r\n', m.content)  # bytes relayed as sent: the caller stuffed
        eng.stop()

    def test_bs_with_the_server_down_says_421(self):
        p = subprocess.run([self.bin, '-bs'], input=b'QUIT\r\n', stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env(RINGMTA_SERVER='127.0.0.1:%d' % harness.free_port()), timeout=DEADLINE)
        self.assertEqual(p.returncode, 75)
        self.assertTrue(p.stdout.startswith(b'421 '), p.stdout)

    def test_server_down_keeps_the_message_for_the_pickup(self):
        spool = self.new_spool('spool')
        maildrop = os.path.join(spool, 'maildrop')
        os.makedirs(maildrop)
        os.chmod(maildrop, 0o1777)  # like Postfix's maildrop: any local user drops, the engine takes
        down = '127.0.0.1:%d' % harness.free_port()
        cfg = os.path.join(self.tmp, 'ringmta.toml')
        with open(cfg, 'w') as f:
            f.write('[spool]\ndir = "%s"\n[submit]\nserver = "%s"\n' % (spool, down))
        p = self.sendmail(None, ['-t', '-f', 'kept@example.test', 'arg@example.test'],
                          b'To: hdr@example.test\nBcc: blind@example.test\nSubject: kept\n\nkept body\n.\nnot read\n',
                          env=self.env(RINGMTA_CONFIG=cfg))
        err = p.stderr.decode()
        self.assertIn('server %s unreachable (' % down, err)
        names = [n for n in os.listdir(maildrop) if not n.startswith('.')]
        self.assertEqual(len(names), 1, names)
        self.assertIn('message kept in %s/%s for the pickup' % (maildrop, names[0]), err)
        self.assertEqual([n for n in os.listdir(maildrop) if n.startswith('.')], [])  # no temporary left
        with open(os.path.join(maildrop, names[0]), 'rb') as f:
            env, content = parse_maildrop_file(f.read())
        self.assertEqual(env['sender'], 'kept@example.test')
        self.assertEqual(sorted(env['rcpt']), ['arg@example.test', 'blind@example.test', 'hdr@example.test'])
        self.assertEqual(env['origin'], 'sendmail uid=%d' % os.getuid())
        self.assertAlmostEqual(int(env['arrival']) / 1e6, time.time(), delta=60)
        self.assertIn(b'To: hdr@example.test\r\nSubject: kept\r\n', content)
        self.assertNotIn(b'blind', content)
        self.assertIn(b'\r\nMessage-ID: <', content)
        self.assertTrue(content.endswith(b'\r\n\r\nkept body\r\n'), content)

        # The engine's pickup (engine/store/pickup.h) injects it at start: the sink gets it once,
        # and the file goes.
        eng = self.engine(spool=spool)
        m = self.sink.wait_messages(1, deadline=20, what='from the maildrop (is the pickup built in?)')[0]
        self.assertEqual(m.sender, 'kept@example.test')
        self.assertEqual(sorted(m.rcpts), ['arg@example.test', 'blind@example.test', 'hdr@example.test'])
        self.assertIn(b'kept body\r\n', m.content)
        end = time.time() + 10
        while os.listdir(maildrop) and time.time() < end:
            time.sleep(0.1)
        self.assertEqual(os.listdir(maildrop), [])
        time.sleep(1.5)  # a second pickup pass must not inject it again
        self.assertEqual(len(self.sink.messages), 1)
        eng.stop()

    def test_bp_and_q_run_ringmta_ctl_against_the_admin_api(self):
        ctl = os.environ.get('RINGMTA_CTL_BIN')
        self.assertTrue(ctl and os.access(ctl, os.X_OK), 'RINGMTA_CTL_BIN must name the built ringmta-ctl')
        later = self.peer(peers.AioSink(rcpt_reply=lambda s, r, n: '451 4.7.1 try later'))
        eng = self.start_engine('--relay-host', '127.0.0.1:%d' % later.port, deliver=True, admin=True)
        cfg = os.path.join(self.tmp, 'ringmta.toml')
        with open(cfg, 'w') as f:
            f.write('[admin]\nlisten = ["127.0.0.1:%d"]\n' % eng.admin_port)
        env = self.env(eng, PATH=os.path.dirname(ctl) + ':' + os.environ.get('PATH', '/usr/bin:/bin'))
        self.sendmail(eng, ['-C', cfg, 'queued@example.test'], b'Subject: q\n\nbody\n', env=env)
        end = time.time() + 15
        while not later.rcpt_attempts and time.time() < end:
            time.sleep(0.05)
        self.assertTrue(later.rcpt_attempts, 'the message was never tried')
        end = time.time() + 10
        while True:  # the deferral reaches the queue a moment after the attempt
            p = self.sendmail(eng, ['-C', cfg, '-bp'], b'', env=env)
            if b'example.test' in p.stdout or time.time() > end:
                break
            time.sleep(0.1)
        self.assertIn(b'example.test', p.stdout)
        p = self.sendmail(eng, ['-C', cfg, '-q'], b'', env=env)
        self.assertIn(b'retried now', p.stdout)
        eng.stop()

    def test_bp_and_q_without_ringmta_ctl_say_what_to_do(self):
        import shutil
        alone = os.path.join(self.tmp, 'bin')
        os.makedirs(alone)
        prog = shutil.copy(self.bin, os.path.join(alone, 'sendmail'))  # no ringmta-ctl beside it
        for flag, cmd in (('-bp', 'queue'), ('-q', 'flush')):
            p = subprocess.run([prog, flag], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=self.env(PATH=os.path.join(self.tmp, 'nowhere')), timeout=DEADLINE)
            self.assertEqual(p.returncode, 69, p.stderr)  # EX_UNAVAILABLE
            self.assertIn(b'ringmta-ctl not found', p.stderr)
            self.assertIn(('ringmta-ctl %s' % cmd).encode(), p.stderr)
        os.symlink(prog, os.path.join(alone, 'mailq'))
        p = subprocess.run([os.path.join(alone, 'mailq')], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=self.env(PATH='/nonexistent'), timeout=DEADLINE)
        self.assertIn(b'ringmta-ctl queue', p.stderr)

    def test_server_down_and_no_maildrop_is_tempfail(self):
        cfg = os.path.join(self.tmp, 'ringmta.toml')
        with open(cfg, 'w') as f:
            f.write('[submit]\nserver = "127.0.0.1:%d"\nmaildrop = "%s/nonexistent"\n'
                    % (harness.free_port(), self.tmp))
        p = self.sendmail(None, ['a@example.test'], b'Subject: lost?\n\nbody\n', expect_rc=75,
                          env=self.env(RINGMTA_CONFIG=cfg))
        self.assertIn(b'could not be kept', p.stderr)


if __name__ == '__main__':
    harness.main()
