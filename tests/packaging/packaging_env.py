"""What the packaging tests share: where the build is, and an installed tree to look at."""
import os
import shutil
import subprocess
import sys
import tempfile

SOURCE_DIR = os.environ.get("CTMON_SOURCE_DIR", "")
BUILD_DIR = os.environ.get("CTMON_BUILD_DIR", "")


def require_build():
    for name, path in (("CTMON_SOURCE_DIR", SOURCE_DIR), ("CTMON_BUILD_DIR", BUILD_DIR)):
        if not path or not os.path.isdir(path):
            sys.exit(f"{name} must name the source and build trees (ctest sets them)")


def run(*args, check=True, **kw):
    """Runs a command; a failure says what it printed, not just its status."""
    proc = subprocess.run(list(args), check=False, text=True, capture_output=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {proc.returncode}: "
                             f"{(proc.stderr or proc.stdout).strip()}")
    return proc


class InstalledTree:
    """`cmake --install <build> --prefix <temp dir>`, removed afterwards."""

    def __init__(self):
        require_build()
        self.prefix = tempfile.mkdtemp(prefix="ctmon-install-")
        self.log = run("cmake", "--install", BUILD_DIR, "--prefix", self.prefix).stdout

    def path(self, *parts):
        return os.path.join(self.prefix, *parts)

    def remove(self):
        shutil.rmtree(self.prefix, ignore_errors=True)


def unit_settings(path):
    """{key: [values]} of a systemd unit file, in order, comments dropped."""
    settings = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[":
                continue
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings
