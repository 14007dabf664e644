"""The maildrop pickup (engine/inbound/pickup.h): message files left in
SPOOL/maildrop (by ringmta-sendmail when the server is down, by
ringmta-ctl import-postfix-queue) are stored and delivered once, at start
and within seconds while running; files that are not messages are set
aside as .bad.NAME and the engine goes on.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_pickup.py -v
"""

import os
import re
import stat
import time

import harness
import peers
from maildrop_files import write_maildrop
from spool_files import spool_ids, spool_message, split_listing

BODY = 'From: app@example.com\nTo: a@example.net\nSubject: picked up\n\nline one\nline two\n'


def wait_for(pred, deadline, what):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError('timed out after %.0f s waiting for %s' % (deadline, what))


class PickupTest(harness.EngineTestCase):

    def maildrop(self):
        d = os.path.join(self.tmp, 'spool', 'maildrop')
        os.makedirs(d, exist_ok=True)
        return d

    def files(self, d):
        return sorted(os.listdir(d))

    def test_files_left_before_start_are_delivered_once(self):
        d = self.maildrop()
        a = write_maildrop(d, 'app@example.com', ['a@example.net', 'b@example.net', 'a@example.net'], BODY,
                           origin='sendmail uid=33')
        b = write_maildrop(d, '', ['c@example.net'], 'Subject: null sender\r\n\r\nbounce-like\r\n')
        sink = self.peer(peers.AioSink())
        eng = self.start_engine('--relay-host', '127.0.0.1:%d' % sink.port, deliver=True)
        got = sink.wait_messages(2, deadline=30, what='the two maildrop files')
        by_sender = {m.sender: m for m in got}
        first = by_sender['app@example.com']
        # The duplicate recipient went once.
        self.assertEqual(sorted(first.rcpts), ['a@example.net', 'b@example.net'])
        # LF lines became CRLF, and a Received line says where it came from.
        self.assertIn(b'\r\nline one\r\nline two\r\n', first.content)
        self.assertRegex(first.content.decode(),
                         r'^Received: \(ringmta pickup, sendmail uid=33\)\r\n\tby mta\.ringmta\.test \(ringmta\)')
        self.assertEqual(by_sender['<>'].rcpts, ['c@example.net'])
        eng.wait_log(r'pickup: %s from <app@example.com> to 2 recipients \(sendmail uid=33\) queued as [0-9A-F]{16}'
                     % re.escape(a))
        eng.wait_log(r'pickup: %s from <> to 1 recipient queued as' % re.escape(b))
        # Deleted once stored, so never picked up again: nothing more arrives.
        wait_for(lambda: self.files(d) == [], 5, 'the maildrop to empty')
        time.sleep(2.5)
        self.assertEqual(len(sink.messages), 2, 'a maildrop file was delivered twice')
        eng.stop()
        self.assertIn('pickup: 2 files picked up from', eng.log())
        # The maildrop is writable by every local user, listable by none.
        self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o1733)

    def test_file_written_while_running_is_picked_up_within_seconds(self):
        d = self.maildrop()
        sink = self.peer(peers.AioSink())
        self.start_engine('--relay-host', '127.0.0.1:%d' % sink.port, deliver=True)
        t0 = time.monotonic()
        write_maildrop(d, 'app@example.com', ['late@example.net'], BODY)
        got = sink.wait_messages(1, deadline=15, what='the file written while running')
        self.assertEqual(got[0].rcpts, ['late@example.net'])
        self.assertLess(time.monotonic() - t0, 10, 'picked up, but not within seconds')

    def test_arrival_time_is_kept(self):
        d = self.maildrop()
        arrival = int((time.time() - 3 * 86400) * 1e6)  # three days ago (say, a Postfix queue import)
        write_maildrop(d, 'app@example.com', ['held@example.net'], BODY, arrival_us=arrival)
        eng = self.start_engine()  # held: it stays in the spool to look at
        spool = eng.spool
        wait_for(lambda: spool_ids(spool), 10, 'the picked-up message in the spool')
        env, content = split_listing(spool_message(spool, spool_ids(spool)[0]))
        want = time.strftime('%Y-%m-%dT%H:%M', time.gmtime(arrival / 1e6))
        self.assertIn(('arrival: ' + want).encode(), env)
        self.assertIn(b'Subject: picked up\r\n', content)

    def test_bad_files_are_set_aside_and_the_rest_goes_on(self):
        d = self.maildrop()
        garbage = write_maildrop(d, None, None, None, raw=b'hello, this is not a maildrop file\n')
        nobody = write_maildrop(d, 'app@example.com', ['nodomain'], BODY)
        target = os.path.join(self.tmp, 'secret')
        with open(target, 'w') as f:
            f.write('ringmta-maildrop 1\nsender x@example.com\nrcpt y@example.net\n\nsecret\n')
        os.symlink(target, os.path.join(d, '1.symlink'))
        os.link(target, os.path.join(d, '2.hardlink'))
        sink = self.peer(peers.AioSink())
        eng = self.start_engine('--relay-host', '127.0.0.1:%d' % sink.port, '--max-message-size', '100000',
                                deliver=True)
        big = write_maildrop(d, 'app@example.com', ['big@example.net'], 'Subject: big\r\n\r\n' + 'x' * 200 + '\r\n' * 1,
                             raw=None)
        os.truncate(os.path.join(d, big), 100000 + (4 << 20) + 10)
        good = write_maildrop(d, 'app@example.com', ['good@example.net', 'user@bad@example.net'], BODY)
        got = sink.wait_messages(1, deadline=15, what='the good file after the bad ones')
        self.assertEqual(got[0].rcpts, ['good@example.net'])
        for name, why in ((garbage, r'line 1: not "ringmta-maildrop 1"'), (nobody, r'no valid recipient'),
                          ('1.symlink', r'a symbolic link'), ('2.hardlink', r'2 hard links'),
                          (big, r'over the limit')):
            eng.wait_log(r'pickup: .*/%s is not a message: %s.*; renamed \.bad\.%s' % (re.escape(name), why,
                                                                                        re.escape(name)))
        wait_for(lambda: good not in self.files(d), 5, 'the good file to be deleted')
        self.assertEqual(self.files(d), sorted('.bad.' + n for n in (garbage, nobody, '1.symlink', '2.hardlink', big)))
        self.assertRegex(eng.log(), r'pickup: %s: recipient left out: user@bad@example.net: not a valid address' % re.escape(good))
        time.sleep(1.5)
        self.assertEqual(len(sink.messages), 1, 'a bad file was delivered')
        # The link's target was never touched.
        with open(target) as f:
            self.assertIn('secret', f.read())

    def test_pickup_off(self):
        d = self.maildrop()
        name = write_maildrop(d, 'app@example.com', ['a@example.net'], BODY)
        eng = self.start_engine('--maildrop', '')
        time.sleep(2.5)
        self.assertEqual(self.files(d), [name])
        self.assertEqual(spool_ids(eng.spool), [])


if __name__ == '__main__':
    harness.main()
