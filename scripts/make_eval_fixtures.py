#!/usr/bin/env python3
"""Reference values for the evaluation metrics, computed with numpy and scipy:
Fréchet distance (scipy.linalg.sqrtm, as the common FID code does) and the Inception-style score.

    python3 scripts/make_eval_fixtures.py > Tests/Fixtures/eval.json
"""
import json

import numpy as np
from scipy import linalg


def frechet(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1.dot(s2))
    covmean = (covmean[0] if isinstance(covmean, tuple) else covmean).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def inception_score(p, splits):
    scores = []
    n = len(p)
    for s in range(splits):
        part = p[s * n // splits:(s + 1) * n // splits]
        py = part.mean(0, keepdims=True)
        kl = (part * (np.log(part) - np.log(py))).sum(1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


rng = np.random.RandomState(0)
cases = []
for n, d, shift in [(120, 5, 0.3), (250, 12, 1.0), (150, 8, 0.0)]:
    a = rng.randn(n, d).astype(np.float32)
    mix = rng.randn(d, d).astype(np.float32) * 0.5
    b = (rng.randn(n, d) @ mix + shift).astype(np.float32)
    a, b = np.round(a, 4), np.round(b, 4)   # what the JSON holds
    cases.append({"a": a.tolist(), "b": b.tolist(), "frechet": frechet(a.astype(np.float64), b.astype(np.float64))})
logits = rng.randn(100, 10) * 3
p = np.exp(logits - logits.max(1, keepdims=True))
p /= p.sum(1, keepdims=True)
m, s = inception_score(p, 10)
print(json.dumps({"frechet": cases, "inception": {"probabilities": p.tolist(), "splits": 10, "mean": m, "std": s}}))
