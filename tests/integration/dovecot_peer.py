"""Dovecot's LMTP server (Debian dovecot-lmtpd) as a test peer: a private
instance with its own config, users and maildirs under a test directory,
listening on a loopback port and a unix socket.

    dv = Dovecot(tmpdir, users={'alice': None, 'full': '*:storage=1'})
    dv.port, dv.socket_path
    dv.messages('alice')   # the files in alice's Maildir/new, as bytes

A user with a quota rule like '*:storage=1' (1 KiB) is over quota for any
real message; Dovecot then answers 452 4.2.2 after the data
(quota_full_tempfail), the temporary failure an MTA must defer. A user
not listed gets 550 5.1.1 at RCPT TO."""

import os
import signal
import socket
import subprocess
import time

from engine_process import free_port, require_tool

DOVECOT = '/usr/sbin/dovecot'
UID = 65534  # nobody: Dovecot delivers as the user's uid, never as root


class Dovecot:

    def __init__(self, directory, users, host='127.0.0.1'):
        require_tool(DOVECOT, 'dovecot-lmtpd')
        require_tool('/usr/lib/dovecot/lmtp', 'dovecot-lmtpd')
        self.dir = os.path.join(directory, 'dovecot')
        os.makedirs(os.path.join(self.dir, 'run'))
        os.makedirs(os.path.join(self.dir, 'state'))
        os.chmod(self.dir, 0o755)
        self.host = host
        self.port = free_port(host)
        self.socket_path = os.path.join(self.dir, 'lmtp.sock')
        self.log_path = os.path.join(self.dir, 'dovecot.log')
        lines = []
        for user, quota in users.items():
            home = self.home(user)
            os.makedirs(home)
            os.chown(home, UID, UID)
            extra = '::userdb_quota_rule=%s' % quota if quota else ''
            lines.append('%s:{PLAIN}unused:%d:%d::%s%s' % (user, UID, UID, home, extra))
        with open(os.path.join(self.dir, 'users'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        self.conf = os.path.join(self.dir, 'dovecot.conf')
        with open(self.conf, 'w') as f:
            f.write(CONFIG % {'dir': self.dir, 'host': host, 'port': self.port, 'socket': self.socket_path})
        # It daemonizes: its children keep stdout, so no pipes (they would
        # never close); errors go to the log and stderr's file.
        err_path = os.path.join(self.dir, 'start.err')
        with open(err_path, 'wb') as err:
            rc = subprocess.call([DOVECOT, '-c', self.conf], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=err, timeout=30)
        if rc != 0:
            with open(err_path, errors='replace') as f:
                raise AssertionError('dovecot -c %s exited with %d: %s' % (self.conf, rc, f.read()))
        self._wait_listening()

    def home(self, user):
        return os.path.join(self.dir, 'home', user)

    def _wait_listening(self, deadline=15):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                if os.path.exists(self.socket_path):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError('dovecot did not listen on %s:%d within %d s; its log:\n%s'
                             % (self.host, self.port, deadline, self.log()))

    def log(self):
        try:
            with open(self.log_path, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def messages(self, user):
        new = os.path.join(self.home(user), 'Maildir', 'new')
        if not os.path.isdir(new):
            return []
        out = []
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), 'rb') as f:
                out.append(f.read())
        return out

    def wait_messages(self, user, n, deadline=20):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            got = self.messages(user)
            if len(got) >= n:
                return got
            time.sleep(0.1)
        raise AssertionError('%s has %d messages in its maildir, wanted %d; dovecot log:\n%s'
                             % (user, len(self.messages(user)), n, self.log()[-3000:]))

    def stop(self):
        pid_file = os.path.join(self.dir, 'run', 'master.pid')
        try:
            with open(pid_file) as f:
                pid = int(f.read().strip())
            os.kill(pid, signal.SIGTERM)
            end = time.monotonic() + 10
            while time.monotonic() < end:
                os.kill(pid, 0)
                time.sleep(0.05)
        except (OSError, ValueError):
            pass


CONFIG = '''
protocols = lmtp
base_dir = %(dir)s/run
state_dir = %(dir)s/state
log_path = %(dir)s/dovecot.log
ssl = no
listen = %(host)s
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
auth_username_format = %%Ln
mail_location = maildir:~/Maildir
mail_plugins = quota
lmtp_rcpt_check_quota = no
quota_full_tempfail = yes
passdb {
  driver = passwd-file
  args = %(dir)s/users
}
userdb {
  driver = passwd-file
  args = %(dir)s/users
}
service lmtp {
  inet_listener lmtp {
    address = %(host)s
    port = %(port)d
  }
  unix_listener lmtp {
    path = %(socket)s
    mode = 0666
  }
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=100M
}
'''
