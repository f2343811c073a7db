"""The installed systemd unit: `systemd-analyze verify` finds nothing, `systemd-analyze security`
rates it OK (exposure at most 2.0), and its privilege model and directories agree with what the
binary expects."""
import os
import re
import shutil
import subprocess
import sys
import tomllib
import unittest

from packaging_env import InstalledTree, run, unit_settings

MAX_EXPOSURE = 2.0


def systemd_analyze_or_exit():
    path = shutil.which("systemd-analyze")
    if path is None:
        sys.exit("systemd-analyze is missing: install systemd (packaging/debian/install-deps --test)")
    version = run(path, "--version").stdout.split()[1]
    if int(version.split(".")[0]) < 250:
        print(f"skipped: systemd {version} has no `security --offline` (needs 250 or later)")
        sys.exit(77)
    return path


class InstalledUnit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.analyze = systemd_analyze_or_exit()
        cls.tree = InstalledTree()
        cls.addClassCleanup(cls.tree.remove)
        cls.unit = cls.tree.path("lib", "systemd", "system", "ctmon.service")
        cls.settings = unit_settings(cls.unit)

    def setting(self, key):
        values = self.settings.get(key, [])
        self.assertEqual(len(values), 1, f"{key}= should be set once in {self.unit}: {values}")
        return values[0]

    def test_verify_finds_nothing(self):
        # Documentation=man:ctmon(1) is checked by running man: give it the installed page.
        env = dict(os.environ, MANPATH=self.tree.path("share", "man"))
        proc = subprocess.run([self.analyze, "verify", self.unit], text=True,
                              capture_output=True, env=env, check=False)
        self.assertEqual((proc.returncode, proc.stdout + proc.stderr), (0, ""))

    def test_security_exposure_is_ok(self):
        proc = run(self.analyze, "security", "--offline=yes",
                   f"--threshold={int(MAX_EXPOSURE * 10)}", self.unit, check=False)
        match = re.search(r"Overall exposure level for ctmon\.service: ([0-9.]+) (\w+)", proc.stdout)
        self.assertIsNotNone(match, proc.stdout + proc.stderr)
        exposure, verdict = float(match.group(1)), match.group(2)
        print(f"systemd-analyze security --offline=yes ctmon.service: {exposure} {verdict}")
        failing = [line for line in proc.stdout.splitlines() if line.startswith("✗")]
        self.assertLessEqual(exposure, MAX_EXPOSURE, "\n".join(failing))
        self.assertEqual(verdict, "OK")
        self.assertEqual(proc.returncode, 0)

    def test_runs_unprivileged_with_only_cap_net_admin(self):
        user = self.setting("User")
        self.assertNotIn(user, ("", "root", "0", "nobody"))
        self.assertEqual(self.setting("AmbientCapabilities"), "CAP_NET_ADMIN CAP_NET_RAW")
        self.assertEqual(self.setting("CapabilityBoundingSet"), "CAP_NET_ADMIN CAP_NET_RAW")
        self.assertEqual(self.setting("NoNewPrivileges"), "yes")
        # The capability must act on the host's nftables: no user or network namespace of its own.
        for key in ("PrivateUsers", "PrivateNetwork"):
            self.assertNotIn("yes", self.settings.get(key, []), key)
        with open(self.tree.path("lib", "sysusers.d", "ctmon.conf")) as f:
            users = [line.split()[1] for line in f if line.startswith("u ")]
        self.assertEqual(users, [user], "sysusers.d must create the unit's User=")

    def test_notify_and_watchdog_leave_room_for_the_longest_interval(self):
        self.assertEqual(self.setting("Type"), "notify")
        self.assertEqual(self.setting("NotifyAccess"), "main")
        watchdog = self.setting("WatchdogSec")
        seconds = int(watchdog[:-3]) * 60 if watchdog.endswith("min") else int(watchdog.rstrip("s"))
        # The daemon pings once per sample; 30 s is the longest interval it accepts.
        self.assertGreaterEqual(seconds, 2 * 30)

    def test_reaches_netlink_and_influxdb(self):
        self.assertEqual(set(self.setting("RestrictAddressFamilies").split()),
                         {"AF_NETLINK", "AF_UNIX", "AF_INET", "AF_INET6"})
        # InfluxDB may be on any address: a deny-all list would silently stop forwarding.
        self.assertNotIn("any", " ".join(self.settings.get("IPAddressDeny", [])))

    def test_directories_are_where_the_binary_looks(self):
        exec_start = self.setting("ExecStart").split()
        self.assertEqual(exec_start[:2], [self.tree.path("bin", "ctmon"), "run"])
        self.assertTrue(os.access(exec_start[0], os.X_OK))
        # With no flags, `ctmon run` and every reading command use the config file's paths.
        config = tomllib.loads(run(exec_start[0], "config", "check", "--config",
                                   self.tree.path("etc", "ctmon", "ctmon.toml")).stdout)
        state = "/var/lib/" + self.setting("StateDirectory") + "/"
        runtime = "/run/" + self.setting("RuntimeDirectory") + "/"
        self.assertTrue(config["db"].startswith(state), (config["db"], state))
        run_paths = [v for v in config.values() if isinstance(v, str) and v.startswith("/run/")]
        self.assertTrue(run_paths, "the daemon's live state should be in /run")
        for path in run_paths:
            self.assertTrue(path.startswith(runtime), (path, runtime))
        self.assertEqual(self.setting("UMask"), "0027")
        self.assertEqual(self.setting("StateDirectoryMode"), "0750")
        self.assertEqual(self.setting("RuntimeDirectoryMode"), "0750")


if __name__ == "__main__":
    unittest.main(verbosity=2)
