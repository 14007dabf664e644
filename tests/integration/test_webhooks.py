"""Event webhooks ([[webhook]], engine/observe/webhook_shipper.h): the event
log's lines POSTed in batches to a Python http.server receiver that fails
on purpose (503s, a receiver that goes away and comes back, a 400), and
the offset that lets a restart resume where the last one stopped.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_webhooks.py -v
"""

import json
import os
import smtplib
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness
import peers


class Receiver:
    """An HTTP/1.1 (keep-alive) receiver on 127.0.0.1:port. behaviour(n,
    events) -> (status, seconds to wait before answering) for the n-th
    request (1 first). requests: (status, events, headers) of each."""

    def __init__(self, behaviour=None, port=None):
        self.port = port or harness.free_port()
        self.behaviour = behaviour or (lambda n, events: (200, 0))
        self.lock = threading.Lock()
        self.requests = []
        self.connections = 0
        self._socks = []
        self.server = None
        self.up()

    def up(self):
        rcv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def setup(self):
                super().setup()
                with rcv.lock:
                    rcv.connections += 1
                    rcv._socks.append(self.connection)

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
                events = json.loads(body)
                with rcv.lock:
                    n = len(rcv.requests) + 1
                    rcv.requests.append(None)
                status, delay = rcv.behaviour(n, events)
                if delay:
                    time.sleep(delay)
                with rcv.lock:
                    rcv.requests[n - 1] = (status, events, dict(self.headers))
                payload = b'{"ok":true}' if status < 300 else b'{"error":"not this batch"}'
                try:
                    self.send_response(status)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(('127.0.0.1', self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self):
        """Closes the listener and every connection: connects are refused."""
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            for s in self._socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._socks.clear()

    def stop(self):
        if self.server is not None:
            self.down()
            self.server = None

    def answered(self):
        with self.lock:
            return [r for r in self.requests if r is not None]

    def events(self, statuses=range(200, 300)):
        """Every event of the answered requests with these statuses, in order."""
        return [e for status, evs, _ in self.answered() if status in statuses for e in evs]


def read(path):
    with open(path) as f:
        return f.read()


def key(event):
    return json.dumps(event, sort_keys=True)


def log_events(path, types):
    return [e for e in peers.read_events(path) if e['type'] in types]


def wait_for(pred, deadline, what):
    end = time.time() + deadline
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError('timed out waiting for %s' % what)


def send(eng, n, start=0, bad_every=4):
    """n messages, one recipient each; every bad_every-th one is refused
    with 550 by the sink (a bounce, and a DSN to the sender)."""
    with smtplib.SMTP(eng.host, eng.port, local_hostname='client.example.test', timeout=10) as s:
        for i in range(start, start + n):
            rcpt = ('nobody%d@example.test' if i % bad_every == bad_every - 1 else 'user%d@example.test') % i
            s.sendmail('alice@sender.test', [rcpt], b'Subject: m%d\r\n\r\nbody %d\r\n' % (i, i))


class WebhookTest(harness.EngineTestCase):
    TYPES = ('delivered', 'bounced')

    def setUp(self):
        super().setUp()
        self.sink = self.peer(peers.AioSink(
            rcpt_reply=lambda s, r, n: '550 5.1.1 no such user' if r.startswith('nobody') else None))

    def config(self, rcv, batch_size=5, max_delay='200ms', extra='', name='ringmta.toml'):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write('[[webhook]]\nurl = "http://127.0.0.1:%d/events"\nevents = ["delivered", "bounced"]\n'
                    'batch_size = %d\nmax_delay = "%s"\nheaders = {Authorization = "Bearer t0ken"}\n%s'
                    % (rcv.port, batch_size, max_delay, extra))
        return path

    def engine(self, cfg, shards=2):
        return self.start_engine('--config', cfg, '--event-log', self.events,
                                 '--route', 'example.test=127.0.0.1:%d' % self.sink.port,
                                 '--route', 'sender.test=127.0.0.1:%d' % self.sink.port,
                                 shards=shards, deliver=True)

    def offset_file(self, eng):
        names = [n for n in os.listdir(eng.spool) if n.startswith('webhook-') and n.endswith('.offset')]
        self.assertEqual(len(names), 1, os.listdir(eng.spool))
        return os.path.join(eng.spool, names[0])

    def assert_in_file_order(self, got, want):
        """got (events received, maybe some twice) holds every event of want,
        and their first arrivals are in the log's order."""
        seen = []
        known = set()
        for e in got:
            if key(e) not in known:
                known.add(key(e))
                seen.append(key(e))
        self.assertEqual(seen, [key(e) for e in want])

    def test_503s_a_receiver_down_and_a_400_lose_and_reorder_nothing(self):
        # Requests 1 and 2 get 503, request 3 gets 400 (its batch is skipped),
        # then 200 -- until the receiver goes away for a while.
        rcv = self.peer(Receiver(lambda n, events: ({1: 503, 2: 503, 3: 400}.get(n, 200), 0)))
        eng = self.engine(self.config(rcv))
        send(eng, 12)
        # 12 recipients (3 bounced) and 3 DSNs delivered to the sender.
        self.sink.wait_messages(12)
        wait_for(lambda: len(log_events(self.events, self.TYPES)) >= 15, 15, 'the event log')
        want = log_events(self.events, self.TYPES)
        wait_for(lambda: {key(e) for e in rcv.events(range(200, 500))} >= {key(e) for e in want}, 20,
                 'the events at the receiver')
        statuses = [r[0] for r in rcv.answered()]
        self.assertEqual(statuses[:3], [503, 503, 400])
        first, second, skipped = [r[1] for r in rcv.answered()[:3]]
        self.assertEqual(first, second, 'a batch refused with 503 is sent again as it was')
        self.assertEqual(first, skipped, 'the 400 was for that same batch')
        self.assertNotIn(key(skipped[0]), {key(e) for e in rcv.events()}, 'a 400 batch is skipped, not resent')
        self.assert_in_file_order(rcv.events(range(200, 500)), want)
        self.assertLessEqual(max(len(r[1]) for r in rcv.answered()), 5)
        self.assertEqual(rcv.answered()[0][2].get('Authorization'), 'Bearer t0ken')
        self.assertEqual(rcv.answered()[0][2].get('Content-Type'), 'application/json')
        n_before = len(rcv.answered())
        conns_before = rcv.connections

        # Down for a while: mail goes on, events wait; then it comes back.
        rcv.down()
        send(eng, 8, start=100)
        self.sink.wait_messages(12 + 6 + 2)  # 2 of the 8 bounce, and their DSNs arrive
        wait_for(lambda: len(log_events(self.events, self.TYPES)) >= 15 + 10, 15, 'the event log')
        time.sleep(2.5)  # a couple of refused connects, backing off
        self.assertIn('connect: Connection refused', eng.log())
        rcv.up()
        want = log_events(self.events, self.TYPES)
        wait_for(lambda: {key(e) for e in rcv.events(range(200, 500))} >= {key(e) for e in want}, 20,
                 'the events after the receiver came back')
        self.assert_in_file_order(rcv.events(range(200, 500)), want)
        # Per queue id too (the order that matters to a consumer).
        by_id = {}
        for e in rcv.events(range(200, 500)):
            by_id.setdefault(e['queue_id'], []).append(key(e))
        for qid, evs in by_id.items():
            self.assertEqual(evs, [key(e) for e in want if e['queue_id'] == qid])
        # Batches between the failures went over a kept-alive connection.
        self.assertLess(conns_before, n_before)
        self.assertIn('HTTP 400 for a batch of', eng.log())
        self.assertIn('not this batch', eng.log())
        eng.stop()

    def test_a_restart_resumes_from_the_offset(self):
        hold = threading.Event()
        rcv = self.peer(Receiver(lambda n, events: (200, 3 if hold.is_set() else 0)))
        cfg = self.config(rcv, batch_size=4)
        eng = self.engine(cfg)
        send(eng, 8)
        wait_for(lambda: len(log_events(self.events, self.TYPES)) >= 10, 15, 'the event log')
        first_run = log_events(self.events, self.TYPES)
        wait_for(lambda: len(rcv.events()) >= len(first_run), 15, 'the first run at the receiver')
        # The offset file catches up with the log once everything is acknowledged.
        size = os.path.getsize(self.events)
        wait_for(lambda: read(self.offset_file(eng)).split()[0] == str(size), 5, 'the offset file')
        self.assertIn('/events', read(self.offset_file(eng)))
        eng.stop()
        got_first = len(rcv.events())
        self.assertEqual(got_first, len(first_run))

        # Second run: only what is new is sent.
        eng = self.engine(cfg)
        self.assertTrue(eng.wait_log('from offset %d of the event log' % size), eng.log())
        send(eng, 4, start=50)
        wait_for(lambda: len(log_events(self.events, self.TYPES)) >= len(first_run) + 5, 15, 'the event log')
        all_events = log_events(self.events, self.TYPES)
        wait_for(lambda: len(rcv.events()) >= len(all_events), 15, 'the second run at the receiver')
        second = rcv.events()[got_first:]
        self.assertEqual([key(e) for e in second], [key(e) for e in all_events[len(first_run):]],
                         'nothing of the first run is sent again')

        # A POST in flight at a stop is abandoned within about a second,
        # and sent again at the next start.
        hold.set()
        n_answered = len(rcv.answered())
        send(eng, 1, start=90)
        wait_for(lambda: len(rcv.requests) > n_answered, 15, 'the held POST')
        held_at = len(rcv.requests)
        t0 = time.monotonic()
        eng.stop()
        self.assertLess(time.monotonic() - t0, 2.5, 'the shipper held the stop up')
        self.assertIn('a POST of', eng.log())
        hold.clear()
        time.sleep(3.2)  # the held request is answered (200) to nobody
        eng = self.engine(cfg)
        all_events = log_events(self.events, self.TYPES)
        wait_for(lambda: len(rcv.requests) > held_at and rcv.requests[held_at] is not None, 15,
                 'the resent batch')
        self.assertEqual(rcv.answered()[held_at][1], rcv.requests[held_at - 1][1],
                         'the abandoned batch is sent again first')
        self.assertEqual({key(e) for e in rcv.events()}, {key(e) for e in all_events})
        eng.stop()

    def test_config_errors(self):
        rcv = self.peer(Receiver())
        cases = [
            (self.config(rcv), [], 'set --event-log FILE'),
            (self.config(rcv, extra='[[webhook]]\nurl = "https://127.0.0.1:1/x"\n', name='https.toml'),
             ['--event-log', self.events],
             'webhook[2].url: \'https://127.0.0.1:1/x\': https is not yet supported'),
        ]
        for path, args, message in cases:
            r = subprocess.run([harness.ringmta_bin(), '--config', path, '--spool', self.new_spool(),
                                '--listen', '127.0.0.1:%d' % harness.free_port(), '--admin-listen', ''] + args,
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(message, r.stderr)


if __name__ == '__main__':
    harness.main()
