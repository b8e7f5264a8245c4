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

When Debian's python3-hnswlib is installed it also times a native reference for the approximate
side: hnswlib (C++, one thread) built on float32 rows with M = 16 and the build beam ours uses,
then, for each k, the narrowest search beam (ef) whose recall@k on the query sample reaches 0.99
(a returned distance counts when it is within the exact k-th), and that beam's rate over every
query row.

usage: sklearn_neighbors_peer.py TRAIN_F64 ROWS QUERY_F64 QROWS COLS ALGO SAMPLE [KS]
  KS: the neighbour counts to time, comma-separated (default 5,20: KNN's and LOF's)
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
    ks = [int(k) for k in (sys.argv[8] if len(sys.argv) > 8 else "5,20").split(",")]
    rows, qrows, cols, sample = int(rows), int(qrows), int(cols), int(sample)
    X = np.fromfile(train_path, dtype="<f8").reshape(rows, cols)
    Q = np.fromfile(query_path, dtype="<f8").reshape(qrows, cols)
    build_s, nn = timed(lambda: NearestNeighbors(n_neighbors=20, algorithm=algo, n_jobs=1).fit(X))
    step = max(1, rows // sample)
    train_sample = X[::step][:sample]
    query_sample = Q[:sample]
    out = {"sklearn": sklearn.__version__, "python": platform.python_version(), "algorithm": algo, "build_s": build_s, "sample": sample}
    exact = {}
    exact_train = {}
    for k in ks:
        # k + 1 neighbours of a training row include itself (at distance 0): what kneighbors()
        # without X does internally.
        fit_s, (train_distances, _) = timed(lambda: nn.kneighbors(train_sample, n_neighbors=k + 1))
        exact_train[k] = train_distances[:, k]
        score_s, (distances, _) = timed(lambda: nn.kneighbors(query_sample, n_neighbors=k))
        out[f"fit_search_per_row_s_k{k}"] = fit_s / len(train_sample)
        out[f"score_per_row_s_k{k}"] = score_s / len(query_sample)
        exact[k] = distances[:, k - 1]
    out.update(native_hnsw(X, Q, query_sample, exact, cols))
    out.update(native_nndescent(X, step, len(train_sample), exact_train))
    print(json.dumps(out))


def native_nndescent(X, step, sampled, exact_train):
    """pynndescent's k-NN graph of the training rows per k (self included, as k + 1), timed, with recall on the sample."""
    import os
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    try:
        from pynndescent import NNDescent
    except ImportError:
        return {}
    out = {}
    for k, kth in exact_train.items():
        # Its graph of k + 1 finds poor lists (recall ~0.88 at k = 5); a wider graph, cut to the first
        # k + 1, is how it is used for accurate lists (its own default is 30).
        width = max(30, 2 * (k + 1))
        NNDescent(X[:2000], n_neighbors=width, n_jobs=1, random_state=1, compressed=True)  # numba JIT warm-up
        build_s, index = timed(lambda: NNDescent(X, n_neighbors=width, n_jobs=1, random_state=1, compressed=True))
        _, distances = index.neighbor_graph
        sample = distances[::step][:sampled, : k + 1]
        recall = float(np.mean(sample[:, 1:] <= kth[:, None] * (1 + 1e-5)))
        out[f"nndescent_k{k}"] = {"fit_s": build_s, "recall": recall}
    return out


HNSW_M = 16
RECALL_GOAL = 0.99


def native_hnsw(X, Q, query_sample, exact, cols):
    """hnswlib's build and, per k, the narrowest beam reaching RECALL_GOAL and its rate (see the module doc)."""
    try:
        import hnswlib
    except ImportError:
        return {}
    # Ours: max(64, 4 k, 1.5 d) with the fit's k = 20 (hnswIndex.ts, hnswEfConstruction).
    ef_construction = max(64, 4 * 20, -(-3 * cols // 2))
    X32, Q32, S32 = (np.ascontiguousarray(a, dtype=np.float32) for a in (X, Q, query_sample))
    index = hnswlib.Index(space="l2", dim=cols)
    index.init_index(max_elements=len(X32), ef_construction=ef_construction, M=HNSW_M, random_seed=1)
    index.set_num_threads(1)
    build_s, _ = timed(lambda: index.add_items(X32, num_threads=1))
    out = {"hnswlib_build_s": build_s, "hnswlib_ef_construction": ef_construction}
    for k, kth in exact.items():
        limit = (kth.astype(np.float64) ** 2 * (1 + 1e-5))[:, None]
        for ef in (16, 32, 64, 128, 256, 512, 1024):
            if ef < k:
                continue
            index.set_ef(ef)
            _, squared = index.knn_query(S32, k=k, num_threads=1)
            recall = float(np.mean(squared <= limit))
            if recall >= RECALL_GOAL or ef == 1024:
                search_s, _ = timed(lambda: index.knn_query(Q32, k=k, num_threads=1))
                out[f"hnswlib_k{k}"] = {"ef": ef, "recall": recall, "rows_per_s": len(Q32) / search_s}
                break
    return out


if __name__ == "__main__":
    main()
