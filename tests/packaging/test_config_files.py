"""The shipped config files are the output of `ctmon config example`, made from the key table:
packaging/ctmon.toml and OpenWrt's packaging/openwrt/files/ctmon.config list every key with
its help and default. Each file's header names the command that makes it; when a key is
added or changed, this test fails until the file is regenerated with that command."""
import os
import re
import shlex
import unittest

from packaging_env import SOURCE_DIR, require_build, run

FILES = (os.path.join("packaging", "ctmon.toml"),
         os.path.join("packaging", "openwrt", "files", "ctmon.config"))


def keys(binary):
    """[(key, type, flag, uci option, sighup, default)] from `ctmon config keys`."""
    rows = []
    for line in run(binary, "config", "keys").stdout.splitlines():
        if not line.startswith("#"):
            fields = line.split(" ", 5)
            rows.append(tuple(fields + [""] * (6 - len(fields))))
    return rows


class GeneratedConfigFiles(unittest.TestCase):
    def setUp(self):
        require_build()
        self.binary = os.environ["CTMON"]

    def test_the_shipped_files_are_what_config_example_prints(self):
        for relative in FILES:
            with self.subTest(file=relative):
                with open(os.path.join(SOURCE_DIR, relative)) as f:
                    shipped = f.read()
                command = re.search(r"(?m)^#   (ctmon config example .*)$", shipped)
                self.assertIsNotNone(command, f"{relative} does not name its command")
                args = shlex.split(command.group(1))[1:]
                generated = run(self.binary, *args).stdout
                self.assertEqual(
                    shipped, generated,
                    f"{relative} differs from the key table: regenerate it with "
                    f"`{command.group(1)} > {relative}` (built ctmon)")

    def test_every_key_is_in_both_files(self):
        with open(os.path.join(SOURCE_DIR, FILES[0])) as f:
            toml = f.read()
        with open(os.path.join(SOURCE_DIR, FILES[1])) as f:
            uci = f.read()
        rows = keys(self.binary)
        self.assertEqual(len(rows), 46)
        for key, _, _, option, _, _ in rows:
            leaf = key.split(".")[-1]
            self.assertRegex(toml, rf"(?m)^#?{re.escape(leaf)} = ", key)
            # A list (probe.targets) is a UCI `list`, which the init script reads blank-separated.
            self.assertRegex(uci, rf"(?m)^\t(# )?(option|list) {re.escape(option)} '", key)
            self.assertEqual(option, key.replace(".", "_"))

    def test_the_example_with_a_changed_key_reads_back_through_config_check(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"ctmon-example-{os.getpid()}.toml")
        self.addCleanup(lambda: os.path.exists(path) and os.remove(path))
        with open(path, "w") as f:
            f.write(run(self.binary, "config", "example", "--interval", "2s", "--influx-url",
                        "http://192.0.2.1:8086", "--no-install-rules").stdout)
        effective = run(self.binary, "config", "check", "--config", path).stdout
        self.assertIn("interval = '2s'", effective)
        self.assertIn("url = 'http://192.0.2.1:8086'", effective)
        self.assertIn("install_rules = false", effective)


if __name__ == "__main__":
    unittest.main(verbosity=2)
