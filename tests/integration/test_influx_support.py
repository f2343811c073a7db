"""Helpers of the InfluxDB integration tests (not a test itself): a real InfluxDB 1.6 on a
loopback port with a throw-away data directory (docs/formats.md), a scenario CSV
with clear spikes, and ctmon replay runs."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

COUNTERS = ["tcp_conntrack_fwd_new", "udp_conntrack_fwd_new", "tcp_conntrack_input_new",
            "tcp_conntrack_fwd_invalid", "tcp_conntrack_fwd_established", "udp_conntrack_input_new"]
T0 = 1_700_000_000  # 2023-11-14, a multiple of 10 s
INTERVAL_S = 5


def ctmon():
    return os.environ.get("CTMON") or shutil.which("ctmon")


def scenario_rows(hours, spikes, seed=1):
    """Rows (timestamp, cumulative...) every 5 s. `spikes`: (start_s, duration_s, counter, factor)
    relative to T0. The detectors warm up for 600 s (AnalyzerConfig::network), so spikes start
    well after that."""
    rng = random.Random(seed)
    base = [40.0, 25.0, 8.0, 2.0, 300.0, 5.0]
    cum = [1000] * len(COUNTERS)
    rows = []
    for i in range(int(hours * 3600 / INTERVAL_S)):
        t = i * INTERVAL_S
        for c, b in enumerate(base):
            pps = max(0.0, rng.gauss(b, b ** 0.5))
            for start, duration, name, factor in spikes:
                if COUNTERS[c] == name and start <= t < start + duration:
                    pps *= factor
            cum[c] += int(round(pps * INTERVAL_S))
        rows.append((T0 + t, list(cum)))
    return rows


def csv_text(rows, header=True):
    out = ["timestamp," + ",".join(COUNTERS)] if header else []
    out += [f"{t}," + ",".join(str(v) for v in vals) for t, vals in rows]
    return "\n".join(out) + "\n"


class InfluxD:
    """`influxd run` as the current user on 127.0.0.1:0; the port is read from its log. With
    `netns`, inside that network namespace (on its loopback), and asked over HTTP from there."""

    def __init__(self, data_dir=None, netns=None):
        self.dir = data_dir or tempfile.mkdtemp(prefix="ctmon-influxd-")
        self.netns = netns
        self.proc = None
        self.port = None

    def start(self):
        conf = os.path.join(self.dir, "empty.conf")
        open(conf, "w").close()
        env = dict(os.environ,
                   INFLUXDB_BIND_ADDRESS="127.0.0.1:0", INFLUXDB_HTTP_BIND_ADDRESS="127.0.0.1:0",
                   INFLUXDB_META_DIR=f"{self.dir}/meta", INFLUXDB_DATA_DIR=f"{self.dir}/data",
                   INFLUXDB_DATA_WAL_DIR=f"{self.dir}/wal", INFLUXDB_MONITOR_STORE_ENABLED="false",
                   INFLUXDB_HTTP_LOG_ENABLED="false")
        self.log_path = os.path.join(self.dir, f"log.{time.time_ns()}")
        self.log = open(self.log_path, "w")
        cmd = ["influxd", "run", "-config", conf]
        if os.geteuid() == 0:  # influxd has no reason to run as root; the data dir must be nobody's
            shutil.chown(self.dir, "nobody")
            for root, dirs, files in os.walk(self.dir):
                for n in dirs + files:
                    shutil.chown(os.path.join(root, n), "nobody")
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + cmd
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            m = re.search(r'msg="Listening on HTTP".*addr=127\.0\.0\.1:(\d+)', self.log_text())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise RuntimeError("influxd exited: " + self.log_text()[-2000:])
            time.sleep(0.05)
        else:
            raise RuntimeError("influxd did not listen within 20 s")
        while time.time() < deadline:
            try:
                self._request("/ping")
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("influxd did not answer /ping")

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def _request(self, path, data=None):
        """GET `path`, or POST `data`; the body of the answer."""
        if not self.netns:
            with urllib.request.urlopen(urllib.request.Request(self.url + path, data=data), timeout=10) as r:
                return r.read()
        # The namespace's loopback is out of this process's reach: curl runs inside it.
        post = ["--data-binary", "@-"] if data is not None else []
        r = subprocess.run(["ip", "netns", "exec", self.netns, "curl", "-sSf", "--max-time", "10", *post,
                            self.url + path], input=data, capture_output=True, timeout=20)
        if r.returncode != 0:
            raise OSError(f"curl {path} in {self.netns}: {r.stderr.decode(errors='replace').strip()}")
        return r.stdout

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def query(self, q, db=None):
        params = {"q": q, "epoch": "ms"}
        if db:
            params["db"] = db
        return json.loads(self._request("/query", urllib.parse.urlencode(params).encode()))

    def create_db(self, name):
        self.query(f'CREATE DATABASE "{name}"')

    def points(self, db, measurement):
        """Every point of `measurement` as dicts (tags and fields by column name, time in ms)."""
        res = self.query(f'SELECT * FROM "{measurement}"', db)["results"][0]
        out = []
        for s in res.get("series", []):
            for row in s["values"]:
                out.append({k: v for k, v in zip(s["columns"], row) if v is not None})
        return out


def replay(csv_path, db, influx_url=None, influx_db="ctmon", extra=(), timeout=300):
    """Runs `ctmon replay --json --db` (with forwarding when influx_url); returns the process
    result and the episodes it printed."""
    cmd = [ctmon(), "replay", "--input", csv_path, "--json", "--db", db, "--host", "router-a"]
    if influx_url:
        cmd += ["--influx-url", influx_url, "--influx-db", influx_db]
    cmd += list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    episodes = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    return r, episodes
