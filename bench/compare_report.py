#!/usr/bin/python3
"""Helpers for bench/compare (stdlib only; Debian's /usr/bin/python3).

    compare_report.py count SINK_LOG              smtp-sink -c counter now
    compare_report.py watch SINK_LOG PID WANT SECONDS
        follow smtp-sink's -c counter; print "done EPOCH" once it reaches
        WANT, "timeout COUNT" after SECONDS, "died COUNT" if PID exits first
    compare_report.py rss (--cgroup PROCS_FILE | --tree PID)
        sample every 100 ms until SIGTERM, then print "RSS_KB HWM_KB PSS_KB":
        the peaks over the samples of the processes' summed VmRSS, VmHWM
        (one process: its exact peak) and Pss (shared pages split among
        the processes that map them: a fair sum over many processes)
    compare_report.py p99 SMTPBLAST_JSON          p99 latency in us, or n/a
    compare_report.py report DIR                  DIR/runs.tsv + DIR/meta ->
        DIR/results.md, DIR/results.json, DIR/results.png (gnuplot)
"""

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time

TARGETS = ('direct', 'ringmta', 'postfix')
FIELDS = ('scenario', 'generator', 'target', 'messages', 'seconds', 'inject_seconds',
          'cpu_ns', 'rss_kb', 'cgroup_peak_bytes', 'p99_us', 'status')
MESG = re.compile(rb'mesg=(\d+)')


def sink_count(data):
    """The last complete mesg=N record in smtp-sink -c output (records end in CR)."""
    recs = data.split(b'\r')
    recs.pop()  # not yet complete
    for rec in reversed(recs):
        m = MESG.search(rec)
        if m:
            return int(m.group(1))
    return None


def cmd_count(path):
    with open(path, 'rb') as f:
        n = sink_count(f.read())
    print(n or 0)


def cmd_watch(path, pid, want, limit):
    pid, want, end = int(pid), int(want), time.time() + float(limit)
    count, tail = 0, b''
    with open(path, 'rb') as f:
        while True:
            data = f.read()
            if data:
                buf = tail + data
                cut = buf.rfind(b'\r')
                if cut >= 0:
                    n = sink_count(buf[:cut + 1])
                    if n is not None:
                        count = n
                    tail = buf[cut + 1:]
                else:
                    tail = buf
                if count >= want:
                    print('done %.6f' % time.time(), flush=True)
                    return
            if time.time() > end:
                print('timeout %d' % count, flush=True)
                return
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                print('died %d' % count, flush=True)
                return
            time.sleep(0.005)


def _status_kb(pid):
    rss = hwm = pss = 0
    try:
        with open('/proc/%s/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    rss = int(line.split()[1])
                elif line.startswith('VmHWM:'):
                    hwm = int(line.split()[1])
        with open('/proc/%s/smaps_rollup' % pid) as f:
            for line in f:
                if line.startswith('Pss:'):
                    pss = int(line.split()[1])
                    break
    except (OSError, ValueError):
        pass
    return rss, hwm, pss


def _tree(root):
    """root and all its descendants (from /proc/*/stat's PPid)."""
    children = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/%s/stat' % d) as f:
                    ppid = f.read().rsplit(')', 1)[1].split()[1]
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(d)
    out, todo = [], [str(root)]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cmd_rss(kind, what):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    peak = [0, 0, 0]  # summed VmRSS, VmHWM, Pss
    while True:
        if kind == '--cgroup':
            try:
                with open(what) as f:
                    pids = f.read().split()
            except OSError:
                pids = []
        else:
            pids = _tree(what)
        now = [0, 0, 0]
        for p in pids:
            now = [a + b for a, b in zip(now, _status_kb(p))]
        peak = [max(a, b) for a, b in zip(peak, now)]
        if stop:
            break
        time.sleep(0.1)  # a signal cuts the sleep short; one more sample follows
    print(*peak, flush=True)


def cmd_p99(path):
    try:
        with open(path) as f:
            print(json.load(f)['latency_us']['p99'])
    except (OSError, ValueError, KeyError):
        print('n/a')


# ---- report ---------------------------------------------------------------

def read_meta(d):
    meta = {}
    with open(os.path.join(d, 'meta')) as f:
        for line in f:
            k, _, v = line.rstrip('\n').partition('=')
            if k:
                meta[k] = v
    return meta


def read_runs(d):
    runs = []
    with open(os.path.join(d, 'runs.tsv')) as f:
        for line in f:
            parts = line.rstrip('\n').split('\t')
            if len(parts) == len(FIELDS):
                runs.append(dict(zip(FIELDS, parts)))
    return runs


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def enrich(runs):
    """Adds rate, ratio to the direct run of the same scenario and generator, CPU, RSS."""
    direct = {}
    for r in runs:
        secs = num(r['seconds'])
        r['ok'] = r['status'] == 'ok' and bool(secs)
        r['rate'] = int(r['messages']) / secs if r['ok'] else None
        if r['target'] == 'direct' and r['ok']:
            direct[(r['scenario'], r['generator'])] = r['rate']
    for r in runs:
        d = direct.get((r['scenario'], r['generator']))
        r['ratio'] = r['rate'] / d if r['rate'] and d else None
        cpu = num(r['cpu_ns'])
        r['cpu_us_per_msg'] = cpu / 1e3 / int(r['messages']) if cpu is not None and r['ok'] else None
        rss = num(r['rss_kb'])
        r['rss_mib'] = rss / 1024 if rss else None
        cg = num(r['cgroup_peak_bytes'])
        r['cgroup_peak_mib'] = cg / 2**20 if cg else None
        p99 = num(r['p99_us'])
        r['p99_ms'] = p99 / 1e3 if p99 is not None else None
    return runs


def fmt(v, spec, none='—'):
    return none if v is None else format(v, spec)


def table(runs):
    head = ('| scenario | generator | target | messages | seconds | msg/s | × direct '
            '| CPU µs/msg | peak RSS MiB | cgroup peak MiB | p99 inject ms |')
    lines = [head, '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|']
    for r in runs:
        p99 = fmt(r['p99_ms'], '.2f') if r['generator'] == 'smtpblast' else 'n/a'
        status = '' if r['ok'] else ' **%s**' % r['status']
        lines.append('| %s | %s | %s | %s | %s | %s%s | %s | %s | %s | %s | %s |' % (
            r['scenario'], r['generator'], r['target'], r['messages'],
            fmt(num(r['seconds']), '.2f'), fmt(r['rate'], ',.0f'), status,
            fmt(r['ratio'], '.2f'), fmt(r['cpu_us_per_msg'], ',.0f'),
            fmt(r['rss_mib'], '.1f'), fmt(r['cgroup_peak_mib'], '.1f'), p99))
    return '\n'.join(lines)


def plot(d, runs, meta):
    gnuplot = shutil.which('gnuplot')
    if not gnuplot:
        return 'gnuplot missing (apt-get install gnuplot-nox): no results.png'
    groups = []
    for r in runs:
        g = (r['scenario'], r['generator'])
        if g not in groups:
            groups.append(g)
    rate = {(r['scenario'], r['generator'], r['target']): r['rate'] for r in runs}
    dat = os.path.join(d, 'results.dat')
    ymax, ymin = 1, None
    with open(dat, 'w') as f:
        f.write('# x value target label\n')
        for gi, (scen, gen) in enumerate(groups):
            for ti, t in enumerate(TARGETS):
                v = rate.get((scen, gen, t))
                if v:
                    ymax = max(ymax, v)
                    ymin = v if ymin is None else min(ymin, v)
                    f.write('%d %.1f %d "%s"\n' % (gi * 4 + ti, v, ti, '{:,.0f}'.format(v)))
    # One bar per target in each group; log scale since Postfix is ~10-50x
    # below the others and would vanish on a linear axis.
    tics = ', '.join('"%s\\n%s" %d' % (s.replace('x', '×'), g, gi * 4 + 1)
                     for gi, (s, g) in enumerate(groups))
    colors = ('#7f7f7f', '#1f77b4', '#d62728')
    title = 'End to end msg/s (generator → MTA → sink); %s cores, load %s; %s' % (
        meta.get('nproc', '?'), (meta.get('load_start') or '?').split()[0], meta.get('date', ''))
    script = '\n'.join([
        'set terminal pngcairo size 1200,650 font "DejaVu Sans,11"',
        'set output "%s"' % os.path.join(d, 'results.png'),
        'set title "%s"' % title,
        'set ylabel "messages / s (log scale)"',
        'set logscale y',
        'set yrange [%g:%g]' % (10 ** math.floor(math.log10((ymin or 20) / 2)), ymax * 3),
        'set bmargin 5',
        'set xrange [-1:%d]' % (len(groups) * 4 - 1),
        'set xtics (%s) nomirror' % tics,
        'set grid ytics',
        'set key outside top center horizontal',
        'set style fill solid 0.85 border -1',
        'set boxwidth 0.9',
        'plot ' + ', '.join(
            '"%s" using ($3==%d?$1:1/0):2 with boxes lc rgb "%s" title "%s"'
            % (dat, ti, colors[ti], t) for ti, t in enumerate(TARGETS)) +
        ', "%s" using 1:2:4 with labels offset 0,0.7 font ",9" notitle' % dat,
    ])
    with open(os.path.join(d, 'results.gp'), 'w') as f:
        f.write(script + '\n')
    p = subprocess.run([gnuplot, os.path.join(d, 'results.gp')], capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        return 'gnuplot failed: %s' % p.stderr.strip()
    return None


def busy_note(meta):
    try:
        load = float(meta.get('load_start', '').split()[0])
        cores = float(meta.get('nproc') or 1)
    except (ValueError, IndexError):
        return ''
    if load <= 0.5 * cores:
        return ''
    return (' **Other work was running (load %.1f on %d cores): absolute rates are noisy; '
            'the ratios, measured side by side, are the figures to compare.**' % (load, cores))


def cmd_report(d):
    meta = read_meta(d)
    runs = enrich(read_runs(d))
    md = ['# ringmta vs Postfix vs the direct ceiling', '',
          'Machine: %s cores, %s; kernel %s; %s.' % (
              meta.get('nproc'), meta.get('model'), meta.get('kernel'), meta.get('date')),
          'Load average (1, 5, 15 min) at start: %s; at end: %s.%s' % (
              meta.get('load_start'), meta.get('load_end'), busy_note(meta)),
          'ringmta %s (built %s; repo at git %s when run), --shards %s, spool on %s; '
          'Postfix %s; sink: %s.' % (
              meta.get('ringmta'), meta.get('built'), meta.get('git'), meta.get('shards'),
              meta.get('spool_fs'),
              meta.get('postfix'), meta.get('sink')),
          'Mode: %s.' % meta.get('mode'), '',
          table(runs), '']
    notes = meta.get('notes', '').split('|')
    md += ['Notes:', ''] + ['- ' + n for n in notes if n] + ['']
    err = plot(d, runs, meta)
    if err:
        md += ['**%s**' % err, '']
    else:
        md += ['![msg/s](results.png)', '']
    with open(os.path.join(d, 'results.md'), 'w') as f:
        f.write('\n'.join(md))
    with open(os.path.join(d, 'results.json'), 'w') as f:
        json.dump({'meta': meta, 'runs': runs}, f, indent=1)
        f.write('\n')
    print('\n'.join(md))
    return 1 if err else 0


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == 'count' and len(args) == 1:
        cmd_count(*args)
    elif cmd == 'watch' and len(args) == 4:
        cmd_watch(*args)
    elif cmd == 'rss' and len(args) == 2 and args[0] in ('--cgroup', '--tree'):
        cmd_rss(*args)
    elif cmd == 'p99' and len(args) == 1:
        cmd_p99(*args)
    elif cmd == 'report' and len(args) == 1:
        return cmd_report(*args)
    else:
        sys.exit(__doc__)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
