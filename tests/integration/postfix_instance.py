"""A private Postfix for the import tests: its own config directory and
queue_directory under a test's tmp dir, listening on 127.0.0.1:PORT and
relaying everything to a closed port, so every message defers and stays in
deferred/ as a real queue file.

What running Postfix as root in this sandbox needs (found the hard way):
  - no syslog here: `postfix start` fails silently (its error goes to
    /dev/log); maillog_file=DIR/log makes Postfix log through postlogd (the
    `postlog` service of Debian's master.cf), and maillog_file_prefixes must
    name the directory, else `postfix: fatal: maillog_file value ... does not
    match any prefix in maillog_file_prefixes`;
  - inet_protocols=ipv4 and inet_interfaces=127.0.0.1 (no IPv6 needed);
  - compatibility_level=3.6 (silences the backwards-compatibility notices);
  - data_directory and queue_directory in the tmp dir (postfix-script creates
    and sets the queue's subdirectories and owners itself: mail_owner=postfix
    and setgid_group=postdrop exist once Debian's postfix is installed);
  - alias_maps= alias_database= mydestination= : nothing local, no aliases.db;
  - the smtpd service's name in master.cf is the listen address
    (127.0.0.1:PORT), replacing `smtp inet`.
"""

import os
import shutil
import subprocess
import time

from engine_process import free_port, require_tool

POSTFIX = '/usr/sbin/postfix'
POSTCONF = '/usr/sbin/postconf'
POSTQUEUE = '/usr/sbin/postqueue'
QUEUES = ('incoming', 'active', 'deferred', 'hold')


def postconf(config_dir, *settings):
    subprocess.run([POSTCONF, '-c', config_dir, '-e'] + list(settings), check=True)


def base_config(config_dir):
    """A config dir with main.cf (the system's, else empty) and master.cf."""
    require_tool(POSTCONF, 'postfix')
    os.makedirs(config_dir, exist_ok=True)
    for name in ('main.cf', 'master.cf', 'dynamicmaps.cf'):
        src = os.path.join('/etc/postfix', name)
        if os.path.exists(src):
            shutil.copy(src, config_dir)
    for name in ('main.cf', 'master.cf'):
        path = os.path.join(config_dir, name)
        if not os.path.exists(path):
            proto = os.path.join('/etc/postfix', name + '.proto')
            if name == 'master.cf' and os.path.exists(proto):
                shutil.copy(proto, path)
            else:
                open(path, 'w').close()


class PrivatePostfix:
    def __init__(self, root, relay_port=None):
        require_tool(POSTFIX, 'postfix')
        self.root = root
        self.config_dir = os.path.join(root, 'etc')
        self.queue_dir = os.path.join(root, 'queue')
        self.log_path = os.path.join(root, 'maillog')
        self.port = free_port()
        self.relay_port = relay_port or free_port()  # nothing listens there: mail defers
        base_config(self.config_dir)
        os.makedirs(self.queue_dir, exist_ok=True)  # postfix start chdirs into it first
        postconf(self.config_dir,
                 'queue_directory=' + self.queue_dir,
                 'data_directory=' + os.path.join(root, 'data'),
                 'maillog_file=' + self.log_path,
                 'maillog_file_prefixes=' + root,
                 'inet_interfaces=127.0.0.1', 'inet_protocols=ipv4', 'compatibility_level=3.6',
                 'myhostname=postfix.ringmta.test', 'mydestination=', 'alias_maps=', 'alias_database=',
                 'mynetworks=127.0.0.0/8', 'smtpd_relay_restrictions=permit_mynetworks,reject',
                 'relayhost=[127.0.0.1]:%d' % self.relay_port,
                 # Many messages at once (the bench): no per-client limits.
                 'smtpd_client_connection_rate_limit=0', 'smtpd_client_message_rate_limit=0',
                 'default_process_limit=20')
        master = os.path.join(self.config_dir, 'master.cf')
        with open(master) as f:
            lines = f.read().split('\n')
        out = []
        for line in lines:
            if line.startswith('smtp ') and ' inet ' in line:
                line = '127.0.0.1:%d' % self.port + line[len('smtp'):]
            out.append(line)
        with open(master, 'w') as f:
            f.write('\n'.join(out))
        self.running = False

    def start(self):
        r = subprocess.run([POSTFIX, '-c', self.config_dir, 'start'], capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError('postfix start failed (rc %d): %s %s\nmaillog:\n%s'
                                 % (r.returncode, r.stdout, r.stderr, self.log()))
        self.running = True
        end = time.monotonic() + 20
        import socket
        while time.monotonic() < end:
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError('postfix did not listen on %d:\n%s' % (self.port, self.log()))

    def stop(self):
        if not self.running:
            return
        subprocess.run([POSTFIX, '-c', self.config_dir, 'stop'], capture_output=True)
        pid_file = os.path.join(self.queue_dir, 'pid', 'master.pid')
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                with open(pid_file) as f:
                    pid = int(f.read().strip())
                os.kill(pid, 0)
            except (OSError, ValueError):
                break
            time.sleep(0.2)
        self.running = False

    def log(self):
        try:
            with open(self.log_path, errors='replace') as f:
                return f.read()[-5000:]
        except OSError:
            return '(no maillog)'

    def queue_files(self, queues=QUEUES):
        found = []
        for q in queues:
            for dirpath, _, names in os.walk(os.path.join(self.queue_dir, q)):
                found += [os.path.join(dirpath, n) for n in names]
        return found

    def postqueue(self):
        return subprocess.run([POSTQUEUE, '-c', self.config_dir, '-p'], capture_output=True, text=True).stdout

    def wait_deferred(self, n, deadline=60):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if len(self.queue_files(('deferred',))) >= n and not self.queue_files(('incoming', 'active')):
                return
            time.sleep(0.3)
        raise AssertionError('%d messages not deferred after %d s: %d deferred\n%s\n%s'
                             % (n, deadline, len(self.queue_files(('deferred',))), self.postqueue(), self.log()))
