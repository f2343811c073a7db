"""[notify] url against a real HTTP receiver: Python's http.server, run by this test process on
the loopback of the router namespace the daemon runs in, recording every request (method, path,
headers, body). The receiver is down when an episode opens: one clear log line, sampling goes on,
the notification waits in the database; the daemon is killed (-9) while it waits; the receiver
comes back answering 500 once, then 200; the restarted daemon delivers the open and (on_close)
the close notification, each exactly once, and a further restart sends nothing again. The ntfy
form, a receiver that hangs (the request times out) and one that refuses for good (404): one line
each, sampling undisturbed. A URL that is no http(s) URL stops the start with one line."""
import ctypes
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time
import unittest

from netns import NetnsTestCase, ctmon_binary, sh, wait_for

INTERVAL_S = 0.5
PORT = 18880
URL = f"http://127.0.0.1:{PORT}/hook?auth=secret-token"
CLONE_NEWNET = 0x40000000


def listening_socket_in(ns, port):
    """A TCP socket listening on 127.0.0.1:`port` of network namespace `ns`. A short-lived thread
    enters the namespace (setns acts on the calling thread only) and makes it there; the socket
    stays in that namespace, so the receiver serves it from this process."""
    made = {}

    def enter_and_listen():
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                made["error"] = OSError(ctypes.get_errno(), f"setns {ns}")
                return
        finally:
            os.close(fd)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(16)
        made["socket"] = s

    t = threading.Thread(target=enter_and_listen)
    t.start()
    t.join()
    if "error" in made:
        raise made["error"]
    return made["socket"]


class Receiver:
    """The webhook's receiver. `answers`: statuses to answer before 200s (e.g. [500]); `hang`:
    requests get no answer until the test ends. `requests`: every request, in order, as a dict
    (method, path, headers, body, status answered or None)."""

    def __init__(self, ns):
        self.ns = ns
        self.requests = []
        self.answers = []
        self.hang = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                record = {"method": self.command, "path": self.path, "headers": dict(self.headers),
                          "body": body, "status": None}
                with receiver.lock:
                    receiver.requests.append(record)
                    status = receiver.answers.pop(0) if receiver.answers else 200
                if receiver.hang.is_set():
                    receiver.release.wait(60)
                    return
                record["status"] = status
                text = b"ok" if status < 300 else b"no such topic"
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler, bind_and_activate=False)
        self.server.socket.close()
        self.server.socket = listening_socket_in(self.ns, PORT)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def delivered(self):
        """The requests answered 2xx."""
        with self.lock:
            return [r for r in self.requests if r["status"] is not None and 200 <= r["status"] < 300]

    def delivered_ids(self):
        return [r["headers"]["X-Ctmon-Notification-Id"] for r in self.delivered()]


class Webhook(NetnsTestCase):
    def receiver(self):
        r = Receiver(self.topo.router)
        self.addCleanup(r.stop)
        return r

    def daemon(self, *flags):
        # A short episode gap closes the burst's episode 10 s after it instead of a minute.
        d = super().daemon("--interval", str(INTERVAL_S), "--commit-interval", "1s", "--episode-gap", "10s",
                           "--host", "gw1", *flags)
        d.wait_log("detectors resumed")
        return d

    def stored_events(self):
        return [json.loads(line) for line in
                sh(ctmon_binary(), "events", "--db", self.db, "--json").stdout.splitlines()]

    def samples_since(self, since_s):
        from test_daemon_netns import read_csv  # it imports netns
        return sum(1 for ts, _ in read_csv(self.db)[1] if ts >= since_s)

    def webhook_status(self, d):
        rc, j, _ = d.status()
        self.assertEqual(rc, 0, j["problems"])
        self.assertEqual([n["name"] for n in j["notify"]], ["webhook"])
        return j["notify"][0], j

    def test_an_outage_a_kill_and_a_restart_deliver_each_notification_exactly_once(self):
        self.learn_a_quiet_router()
        receiver = self.receiver()  # not started: nothing listens on the port yet
        d = self.daemon("--notify-url", URL, "--notify-on-close")
        started = time.time()
        self.burst_until_open(d)
        d.wait_log("notify: no answer from", timeout_s=10)
        hook, j = self.webhook_status(d)
        self.assertEqual(hook["state"], "unreachable")
        self.assertEqual(hook["queued"], 1)
        self.assertEqual(hook["target"], f"http://127.0.0.1:{PORT}/hook?***")
        self.assertTrue(any(w.startswith("notify webhook: no answer from") for w in j["warnings"]), j["warnings"])
        text = subprocess.run([ctmon_binary(), "status", "--db", self.db, "--status-file", d.status_path],
                              capture_output=True, text=True).stdout
        self.assertRegex(text, r"Notify +webhook: unreachable, 0 delivered, [1-9]\d* failed, 1 queued, last success "
                               r"never \(http://127\.0\.0\.1:18880/hook\?\*\*\*\)")
        time.sleep(3)  # a few retries with backoff, all of them failing
        self.assertEqual(d.text().count("notify: no answer from"), 1, "logged once per condition")
        self.assertNotIn("secret-token", d.text(), "the URL's token never reaches the log")
        self.assert_sampling_undisturbed(started + 1, INTERVAL_S, "the receiver was down")

        # Killed while the notification waits: it is in the database, not only in RAM.
        self.assertEqual(d.stop(signal.SIGKILL), -signal.SIGKILL)
        receiver.answers = [500]
        receiver.start()
        d2 = self.daemon("--notify-url", URL, "--notify-on-close")
        restarted = time.time()
        d2.wait_log("1 notification(s) waiting from before")  # said as the outputs start
        wait_for(lambda: any(i.endswith("-open") for i in receiver.delivered_ids()), 15, "the open notification")
        self.assertIn(500, [r["status"] for r in receiver.requests], "the first try after the restart got a 500")
        d2.wait_log("accepts notifications again", timeout_s=5)
        # The episode the kill left open is closed at the restart; its close is owed and sent.
        wait_for(lambda: any(i.endswith("-close") for i in receiver.delivered_ids()), 90, "the close notification")
        wait_for(lambda: self.samples_since(restarted + 1) >= 8, 15, "samples after the restart")
        self.assert_sampling_undisturbed(restarted + 1, INTERVAL_S, "notifications were sent")
        self.assertEqual(d2.stop(), 0, d2.text())

        # A clean restart with nothing waiting sends nothing again.
        before = len(receiver.requests)
        d3 = self.daemon("--notify-url", URL, "--notify-on-close")
        d3.wait_log("0 notification(s) waiting from before")  # said as the outputs start
        time.sleep(2)
        self.assertEqual(d3.stop(), 0, d3.text())
        self.assertEqual(len(receiver.requests), before, "nothing was sent after the clean restart")

        ids = receiver.delivered_ids()
        self.assertEqual(len(ids), len(set(ids)), f"a notification arrived twice: {ids}")
        episode_id = ids[0].split("-")[0]
        self.assertEqual(sorted(i.rsplit("-", 1)[1] for i in ids if i.startswith(episode_id + "-")), ["close", "open"])
        stored = {e["id"]: e for e in self.stored_events()}
        for r in receiver.delivered():
            self.assertEqual(r["method"], "POST")
            self.assertEqual(r["path"], "/hook?auth=secret-token")
            self.assertEqual(r["headers"]["Content-Type"], "application/json")
            self.assertTrue(r["body"].endswith("\n") and r["body"].count("\n") == 1, "one JSON line")
            event = json.loads(r["body"])
            self.assertEqual(r["headers"]["X-Ctmon-State"], "open" if event["end"] is None else "close")
            self.assertEqual(event["id"], int(episode_id))
            self.assertEqual(event["start"], stored[event["id"]]["start"])
        close = [r for r in receiver.delivered() if r["headers"]["X-Ctmon-State"] == "close"][0]
        event = json.loads(close["body"])
        self.assertEqual(event["end"], stored[event["id"]]["end"], "the close carries the episode as stored")

    def test_ntfy_form_a_receiver_that_hangs_then_refuses_for_good(self):
        self.learn_a_quiet_router()
        receiver = self.receiver()
        receiver.hang.set()
        receiver.start()
        d = self.daemon("--notify-url", URL, "--notify-format", "ntfy")
        started = time.time()
        self.burst_until_open(d)
        wait_for(lambda: len(receiver.requests) >= 1, 10, "the first try")
        # The request times out after 10 s; the daemon samples on meanwhile.
        d.wait_log("notify: no answer from", timeout_s=20)
        # From the next try on it answers 404 (a wrong ntfy topic): dropped, one error line, no
        # more tries.
        receiver.answers = [404] * 100
        receiver.hang.clear()
        self.assertIn("timed out", d.text())
        d.wait_log("refused notification", timeout_s=30)
        hook, _ = self.webhook_status(d)
        self.assertEqual((hook["state"], hook["queued"]), ("refused", 0))
        tries = len(receiver.requests)
        time.sleep(2)
        self.assertEqual(len(receiver.requests), tries, "a 404 is not retried")
        self.assertEqual(d.stop(), 0, d.text())
        self.assertEqual(d.text().count("refused notification"), 1)
        self.assert_sampling_undisturbed(started + 1, INTERVAL_S, "the receiver hung and refused")
        r = receiver.requests[-1]
        self.assertEqual(r["headers"]["Content-Type"], "text/plain; charset=utf-8")
        self.assertRegex(r["headers"]["Title"], r"^gw1: \w+ episode \(score [01]\.\d\d\)$")
        self.assertIn(r["headers"]["Priority"], ("3", "4"))
        self.assertTrue(r["headers"]["Tags"].startswith("warning,"))
        self.assertIn("tcp_conntrack_fwd_new", r["body"])
        self.assertNotIn("\n", r["body"], "the summary alone: nothing was held back")

    def test_a_url_that_is_no_http_url_stops_the_start_with_one_line(self):
        for value, fragment in (("ftp://x/y", "the scheme ftp:// is not supported"),
                                ("garbage", "not a URL"),
                                ("http:///path", "names no host"),
                                ("http://host/a b", "a space")):
            proc = self.topo.run(self.topo.router, ctmon_binary(), "run", "--db", self.db,
                                 "--status-file", self.db + ".status", "--notify-url", value, check=False)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            lines = proc.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, proc.stderr)
            self.assertRegex(lines[0], r"notify[.-]url")
            self.assertIn(fragment, lines[0])


if __name__ == "__main__":
    unittest.main()
