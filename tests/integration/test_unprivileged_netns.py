"""The privilege model of the systemd unit and the procd script, for real: a non-root user
holding only CAP_NET_ADMIN (ambient, as AmbientCapabilities= and procd's capabilities file
give it) loads the table, reads the counters and runs the daemon against a real kernel, and
the same user without the capability gets a clear one-line error."""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

from netns import WAN_IP, Topology, ctmon_binary, sh, wait_for

CAP_NET_ADMIN_BIT = 1 << 12
NOBODY = pwd.getpwnam("nobody")


def as_nobody(*caps):
    """setpriv arguments that drop to nobody:nogroup keeping only `caps` (ambient and bounding),
    with no_new_privs, as the unit's User=, AmbientCapabilities=, CapabilityBoundingSet= and
    NoNewPrivileges= do."""
    args = ["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}", "--clear-groups",
            "--no-new-privs"]
    if caps:
        wanted = ",".join(f"+{c}" for c in caps)
        args += [f"--inh-caps={wanted}", f"--ambient-caps={wanted}",
                 f"--bounding-set=-all,{wanted}"]
    else:
        args += ["--inh-caps=-all", "--bounding-set=-all"]
    return args + ["--"]


def process_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


class UnprivilegedWithCapNetAdmin(unittest.TestCase):
    def setUp(self):
        self.topo = Topology().__enter__()
        self.addCleanup(self.topo.__exit__, None, None, None)
        self.dir = tempfile.mkdtemp(prefix="ctmon-unpriv-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.chown(self.dir, NOBODY.pw_uid, NOBODY.pw_gid)
        os.chmod(self.dir, 0o750)

    def router(self, *cmd, caps=("net_admin",), check=True):
        return self.topo.run(self.topo.router, *as_nobody(*caps), ctmon_binary(), *cmd,
                             check=check)

    def test_without_the_capability_the_error_says_what_is_missing(self):
        t = self.topo
        t.run(t.router, ctmon_binary(), "rules", "install")
        proc = self.router("sample", caps=(), check=False)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("CAP_NET_ADMIN", proc.stderr)

    def test_installs_and_reads_the_table_like_root(self):
        t = self.topo
        self.router("rules", "install")
        t.serve(t.wan, "tcp", 8080)
        t.traffic(t.lan, "tcp", WAN_IP, "8080", "3")
        self.assertIn("tcp_conntrack_fwd_new", self.router("sample").stdout)
        check = self.router("rules", "check")
        self.assertEqual(check.returncode, 0, check.stderr)
        nft = t.nft_counters(t.router)
        self.assertGreaterEqual(nft["tcp_conntrack_fwd_new"][0], 3)

    def test_the_daemon_samples_as_nobody_with_only_cap_net_admin(self):
        """Also tells systemd (Type=notify) it is ready, pings the watchdog, says it stops."""
        t = self.topo
        db = os.path.join(self.dir, "ctmon.db")
        log_path = os.path.join(self.dir, "ctmon.log")
        t.serve(t.wan, "tcp", 8080)
        # systemd's end of $NOTIFY_SOCKET; a path, since an abstract name stays in its namespace.
        notify_path = os.path.join(self.dir, "notify.sock")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(notify.close)
        notify.bind(notify_path)
        notify.setblocking(False)
        os.chmod(notify_path, 0o666)
        messages = []

        def drain():
            """Reads what the daemon sent so far: a full queue would make it drop pings."""
            while True:
                try:
                    messages.append(notify.recv(4096).decode())
                except BlockingIOError:
                    return
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        with open(log_path, "w") as log:
            proc = t.spawn(t.router, *as_nobody("net_admin"), ctmon_binary(), "run",
                           "--db", db, "--status-file", os.path.join(self.dir, "ctmon.status"),
                           "--interval", "0.2s", "--commit-interval", "1s", "--probe", "off",
                           stdout=log, stderr=subprocess.STDOUT, env=env)

        def log_text():
            with open(log_path) as f:
                return f.read()

        wait_for(lambda: "sampling table" in log_text() or proc.poll() is not None, 10,
                 "the daemon to start sampling")
        self.assertIsNone(proc.poll(), log_text())
        # ip netns exec and setpriv each exec the next program: the daemon keeps their pid.
        status = process_status(proc.pid)
        self.assertEqual(status["Name"], "ctmon")
        self.assertEqual(status["Uid"].split()[0], str(NOBODY.pw_uid))
        for field in ("CapEff", "CapPrm", "CapAmb", "CapBnd"):
            self.assertEqual(int(status[field], 16), CAP_NET_ADMIN_BIT, field)

        def stored_rows():
            drain()
            proc = sh(ctmon_binary(), "series", "--db", db, "--csv", "--raw", check=False)
            return proc.stdout.splitlines() if proc.returncode == 0 else []

        for _ in range(3):
            t.traffic(t.lan, "tcp", WAN_IP, "8080", "2")
        # The commit interval is 1 s: samples reach the file while the daemon runs.
        wait_for(lambda: len(stored_rows()) > 5, 10, "samples committed by the daemon")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0, log_text())

        drain()
        self.assertEqual(messages[0], "READY=1", messages[:3])
        self.assertEqual(messages[-1], "STOPPING=1", messages[-3:])
        self.assertEqual(set(messages[1:-1]), {"WATCHDOG=1"})
        self.assertGreaterEqual(len(messages) - 2, 5, "one watchdog ping per sample")
        self.assertNotIn("NOTIFY_SOCKET", log_text())

        self.assertEqual(os.stat(db).st_uid, NOBODY.pw_uid)
        rows = stored_rows()
        self.assertIn("tcp_conntrack_fwd_new", rows[0])
        self.assertGreaterEqual(len(rows) - 1, 2, "the daemon stored no samples")
        column = rows[0].split(",").index("tcp_conntrack_fwd_new")
        self.assertGreaterEqual(int(rows[-1].split(",")[column]), 6)


if __name__ == "__main__":
    unittest.main(verbosity=2)
