#!/usr/bin/python3
"""scikit-learn's IsolationForest on matrices written by the Riposte tests and benchmarks.

  auc   TRAIN.csv TEST.csv LABELS.txt --seeds 1,2,3   train on TRAIN (numbers only, no header),
        score TEST, print {"aucs": [...], "auc_mean": m} as JSON (labels: 1 anomaly, 0 normal)
  time  TRAIN.csv SCORE.csv                           print fit and score_samples seconds

Run with /usr/bin/python3 (Debian's python3-sklearn). Exit code 3 when scikit-learn is missing.
"""
import json
import sys
import time

try:
    import numpy as np
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score
except ImportError as e:  # pragma: no cover
    print(f"scikit-learn unavailable: {e}", file=sys.stderr)
    sys.exit(3)


def load(path):
    return np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    mode = argv[1]
    opts = {"--seeds": "1", "--trees": "100", "--sample": "256"}
    args = []
    i = 2
    while i < len(argv):
        if argv[i] in opts:
            opts[argv[i]] = argv[i + 1]
            i += 2
        else:
            args.append(argv[i])
            i += 1
    trees = int(opts["--trees"])
    sample = int(opts["--sample"])
    if mode == "auc":
        train, test = load(args[0]), load(args[1])
        labels = np.loadtxt(args[2], dtype=np.int64, ndmin=1)
        aucs = []
        for seed in [int(s) for s in opts["--seeds"].split(",")]:
            model = IsolationForest(n_estimators=trees, max_samples=min(sample, len(train)),
                                    random_state=seed).fit(train)
            # score_samples is the opposite of the anomaly score: higher = more normal.
            aucs.append(float(roc_auc_score(labels, -model.score_samples(test))))
        print(json.dumps({"aucs": aucs, "auc_mean": sum(aucs) / len(aucs)}))
        return 0
    if mode == "time":
        train, score = load(args[0]), load(args[1])
        t0 = time.perf_counter()
        model = IsolationForest(n_estimators=trees, max_samples=sample, random_state=1).fit(train)
        t1 = time.perf_counter()
        model.score_samples(score)
        t2 = time.perf_counter()
        print(json.dumps({"fit_seconds": t1 - t0, "score_seconds": t2 - t1,
                          "train_rows": len(train), "score_rows": len(score)}))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
