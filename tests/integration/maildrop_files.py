"""Writes maildrop files (spool/maildrop.h's format) the way ringmta-sendmail
and ringmta-ctl import-postfix-queue do: under a "." name, then renamed, so
the pickup only ever sees whole files."""

import os
import time

_seq = [0]


def maildrop_bytes(sender, rcpts, content, arrival_us=None, origin=None):
    head = ['ringmta-maildrop 1', ('sender ' + sender) if sender else 'sender']
    head += ['rcpt ' + r for r in rcpts]
    if arrival_us is not None:
        head.append('arrival %d' % arrival_us)
    if origin:
        head.append('origin ' + origin)
    if isinstance(content, str):
        content = content.encode()
    return ('\n'.join(head) + '\n\n').encode() + content


def write_maildrop(directory, sender, rcpts, content, arrival_us=None, origin=None, raw=None):
    """Leaves one file in directory; returns its name. raw: the exact bytes."""
    _seq[0] += 1
    name = '%d.%d.%d' % (time.time() * 1e6, os.getpid(), _seq[0])
    data = raw if raw is not None else maildrop_bytes(sender, rcpts, content, arrival_us, origin)
    tmp = os.path.join(directory, '.' + name)
    with open(tmp, 'wb') as f:
        f.write(data)
    os.rename(tmp, os.path.join(directory, name))
    return name
