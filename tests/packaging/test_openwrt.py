"""The OpenWrt package: its DEPENDS name every shared library the binary links (readelf -d),
through the name table in packaging/openwrt/Makefile; the procd script passes shellcheck, runs
ctmon as user ctmon with CAP_NET_ADMIN and CAP_NET_RAW (probes), and turns UCI into a ctmon.toml that the real
`ctmon config check` accepts, hostile values included."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import unittest

from packaging_env import SOURCE_DIR, run

OPENWRT = os.path.join(SOURCE_DIR, "packaging", "openwrt")
MAKEFILE = os.path.join(OPENWRT, "Makefile")
INIT = os.path.join(OPENWRT, "files", "ctmon.init")
# Dependencies that are not shared libraries, and why (also said in the Makefile).
NOT_LIBRARIES = {"kmod-nft-core", "kmod-nf-conntrack-netlink", "procd-ujail"}
# Linked only where the CPU has no 64-bit atomics (32-bit MIPS and ARM routers), never here.
ONLY_ON_SOME_CPUS = {"libatomic"}
# A -DCTMON_SANITIZE=ON build links the sanitizer runtimes, which no package ships.
SANITIZER_RUNTIMES = {"libasan", "libubsan", "liblsan", "libtsan"}

# OpenWrt's /lib/functions.sh is not on Debian. These two functions behave as its own do: an
# option of section S is the variable CONFIG_S_<option>, which config_load would have set.
UCI_FUNCTIONS = r'''
config_load() { :; }
config_get() { eval "$1=\${CONFIG_$2_$3:-\$4}"; }
config_get_bool() {
	local _value
	eval "_value=\${CONFIG_$2_$3:-\$4}"
	case "$_value" in
	1 | on | true | yes | enabled) _value=1 ;;
	0 | off | false | no | disabled) _value=0 ;;
	*) _value="$4" ;;
	esac
	eval "$1=\$_value"
}
logger() { :; }
'''


def soname_base(soname):
    """libnftnl.so.11 -> libnftnl: versions differ between Debian and OpenWrt."""
    return soname.split(".so")[0]


def makefile_text():
    with open(MAKEFILE) as f:
        return f.read()


def needed_table():
    """{soname: package or None} from the Makefile's "NEEDED" comment lines."""
    rows = re.findall(r"^#\s+NEEDED\s+(\S+)\s+(\S+)", makefile_text(), re.M)
    return {soname: (None if package == "-" else package) for soname, package in rows}


def depends():
    match = re.search(r"^\s*DEPENDS:=((?:.*\\\n)*.*)$", makefile_text(), re.M)
    return {word.lstrip("+") for word in match.group(1).replace("\\\n", " ").split()}


def uci_options(path):
    """{option: value} of the `config ctmon 'main'` section of a UCI file (quoted values)."""
    options = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*option\s+(\w+)\s+'([^']*)'", line)
            if m:
                options[m.group(1)] = m.group(2)
    return options


class OpenWrtPackage(unittest.TestCase):
    def test_depends_names_every_library_the_binary_links(self):
        binary = os.environ.get("CTMON")
        if not binary or not os.access(binary, os.X_OK):
            sys.exit("CTMON must name the built ctmon binary (ctest sets it)")
        dynamic = run("readelf", "-d", binary).stdout
        needed = {soname_base(s) for s in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic)}
        needed -= SANITIZER_RUNTIMES
        table = {soname_base(s): p for s, p in needed_table().items()}
        self.assertTrue(needed)
        self.assertEqual(sorted(needed - set(table)), [],
                         "linked but missing from the NEEDED table in packaging/openwrt/Makefile")
        self.assertEqual(sorted(set(table) - needed), [],
                         "in the NEEDED table but no longer linked: remove the row")
        wanted = {p for p in table.values() if p}
        self.assertEqual(sorted(wanted - depends()), [], "add to DEPENDS")
        self.assertEqual(sorted(depends() - wanted - NOT_LIBRARIES - ONLY_ON_SOME_CPUS), [],
                         "in DEPENDS but neither linked nor explained")

    def test_version_matches_the_project(self):
        with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
            project_version = re.search(r"project\(ctmon VERSION (\S+)", f.read()).group(1)
        self.assertEqual(re.search(r"^PKG_VERSION:=(\S+)", makefile_text(), re.M).group(1),
                         project_version)

    def test_runs_as_ctmon_with_only_cap_net_admin(self):
        with open(INIT) as f:
            init = f.read()
        self.assertIn("USERID:=ctmon:ctmon", makefile_text())
        for line in ("procd_set_param user ctmon", "procd_set_param group ctmon",
                     "procd_set_param capabilities /etc/capabilities/ctmon.json",
                     "procd_set_param no_new_privs 1", "procd_set_param respawn",
                     "procd_add_reload_trigger ctmon", 'procd_set_param command "$PROG" run'):
            self.assertIn(line, init)
        self.assertIn("PROG=/usr/bin/ctmon", init)
        self.assertIn("$(1)/usr/bin/ctmon", makefile_text())
        self.assertIn("$(1)/etc/capabilities/ctmon.json", makefile_text())
        with open(os.path.join(OPENWRT, "files", "ctmon.json")) as f:
            caps = json.load(f)
        self.assertEqual(caps, {s: ["CAP_NET_ADMIN", "CAP_NET_RAW"] for s in
                                ("bounding", "effective", "ambient", "permitted", "inheritable")})

    def test_shell_scripts_pass_shellcheck(self):
        if shutil.which("shellcheck") is None:
            self.fail("shellcheck is missing: install it (packaging/debian/install-deps --test)")
        for script, shell in ((INIT, None),
                              (os.path.join(SOURCE_DIR, "packaging", "bash-completion", "ctmon"), "bash"),
                              (os.path.join(SOURCE_DIR, "packaging", "debian", "install-deps"), None)):
            args = ["shellcheck"] + (["-s", shell] if shell else []) + [script]
            proc = run(*args, check=False)
            self.assertEqual(proc.returncode, 0, proc.stdout)


class UciToToml(unittest.TestCase):
    """The init script's write_toml, run by a real shell, checked by the real binary."""

    def setUp(self):
        self.binary = os.environ.get("CTMON", "")
        self.dir = tempfile.mkdtemp(prefix="ctmon-uci-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write_toml(self, options, db="/etc/ctmon/ctmon.db"):
        env = {"PATH": os.environ["PATH"], "CTMON": self.binary}
        env.update({f"CONFIG_main_{k}": v for k, v in options.items()})
        # The script asks the binary for the keys; here it is the built one.
        script = UCI_FUNCTIONS + f'. "{INIT}"\nPROG="$CTMON"\nwrite_toml "$1"\n'
        proc = subprocess.run(["sh", "-c", script, "sh", db], text=True, capture_output=True,
                              env=env, check=False)
        path = os.path.join(self.dir, "ctmon.toml")
        with open(path, "w") as f:
            f.write(proc.stdout)
        return proc, path

    def effective(self, path):
        return tomllib.loads(run(self.binary, "config", "check", "--config", path).stdout)

    def test_the_shipped_uci_config_makes_a_valid_config_on_flash(self):
        options = uci_options(os.path.join(OPENWRT, "files", "ctmon.config"))
        proc, path = self.write_toml(options, options["db"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        config = self.effective(path)
        self.assertEqual(config["db"], "/etc/ctmon/ctmon.db")
        self.assertEqual(config["table"], "ip:conntrack_stats")
        self.assertIs(config["syslog"], True)
        self.assertTrue(config["status_file"].startswith("/var/run/ctmon/"))

    def test_unset_options_leave_ctmons_defaults(self):
        proc, path = self.write_toml({})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        config = self.effective(path)
        self.assertEqual(config["interval"], "5s")
        self.assertEqual(config["db"], "/etc/ctmon/ctmon.db")

    def test_quotes_and_backslashes_arrive_as_written(self):
        host = 'router "a"\\b; $(reboot)'
        proc, path = self.write_toml({"host": host, "install_rules": "0"})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        config = self.effective(path)
        self.assertEqual(config["host"], host)
        self.assertIs(config["install_rules"], False)

    def test_every_key_is_one_uci_option(self):
        """Each key of `ctmon config keys`, set through its UCI option, arrives in the file."""
        options, expected = {}, {}
        for line in run(self.binary, "config", "keys").stdout.splitlines():
            if line.startswith("#"):
                continue
            key, kind, _, option, _, *default = line.split(" ", 5)
            value = default[0] if default else ""
            if kind == "bool":
                options[option] = "1" if value == "true" else "0"
            else:
                options[option] = value or f"x-{option}"
            expected[key] = options[option]
        proc, path = self.write_toml(options, "/etc/ctmon/ctmon.db")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(path) as f:
            written = tomllib.loads(f.read())
        for key in expected:
            section, _, leaf = key.rpartition(".")
            table = written[section] if section else written
            self.assertIn(leaf, table, key)
        self.assertEqual(written["host"], "x-host")
        self.assertEqual(written["influx"]["token_file"], "x-influx_token_file")

    def test_a_bad_value_is_ctmons_one_line_error(self):
        proc, path = self.write_toml({"interval": '5s"\ndb = "/tmp/x'})
        # A control character never reaches the file: write_toml refuses it and says which.
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("option interval", proc.stderr)
        with open(path) as f:
            self.assertNotIn("/tmp/x", f.read())
        _, path = self.write_toml({"interval": "99s"})
        proc = run(self.binary, "config", "check", "--config", path, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("interval", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
