"""Throw-away network namespaces for ctmon's integration tests.

A LAN client, a router and a WAN server joined by veth pairs, with IPv4 forwarding on the
router: the smallest network in which every hook (input, output, forward) sees real traffic.
Everything lives in namespaces this module creates and deletes; no packet leaves them.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, which has python3-scapy; not a pyenv shim
TRAFFIC = os.path.join(HERE, "traffic.py")

LAN_IP, ROUTER_LAN_IP = "10.199.1.2", "10.199.1.1"
WAN_IP, ROUTER_WAN_IP = "10.199.2.2", "10.199.2.1"


def ctmon_binary():
    path = os.environ.get("CTMON")
    if not path or not os.access(path, os.X_OK):
        sys.exit("CTMON must name the built ctmon binary (ctest sets it)")
    return path


def sh(*args, check=True, **kw):
    """Runs a command; on failure the exception says what it printed, not just its status."""
    proc = subprocess.run(list(args), check=False, text=True, capture_output=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {proc.returncode}: "
                             f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc


class Topology:
    """lan (10.199.1.2) -- (10.199.1.1) router (10.199.2.1) -- (10.199.2.2) wan"""

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.lan, self.router, self.wan = (f"ctm{tag}{n}" for n in ("lan", "rtr", "wan"))
        self.background = []

    def __enter__(self):
        try:
            self._build()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _build(self):
        for ns in (self.lan, self.router, self.wan):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", self.lan, "link", "add", "eth0", "type", "veth", "peer", "name", "lan0",
           "netns", self.router)
        sh("ip", "-n", self.wan, "link", "add", "eth0", "type", "veth", "peer", "name", "wan0",
           "netns", self.router)
        for ns, dev, addr in ((self.lan, "eth0", LAN_IP), (self.router, "lan0", ROUTER_LAN_IP),
                              (self.router, "wan0", ROUTER_WAN_IP), (self.wan, "eth0", WAN_IP)):
            sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", self.lan, "route", "add", "default", "via", ROUTER_LAN_IP)
        sh("ip", "-n", self.wan, "route", "add", "default", "via", ROUTER_WAN_IP)
        self.run(self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    def __exit__(self, *exc):
        for proc in self.background:
            proc.kill()
            proc.wait()
            if proc.stdout:
                proc.stdout.close()
        for ns in (self.lan, self.router, self.wan):
            sh("ip", "netns", "del", ns, check=False)

    def run(self, ns, *cmd, check=True, **kw):
        return sh("ip", "netns", "exec", ns, *cmd, check=check, **kw)

    def spawn(self, ns, *cmd, **kw):
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], text=True, **kw)
        self.background.append(proc)
        return proc

    def traffic(self, ns, *args):
        """Runs tests/integration/traffic.py inside `ns` and waits for it."""
        return self.run(ns, SYSTEM_PYTHON, TRAFFIC, *args)

    def serve(self, ns, kind, port):
        """Starts an echo server (kind tcp or udp) in `ns` and waits until it listens."""
        proc = self.spawn(ns, SYSTEM_PYTHON, TRAFFIC, f"serve-{kind}", str(port),
                          stdout=subprocess.PIPE)
        if proc.stdout.readline().strip() != "listening":
            raise RuntimeError(f"{kind} echo server in {ns} did not start")
        return proc

    def nft_counters(self, ns, table="ip conntrack_stats"):
        """{name: (packets, bytes)} as `nft -j list counters` reports them."""
        out = json.loads(self.run(ns, "nft", "-j", "list", "counters", "table",
                                  *table.split()).stdout)
        return {o["counter"]["name"]: (o["counter"]["packets"], o["counter"]["bytes"])
                for o in out["nftables"] if "counter" in o}


def ctmon_counters(topo, ns, *extra):
    """{name: (packets, bytes)} as `ctmon sample --json` reports them."""
    out = json.loads(topo.run(ns, ctmon_binary(), "sample", "--json", *extra).stdout)
    return {c["name"]: (c["packets"], c["bytes"]) for c in out["counters"]}


def wait_for(predicate, timeout_s=10.0, what="condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


class Daemon:
    """`ctmon run` in namespace `ns` of `topo` on database `db`, with its pid file and status socket
    beside the database (db + ".status", db + ".sock") and its log in a file. Conntrack health is
    off unless `conntrack_health`: the tests written before it compare the stored counters with
    the table's exactly, and its counters are test_conntrack_health_netns.py's to check."""

    def __init__(self, topo, ns, db, *flags, log_path=None, conntrack_health=False):
        self.db = db
        self.log_path = log_path or db + ".log"
        self.log = open(self.log_path, "w")
        self.status_path = db + ".status"
        if not conntrack_health:
            flags = ("--no-conntrack-health", *flags)
        # Probes off unless the test names its own: the tests compare exact counter sets.
        if not any(f == "--probe" or f.startswith("--probe=") for f in flags):
            flags = ("--probe", "off", *flags)
        self.proc = topo.spawn(ns, ctmon_binary(), "run", "--db", db, "--status-file", self.status_path, *flags,
                               stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        self.log.close()
        return rc

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, fragment, timeout_s=10):
        wait_for(lambda: fragment in self.text(), timeout_s, f"log line {fragment!r}")

    def status(self, *flags, db=None):
        """`ctmon status --json` about this daemon: (exit code, the JSON object, stderr)."""
        p = subprocess.run([ctmon_binary(), "status", "--db", db or self.db, "--status-file", self.status_path,
                            "--json", *flags], capture_output=True, text=True, timeout=60)
        return p.returncode, json.loads(p.stdout), p.stderr

    def wait_healthy(self, timeout_s=15):
        """Until `ctmon status` says healthy (the daemon answers and has sampled)."""
        wait_for(lambda: self.proc.poll() is None and self.status()[0] == 0, timeout_s, "a healthy status")


class NetnsTestCase(unittest.TestCase):
    """A fresh Topology and temporary folder per test; daemon() starts `ctmon run` in the router,
    killed at the end of the test if it still runs."""

    def setUp(self):
        self.topo = Topology().__enter__()
        self.addCleanup(self.topo.__exit__, None, None, None)
        self.dir = tempfile.mkdtemp(prefix="ctmon-netns-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.db = os.path.join(self.dir, "ctmon.db")

    def daemon(self, *flags, db=None, log_path=None, conntrack_health=False):
        d = Daemon(self.topo, self.topo.router, db or self.db, *flags, log_path=log_path,
                   conntrack_health=conntrack_health)
        self.addCleanup(lambda: d.proc.poll() is not None or d.stop(signal.SIGKILL))
        return d

    def learn_a_quiet_router(self):
        """Detectors that learned already (24 minutes of a router as quiet as this namespace, in
        self.db), so that a burst opens an episode within seconds of the daemon's start; and the
        WAN server's TCP port 8080 for burst_until_open."""
        scenario = os.path.join(self.dir, "learned.csv")
        sh(SYSTEM_PYTHON, os.path.join(HERE, "make_scenario.py"), scenario, "--hours", "0.4", "--scale", "0.01")
        sh(ctmon_binary(), "replay", "--input", scenario, "--db", self.db)
        self.topo.serve(self.topo.wan, "tcp", 8080)

    def burst_until_open(self, d, port="8080"):
        """Bursts of new TCP connections from the LAN client to the WAN server's `port` (which the
        test serves) until `d` logs an opened episode, for at most 30 s."""
        t = self.topo
        deadline = time.monotonic() + 30
        while "episode opened" not in d.text() and time.monotonic() < deadline:
            t.traffic(t.lan, "tcp", WAN_IP, port, "200")
        self.assertIn("episode opened", d.text(), "no episode from the burst")

    def assert_sampling_undisturbed(self, since_s, interval_s, while_what):
        """Every sample since `since_s` (Unix seconds) was taken: no step over 3 intervals."""
        from test_daemon_netns import read_csv  # it imports this module
        _, rows = read_csv(self.db)
        times = [ts for ts, _ in rows if ts >= since_s]
        self.assertGreater(len(times), 5)
        steps = [b - a for a, b in zip(times, times[1:])]
        self.assertLess(max(steps), 3 * interval_s, f"a sample is missing while {while_what}")
