"""`cmake --install` puts every file where the unit, the scripts and the man page say it is; the
man page renders without a warning and describes every command and option the binary has; the
bash completion loads and completes what the binary offers."""
import filecmp
import os
import re
import subprocess
import textwrap
import unittest

from packaging_env import SOURCE_DIR, InstalledTree, run

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def help_text(binary, *command):
    return run(binary, *command, "--help").stdout


def subcommands(help_output):
    """The names in a CLI11 help text's "Subcommands:" section."""
    names, listing = [], False
    for line in help_output.splitlines():
        if line.startswith("Subcommands:"):
            listing = True
        elif line and not line.startswith(" "):
            listing = False
        elif listing and re.match(r"^  [a-z]", line):
            names.append(line.split()[0])
    return names


def long_options(help_output):
    return set(re.findall(r"(?:^|[ ,])(--[a-z][a-z0-9-]*)", help_output, re.M)) - {"--help"}


class InstalledFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tree = InstalledTree()
        cls.addClassCleanup(cls.tree.remove)
        cls.binary = cls.tree.path("bin", "ctmon")

    def test_every_file_is_where_it_is_expected(self):
        self.assertTrue(os.access(self.binary, os.X_OK))
        for parts in (("etc", "ctmon", "ctmon.toml"), ("share", "man", "man1", "ctmon.1"),
                      ("share", "bash-completion", "completions", "ctmon"),
                      ("lib", "systemd", "system", "ctmon.service"),
                      ("lib", "sysusers.d", "ctmon.conf")):
            self.assertTrue(os.path.isfile(self.tree.path(*parts)), os.path.join(*parts))
        for rules in ("conntrack-counter.nft", "conntrack-counter-inet.nft"):
            installed = self.tree.path("share", "ctmon", rules)
            self.assertTrue(filecmp.cmp(installed, os.path.join(SOURCE_DIR, "rules", rules),
                                        shallow=False), rules)
        # The installed rules are what the binary itself loads.
        with open(self.tree.path("share", "ctmon", "conntrack-counter.nft")) as f:
            self.assertEqual(run(self.binary, "rules", "print").stdout, f.read())

    def test_the_example_config_is_valid_and_survives_a_reinstall(self):
        config = self.tree.path("etc", "ctmon", "ctmon.toml")
        run(self.binary, "config", "check", "--config", config)
        with open(config, "a") as f:
            f.write("# edited by the administrator\n")
        again = run("cmake", "--install", os.environ["CTMON_BUILD_DIR"], "--prefix",
                    self.tree.prefix).stdout
        self.assertIn("Kept: " + config, again)
        with open(config) as f:
            self.assertTrue(f.read().endswith("# edited by the administrator\n"))

    def test_one_binary_path_everywhere(self):
        """/usr/bin/ctmon in the unit, the procd script, the OpenWrt Makefile, the README."""
        def read(*parts):
            with open(os.path.join(SOURCE_DIR, *parts)) as f:
                return f.read()
        for parts in (("packaging", "systemd", "ctmon.service"),
                      ("packaging", "openwrt", "files", "ctmon.init"),
                      ("README.md",), ("packaging", "man", "ctmon.1")):
            text = read(*parts).replace("\\-", "-")
            self.assertIn("/usr/bin/ctmon", text, os.path.join(*parts))
            self.assertNotRegex(text, r"/(usr/)?sbin/ctmon\b", os.path.join(*parts))

    def test_the_man_page_renders_without_warnings(self):
        page = self.tree.path("share", "man", "man1", "ctmon.1")
        groff = run("groff", "-ww", "-z", "-man", page, check=False)
        self.assertEqual((groff.returncode, groff.stderr), (0, ""))
        env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
        man = subprocess.run(["man", "--warnings", "-l", page], text=True, capture_output=True,
                             env=env, check=False)
        self.assertEqual((man.returncode, man.stderr), (0, ""))
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "FILES",
                        "EXIT STATUS", "EXAMPLES"):
            self.assertRegex(man.stdout, rf"(?m)^{section}$")

    def test_the_man_page_describes_every_command_and_option(self):
        with open(self.tree.path("share", "man", "man1", "ctmon.1")) as f:
            page = f.read().replace("\\-", "-")
        missing = []
        for command in subcommands(help_text(self.binary)):
            paths = [[command]] + [[command, sub] for sub in
                                   subcommands(help_text(self.binary, command))]
            for path in paths:
                if not re.search(rf"\b{path[-1]}\b", page):
                    missing.append(" ".join(path))
                missing += [f"{' '.join(path)} {option}"
                            for option in sorted(long_options(help_text(self.binary, *path)))
                            if not re.search(rf"{option}(?![a-z-])", page)]
        self.assertEqual(missing, [], "add these to packaging/man/ctmon.1")

    def complete(self, line):
        """What bash-completion offers for `line` (the last word is being completed)."""
        if not os.path.isfile(BASH_COMPLETION):
            self.fail(f"{BASH_COMPLETION} is missing: install bash-completion "
                      "(packaging/debian/install-deps --test)")
        script = textwrap.dedent(f"""\
            source {BASH_COMPLETION}
            PATH={os.path.dirname(self.binary)}:$PATH
            # What bash-completion does on the first Tab after `ctmon`: load the file.
            _completion_loader ctmon
            COMP_LINE=$1; COMP_POINT=${{#COMP_LINE}}
            read -ra COMP_WORDS <<<"$1"
            [[ $1 == *' ' ]] && COMP_WORDS+=("")
            COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
            $(complete -p ctmon | sed -E 's/.*-F ([^ ]+).*/\\1/') ctmon "${{COMP_WORDS[-1]}}" "${{COMP_WORDS[-2]}}"
            printf '%s\\n' "${{COMPREPLY[@]}}"
            """)
        env = dict(os.environ, BASH_COMPLETION_USER_DIR=self.tree.path("share", "bash-completion"),
                   XDG_DATA_DIRS=self.tree.path("share"))
        proc = subprocess.run(["bash", "-c", script, "bash", line], text=True,
                              capture_output=True, env=env, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return sorted(w for w in proc.stdout.split("\n") if w)

    def test_bash_completes_commands_options_and_values(self):
        self.assertEqual(self.complete("ctmon "), sorted(subcommands(help_text(self.binary))))
        self.assertEqual(self.complete("ctmon st"), ["status"])
        self.assertEqual(self.complete("ctmon rules "), ["check", "install", "print", "remove"])
        self.assertEqual(self.complete("ctmon events --si"), ["--since"])
        self.assertIn("--influx-url", self.complete("ctmon run --influx-"))
        self.assertEqual(self.complete("ctmon events --kind sc"), ["scan"])
        self.assertEqual(self.complete("ctmon nosuchcommand --zz"), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
