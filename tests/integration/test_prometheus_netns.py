"""The Prometheus endpoint of a real `ctmon run` in a network namespace (root): scraped over the
router's loopback, its counters follow the traffic the test sends through the router and promtool
accepts what it serves; a port in use, a port below 1024 without the privilege or an address the
router does not have stops the start with one line and exit 1; clients that connect and send
nothing do not delay a sample."""
import re
import shutil
import subprocess
import unittest

from netns import SYSTEM_PYTHON, WAN_IP, NetnsTestCase, ctmon_binary, wait_for

INTERVAL_S = 0.2
PORT = 9101
LISTEN = f"127.0.0.1:{PORT}"
URL = f"http://{LISTEN}/metrics"

# Inside the router's namespace: opens N connections to the endpoint, says "connected", and holds
# them without sending a byte until killed (or the server closes them).
SILENT_CLIENTS = """
import socket, sys, time
held = []
for _ in range(int(sys.argv[1])):
    s = socket.create_connection(("127.0.0.1", %d), timeout=5)
    held.append(s)
print("connected", flush=True)
time.sleep(120)
""" % PORT

# Inside the router's namespace: listens on the port and says so, to be in the way.
SQUATTER = """
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", %d))
s.listen()
print("listening", flush=True)
time.sleep(120)
""" % PORT


def samples(text):
    """{'name{labels}': float} from an exposition text."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


class PrometheusEndpoint(NetnsTestCase):
    def start(self, *flags):
        d = self.daemon("--interval", str(INTERVAL_S), "--commit-interval", "1s", "--prometheus-listen", LISTEN,
                        *flags)
        d.wait_healthy()
        return d

    def scrape(self):
        """The body of GET /metrics, from inside the router's namespace."""
        p = self.topo.run(self.topo.router, "curl", "-sS", "--fail", "--max-time", "5", "-D", "-", URL)
        headers, _, body = p.stdout.partition("\n\n")  # text mode: \r\n reads as \n
        self.assertRegex(headers, r"(?i)content-type: text/plain; version=0\.0\.4; charset=utf-8")
        return body

    def packets(self, values, counter):
        return values[f'ctmon_conntrack_packets_total{{family="ip",table="conntrack_stats",counter="{counter}"}}']

    def test_values_follow_the_traffic_and_promtool_accepts_them(self):
        t = self.topo
        t.serve(t.wan, "tcp", 8080)
        d = self.start()
        self.assertIn(f"serving Prometheus metrics on http://{LISTEN}/metrics", d.text())
        first = self.scrape()
        before = samples(first)
        self.assertEqual(before['ctmon_build_info{version="0.1.0"}'], 1)
        self.assertEqual(before["ctmon_episode_open"], 0)
        self.assertEqual(before['ctmon_store_state{state="ok"}'], 1)
        self.assertEqual(before["ctmon_table_ok"], 1)
        self.assertEqual(len([k for k in before if k.startswith("ctmon_conntrack_packets_total{")]), 18)
        self.assertNotIn("ctmon_influx_up", before, "forwarding is off: no InfluxDB metrics")

        t.traffic(t.lan, "tcp", WAN_IP, "8080", "5")
        # The next sample after the traffic shows its 5 new forwarded connections.
        wait_for(lambda: self.packets(samples(self.scrape()), "tcp_conntrack_fwd_new")
                 >= self.packets(before, "tcp_conntrack_fwd_new") + 5, 10, "the new connections in /metrics")
        after = samples(self.scrape())
        self.assertEqual(self.packets(after, "tcp_conntrack_fwd_new"), t.nft_counters(t.router)["tcp_conntrack_fwd_new"][0])
        self.assertGreater(after["ctmon_samples_total"], before["ctmon_samples_total"])
        self.assertEqual(after["ctmon_sample_duration_seconds_count"], after["ctmon_samples_total"])
        self.assertGreater(after["ctmon_sample_duration_seconds_sum"], 0)
        # a sample costs microseconds to a few milliseconds here, never anything near the interval
        self.assertLess(after["ctmon_sample_duration_seconds_sum"] / after["ctmon_sample_duration_seconds_count"],
                        INTERVAL_S / 2)
        self.assertGreaterEqual(after["ctmon_prometheus_scrapes_total"], before["ctmon_prometheus_scrapes_total"] + 2)

        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool is not installed (Debian package prometheus): the format check cannot run")
        for text in (first, self.scrape()):
            p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, f"promtool check metrics: {p.stdout}{p.stderr}")

        rc, j, _ = d.status()
        self.assertEqual(rc, 0)
        self.assertEqual(j["prometheus"]["state"], "on")
        self.assertEqual(j["prometheus"]["listen"], LISTEN)
        self.assertGreaterEqual(j["prometheus"]["scrapes"], 4)
        self.assertEqual(j["prometheus"]["last_error"], "")
        text = subprocess.run([ctmon_binary(), "status", "--db", d.db, "--status-file", d.status_path],
                              capture_output=True, text=True, timeout=60).stdout
        self.assertRegex(text, rf"Prometheus +http://{re.escape(LISTEN)}/metrics, \d+ scrape\(s\), last ")
        self.assertEqual(d.stop(), 0, d.text())

    def run_ctmon(self, *flags):
        return self.topo.run(self.topo.router, ctmon_binary(), "run", "--db", self.db, "--status-file",
                             self.db + ".status", *flags, check=False, timeout=60)

    def test_a_port_in_use_stops_the_start_with_one_line(self):
        t = self.topo
        squatter = t.spawn(t.router, SYSTEM_PYTHON, "-c", SQUATTER, stdout=subprocess.PIPE)
        self.assertEqual(squatter.stdout.readline().strip(), "listening")
        p = self.run_ctmon("--prometheus-listen", LISTEN)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stderr.strip().splitlines()[-1],
                         f"ctmon: prometheus_listen {LISTEN}: port {PORT} is already in use (another ctmon or "
                         "exporter?); choose another port")

    def test_a_privileged_port_without_the_privilege_stops_the_start(self):
        # root without CAP_NET_BIND_SERVICE, as a packaged daemon runs (ambient capabilities only)
        p = self.topo.run(self.topo.router, "setpriv", "--bounding-set=-net_bind_service", ctmon_binary(), "run",
                          "--db", self.db, "--status-file", self.db + ".status", "--prometheus-listen", "127.0.0.1:80",
                          check=False, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stderr.strip().splitlines()[-1],
                         "ctmon: prometheus_listen 127.0.0.1:80: no permission to listen on port 80 (ports below 1024 "
                         "need root or CAP_NET_BIND_SERVICE); choose a port from 1024 up, e.g. 9101")

    def test_an_address_the_router_does_not_have_or_a_malformed_one_stops_the_start(self):
        p = self.run_ctmon("--prometheus-listen", "192.0.2.1:9101")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("no interface of this machine has the address 192.0.2.1", p.stderr)
        p = self.run_ctmon("--prometheus-listen", "localhost:9101")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("prometheus_listen 'localhost:9101': 'localhost' is not a numeric IPv4 address", p.stderr)
        p = self.run_ctmon("--prometheus-listen", "10.199.1.1")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("prometheus_listen '10.199.1.1': no port", p.stderr)

    def test_silent_clients_do_not_delay_samples(self):
        t = self.topo
        d = self.start()
        # As many silent connections as one address may hold but one: a scrape still gets through.
        holder = t.spawn(t.router, SYSTEM_PYTHON, "-c", SILENT_CLIENTS, "3", stdout=subprocess.PIPE)
        self.assertEqual(holder.stdout.readline().strip(), "connected")
        _, j, _ = d.status()
        samples_before, missed_before = j["daemon"]["samples"], j["daemon"]["missed_ticks"]
        # 15 ticks take 3 s; a loop held up by a silent client would take 10 s (the idle timeout)
        # for the first, and skip ticks.
        wait_for(lambda: d.status()[1]["daemon"]["samples"] >= samples_before + 15, 5, "samples beside silent clients")
        self.assertEqual(d.status()[1]["daemon"]["missed_ticks"], missed_before, "a tick was skipped")
        self.assertIn("ctmon_samples_total", self.scrape())
        holder.kill()
        holder.wait()
        # Past the connection bound: the extra clients are refused (logged once), sampling goes on.
        holder = t.spawn(t.router, SYSTEM_PYTHON, "-c", SILENT_CLIENTS, "12", stdout=subprocess.PIPE)
        self.assertEqual(holder.stdout.readline().strip(), "connected")
        _, j, _ = d.status()
        samples_before = j["daemon"]["samples"]
        wait_for(lambda: d.status()[1]["daemon"]["samples"] >= samples_before + 5, 5, "samples while flooded")
        rc, j, _ = d.status()
        self.assertEqual(j["daemon"]["missed_ticks"], missed_before)
        self.assertNotEqual(j["prometheus"]["last_error"], "", "the refused clients are reported")
        self.assertEqual(d.stop(), 0, d.text())
        refused = [line for line in d.text().splitlines() if "prometheus: " in line]
        self.assertLessEqual(len(refused), 2, "logged once per condition, not once per client:\n" + "\n".join(refused))


if __name__ == "__main__":
    unittest.main()
