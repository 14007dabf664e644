"""Spool inspection for the integration tests: ringmta-spool's listing
and message dump, and the segment files themselves (format:
spool/record.h, layout: spool/layout.h). harness.py re-exports all of it.

    ids = spool_ids(eng.spool)                        # messages not yet final
    envelope, content = split_listing(spool_message(eng.spool, ids[0]))
    for shard, number, path in segment_files(eng.spool): ...
"""

import os
import re
import struct
import subprocess

from engine_process import TOOL_DEADLINE, spool_tool

QUEUE_ID_RE = re.compile(r'^([0-9A-Fa-f]{16})\b')


def run_spool_tool(spool, *args, deadline=TOOL_DEADLINE, check=True):
    """Runs ringmta-spool SPOOL [ARGS...]; returns (returncode, stdout bytes, stderr text)."""
    cmd = [spool_tool(), spool] + list(args)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=deadline)
    if check and p.returncode != 0:
        raise AssertionError('%s exited with %d\nstdout: %s\nstderr: %s'
                             % (' '.join(cmd), p.returncode, p.stdout[-2000:].decode('utf-8', 'replace'),
                                p.stderr.decode('utf-8', 'replace')))
    return p.returncode, p.stdout, p.stderr.decode('utf-8', 'replace')


def parse_ids(listing):
    """Queue ids from a ringmta-spool listing: lines that start with 16 hex digits."""
    if isinstance(listing, bytes):
        listing = listing.decode('utf-8', 'replace')
    ids = []
    for line in listing.splitlines():
        m = QUEUE_ID_RE.match(line)
        if m:
            ids.append(m.group(1))
    return ids


def spool_ids(spool):
    """The queue ids ringmta-spool lists (messages not yet final)."""
    _, out, _ = run_spool_tool(spool)
    return parse_ids(out)


def spool_message(spool, queue_id):
    """ringmta-spool SPOOL ID: the envelope and content, as bytes."""
    _, out, _ = run_spool_tool(spool, queue_id)
    return out


def split_listing(listing):
    """`ringmta-spool DIR ID` output -> (envelope bytes, content bytes): the
    tool prints the envelope as "key: value" lines, a blank line, then the
    content (trace headers + body) as stored."""
    end = listing.find(b'\n\n')
    if end < 0:
        return listing, b''
    return listing[:end + 1], listing[end + 2:]


RECORD_HEADER = 12  # u32 payload length, u8 type, u8 version, u16 reserved, u32 crc32c


def segment_files(spool):
    """Every SPOOL/shard-N/seg-*.log as (shard, segment number, path), oldest first per shard."""
    out = []
    for name in sorted(os.listdir(spool)):
        m = re.match(r'^shard-(\d+)$', name)
        if not m:
            continue
        d = os.path.join(spool, name)
        for seg in sorted(os.listdir(d)):
            sm = re.match(r'^seg-([0-9A-Fa-f]{16})\.log$', seg)
            if sm:
                out.append((int(m.group(1)), int(sm.group(1), 16), os.path.join(d, seg)))
    return out


def segment_records(path):
    """(offset, total size) of each record before the end of data: a zero
    header, the file's end, or a record that runs past it. Checksums are not
    verified here."""
    with open(path, 'rb') as f:
        data = f.read()
    out = []
    off = 0
    while off + RECORD_HEADER <= len(data):
        length, rtype = struct.unpack_from('<IB', data, off)
        if length == 0 and rtype == 0:
            break
        if off + RECORD_HEADER + length > len(data):
            break
        out.append((off, RECORD_HEADER + length))
        off += RECORD_HEADER + length
    return out


def segment_data_end(path):
    recs = segment_records(path)
    return recs[-1][0] + recs[-1][1] if recs else 0
