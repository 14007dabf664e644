"""HTTP injection (POST /api/v1/inject, engine/admin/injection.h) with real
clients (urllib, curl, a raw socket) and a real SMTP sink (aiosmtpd) that
receives what ringmta delivers.

    RINGMTA_BIN=BUILD/engine/ringmta RINGMTA_SPOOL_TOOL=BUILD/tools/ringmta-spool \
        PYTHONPATH=tests/integration /usr/bin/python3 tests/integration/test_inject.py -v
"""

import email
import email.policy
import json
import re
import socket
import subprocess
import urllib.error
import urllib.request

import harness
import peers
from test_admin import read_response

DEADLINE = 60


def post(eng, body, content_type='application/json', timeout=DEADLINE):
    """POSTs body (bytes or a JSON-able value) to /api/v1/inject: (status, parsed JSON)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(eng.admin_url + '/api/v1/inject', data=data, method='POST',
                                 headers={'Content-Type': content_type})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


RAW = ('From: News <news@example.com>\r\nTo: {{email}}\r\nSubject: Hello {{name}}\r\n\r\n'
       'Hi {{name}}, your code is {{code}}.\r\n')


class InjectTest(harness.EngineTestCase):

    def engine(self, sink, *extra, **kw):
        return self.start_engine('--relay-host', '127.0.0.1:%d' % sink.port, *extra, deliver=True, admin=True, **kw)

    def test_ten_thousand_recipients_each_get_their_own_values(self):
        sink = self.peer(peers.AioSink())
        eng = self.engine(sink)
        n = 10000
        rcpts = [{'email': 'user%d@example.net' % i,
                  'substitutions': {'email': 'user%d@example.net' % i, 'name': 'Name%d' % i, 'code': 'C%d' % i}}
                 for i in range(n)]
        # One recipient takes the global default for its code.
        del rcpts[7]['substitutions']['code']
        status, r = post(eng, {'envelope_sender': 'bounces@news.example.com', 'content': RAW,
                               'recipients': rcpts, 'substitutions': {'code': 'default'}})
        self.assertEqual(status, 200, r)
        self.assertEqual((r['success_count'], r['fail_count']), (n, 0))
        self.assertEqual(len(set(r['queue_ids'])), n)
        got = sink.wait_messages(n, deadline=240)
        by_rcpt = {}
        for m in got:
            self.assertEqual(len(m.rcpts), 1)
            by_rcpt[m.rcpts[0]] = m.content
        self.assertEqual(len(by_rcpt), n)
        for i in range(n):
            content = by_rcpt['user%d@example.net' % i]
            code = 'default' if i == 7 else 'C%d' % i
            self.assertIn(b'Subject: Hello Name%d\r\n' % i, content)
            self.assertIn(('Hi Name%d, your code is %s.\r\n' % (i, code)).encode(), content)
            self.assertIn(b'To: user%d@example.net\r\n' % i, content)
        self.assertRegex(by_rcpt['user0@example.net'].decode(), r'Received: from \[127\.0\.0\.1\] .*\r?\n?.*with HTTP')

    def test_content_parts_become_a_mime_message(self):
        sink = self.peer(peers.AioSink())
        eng = self.engine(sink)
        status, r = post(eng, {'envelope_sender': 'bounces@example.com',
                               'content': {'from': 'Shop <shop@example.com>', 'subject': 'Grüße, {{name}}',
                                           'text_body': 'Hallo {{name}}, ça va?',
                                           'html_body': '<p>Hallo <b>{{name}}</b></p>',
                                           'headers': {'X-Campaign-Tag': 'winter'}},
                               'recipients': [{'email': 'ann@example.org', 'substitutions': {'name': 'Änn'}}],
                               'campaign_id': 'winter-sale'})
        self.assertEqual(status, 200, r)
        m = sink.wait_messages(1)[0]
        msg = email.message_from_bytes(m.content, policy=email.policy.default)
        self.assertEqual(msg['Subject'], 'Grüße, Änn')
        self.assertEqual(msg['To'], 'ann@example.org')
        self.assertEqual(msg['X-Campaign-Tag'], 'winter')
        self.assertEqual(msg.get_content_type(), 'multipart/alternative')
        self.assertEqual(msg.get_body(('plain',)).get_content().strip(), 'Hallo Änn, ça va?')
        self.assertEqual(msg.get_body(('html',)).get_content().strip(), '<p>Hallo <b>Änn</b></p>')
        self.assertIn('@example.com>', msg['Message-ID'])

    def test_no_substitutions_is_one_message_for_everyone(self):
        sink = self.peer(peers.AioSink())
        eng = self.engine(sink)
        rcpts = [{'email': 'r%d@example.com' % i} for i in range(3)] + [{'email': 'r0@example.com'}]
        status, r = post(eng, {'envelope_sender': 'a@example.com',
                               'content': 'Subject: same for all\r\n\r\nHello.\r\n', 'recipients': rcpts})
        self.assertEqual(status, 200, r)
        self.assertEqual(r['success_count'], 4)  # the duplicate is delivered once, with the first
        self.assertEqual(len(r['queue_ids']), 1)
        m = sink.wait_messages(1)[0]
        self.assertEqual(sorted(m.rcpts), ['r0@example.com', 'r1@example.com', 'r2@example.com'])

    def test_bad_requests_and_bad_recipients(self):
        sink = self.peer(peers.AioSink())
        eng = self.engine(sink)
        status, r = post(eng, b'{"envelope_sender": "a@b.example", "content": "x", "recipients": [')
        self.assertEqual(status, 400)
        self.assertRegex(r['error'], r'malformed JSON at byte \d+')
        status, r = post(eng, {'envelope_sender': 'a@b.example', 'content': 'x', 'recipients': [{'email': 7}]})
        self.assertEqual(status, 400)
        self.assertIn('recipients[0].email', r['error'])
        status, r = post(eng, {'envelope_sender': 'a@b.example', 'content': 'x', 'recipient': []})
        self.assertEqual(status, 400)
        self.assertIn('recipient', r['error'])
        status, r = post(eng, b'{}', content_type='text/plain')
        self.assertEqual(status, 415)
        # Bad addresses are failed recipients, not a failed request.
        status, r = post(eng, {'envelope_sender': 'a@b.example', 'content': 'Subject: x\r\n\r\nx\r\n',
                               'recipients': [{'email': 'ok@example.com'}, {'email': 'not an address'}]})
        self.assertEqual(status, 200, r)
        self.assertEqual((r['success_count'], r['fail_count']), (1, 1))
        self.assertEqual(r['failed_recipients'][0]['email'], 'not an address')
        self.assertEqual(r['failed_recipients'][0]['index'], 1)
        # A value with CR/LF cannot go into a header: that recipient fails
        # (header injection), the other one is sent.
        status, r = post(eng, {'envelope_sender': 'a@b.example', 'content': 'Subject: {{s}}\r\n\r\nbody\r\n',
                               'recipients': [{'email': 'x@example.com', 'substitutions': {'s': 'a\r\nBcc: evil@x'}},
                                              {'email': 'y@example.com', 'substitutions': {'s': 'fine'}}]})
        self.assertEqual(status, 200, r)
        self.assertEqual((r['success_count'], r['fail_count']), (1, 1))
        self.assertEqual(r['failed_recipients'][0]['email'], 'x@example.com')
        # Nobody accepted: 422 with an error at the top.
        status, r = post(eng, {'envelope_sender': 'a@b.example', 'content': 'x',
                               'recipients': [{'email': 'bad'}]})
        self.assertEqual(status, 422)
        self.assertIn('no recipient was accepted', r['error'])
        self.assertEqual(r['fail_count'], 1)
        got = sink.wait_messages(2)
        self.assertEqual(sorted(m.rcpts[0] for m in got), ['ok@example.com', 'y@example.com'])

    def test_pipelined_injections_are_answered_in_order(self):
        sink = self.peer(peers.AioSink())
        eng = self.engine(sink)
        reqs = b''
        for i in range(3):
            body = json.dumps({'envelope_sender': 'a@example.com', 'content': 'Subject: %d\r\n\r\nx\r\n' % i,
                               'recipients': [{'email': 'p%d@example.com' % i}]}).encode()
            reqs += (b'POST /api/v1/inject HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                     b'Content-Length: %d\r\n\r\n' % len(body)) + body
        reqs += b'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n'
        with socket.create_connection((eng.host, eng.admin_port), timeout=DEADLINE) as s:
            s.sendall(reqs)
            f = s.makefile('rb')
            answers = [read_response(f) for _ in range(4)]
        self.assertEqual([a[0] for a in answers], [200, 200, 200, 200])
        ids = [json.loads(a[2])['queue_ids'][0] for a in answers[:3]]
        self.assertEqual(ids, sorted(ids))  # queue ids sort by arrival: answered in request order
        self.assertEqual(json.loads(answers[3][2])['status'], 'ok')
        got = sink.wait_messages(3)
        self.assertEqual(sorted(m.rcpts[0] for m in got), ['p0@example.com', 'p1@example.com', 'p2@example.com'])

    def test_a_success_means_the_messages_are_on_disk(self):
        # --hold: nothing is delivered, so what survives a SIGKILL right
        # after the answer is exactly what the spool made durable.
        eng = self.start_engine('--hold', 'true', admin=True)
        curl = harness.require_tool('curl', 'curl')
        body = json.dumps({'envelope_sender': 'a@example.com', 'content': 'Subject: {{n}}\r\n\r\nx\r\n',
                           'recipients': [{'email': 'd%d@example.com' % i, 'substitutions': {'n': str(i)}}
                                          for i in range(50)]})
        p = subprocess.run([curl, '-sS', '--max-time', '30', '-H', 'Content-Type: application/json',
                            '--data-binary', body, eng.admin_url + '/api/v1/inject'],
                           capture_output=True, timeout=DEADLINE)
        r = json.loads(p.stdout)
        self.assertEqual(r['success_count'], 50, p.stderr)
        eng.kill()
        self.assertEqual(sorted(harness.spool_ids(eng.spool)), sorted(r['queue_ids']))
        # And the metrics count them as received.
        eng2 = self.start_engine('--hold', 'true', admin=True, spool=eng.spool)
        self.assertEqual(sorted(harness.spool_ids(eng2.spool)), sorted(r['queue_ids']))

    def test_require_list_unsubscribe_applies_to_injection(self):
        sink = self.peer(peers.AioSink())
        eng = self.engine(sink, '--require-list-unsubscribe', 'true')
        status, r = post(eng, {'envelope_sender': 'a@example.com', 'content': 'Subject: x\r\n\r\nx\r\n',
                               'recipients': [{'email': 'z@example.com'}]})
        self.assertEqual(status, 422, r)
        self.assertIn('List-Unsubscribe', r['failed_recipients'][0]['reason'])


if __name__ == '__main__':
    harness.main()
