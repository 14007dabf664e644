"""The spool's life cycle with real peers: segments are deleted once every
message in them is final (engine/store/retention.h), the segments found at
start go as one group once their messages are final or copied forward
(engine/store/recovered_spool.h), and deferred messages are read back from the
spool rather than kept in memory (engine/store/content_loader.h). Each test ends
with a kill -9 and a restart that must neither lose nor redeliver anything.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \\
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_spool_gc.py -v
"""

import os
import re
import smtplib
import threading
import time

import harness
import peers

SEGMENT = 1 << 20   # the smallest --segment-size: a few dozen messages each
BODY = 40000        # bytes per message body: ~25 messages per segment


def body_of(tag, size=BODY):
    """A body that names its message, with long lines, 8-bit bytes and a
    leading dot, so that any change on the way through shows."""
    head = b'Subject: %s\r\nX-Tag: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' % (tag, tag)
    line = b'.dot-stuffed line \xc3\xa9\xe2\x82\xac ' + tag + b' ' + b'x' * 700 + b'\r\n'
    out = head
    while len(out) < size:
        out += line
    return out


def send_tagged(eng, tags, rcpt_of, sender='alice@sender.test'):
    """Sends one message per tag over one connection; returns {tag: body}."""
    sent = {}
    with smtplib.SMTP(eng.host, eng.port, local_hostname='client.example.test', timeout=20) as s:
        for tag in tags:
            body = body_of(tag)
            s.sendmail(sender, [rcpt_of(tag)], body)
            sent[tag] = body
    return sent


def tag_of(content):
    m = re.search(rb'^X-Tag: (\S+)\r?$', content, re.M)
    return m.group(1) if m else None


def segments(spool):
    return harness.segment_files(spool)


def wait_for(pred, deadline, what):
    """Polls pred until it is true; what() says what was awaited."""
    end = time.time() + deadline
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError('timed out after %.0f s waiting for %s' % (deadline, what()))


def wait_listed(spool, want, deadline, what):
    """Waits until ringmta-spool lists exactly the queue ids in want. A
    message delivered is final only once its state record is in the spool,
    and state records are written lazily: they ride in the next batch, or
    go alone after kStateFlushMs (engine/store/store.h). So the
    listing catches up with the sink a little after the last delivery."""
    want = sorted(want)
    listed = []

    def done():
        listed[:] = sorted(harness.spool_ids(spool))
        return listed == want

    wait_for(done, deadline, lambda: '%s: ringmta-spool to list %d messages %r; it lists %d: %r'
             % (what, len(want), want[:10], len(listed), listed[:10]))


def sanitized():
    """True for an ASan build: its allocator keeps freed memory in a
    quarantine, so RSS says nothing about what the engine holds."""
    with open(harness.ringmta_bin(), 'rb') as f:
        return b'__asan_init' in f.read()


def peak_rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    raise AssertionError('no VmHWM in /proc/%d/status' % pid)


class SpoolGcTest(harness.EngineTestCase):

    def engine(self, sink, *extra, spool=None, shards=2, hold=False):
        args = ['--route', 'example.test=127.0.0.1:%d' % sink.port, '--segment-size', str(SEGMENT),
                '--event-log', self.events, '--retry-min', '1', '--retry-max', '2'] + list(extra)
        if hold:
            args += ['--hold', 'true']
        return self.start_engine(*args, spool=spool, shards=shards, deliver=True)

    def count_by_tag(self, sink):
        counts = {}
        with sink.lock:
            for m in sink.messages:
                t = tag_of(m.content)
                counts[t] = counts.get(t, 0) + 1
        return counts

    def assert_exactly_once(self, sink, tags, what):
        counts = self.count_by_tag(sink)
        missing = [t for t in tags if counts.get(t, 0) == 0]
        twice = {t: n for t, n in counts.items() if n > 1}
        self.assertEqual(missing, [], '%s: never delivered' % what)
        self.assertEqual(twice, {}, '%s: delivered more than once' % what)

    def restart_after_kill(self, eng, sink, *extra, shards=2):
        eng.kill()
        eng2 = self.engine(sink, *extra, spool=eng.spool, shards=shards)
        m = eng2.wait_log(r'recovery: .*?(\d+) messages not yet final', deadline=10)
        self.assertIsNotNone(m, eng2.log())
        return eng2, int(m.group(1))

    def test_segments_of_delivered_messages_are_deleted(self):
        sink = self.peer(peers.AioSink())
        eng = self.engine(sink, shards=1)
        tags = [b'm%03d' % i for i in range(100)]
        send_tagged(eng, tags, lambda t: 'bob@example.test')
        sink.wait_messages(len(tags), deadline=60)
        self.assert_exactly_once(sink, tags, 'first run')
        # 100 x 40 KB in 1 MiB segments: four or five segments were written.
        # Once every message is final (and its state records are durable)
        # only the segment being written may remain.
        left = wait_for(lambda: [s for s in segments(eng.spool)] if len(segments(eng.spool)) == 1 else None,
                        15, lambda: 'all but the open segment to be deleted; have %r' % segments(eng.spool))
        self.assertGreaterEqual(left[0][1], 4, 'the remaining segment should be the 4th or later')
        self.assertLess(os.path.getsize(left[0][2]), 2 * SEGMENT)
        # The older segments can go before the newest messages' state
        # records are written (those messages live in the open segment).
        wait_listed(eng.spool, [], 10, 'every message delivered')

        # kill -9 and start again: nothing to recover, nothing redelivered.
        eng2, live = self.restart_after_kill(eng, sink)
        self.assertEqual(live, 0)
        # The first run's open segment belongs to the group found at start:
        # with nothing live in it, it goes at once.
        wait_for(lambda: eng2.wait_log(r'deleted the 1 segments found at start', deadline=0.1),
                 10, lambda: 'the segment found at start to be deleted')
        time.sleep(1.0)
        self.assertEqual(len(sink.messages), len(tags), 'a restart redelivered something')
        self.assertFalse(os.path.exists(os.path.join(eng.spool, 'retire.list')))
        eng2.stop()

    def test_deferred_messages_are_copied_forward_and_survive_a_crash(self):
        accept_later = threading.Event()
        sink = self.peer(peers.AioSink(
            rcpt_reply=lambda s, r, n: '451 4.3.0 not now'
            if r.startswith('later@') and not accept_later.is_set() else None))
        eng = self.engine(sink, shards=1)
        tags = [b'c%03d' % i for i in range(100)]
        later = [t for i, t in enumerate(tags) if i % 10 == 0]  # one in ten, in every segment
        now = [t for t in tags if t not in later]
        send_tagged(eng, tags, lambda t: ('later@example.test' if t in later else 'now@example.test'))
        sink.wait_messages(len(now), deadline=60)
        peers.wait_events(self.events, lambda e: e['type'] == 'deferred', n=len(later), deadline=30)
        # The deferred ones hold their segments, oldest first, until
        # compaction copies them forward (once four segments are held);
        # then the oldest goes.
        self.assertGreaterEqual(len(segments(eng.spool)), 4)
        wait_for(lambda: min(n for _, n, _ in segments(eng.spool)) > 1, 30,
                 lambda: 'the oldest segment to be compacted and deleted; have %r' % segments(eng.spool))
        # Exactly the deferred ones stay in the spool, each of them; the
        # delivered ones leave it once their state records are written
        # (lazily), which is also what the crash below must not lose.
        deferred_ids = {e['queue_id'] for e in peers.read_events(self.events) if e['type'] == 'deferred'}
        self.assertEqual(len(deferred_ids), len(later))
        wait_listed(eng.spool, deferred_ids, 10, 'every deferred message, and only those')
        accept_later.set()
        eng2, live = self.restart_after_kill(eng, sink)
        self.assertEqual(live, len(later))
        sink.wait_messages(len(tags), deadline=30)
        time.sleep(1.0)
        self.assert_exactly_once(sink, tags, 'after the crash')
        self.assertEqual(len(sink.messages), len(tags))
        self.assertIsNotNone(eng2.wait_log(r'deleted the \d+ segments found at start', deadline=15),
                             'the segments found at start were not deleted: %r' % segments(eng2.spool))
        # Content read back from a compacted copy is the content accepted.
        with sink.lock:
            by_tag = {tag_of(m.content): m.content for m in sink.messages}
        for t in later:
            self.assertTrue(by_tag[t].endswith(body_of(t)), 'message %r changed on the way' % t)
        eng2.stop()
        # Adopted messages are metadata only: each was read back (once for
        # its copy forward and, if it was due, its attempt; again at its
        # retry time if it was not), none failed.
        stats = re.findall(r'shard \d+: spool: (\d+) records read back \((\d+) failed\)', eng2.log())
        self.assertEqual(len(stats), 2, eng2.log())
        self.assertGreaterEqual(sum(int(r) for r, _ in stats), len(later))
        self.assertEqual(sum(int(f) for _, f in stats), 0)

    def test_segments_found_at_start_go_once_their_messages_are_done(self):
        sink = self.peer(peers.AioSink())
        # Spooled by three shards, held; delivered by one.
        eng = self.engine(sink, shards=3, hold=True)
        tags = [b'r%03d' % i for i in range(60)]
        send_tagged(eng, tags[:30], lambda t: 'bob@example.test')
        send_tagged(eng, tags[30:], lambda t: 'bob@example.test')
        eng.stop()
        # Every shard opens a segment at start; one that took no connection
        # leaves it empty. Recovery removes such a segment itself (it holds
        # nothing), so it is not one of the group, and the new run's writer
        # may create its own first segment under that very name (shard-0's
        # seg-1). The group found at start is the segments with records.
        old = [p for _, _, p in segments(eng.spool) if harness.segment_data_end(p) > 0]
        self.assertGreaterEqual(len(old), 2)
        eng2 = self.engine(sink, spool=eng.spool, shards=1)
        sink.wait_messages(len(tags), deadline=60)
        self.assertIsNotNone(eng2.wait_log(r'deleted the %d segments found at start' % len(old), deadline=15),
                             'the %d segments found at start %r were not deleted; have %r\n%s'
                             % (len(old), old, segments(eng2.spool), eng2.log()))
        now = segments(eng2.spool)
        self.assertFalse(set(old) & set(p for _, _, p in now),
                         'segments found at start are still there: %r' % now)
        # The group goes once each adopted message is final or copied
        # forward: the last state records may still be on their way.
        wait_listed(eng2.spool, [], 10, 'every message delivered')
        eng3, live = self.restart_after_kill(eng2, sink, shards=2)
        self.assertEqual(live, 0)
        time.sleep(1.0)
        self.assert_exactly_once(sink, tags, 'after the restart')
        self.assertEqual(len(sink.messages), len(tags))
        eng3.stop()

    def test_a_deferred_message_is_read_back_byte_identical(self):
        sink = self.peer(peers.AioSink(rcpt_reply=lambda s, r, n: '451 4.3.0 later' if n == 1 else None))
        eng = self.engine(sink, shards=1)
        sent = send_tagged(eng, [b'b001'], lambda t: 'bob@example.test')
        peers.wait_events(self.events, lambda e: e['type'] == 'deferred')
        ids = harness.spool_ids(eng.spool)
        self.assertEqual(len(ids), 1)
        _, stored = harness.split_listing(harness.spool_message(eng.spool, ids[0]))
        got = sink.wait_messages(1, deadline=20)[0]
        ev = peers.wait_events(self.events, lambda e: e['type'] == 'delivered')[0]
        self.assertEqual(ev['attempt'], 2)
        self.assertEqual(got.content, stored, 'what was delivered is not what was spooled')
        self.assertTrue(got.content.endswith(sent[b'b001']))
        eng.stop()
        m = re.search(r'shard 0: spool: (\d+) records read back \((\d+) failed\)', eng.log())
        self.assertIsNotNone(m, eng.log())
        self.assertGreaterEqual(int(m.group(1)), 1, 'the retry must read the record back')
        self.assertEqual(int(m.group(2)), 0)

    def test_with_no_memory_budget_every_attempt_reads_back(self):
        sink = self.peer(peers.AioSink())
        eng = self.engine(sink, '--memory-budget', '0', shards=1)
        tags = [b'z%03d' % i for i in range(20)]
        sent = send_tagged(eng, tags, lambda t: 'bob@example.test')
        got = sink.wait_messages(len(tags), deadline=30)
        for m in got:
            self.assertTrue(m.content.endswith(sent[tag_of(m.content)]))
        eng.stop()
        m = re.search(r'shard 0: spool: (\d+) records read back', eng.log())
        self.assertEqual(int(m.group(1)), len(tags))

    def test_recovery_does_not_read_bodies_up_front(self):
        big = 400000
        # A baseline: the same engine on an empty spool.
        sink = self.peer(peers.AioSink(rcpt_reply=lambda s, r, n: '451 4.3.0 not now'))
        base = self.engine(sink, shards=1, spool=self.new_spool('empty'))
        time.sleep(1.0)
        base_kib = peak_rss_kib(base.proc.pid)
        base.stop()
        # 120 messages of 400 KB (48 MB) held in the spool, then a start
        # that delivers them to a server deferring everything, with a
        # budget of 4 MB: memory must stay far below what the bodies weigh.
        eng = self.engine(sink, shards=1, hold=True)
        with smtplib.SMTP(eng.host, eng.port, local_hostname='client.example.test', timeout=30) as s:
            for i in range(120):
                s.sendmail('alice@sender.test', ['bob@example.test'], body_of(b'h%03d' % i, big))
        eng.stop()
        budget = 4 << 20
        eng2 = self.engine(sink, '--memory-budget', str(budget), shards=1, spool=eng.spool)
        eng2.wait_log(r'120 messages not yet final')
        peers.wait_events(self.events, lambda e: e['type'] == 'deferred', n=120, deadline=60)
        self.assertIsNotNone(eng2.wait_log(r'deleted the \d+ segments found at start', deadline=60),
                             'the segments found at start were not deleted: %r' % segments(eng2.spool))
        peak = peak_rss_kib(eng2.proc.pid)
        grew = (peak - base_kib) / 1024.0
        print('\npeak RSS: empty spool %.1f MiB, with 48 MB of bodies to recover %.1f MiB (+%.1f MiB)'
              % (base_kib / 1024.0, peak / 1024.0, grew))
        if not sanitized():
            self.assertLess(grew, 24, 'recovery and the first attempts held too many bodies at once')
        self.assertEqual(len(harness.spool_ids(eng2.spool)), 120)
        eng2.stop()
        # The engine's own count of content in memory never passed the budget.
        m = re.search(r'shard 0: spool: (\d+) records read back .* at most (\d+) bytes of content',
                      eng2.log())
        self.assertIsNotNone(m, eng2.log())
        self.assertGreaterEqual(int(m.group(1)), 120)
        self.assertLessEqual(int(m.group(2)), budget)


RECEIVED_ID_RE = re.compile(rb'\(ringmta\) with \S+ id ([0-9A-F]{16})')


class Loader(threading.Thread):
    """Sends 20 KB messages over one connection until told to stop or the
    engine dies, recording each queue id acknowledged with 250. One in
    five goes to a recipient the sink defers, so that live messages stay
    behind in old segments and compaction runs too."""

    def __init__(self, eng, n, stop):
        super().__init__(daemon=True)
        self.eng, self.n, self.stop = eng, n, stop
        self.acked = []

    def run(self):
        try:
            with smtplib.SMTP(self.eng.host, self.eng.port, local_hostname='load.example.test',
                              timeout=5) as s:
                s.ehlo()
                i = 0
                while not self.stop.is_set():
                    i += 1
                    rcpt = 'later@example.test' if i % 5 == 0 else 'now@example.test'
                    if s.mail('load%d@sender.test' % self.n)[0] != 250 or s.rcpt(rcpt)[0] != 250:
                        return
                    code, resp = s.data(body_of(b'L%d-%d' % (self.n, i), 20000))
                    qid = harness.queue_id_of(resp)
                    if code != 250 or qid is None:
                        return
                    self.acked.append(qid)
        except (OSError, smtplib.SMTPException):
            pass  # the kill


class CrashWhileDeletingTest(harness.EngineTestCase):

    def test_kill_9_while_delivering_and_deleting_loses_nothing(self):
        accept_later = threading.Event()
        sink = peers.AioSink(rcpt_reply=lambda s, r, n: '451 4.3.0 not now'
                             if r.startswith('later@') and not accept_later.is_set() else None)
        self.addCleanup(sink.stop)
        spool = self.new_spool()
        args = ['--route', 'example.test=127.0.0.1:%d' % sink.port, '--segment-size', str(SEGMENT),
                '--retry-min', '1', '--retry-max', '2']
        acked = []
        deleted_any = False
        for seconds in (2.5, 1.2, 2.0):
            eng = self.start_engine(*args, spool=spool, shards=2, deliver=True)
            seen = set(p for _, _, p in segments(spool))
            stop = threading.Event()
            loaders = [Loader(eng, n, stop) for n in range(3)]
            for ld in loaders:
                ld.start()
            time.sleep(seconds)
            now = set(p for _, _, p in segments(spool))
            deleted_any = deleted_any or bool(seen - now)
            eng.kill()  # in the middle of sending, delivering and deleting
            stop.set()
            for ld in loaders:
                ld.join(10)
                acked += ld.acked
        self.assertGreater(len(acked), 100)
        # A last start, with the deferring recipient accepting: everything
        # acknowledged is delivered, at least once, and the spool empties.
        accept_later.set()
        eng = self.start_engine(*args, spool=spool, shards=2, deliver=True)
        wait_for(lambda: harness.spool_ids(spool) == [], 60,
                 lambda: 'the spool to empty; %d left' % len(harness.spool_ids(spool)))
        time.sleep(0.5)
        with sink.lock:
            got = [m.content for m in sink.messages]
        delivered = {}
        for c in got:
            m = RECEIVED_ID_RE.search(c)
            self.assertIsNotNone(m, c[:300])
            delivered[m.group(1).decode()] = delivered.get(m.group(1).decode(), 0) + 1
        lost = sorted(set(acked) - set(delivered))
        self.assertEqual(lost, [], '%d of %d acknowledged messages were never delivered'
                         % (len(lost), len(acked)))
        again = sum(n - 1 for n in delivered.values())
        print('\n%d messages acknowledged over 3 crashes, all delivered; %d delivered twice '
              '(state records are flushed lazily: a crash may cost a redelivery); old segments '
              'deleted before a crash: %s' % (len(acked), again, deleted_any))
        self.assertTrue(deleted_any, 'no segment was deleted while the engine ran: the test '
                        'did not exercise deletion')
        eng.stop()


if __name__ == '__main__':
    harness.main()
