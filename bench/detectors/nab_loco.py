#!/usr/bin/env python3
"""NAB, scored two ways with one fixed configuration rule (see bench/detectors/README.md).

1. Plain: the gauge profile (AnalyzerConfig::gauge()) over all files, scored by nab_score.py
   (which picks the corpus-wide threshold on the files it scores).
2. Leave one category out: for each of NAB's four categories, the configuration AND the threshold
   are chosen on the other three categories only, from the pre-declared CANDIDATES below, and the
   held-out category is scored with them. Nothing is chosen per file or per category by looking
   at the file or category being scored.

Usage: nab_loco.py CTMON NAB_DATA NAB_SCORE_PY [RESULTS_DIR]
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

# Declared before looking at any score: the gauge profile and a few one-knob variations of it,
# passed to `ctmon replay --format nab --gauge-settings`. Never edit this list after seeing the
# held-out scores, or the cross-validated figure stops meaning anything.
CANDIDATES = [
    ("gauge", ""),
    ("quicker level", "level=100,noise=300"),
    ("slower level", "level=400,noise=1200"),
    ("shorter window", "window=101"),
    ("more sensitive", "point=5"),
    ("less sensitive", "point=8"),
]


def load_scorer(path):
    spec = importlib.util.spec_from_file_location("nab_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def replay_all(ctmon, data, labels, out_dir, settings):
    for key in labels:
        category, name = key.split("/", 1)
        os.makedirs(os.path.join(out_dir, category), exist_ok=True)
        cmd = [ctmon, "replay", "--format", "nab", "--input", os.path.join(data, key),
               "--scores-out", os.path.join(out_dir, category, name)]
        if settings:
            cmd += ["--gauge-settings", settings]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def score_at(points, window_ids, weights, threshold):
    """Raw NAB score of `points` when every row scoring >= threshold is a detection."""
    parts = {wid: -weights["fn"] for wid in window_ids}
    fp_total = 0.0
    for score, window, value in points:
        if score < threshold:
            continue
        if window is None:
            fp_total += value
        else:
            parts[window] = max(parts[window], value)
    return fp_total + sum(parts.values())


def normalised(raw, n_windows, weights):
    null, perfect = -weights["fn"] * n_windows, weights["tp"] * n_windows
    return 100.0 * (raw - null) / (perfect - null) if perfect != null else None


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    ctmon, data, scorer_path = sys.argv[1:4]
    results = sys.argv[4] if len(sys.argv) > 4 else tempfile.mkdtemp(prefix="nab-")
    nab = load_scorer(scorer_path)
    with open(os.path.join(data, "labels", "combined_windows.json")) as f:
        labels = json.load(f)
    categories = sorted({k.split("/")[0] for k in labels})

    # points[candidate][profile][file] = (points, window ids)
    points = []
    for i, (_, settings) in enumerate(CANDIDATES):
        out_dir = os.path.join(results, f"candidate{i}")
        replay_all(ctmon, data, labels, out_dir, settings)
        per_profile = {}
        for profile, weights in nab.PROFILES.items():
            per_file = {}
            for key in labels:
                times, scores = nab.read_scores(nab.find_result(out_dir, key))
                per_file[key] = nab.file_points(times, scores, labels[key], key, weights)
            per_profile[profile] = per_file
        points.append(per_profile)

    print(f"NAB: {len(labels)} files in {len(categories)} categories; candidates (declared in nab_loco.py):")
    for i, (name, settings) in enumerate(CANDIDATES):
        print(f"  {i}: {name:15s} {settings or '(AnalyzerConfig::gauge() as it is)'}")
    print("\nPlain score, candidate 0 on all files (nab_score.py):")
    subprocess.run([sys.executable, scorer_path, "--results", os.path.join(results, "candidate0"),
                    "--labels", os.path.join(data, "labels", "combined_windows.json")], check=True)

    def gather(candidate, profile, keys):
        pts, ids = [], set()
        for key in keys:
            p, w = points[candidate][profile][key]
            pts += p
            ids |= w
        return pts, ids

    def loco(candidates, verbose):
        """Per profile: the pooled normalised held-out score; prints each fold when verbose."""
        pooled_scores = {}
        for profile, weights in nab.PROFILES.items():
            pooled_raw, pooled_windows = 0.0, 0
            for held in categories:
                train_keys = [k for k in labels if k.split("/")[0] != held]
                test_keys = [k for k in labels if k.split("/")[0] == held]
                best = None
                for c in candidates:
                    pts, ids = gather(c, profile, train_keys)
                    threshold, raw = nab.best_threshold(pts, ids, weights)
                    train_score = normalised(raw, len(ids), weights)
                    if best is None or train_score > best[2]:
                        best = (c, threshold, train_score)
                c, threshold, train_score = best
                pts, ids = gather(c, profile, test_keys)
                raw = score_at(pts, ids, weights, threshold)
                score = normalised(raw, len(ids), weights)
                pooled_raw += raw
                pooled_windows += len(ids)
                shown = f"{score:9.2f}" if score is not None else "  no wins"
                if verbose:
                    print(f"{profile:20s} {held:24s} {CANDIDATES[c][0]:16s} {threshold:9.4f} {train_score:7.2f} "
                          f"{shown} {raw:8.3f}")
            pooled_scores[profile] = normalised(pooled_raw, pooled_windows, weights)
            if verbose:
                print(f"{profile:20s} {'ALL (pooled raw of folds)':24s} {'':16s} {'':9s} {'':7s} "
                      f"{pooled_scores[profile]:9.2f} {pooled_raw:8.3f}")
        return pooled_scores

    print("\nLeave one category out: configuration and threshold chosen on the other three categories.")
    print(f"{'profile':20s} {'held-out category':24s} {'chosen':16s} {'threshold':>9s} {'train':>7s} "
          f"{'held-out':>9s} {'raw':>8s}")
    loco(range(len(CANDIDATES)), True)
    fixed = loco([0], False)
    print("\nThe same with candidate 0 only (the threshold alone chosen on the other three categories): "
          + ", ".join(f"{p} {s:.2f}" for p, s in fixed.items()))
    print("\n'held-out' is NAB's normalised score of the held-out category alone; a category without "
          "anomaly windows\n(artificialNoAnomaly) has no normalised score, only its raw cost of false "
          "detections. The pooled row\nnormalises the folds' summed raw scores over all windows: "
          "comparable to the plain score above.")


if __name__ == "__main__":
    main()
