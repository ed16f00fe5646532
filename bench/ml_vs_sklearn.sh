#!/usr/bin/env bash
# Isolation Forest, Riposte vs scikit-learn, same data, same run:
#   training on 100,000 x 8, scoring 1,000,000 x 8 (100 trees, 256 rows per tree).
# Riposte's times are its own measurements of training and scoring (`riposte model train`
# reports train seconds, `riposte model eval --json` score seconds), without CSV parsing;
# scikit-learn's are fit() and score_samples() on arrays already in memory.
# Usage: bench/ml_vs_sklearn.sh [build-dir]   (needs /usr/bin/python3 with python3-sklearn)
# TRAIN_ROWS and SCORE_ROWS (environment) change the sizes, e.g. SCORE_ROWS=200000 for a
# shorter run on a loaded machine (scikit-learn scores about 2,000-45,000 rows a second here).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
riposte="$build/riposte"
py=/usr/bin/python3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

train_rows=${TRAIN_ROWS:-100000}
score_rows=${SCORE_ROWS:-1000000}
"$py" - "$work" "$train_rows" "$score_rows" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(1)
train = rng.normal(size=(int(sys.argv[2]), 8))
score = rng.normal(size=(int(sys.argv[3]), 8))
score[::100] += 4  # 1 % anomalies, so eval has both classes
np.savetxt(f"{d}/train.csv", train, delimiter=",", fmt="%.6f")
np.savetxt(f"{d}/score.csv", score, delimiter=",", fmt="%.6f")
labels = np.zeros(len(score), dtype=int); labels[::100] = 1
with open(f"{d}/score_labelled.csv", "w") as f:
    f.write(",".join(f"f{i}" for i in range(8)) + ",label\n")
    for row, y in zip(score, labels):
        f.write(",".join(f"{v:.6f}" for v in row) + f",{y}\n")
with open(f"{d}/train_labelled.csv", "w") as f:
    f.write(",".join(f"f{i}" for i in range(8)) + "\n")
    for row in train:
        f.write(",".join(f"{v:.6f}" for v in row) + "\n")
PY

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$riposte" model train --csv "$work/train_labelled.csv" -o "$work/m.model" 2> "$work/train.log"
ours_train=$(sed -n 's/.*trees, \([0-9.]*\) s).*/\1/p' "$work/train.log")
ours_score=$("$riposte" model eval -m "$work/m.model" --csv "$work/score_labelled.csv" \
  --label-column label --json | "$py" -c 'import json,sys; print(json.load(sys.stdin)["score_seconds"])')
sk=$("$py" "$here/../tests/ml/sklearn_iforest.py" time "$work/train.csv" "$work/score.csv")
sk_train=$(echo "$sk" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["fit_seconds"])')
sk_score=$(echo "$sk" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["score_seconds"])')
echo "load average before and after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
"$py" - "$ours_train" "$ours_score" "$sk_train" "$sk_score" "$train_rows" "$score_rows" <<'PY'
import sys
ot, os_, st, ss = map(float, sys.argv[1:5])
tr, sr = int(sys.argv[5]), int(sys.argv[6])
print(f"training {tr:,} x 8:  riposte {ot:.4f} s   scikit-learn {st:.4f} s   ratio {st/ot:.1f}x")
print(f"scoring {sr:,} x 8: riposte {os_:.4f} s ({sr/os_:,.0f}/s)   "
      f"scikit-learn {ss:.2f} s ({sr/ss:,.0f}/s)   ratio {ss/os_:.1f}x")
PY
