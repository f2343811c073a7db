"""[mqtt] against a real mosquitto broker: the daemon runs in the router namespace of a throw-away
network and the broker listens on that namespace's loopback, started by the test from a temporary
config. mosquitto_sub checks what Home Assistant would see: the retained discovery configs, the
jitter-episode binary sensor going ON when a burst of new connections opens an episode and OFF
when it closes, the episode's JSON as `ctmon events --json` prints it, the rates, availability
(offline by the last will once the daemon is killed). Then the broker is stopped: an episode that
opens and closes while it is down arrives, ON then OFF, once it is back; a broker restarted
(forgetting its retained messages) during an episode gets its state again; sampling goes on
undisturbed. A wrong password and an unreachable broker each give one log line."""
import json
import os
import signal
import subprocess
import time
import unittest

from netns import NetnsTestCase, ctmon_binary, sh, wait_for

INTERVAL_S = 0.5
HOST = "gw 1/+#"          # a host name that is no valid topic level: made topic-safe
NODE = "gw_1___"
BASE = f"ctmon/{NODE}"
PORT = 18830


def read(path):
    with open(path) as f:
        return f.read()


class Broker:
    """mosquitto on the router namespace's loopback, with its config and log in `folder`."""

    def __init__(self, topo, folder, password_file=None):
        self.topo, self.folder = topo, folder
        self.conf = os.path.join(folder, "mosquitto.conf")
        # Every address of the namespace (loopback, IPv4 and IPv6): the namespace is the test's own.
        lines = [f"listener {PORT}", "user root", "persistence false", "log_dest stderr",
                 "log_type all"]
        if password_file:
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            lines += ["allow_anonymous true"]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        log_path = os.path.join(self.folder, f"mosquitto.{self.runs}.log")
        self.log = open(log_path, "w")
        self.proc = self.topo.spawn(self.topo.router, "mosquitto", "-c", self.conf,
                                    stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: "running" in read(log_path) or self.proc.poll() is not None, 10,
                 "mosquitto to start")
        if self.proc.poll() is not None:
            raise AssertionError("mosquitto did not start: " + read(log_path))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


class MqttHomeAssistant(NetnsTestCase):
    def setUp(self):
        super().setUp()
        self.learn_a_quiet_router()

    sub_auth = ()

    def broker(self, password_file=None):
        b = Broker(self.topo, self.dir, password_file)
        b.start()
        self.addCleanup(lambda: b.proc.poll() is not None or b.stop())
        return b

    def daemon(self, *flags, url=f"mqtt://127.0.0.1:{PORT}", episode_gap="10s"):
        # A short episode gap closes the burst's episode 10 s after it instead of a minute.
        d = super().daemon("--interval", str(INTERVAL_S), "--commit-interval", "1s", "--host", HOST,
                           "--mqtt-url", url, "--mqtt-rates-interval", "1s", "--episode-gap", episode_gap,
                           *flags)
        d.wait_log("detectors resumed")
        return d

    def retained(self, topic_filter="#"):
        """{topic: payload} of the retained messages matching `topic_filter`."""
        proc = self.topo.run(self.topo.router, "mosquitto_sub", "-h", "127.0.0.1", "-p", str(PORT),
                             *self.sub_auth, "-t", topic_filter, "--retained-only", "-W", "1", "-F", "%t\t%p", check=False)
        return dict(line.split("\t", 1) for line in proc.stdout.splitlines() if "\t" in line)

    def wait_retained(self, topic, predicate, timeout_s=15, what=None):
        found = {}

        def check():
            found.update(self.retained(topic))
            return topic in found and predicate(found[topic])
        wait_for(check, timeout_s, what or f"retained {topic}")
        return found[topic]

    def stored_events(self):
        return [json.loads(line) for line in
                sh(ctmon_binary(), "events", "--db", self.db, "--json").stdout.splitlines()]

    def test_discovery_episode_on_off_rates_status_and_last_will(self):
        self.broker()
        rates_log = os.path.join(self.dir, "rates")
        with open(rates_log, "w") as out:
            self.topo.spawn(self.topo.router, "mosquitto_sub", "-h", "127.0.0.1", "-p", str(PORT),
                            "-t", f"{BASE}/rates", "-F", "%p", stdout=out)
        d = self.daemon(url=f"mqtt://localhost:{PORT}")  # a name: looked up on the resolver's thread
        configs = {}
        wait_for(lambda: len(configs.update(self.retained("homeassistant/#")) or configs) >= 7, 15,
                 "the seven discovery configs")
        self.assertEqual(sorted(configs), sorted(
            [f"homeassistant/binary_sensor/ctmon_{NODE}_episode/config"] +
            [f"homeassistant/sensor/ctmon_{NODE}_{k}/config" for k in
             ("last_episode_kind", "last_episode_where", "last_episode_score",
              "fwd_new", "fwd_established", "fwd_invalid")]))
        episode_config = json.loads(configs[f"homeassistant/binary_sensor/ctmon_{NODE}_episode/config"])
        self.assertEqual(episode_config["state_topic"], f"{BASE}/episode")
        self.assertEqual(episode_config["json_attributes_topic"], f"{BASE}/episode/attributes")
        self.assertEqual(episode_config["device"]["name"], f"ctmon {HOST}")
        self.wait_retained(f"{BASE}/availability", lambda p: p == "online")
        self.wait_retained(f"{BASE}/episode", lambda p: p == "OFF")
        rates = json.loads(self.wait_retained(f"{BASE}/rates", lambda p: True))
        self.assertEqual(sorted(rates), ["fwd_established", "fwd_invalid", "fwd_new"])
        self.assertTrue(all(isinstance(v, (int, float)) for v in rates.values()), rates)

        self.burst_until_open(d)
        self.wait_retained(f"{BASE}/episode", lambda p: p == "ON", what="the binary sensor ON")
        opened = json.loads(self.retained(f"{BASE}/episode/attributes")[f"{BASE}/episode/attributes"])
        self.assertIsNone(opened["end"])
        # The rates showed the burst of new forwarded connections.
        wait_for(lambda: max(json.loads(line)["fwd_new"] or 0 for line in read(rates_log).splitlines() if line.strip()) > 5,
                 5, "fwd_new to rise with the burst")

        d.wait_log("episode closed", timeout_s=90)
        self.wait_retained(f"{BASE}/episode", lambda p: p == "OFF", what="the binary sensor OFF")
        attributes = json.loads(self.retained(f"{BASE}/episode/attributes")[f"{BASE}/episode/attributes"])
        self.assertEqual(attributes["id"], opened["id"])
        self.assertIsNotNone(attributes["end"])
        self.assertIn(attributes, self.stored_events(), "the attributes are the stored event, field for field")
        last = json.loads(self.retained(f"{BASE}/last_episode")[f"{BASE}/last_episode"])
        self.assertEqual(last, {"id": attributes["id"], "kind": attributes["kind"], "where": attributes["where"],
                                "score": attributes["score"], "start": attributes["start"],
                                "end": attributes["end"]})

        rc, j, _ = d.status()
        self.assertEqual(rc, 0, j["problems"])
        mqtt = [n for n in j["notify"] if n["name"] == "mqtt"]
        self.assertEqual(len(mqtt), 1, j["notify"])
        self.assertEqual(mqtt[0]["state"], "connected")
        self.assertEqual(mqtt[0]["target"], f"mqtt://localhost:{PORT}")
        self.assertGreater(mqtt[0]["delivered"], 10)
        text = subprocess.run([ctmon_binary(), "status", "--db", self.db, "--status-file", d.status_path],
                              capture_output=True, text=True).stdout
        self.assertRegex(text, rf"MQTT +connected \(mqtt://localhost:{PORT}\), [1-9]\d* published, \d+ queued")

        # Killed without a goodbye: the broker publishes the last will.
        d.stop(signal.SIGKILL)
        self.wait_retained(f"{BASE}/availability", lambda p: p == "offline", what="the last will")

    def test_an_episode_during_a_broker_outage_arrives_once_the_broker_is_back(self):
        broker = self.broker()
        d = self.daemon()
        self.wait_retained(f"{BASE}/episode", lambda p: p == "OFF")
        broker.stop()
        d.wait_log("lost the connection", timeout_s=15)
        started = time.time()
        self.burst_until_open(d)
        d.wait_log("episode closed", timeout_s=40)
        self.assertIsNone(d.proc.poll(), "the daemon must keep running")

        # A fresh broker (no persistence: nothing retained) and a subscriber that records in order,
        # started at once: the daemon's next attempt is up to 60 s away.
        broker.start()
        record = os.path.join(self.dir, "record")
        with open(record, "w") as out:
            self.topo.spawn(self.topo.router, "mosquitto_sub", "-h", "127.0.0.1", "-p", str(PORT),
                            "-t", f"{BASE}/episode", "-q", "1", "-F", "%p", stdout=out)
            # The daemon's backoff is at most 60 s.
            wait_for(lambda: "OFF" in read(record).split(), 75, "the episode's close after recovery")
        time.sleep(1)  # a duplicate, were there one, would have arrived by now
        self.assertEqual(read(record).split(), ["ON", "OFF"], "open then close, once each")
        attributes = json.loads(self.retained(f"{BASE}/episode/attributes")[f"{BASE}/episode/attributes"])
        self.assertIn(attributes, self.stored_events())
        self.assertIsNotNone(attributes["end"])
        self.assertEqual(self.retained(f"{BASE}/availability").get(f"{BASE}/availability"), "online")
        self.assertEqual(len(self.retained("homeassistant/#")), 7, "discovery sent again to the new broker")

        self.assertEqual(d.stop(), 0, d.text())
        self.assertEqual(d.text().count("mqtt: mqtt://"), 1, "the outage is logged once:\n" + d.text())
        self.assertEqual(d.text().count("connected to mqtt://127.0.0.1:18830 again"), 1)
        self.assert_sampling_undisturbed(started, INTERVAL_S, "the broker failed")

    def test_a_broker_restarted_during_an_episode_gets_the_current_state_again(self):
        broker = self.broker()
        d = self.daemon(episode_gap="1m")  # the episode must outlast the broker's restart
        self.wait_retained(f"{BASE}/episode", lambda p: p == "OFF")
        self.burst_until_open(d)
        self.wait_retained(f"{BASE}/episode", lambda p: p == "ON")
        # Restarted without persistence, the broker forgot every retained message: ctmon sends the
        # open episode's state again once it is connected, and its close when it comes.
        broker.stop()
        d.wait_log("lost the connection", timeout_s=15)
        broker.start()
        self.assertEqual(self.wait_retained(f"{BASE}/episode", lambda p: True, timeout_s=75), "ON")
        opened = json.loads(self.retained(f"{BASE}/episode/attributes")[f"{BASE}/episode/attributes"])
        self.assertIsNone(opened["end"])
        d.wait_log("episode closed", timeout_s=90)
        self.wait_retained(f"{BASE}/episode", lambda p: p == "OFF", what="the close after the restart")
        attributes = json.loads(self.retained(f"{BASE}/episode/attributes")[f"{BASE}/episode/attributes"])
        self.assertEqual(attributes["id"], opened["id"])
        self.assertIn(attributes, self.stored_events())
        self.assertEqual(d.stop(), 0, d.text())

    def test_a_wrong_password_and_an_unreachable_broker_each_give_one_line(self):
        passwords = os.path.join(self.dir, "passwords")
        sh("mosquitto_passwd", "-c", "-b", passwords, "ctmon", "right")
        os.chmod(passwords, 0o600)
        wrong = os.path.join(self.dir, "wrong.pass")
        with open(wrong, "w") as f:
            f.write("wrong\n")
        os.chmod(wrong, 0o600)
        self.broker(password_file=passwords)
        self.sub_auth = ("-u", "ctmon", "-P", "right")
        d = self.daemon("--mqtt-user", "ctmon", "--mqtt-password-file", wrong)
        started = time.time()
        d.wait_log("refused the connection", timeout_s=15)
        time.sleep(4)  # several more attempts, backing off
        rc, j, _ = d.status()
        self.assertEqual(rc, 0, "a broker that refuses is a warning, not ill health")
        mqtt = [n for n in j["notify"] if n["name"] == "mqtt"][0]
        self.assertEqual(mqtt["state"], "refused")
        self.assertGreaterEqual(mqtt["failed"], 2)
        self.assertTrue(any("not authorised" in w for w in j["warnings"]), j["warnings"])
        self.assertEqual(d.stop(), 0, d.text())
        lines = [line for line in d.text().splitlines() if "refused the connection" in line]
        self.assertEqual(len(lines), 1, d.text())
        self.assertIn("mqtt.password_file", lines[0])
        self.assert_sampling_undisturbed(started, INTERVAL_S, "the broker failed")

        # The right password: connected.
        right = os.path.join(self.dir, "right.pass")
        with open(right, "w") as f:
            f.write("right\n")
        os.chmod(right, 0o600)
        d = self.daemon("--mqtt-user", "ctmon", "--mqtt-password-file", right)
        self.assertEqual(self.wait_retained(f"{BASE}/availability", lambda p: p == "online"), "online")
        d.stop()

        # Nothing listening: one line, and the daemon samples on.
        d = super().daemon("--interval", str(INTERVAL_S), "--commit-interval", "1s",
                           "--mqtt-url", "mqtt://127.0.0.1:1")
        started = time.time()
        d.wait_log("cannot connect", timeout_s=15)
        time.sleep(4)
        self.assertEqual(d.stop(), 0, d.text())
        self.assertEqual(d.text().count("cannot connect"), 1, d.text())
        self.assert_sampling_undisturbed(started, INTERVAL_S, "the broker failed")


if __name__ == "__main__":
    unittest.main()
