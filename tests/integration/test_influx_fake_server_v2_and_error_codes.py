"""The sender against a FAKE InfluxDB (Python http.server), only for what the real 1.6 server
here cannot do on demand: the v2 API (no InfluxDB 2 is packaged in Debian, so its path, query,
token header and gzip body are checked by this fake), a 400 for one line, 429 with Retry-After,
413, 500 and 401. Everything else is tested against the real server (test_influx_real.py)."""
import gzip
import http.server
import os
import shutil
import ssl
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from test_influx_support import T0, csv_text, replay, scenario_rows

SPIKES = [(3000, 60, "tcp_conntrack_fwd_new", 25)]


class FakeInflux:
    """Records every write; `decide(request_number, lines)` returns (status, headers, body)."""

    def __init__(self, decide, tls_context=None):
        self.requests = []  # dicts: time, path, query, headers, lines, status
        self.accepted = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                lines = body.decode().splitlines()
                url = urllib.parse.urlsplit(self.path)
                status, headers, text = decide(len(fake.requests), lines)
                fake.requests.append(dict(time=time.monotonic(), path=url.path, query=urllib.parse.parse_qs(url.query),
                                          headers=dict(self.headers), lines=lines, status=status, raw=raw))
                if 200 <= status < 300:
                    fake.accepted.extend(lines)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls_context is not None:
            self.server.socket = tls_context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        scheme = "https" if tls_context is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def ok(_n, _lines):
    return 204, {}, ""


class FakeServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.umask(0o022)  # a service's usual umask: the file modes checked below are ctmon's own
        cls.tmp = tempfile.mkdtemp(prefix="ctmon-influx-fake-")
        cls.csv = os.path.join(cls.tmp, "scenario.csv")
        with open(cls.csv, "w") as f:
            f.write(csv_text(scenario_rows(1.5, SPIKES)))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def run_replay(self, decide, *extra, api_v1=True):
        fake = FakeInflux(decide)
        self.addCleanup(fake.close)
        # A fresh database per run: a second replay into the same one would resume its state.
        db = tempfile.mktemp(suffix=".db", dir=self.tmp)
        args = list(extra)
        r, episodes = replay(self.csv, db, fake.url, "ctmon", args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(episodes), 1, r.stdout)
        return fake, r, db

    def all_lines(self):
        """Every line ctmon queues for this scenario: what a server that accepts everything gets."""
        if not hasattr(type(self), "_all"):
            fake, _, _ = self.run_replay(ok)
            type(self)._all = sorted(fake.accepted)
        return type(self)._all

    def test_v2_path_query_token_header_and_gzip_body_no_influxdb2_packaged(self):
        token = "s3cr3t-token-value"
        token_file = os.path.join(self.tmp, "token")
        with open(token_file, "w") as f:
            f.write(token + "\n")
        fake, r, _ = self.run_replay(ok, "--influx-api", "v2", "--influx-org", "home org", "--influx-bucket", "ctmon/b",
                                     "--influx-token-file", token_file)
        self.assertGreater(len(fake.requests), 0)
        for req in fake.requests:
            self.assertEqual(req["path"], "/api/v2/write")
            self.assertEqual(req["query"], {"org": ["home org"], "bucket": ["ctmon/b"], "precision": ["ms"]})
            self.assertEqual(req["headers"]["Authorization"], "Token " + token)
            self.assertEqual(req["headers"]["Content-Encoding"], "gzip")
            self.assertTrue(req["headers"]["Content-Type"].startswith("text/plain"))
            self.assertEqual(req["raw"][:2], b"\x1f\x8b")
        self.assertTrue(any(l.startswith("ctmon_event,host=router-a ") for l in fake.accepted))
        self.assertTrue(any(l.startswith("ctmon_rate,counter=") for l in fake.accepted))
        self.assertNotIn(token, r.stderr + r.stdout)
        # The token file was left readable by everyone (0644): one warning, naming it.
        self.assertEqual(r.stderr.count("can be read by every user"), 1, r.stderr)
        self.assertIn(token_file, r.stderr)
        self.assertNotIn("plain http://", r.stderr)  # loopback: nothing on the way

    def test_v1_path_and_query(self):
        fake, _, _ = self.run_replay(ok)
        self.assertEqual(fake.requests[0]["path"], "/write")
        self.assertEqual(fake.requests[0]["query"], {"db": ["ctmon"], "precision": ["ms"]})
        self.assertNotIn("Authorization", fake.requests[0]["headers"])

    def test_replay_takes_the_daemons_window_flags_and_config_file(self):
        full = [l for l in self.all_lines() if l.startswith("ctmon_rate")]
        fake, _, _ = self.run_replay(ok, "--influx-pre-window", "1m", "--influx-post-window", "1m")
        short = [l for l in fake.accepted if l.startswith("ctmon_rate")]
        self.assertTrue(0 < len(short) < len(full), (len(short), len(full)))

        # The same settings from a config file, as `ctmon run --config` reads them.
        fake = FakeInflux(ok)
        self.addCleanup(fake.close)
        config = os.path.join(self.tmp, "replay.toml")
        with open(config, "w") as f:
            f.write(f'host = "router-a"\n[influx]\nurl = "{fake.url}"\npre_window = "1m"\npost_window = "1m"\n')
        db = tempfile.mktemp(suffix=".db", dir=self.tmp)
        r, episodes = replay(self.csv, db, extra=["--config", config])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(episodes), 1, r.stdout)
        self.assertEqual(sorted(l for l in fake.accepted if l.startswith("ctmon_rate")), sorted(short))

    def test_replay_without_db_never_forwards_and_says_why(self):
        config = os.path.join(self.tmp, "no-db.toml")
        with open(config, "w") as f:
            f.write('db = "/var/lib/ctmon/ctmon.db"\n[influx]\nurl = "http://127.0.0.1:9"\n')
        r = subprocess.run([os.environ["CTMON"], "replay", "--input", self.csv, "--config", config],
                           capture_output=True, text=True, timeout=120)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("(--influx-url or influx.url) needs --db", r.stderr)  # the file's db is never taken for a replay

    def test_a_400_is_bisected_to_the_bad_line_which_is_set_aside_and_logged(self):
        everything = self.all_lines()
        victim = next(l for l in everything if l.startswith("ctmon_rate") and "pps=" in l)

        def decide(_n, lines):
            if victim in lines:
                return 400, {}, '{"error":"partial write: unable to parse \'x\': invalid field format dropped=0"}'
            return 204, {}, ""

        fake, r, db = self.run_replay(decide)
        self.assertEqual(sorted(set(fake.accepted)), sorted(set(everything) - {victim}))
        with open(db + ".influx-rejected") as f:
            rejected = f.read().splitlines()
        self.assertEqual(len(rejected), 1)
        self.assertEqual(rejected[0].split("\t")[-1], victim)
        self.assertEqual(rejected[0].split("\t")[1], "400")
        # What InfluxDB refused is kept like the database: the group may read, others nothing.
        self.assertEqual(os.stat(db + ".influx-rejected").st_mode & 0o777, 0o640)
        self.assertEqual(os.stat(db).st_mode & 0o777, 0o640)
        self.assertIn("refused a line", r.stderr)
        self.assertIn("outbox empty", r.stderr)

    def test_a_refused_certificate_gets_a_certificate_hint_and_the_right_ca_file_fixes_it(self):
        # A real TLS server on loopback with a self-signed certificate for 127.0.0.1, which the
        # system's CA bundle does not hold.
        cert, key = os.path.join(self.tmp, "cert.pem"), os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True, timeout=60)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        fake = FakeInflux(ok, context)
        self.addCleanup(fake.close)
        db = tempfile.mktemp(suffix=".db", dir=self.tmp)
        r, _ = replay(self.csv, db, fake.url, "ctmon", ["--influx-drain", "3s"])
        self.assertIn("the TLS connection was refused", r.stderr)
        self.assertIn("certificate", r.stderr)
        self.assertIn("--influx-ca-file", r.stderr)
        self.assertNotIn("is InfluxDB running", r.stderr)
        self.assertEqual(fake.accepted, [])

        # The same queued lines go out once the certificate is trusted.
        r, _ = replay(self.csv, db, fake.url, "ctmon", ["--influx-drain", "60s", "--influx-ca-file", cert])
        self.assertIn("outbox empty", r.stderr)
        self.assertGreater(len(fake.accepted), 0)

    def test_429_retry_after_is_honoured(self):
        def decide(n, _lines):
            return (429, {"Retry-After": "2"}, "slow down") if n == 0 else (204, {}, "")

        fake, r, _ = self.run_replay(decide)
        self.assertGreaterEqual(len(fake.requests), 2)
        gap = fake.requests[1]["time"] - fake.requests[0]["time"]
        self.assertGreaterEqual(gap, 1.9)
        self.assertLess(gap, 3.5)
        self.assertEqual(sorted(fake.accepted), self.all_lines())

    def test_413_halves_the_batch_until_it_fits(self):
        limit = 40

        def decide(_n, lines):
            return (413, {}, "Request Entity Too Large") if len(lines) > limit else (204, {}, "")

        fake, _, _ = self.run_replay(decide)
        self.assertEqual(fake.requests[0]["status"], 413)
        self.assertEqual(sorted(fake.accepted), self.all_lines())
        after_first_success = fake.requests[next(i for i, q in enumerate(fake.requests) if q["status"] == 204):]
        self.assertTrue(all(len(q["lines"]) <= limit for q in after_first_success))

    def test_500_backs_off_exponentially_and_keeps_the_lines(self):
        def decide(n, _lines):
            return (500, {}, "internal error") if n < 3 else (204, {}, "")

        fake, r, _ = self.run_replay(decide, "--influx-drain", "30")
        gaps = [b["time"] - a["time"] for a, b in zip(fake.requests, fake.requests[1:4])]
        # 1 s, 2 s, 4 s, each with half of it jittered: [0.5,1], [1,2], [2,4] (+ scheduling slack).
        for gap, (low, high) in zip(gaps, [(0.45, 1.3), (0.95, 2.3), (1.95, 4.3)]):
            self.assertTrue(low <= gap <= high, gaps)
        self.assertEqual(sorted(fake.accepted), self.all_lines())
        self.assertEqual(r.stderr.count("server error"), 1)  # one log line per condition
        self.assertIn("works again", r.stderr)

    def test_401_is_a_clear_status_logged_once_and_nothing_is_lost(self):
        def decide(_n, _lines):
            return 401, {}, '{"error":"authorization failed"}'

        fake, r, db = self.run_replay(decide, "--influx-drain", "4", "--influx-user", "me",
                                      "--influx-password-file", self.password_file())
        self.assertGreaterEqual(len(fake.requests), 2)
        self.assertEqual(r.stderr.count("unauthorized"), 2, r.stderr)  # the log line + the final status
        self.assertIn("check --influx-user and --influx-password-file", r.stderr)
        self.assertIn("Basic ", fake.requests[0]["headers"]["Authorization"])
        self.assertNotIn("pa55word", r.stderr)
        queued = sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute("SELECT count(*) FROM outbox").fetchone()[0]
        self.assertEqual(queued, len(self.all_lines()))

    def password_file(self):
        path = os.path.join(self.tmp, "password")
        with open(path, "w") as f:
            f.write("pa55word\n")
        return path


if __name__ == "__main__":
    unittest.main(verbosity=2)
