"""SMTP helpers for the integration tests: the queue id in a 250 reply, a
batch sent with smtplib, and SmtpConn, a raw client for what smtplib will
not send (pipelined batches, bare LFs, BDAT, over-long lines). harness.py
re-exports all of it.

    with SmtpConn(eng.host, eng.port) as c:
        c.reply()                        # (220, [...])
        code, lines = c.cmd('EHLO client.example.test')
"""

import re
import socket
import time

QUEUED_AS_RE = re.compile(r'queued as ([0-9A-Fa-f]{16})\s*$')


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
