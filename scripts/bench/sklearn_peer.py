#!/usr/bin/python3
"""scikit-learn peer for `npm run bench`: Isolation Forest on the bench's own data file.

Reads the raw little-endian float64 matrix the Node bench wrote (and its uint8 labels), fits
scikit-learn's IsolationForest (n_estimators=100, max_samples=256, n_jobs=1, fixed
random_state) and scores every row with score_samples, best of N runs each, and prints one
JSON object on stdout. Run it with Debian's /usr/bin/python3 (python3-sklearn).

usage: sklearn_peer.py DATA_F64 LABELS_U8 ROWS COLS [REPEATS]
"""
import json
import platform
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score


def best_of(repeats, fn):
    times = []
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), times, result


def main():
    data_path, labels_path, rows, cols = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    X = np.fromfile(data_path, dtype="<f8")
    if X.size != rows * cols:
        raise SystemExit(f"{data_path}: {X.size} values, expected {rows} x {cols}")
    X = X.reshape(rows, cols)
    labels = np.fromfile(labels_path, dtype=np.uint8)

    def make(contamination):
        return IsolationForest(
            n_estimators=100, max_samples=256, n_jobs=1, random_state=42, contamination=contamination
        )

    # Default contamination='auto': fit only grows the trees (offset_ is fixed at -0.5).
    fit_s, fit_runs, model = best_of(repeats, lambda: make("auto").fit(X))
    # contamination=0.1 also scores every training row to set offset_, as our fit does for
    # its threshold (PyOD semantics): the like-for-like fit.
    fit_thr_s, fit_thr_runs, _ = best_of(repeats, lambda: make(0.1).fit(X))
    score_s, score_runs, scores = best_of(repeats, lambda: model.score_samples(X))
    # score_samples: higher = more normal; negate for ROC-AUC against anomaly labels.
    auc = float(roc_auc_score(labels, -scores)) if labels.size == rows else None
    print(
        json.dumps(
            {
                "sklearn": sklearn.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
                "rows": rows,
                "cols": cols,
                "repeats": repeats,
                "fit_s": fit_s,
                "fit_runs_s": fit_runs,
                "fit_with_threshold_s": fit_thr_s,
                "fit_with_threshold_runs_s": fit_thr_runs,
                "score_s": score_s,
                "score_runs_s": score_runs,
                "roc_auc": auc,
            }
        )
    )


if __name__ == "__main__":
    main()
