"""Fits the token estimate's coefficients (gateway_policy::limits::shape) on the corpus.

Usage:
    cargo run -p gateway-policy --example token_corpus -- features token_estimate.jsonl > f.jsonl
    python3 fit_token_estimate.py f.jsonl          (needs numpy)

Per tokenizer (o200k, cl100k): least squares on the relative error (each sample's row divided
by its real count, so a short chat message weighs as much as a page of code), coefficients
kept non-negative (a feature that fits negative is dropped and the rest refitted). Prints the
Rust arrays and the errors on the corpus: the total ratio (sum of estimates / sum of real
counts) and the mean absolute error per sample, overall and per kind."""
import collections, json, sys

import numpy as np

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
names = rows[0]["names"]
X = np.array([r["features"] for r in rows], dtype=float)


def fit(y):
    keep = list(range(len(names)))
    while True:
        A = X[:, keep] / y[:, None]
        coef, *_ = np.linalg.lstsq(A, np.ones(len(y)), rcond=None)
        if (coef >= 0).all():
            full = np.zeros(len(names))
            full[keep] = coef
            return full
        keep.pop(int(np.argmin(coef)))


for tok in ("o200k", "cl100k"):
    y = np.array([r[tok] for r in rows], dtype=float)
    coef = fit(y)
    est = np.maximum(X @ coef, 0).round()
    rel = np.abs(est - y) / y
    print(f"// {tok}: total ratio {est.sum() / y.sum():.3f}x, mean abs error {100 * rel.mean():.1f} %, "
          f"median {100 * np.median(rel):.1f} %, max {100 * rel.max():.1f} % over {len(y)} samples")
    print(f"pub const {tok.upper()}: [f64; FEATURES] = [{', '.join(f'{c:.4f}' for c in coef)}];")
    by = collections.defaultdict(list)
    for r, e, t in zip(rows, est, y):
        by[r["kind"]].append((e, t))
    for kind, pairs in sorted(by.items()):
        e, t = np.array(pairs).T
        print(f"//   {kind:18} n={len(t):3} ratio {e.sum() / t.sum():.2f} mean abs {100 * (np.abs(e - t) / t).mean():5.1f} %")
print("// features:", ", ".join(names))
