"""Receiving peers and DNS for the delivery tests: a loopback dnsmasq, an
in-process aiosmtpd server with a scriptable handler, and Postfix's
smtp-sink. Each picks its own free port and stops with the test."""

import asyncio
import os
import subprocess
import threading
import time

import harness


class Dnsmasq:
    """dnsmasq answering for *.test on 127.0.0.1:port from the given records.
    host/port: where it listens (a verifier that reads /etc/resolv.conf
    needs port 53, on a loopback address of its own). A TXT record's
    strings are separated by commas: ('txt-record', 'name,string1,string2')."""

    def __init__(self, records, host='127.0.0.1', port=None):
        self.bin = harness.require_tool('/usr/sbin/dnsmasq', 'dnsmasq-base')
        self.host = host
        self.port = port or harness.free_port()
        args = [self.bin, '--keep-in-foreground', '--port=%d' % self.port,
                '--listen-address=%s' % host, '--bind-interfaces', '--no-resolv', '--no-hosts',
                '--conf-file=/dev/null', '--local=/test/', '--pid-file=', '--user=root']
        for kind, value in records:
            args.append('--%s=%s' % (kind, value))
        self.proc = harness.popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 5
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError('dnsmasq exited: %s' % self.proc.stderr.read().decode())
            if _udp_answers(self.host, self.port):
                return
            time.sleep(0.05)
        raise AssertionError('dnsmasq did not start on port %d' % self.port)

    @property
    def address(self):
        return '%s:%d' % (self.host, self.port)

    def stop(self):
        self.proc.kill()
        self.proc.wait(5)
        self.proc.stderr.close()


def _udp_answers(host, port):
    import socket
    # A minimal query for "a.test" A: id 1, RD, one question.
    q = b'\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x04test\x00\x00\x01\x00\x01'
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    try:
        s.sendto(q, (host, port))
        s.recvfrom(512)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Received:
    def __init__(self, sender, rcpts, content, peer, tls, helo=None):
        self.sender = sender
        self.rcpts = rcpts
        self.content = content
        self.peer = peer
        self.tls = tls  # the session was encrypted (STARTTLS)
        self.helo = helo  # what the client said in EHLO/HELO


def make_tls_context(tmpdir):
    """A server SSL context with a fresh self-signed certificate (openssl)."""
    import ssl
    openssl = harness.require_tool('/usr/bin/openssl', 'openssl')
    key = os.path.join(tmpdir, 'sink.key')
    cert = os.path.join(tmpdir, 'sink.pem')
    subprocess.run([openssl, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=mx1.example.test'],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


class AioSink:
    """aiosmtpd on host:port. `reply(sender, rcpt, attempt)` may return an
    SMTP reply for RCPT (None = 250); `data(msg, attempt)` likewise for the
    end of data, or 'DROP' to close the connection inside DATA."""

    def __init__(self, host='127.0.0.1', port=None, rcpt_reply=None, data_reply=None, tls_context=None,
                 data_delay=0.0, greeting=None):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP
        self.messages = []
        self.times = []            # time.monotonic() of each accepted message
        self.connections = 0       # sessions that said EHLO/HELO
        self.open_now = 0          # TCP connections open at this moment
        self.max_open = 0          # the most open at once
        self.peers = []            # the client address of each connection
        self.connect_times = []
        self._data_delay = data_delay  # seconds each DATA is held before its reply
        self._greeting = greeting      # callable(n) -> a reply instead of the 220 (e.g. '421 ...'), or None
        self.rcpt_attempts = {}
        self.data_attempts = 0
        self.lock = threading.Lock()
        self._rcpt_reply = rcpt_reply
        self._data_reply = data_reply
        self.port = port or harness.free_port(host)
        sink = self

        class Handler:
            async def handle_EHLO(self, server, session, envelope, hostname, responses):
                with sink.lock:
                    sink.connections += 1
                session.host_name = hostname
                return responses

            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                with sink.lock:
                    n = sink.rcpt_attempts[address] = sink.rcpt_attempts.get(address, 0) + 1
                r = sink._rcpt_reply(envelope.mail_from, address, n) if sink._rcpt_reply else None
                if r:
                    return r
                envelope.rcpt_tos.append(address)
                return '250 2.1.5 OK'

            async def handle_DATA(self, server, session, envelope):
                with sink.lock:
                    sink.data_attempts += 1
                    n = sink.data_attempts
                if sink._data_delay:
                    await asyncio.sleep(sink._data_delay)
                r = sink._data_reply(envelope, n) if sink._data_reply else None
                if r == 'DROP':
                    server.transport.close()
                    return '421 dropped'
                if r:
                    return r
                with sink.lock:
                    sink.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                                  envelope.original_content, session.peer,
                                                  session.ssl is not None, session.host_name))
                    sink.times.append(time.monotonic())
                return '250 2.0.0 OK'

        class CountingSMTP(SMTP):
            # Counts TCP connections as they open and close, so that a test
            # can check how many a sender held at once.
            def connection_made(self, transport):
                with sink.lock:
                    sink.open_now += 1
                    sink.max_open = max(sink.max_open, sink.open_now)
                    sink.peers.append(transport.get_extra_info('peername')[0])
                    sink.connect_times.append(time.monotonic())
                    n = len(sink.peers)
                refuse = sink._greeting(n) if sink._greeting else None
                if refuse:
                    transport.write((refuse + '\r\n').encode())
                    transport.close()
                    self._refused = True
                    return
                super().connection_made(transport)

            def connection_lost(self, error):
                with sink.lock:
                    sink.open_now -= 1
                if not getattr(self, '_refused', False):
                    super().connection_lost(error)

        class CountingController(Controller):
            def factory(self):
                return CountingSMTP(self.handler, **self.SMTP_kwargs)

        extra = {'tls_context': tls_context, 'require_starttls': False} if tls_context else {}
        self.controller = CountingController(Handler(), hostname=host, port=self.port,
                                             decode_data=False, enable_SMTPUTF8=True, **extra)
        self.controller.start()
        # start() made a connection of its own to see the server up: wait
        # until it is closed, then forget it.
        end = time.time() + 5
        while time.time() < end:
            with self.lock:
                if self.open_now == 0:
                    self.max_open = 0
                    self.peers.clear()
                    self.connect_times.clear()
                    break
            time.sleep(0.01)

    def wait_messages(self, n, deadline=15.0, what=''):
        end = time.time() + deadline
        while time.time() < end:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError('sink got %d of %d messages %s' % (len(self.messages), n, what))

    def stop(self):
        self.controller.stop()


class SmtpSink:
    """Postfix's smtp-sink on 127.0.0.1:port; extra args inject failures
    (-r/-f/-Q ...). Counts what it accepted through -c's report."""

    def __init__(self, *args):
        self.bin = harness.require_tool('/usr/sbin/smtp-sink', 'postfix')
        self.port = harness.free_port()
        self.proc = harness.popen([self.bin, '-u', 'nobody', *args, '127.0.0.1:%d' % self.port, '256'],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 5
        import socket
        while time.time() < deadline:
            try:
                socket.create_connection(('127.0.0.1', self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError('smtp-sink did not start')

    @property
    def address(self):
        return '127.0.0.1:%d' % self.port

    def stop(self):
        self.proc.kill()
        self.proc.wait(5)
        self.proc.stderr.close()


def read_events(path):
    """The event log's complete lines, parsed. The engine appends while the
    test reads, so the last line may still be on its way: a line without
    its newline is left for the next read."""
    import json
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.endswith('\n') and line.strip()]


def wait_events(path, pred, n=1, deadline=15.0):
    end = time.time() + deadline
    got = []
    while time.time() < end:
        got = [e for e in read_events(path) if pred(e)]
        if len(got) >= n:
            return got
        time.sleep(0.05)
    raise AssertionError('wanted %d matching events, have %d: %r' % (n, len(got), read_events(path)[-5:]))
