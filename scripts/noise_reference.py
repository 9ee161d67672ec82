#!/usr/bin/env python3
"""Reference implementation of the engine's NoiseGenerator (Sources/BigGANEngine/Sampling/NoiseGenerator.swift)
and of Truncation.latent, in plain Python, to produce the fixed vectors the Swift tests check.

    python3 scripts/noise_reference.py > Tests/Fixtures/noise.json
"""
import json
import math
import struct

MASK = (1 << 64) - 1


def f32(x):
    """Round a Python float (double) to the nearest float32, returned as a Python float."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Noise:
    def __init__(self, seed):
        self.state = seed & MASK
        self.spare = None

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next_uniform(self):
        return (self.next_u64() >> 11) * 2.0 ** -53

    def next_normal(self):
        if self.spare is not None:
            s, self.spare = self.spare, None
            return s
        u1, u2 = self.next_uniform(), self.next_uniform()
        r = math.sqrt(-2.0 * math.log(1.0 - u1))
        theta = 2.0 * math.pi * u2
        self.spare = f32(r * math.sin(theta))
        return f32(r * math.cos(theta))


def latent(seed, dim, t, convention):
    rng = Noise(seed)
    bound = f32(t if convention == "resample" else 2.0)
    scale = f32(1.0 if convention == "resample" else t)
    out = []
    for _ in range(dim):
        v = rng.next_normal()
        while abs(v) > bound:
            v = rng.next_normal()
        out.append(f32(v * scale))
    return out


if __name__ == "__main__":
    cases = {"u64": {}, "normal": {}, "latent": []}
    for seed in (0, 1, 42, 2**63 + 5):
        r = Noise(seed)
        cases["u64"][str(seed)] = [str(r.next_u64()) for _ in range(4)]
        r = Noise(seed)
        cases["normal"][str(seed)] = [r.next_normal() for _ in range(9)]
    for seed, dim, t, conv in [(7, 12, 0.5, "resample"), (7, 12, 2.0, "resample"), (123, 10, 0.4, "truncnorm-scaled"),
                               (9, 8, 1.0, "truncnorm-scaled")]:
        cases["latent"].append({"seed": seed, "dim": dim, "truncation": t, "convention": conv,
                                "values": latent(seed, dim, t, conv)})
    print(json.dumps(cases, indent=1))
