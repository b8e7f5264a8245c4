#!/usr/bin/python3
"""scikit-learn peer for `npm run bench:neighbors`: KNN and LOF neighbour search on the bench's files.

Reads the raw little-endian float64 training and query matrices the Node bench wrote and times,
single-threaded (n_jobs=1; run with OMP/OpenBLAS threads at 1):
  - the tree build: NearestNeighbors(algorithm=ALGO).fit(train) (full);
  - fit's search: kneighbors() of SAMPLE training rows against the rest (self excluded, as
    KNN's and LOF's fit do for all of them), k = 5 (KNN) and 20 (LOF);
  - scoring's search: kneighbors(query rows) of SAMPLE query rows, k = 5 and 20.
Search times are per row and extrapolated to every training / query row by the caller: a full
self-search of a million rows takes scikit-learn hours in these dimensions. LOF's work beyond the
search is O(n k) arithmetic and is left out (it favours scikit-learn slightly).

usage: sklearn_neighbors_peer.py TRAIN_F64 ROWS QUERY_F64 QROWS COLS ALGO SAMPLE
"""
import json
import platform
import sys
import time

import numpy as np
import sklearn
from sklearn.neighbors import NearestNeighbors


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def main():
    train_path, rows, query_path, qrows, cols, algo, sample = sys.argv[1:8]
    rows, qrows, cols, sample = int(rows), int(qrows), int(cols), int(sample)
    X = np.fromfile(train_path, dtype="<f8").reshape(rows, cols)
    Q = np.fromfile(query_path, dtype="<f8").reshape(qrows, cols)
    build_s, nn = timed(lambda: NearestNeighbors(n_neighbors=20, algorithm=algo, n_jobs=1).fit(X))
    step = max(1, rows // sample)
    train_sample = X[::step][:sample]
    query_sample = Q[:sample]
    out = {"sklearn": sklearn.__version__, "python": platform.python_version(), "algorithm": algo, "build_s": build_s, "sample": sample}
    for k in (5, 20):
        # k + 1 neighbours of a training row include itself (at distance 0): what kneighbors()
        # without X does internally.
        fit_s, _ = timed(lambda: nn.kneighbors(train_sample, n_neighbors=k + 1))
        score_s, _ = timed(lambda: nn.kneighbors(query_sample, n_neighbors=k))
        out[f"fit_search_per_row_s_k{k}"] = fit_s / len(train_sample)
        out[f"score_per_row_s_k{k}"] = score_s / len(query_sample)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
