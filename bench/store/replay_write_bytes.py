#!/usr/bin/env python3
"""Bytes a day of the store's whole write path, the detectors' state saves and episodes included.

Replays a synthetic day (tests/integration/make_scenario.py) into a fresh database with
`ctmon replay --db`, which runs the daemon's pipeline paced by the recording's clock (a commit
every 5 minutes, state saves, episodes), and prints what the replay wrote: its write_bytes, the
page cache it dirtied (database, WAL and -shm), from getrusage's ru_oublock (512-byte units).
build/bench/store/store_bytes_per_day measures the sample ring alone, in steady state; this
starts from an empty file, so the file's first day of growth is in it too.

    bench/store/replay_write_bytes.py build/monitor/cli/ctmon [--interval 5] [--hours 24] [--dir /var/tmp]
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "..", "..", "tests", "integration", "make_scenario.py")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("ctmon")
parser.add_argument("--interval", type=float, default=5.0, help="sampling interval in seconds (default 5)")
parser.add_argument("--hours", type=float, default=24.0, help="length of the recording (default 24)")
parser.add_argument("--dir", default="/var/tmp", help="where the database goes: a disk, not tmpfs (default /var/tmp)")
args = parser.parse_args()

with tempfile.TemporaryDirectory(dir=args.dir, prefix="ctmon-write-bytes-") as d:
    csv_path, db, log_path = (os.path.join(d, n) for n in ("day.csv", "ctmon.db", "replay.log"))
    subprocess.run([sys.executable, SCENARIO, csv_path, "--hours", str(args.hours), "--interval", str(args.interval)],
                   check=True)
    with open(log_path, "w") as log:
        replay = subprocess.Popen([args.ctmon, "replay", "--input", csv_path, "--db", db],
                                  stdout=subprocess.DEVNULL, stderr=log)
        _, status, usage = os.wait4(replay.pid, 0)
    with open(log_path) as log:
        text = log.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"replay_write_bytes: ctmon replay failed: {text.strip()}")
    written = usage.ru_oublock * 512
    per_day = written * 24 / args.hours
    print(f"{args.hours:g} h at {args.interval:g} s into an empty database, {text.count('episode closed')} "
          f"episode(s): {written / 1e6:.2f} MB written ({per_day / 1e6:.2f} MB a day)")
