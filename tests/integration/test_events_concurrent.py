"""ctmon events / show / status read while `ctmon replay --db` writes the same database (the
daemon's own pipeline and commits): every read succeeds, none says "database is locked"."""
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from test_events_common import ctmon, env, make_scenario, run


class ReadersBesideTheWriter(unittest.TestCase):
    def test_readers_never_see_a_locked_database(self):
        d = tempfile.mkdtemp(prefix="ctmon-concurrent-")
        self.addCleanup(shutil.rmtree, d, True)
        # A long recording (24 h at 1 s: ~290 blocks plus events), fed to the replay through a
        # FIFO an hour at a time, each hour only once the readers have read again: a fast
        # machine cannot finish the writing before the readers get going.
        csv_path = make_scenario(d, "--hours", "24")
        with open(csv_path) as f:
            lines = f.readlines()
        header, body = lines[0], lines[1:]
        hours = [body[k:k + 3600] for k in range(0, len(body), 3600)]
        fifo = os.path.join(d, "samples.csv")
        os.mkfifo(fifo)
        db = os.path.join(d, "ctmon.db")
        status = os.path.join(d, "absent.status")
        reads = 0

        def feed():
            with open(fifo, "w") as out:
                out.write(header)
                for n, hour in enumerate(hours):
                    out.writelines(hour)
                    out.flush()
                    deadline = time.monotonic() + 30
                    while reads < 2 * (n + 1) and time.monotonic() < deadline:
                        time.sleep(0.01)

        with open(os.path.join(d, "replay.log"), "w") as log:
            writer = subprocess.Popen([ctmon(), "replay", "--input", fifo, "--db", db], stdout=log,
                                      stderr=subprocess.STDOUT, env=env())
            self.addCleanup(lambda: writer.poll() is None and writer.kill())
            feeder = threading.Thread(target=feed, daemon=True)
            feeder.start()
            # Until the writer has created and migrated the file a reader is rightly refused.
            deadline = time.monotonic() + 30
            while run("events", "--db", db, "--status-file", status, check=False).returncode != 0:
                self.assertLess(time.monotonic(), deadline, "the replay never produced a readable database")
                time.sleep(0.02)
            failures = []
            commands = [["events"], ["events", "--json"], ["events", "--since", "2026-11-20", "--limit", "3"],
                        ["series", "--since", "2026-11-20T00:00:00Z", "--until", "2026-11-20T00:05:00Z"]]
            while writer.poll() is None:
                for cmd in commands:
                    p = run(*cmd, "--db", db, "--status-file", status, check=False)
                    reads += 1
                    if p.returncode != 0 or "locked" in p.stderr or "busy" in p.stderr:
                        failures.append((cmd, p.returncode, p.stderr))
                # status exits 1 here (no daemon), but must read the database all the same.
                p = run("status", "--db", db, "--status-file", status, check=False)
                if "locked" in p.stdout + p.stderr or "database: " in p.stdout:
                    failures.append((["status"], p.returncode, p.stdout + p.stderr))
                reads += 1
            feeder.join(5)
            self.assertEqual(writer.returncode, 0)
        print(f"{reads} reads while the replay wrote", flush=True)
        self.assertEqual(failures, [])
        self.assertGreater(reads, 20, "the replay finished before the readers got going")
        # The finished database reads back whole.
        out = run("events", "--db", db, "--status-file", status, "--json").stdout
        self.assertGreaterEqual(len(out.splitlines()), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
