#!/usr/bin/env python3
"""Write Tests/Fixtures/numpy_randn.json: NumPy's legacy `RandomState(seed).randn(1, n)` for a
few seeds, the z NVlabs' StyleGAN scripts draw for a seed (`pretrained_example.py`,
`generate_figures.py`, stylegan2-ada `generate.py`). Values are written with repr(), so the test
compares doubles exactly.

    python3 scripts/make_numpy_randn_fixture.py
"""
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
cases = []
for seed, n in [(0, 512), (1, 7), (5, 33), (42, 512), (639, 16), (4294967295, 9)]:
    v = np.random.RandomState(seed).randn(1, n)[0]
    cases.append({"seed": seed, "values": [float(x) for x in v]})
with open(os.path.join(ROOT, "Tests", "Fixtures", "numpy_randn.json"), "w") as f:
    json.dump({"numpy": np.__version__, "cases": cases}, f, indent=None)
print("wrote", len(cases), "cases")
