#!/usr/bin/env python3
"""NAB's other files, as held-out data: the ones ctmon's gauge profile was never chosen on.

NAB labels 58 series. The gauge profile (AnalyzerConfig::gauge()) and the candidates of
nab_loco.py were chosen on the 25 in ../shared/data/nab; the other 33 (realAWSCloudwatch,
realAdExchange, realTweets) are scored here, never tuned on. Two figures:

1. As NAB scores a corpus: nab_loco.py on the 33 alone (its plain score picks the threshold on
   the files it scores, its leave-one-category-out folds run over the three categories).
2. Held out in full: candidate 0 with each profile's threshold chosen on the 25 shared files,
   so that nothing at all is chosen on the 33.

Usage: nab_held_out.py CTMON NAB_SOURCE [SHARED_NAB_DATA] [NAB_SCORE_PY] [RESULTS_DIR]

NAB_SOURCE is where numenta/NAB comes from, read at the commit pinned below:
  - a checkout (a folder with data/ and labels/; its files are taken as they are there),
  - a git directory of the repository (read with `git show`, which needs the pinned commit),
  - `download`: raw.githubusercontent.com (needs the network).
SHARED_NAB_DATA defaults to ../shared/data/nab and NAB_SCORE_PY to ../shared/tools/nab_score.py
(relative to the repository). Prints figures; it is not a test.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

NAB_COMMIT = "ea702d75cc2258d9d7dd35ca8e5e2539d71f3140"  # numenta/NAB, MIT License
LABELS = "labels/combined_windows.json"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reader(source):
    """A function from a path in the NAB repository to its bytes."""
    if source == "download":
        def download(path):
            url = f"https://raw.githubusercontent.com/numenta/NAB/{NAB_COMMIT}/{path}"
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    return response.read()
            except OSError as e:
                sys.exit(f"nab_held_out: cannot download {url}: {e}; give a NAB checkout instead")
        return download
    if os.path.isdir(os.path.join(source, "data")) and os.path.isdir(os.path.join(source, "labels")):
        return lambda path: open(os.path.join(source, path), "rb").read()
    if os.path.isfile(os.path.join(source, "HEAD")):
        def show(path):
            p = subprocess.run(["git", "--git-dir", source, "show", f"{NAB_COMMIT}:{path}"], capture_output=True)
            if p.returncode != 0:
                sys.exit(f"nab_held_out: {source} has no {path} at commit {NAB_COMMIT}: "
                         f"{p.stderr.decode().strip()}")
            return p.stdout
        return show
    sys.exit(f"nab_held_out: {source} is neither a NAB checkout (data/, labels/) nor a git directory; "
             "give one, or `download`")


def materialise(source, shared, dest):
    """Writes NAB's files that are not among the shared ones, and their labels, under `dest`."""
    read = reader(source)
    with open(os.path.join(shared, LABELS)) as f:
        shared_keys = set(json.load(f))
    labels = {k: v for k, v in json.loads(read(LABELS)).items() if k not in shared_keys}
    for key in labels:
        os.makedirs(os.path.join(dest, os.path.dirname(key)), exist_ok=True)
        with open(os.path.join(dest, key), "wb") as f:
            f.write(read(f"data/{key}"))
    os.makedirs(os.path.join(dest, "labels"), exist_ok=True)
    with open(os.path.join(dest, LABELS), "w") as f:
        json.dump(labels, f, indent=1)
    return labels


def profile_points(nab, results, labels):
    """{profile: (points, window ids)} of one result folder over `labels`."""
    out = {}
    for profile, weights in nab.PROFILES.items():
        points, ids = [], set()
        for key in labels:
            times, scores = nab.read_scores(nab.find_result(results, key))
            p, w = nab.file_points(times, scores, labels[key], key, weights)
            points += p
            ids |= w
        out[profile] = (points, ids)
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ctmon, source = sys.argv[1:3]
    shared = sys.argv[3] if len(sys.argv) > 3 else os.path.join(REPO, "..", "shared", "data", "nab")
    scorer = sys.argv[4] if len(sys.argv) > 4 else os.path.join(REPO, "..", "shared", "tools", "nab_score.py")
    results = sys.argv[5] if len(sys.argv) > 5 else tempfile.mkdtemp(prefix="nab-held-out-")
    nab = load_module("nab_score", scorer)
    loco = load_module("nab_loco", os.path.join(HERE, "nab_loco.py"))

    data = os.path.join(results, "data")
    held_out = materialise(source, shared, data)
    with open(os.path.join(shared, LABELS)) as f:
        shared_labels = json.load(f)
    categories = sorted({k.split("/")[0] for k in held_out})
    print(f"NAB at {NAB_COMMIT[:7]}: {len(held_out)} files not among the {len(shared_labels)} shared ones "
          f"({', '.join(categories)}), {sum(len(w) for w in held_out.values())} windows\n")

    print("1. Scored as NAB scores a corpus (nab_loco.py on these files alone):\n")
    sys.stdout.flush()
    subprocess.run([sys.executable, os.path.join(HERE, "nab_loco.py"), ctmon, data, scorer,
                    os.path.join(results, "loco")], check=True)

    print("\n2. Held out in full: candidate 0, each profile's threshold chosen on the shared files:\n")
    shared_results = os.path.join(results, "shared")
    loco.replay_all(ctmon, shared, shared_labels, shared_results, "")
    tuned = profile_points(nab, shared_results, shared_labels)
    scored = profile_points(nab, os.path.join(results, "loco", "candidate0"), held_out)
    print(f"{'profile':20s} {'threshold':>9s} {'shared':>7s} {'held-out':>9s}")
    for profile, weights in nab.PROFILES.items():
        threshold, raw = nab.best_threshold(*tuned[profile], weights)
        points, ids = scored[profile]
        shared_score = loco.normalised(raw, len(tuned[profile][1]), weights)
        score = loco.normalised(loco.score_at(points, ids, weights, threshold), len(ids), weights)
        print(f"{profile:20s} {threshold:9.4f} {shared_score:7.2f} {score:9.2f}")
    print(f"\noutputs in {results}")


if __name__ == "__main__":
    main()
