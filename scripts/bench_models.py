"""The models `bench_runtimes.py` compares: one `Entry` per model name, each building (for a
batch size) the PyTorch module, its inputs, and how to randomise, convert and bake it. See
bench_runtimes.py's docstring for how they are used.
"""
import dataclasses
import inspect
import math
from typing import Callable, Optional

CALIB_BATCH = 2      # make_fixtures' BN calibration batch (as check_full_parity.py uses)

@dataclasses.dataclass
class Built:
    module: object                 # torch.nn.Module taking `inputs` positionally
    inputs: dict                   # name -> tensor, in forward order (bench_torch's z and y)
    state: object                  # the module whose state_dict is randomised, saved, converted
    randomise: Callable[[], None]  # make_fixtures' randomisation (--weights fixture)
    convert: Callable[[], tuple]   # () -> (config, tensors) through the checkpoint registry
    bake: Callable[[], None]       # bakes SN in place (bench_torch's helpers)
    truncation: float              # stored in the io file
    bench_truncation: Optional[float]  # passed to biggan-bench (None: its default)


@dataclasses.dataclass
class Entry:
    name: str                      # bench_torch / biggan-bench name
    build: Callable[[int], Built]  # batch -> Built, SN not baked yet


def _closure(run):
    """The model and inputs inside bench_torch.build()'s closure (reused, not rebuilt)."""
    return inspect.getclosurevars(run).nonlocals


def _provenance(name):
    return f"random weights: scripts/bench_torch.py build('{name}') (scripts/bench_runtimes.py)"


def _build_deep(name, batch):
    import torch
    import bench_torch
    import checkpoint
    run, _ = bench_torch.build(name, batch, keep_sn=True)
    v = _closure(run)
    model, z, y, t = v["model"], v["z"], v["y"], v["t"]

    class Truncated(torch.nn.Module):   # truncation is a constant of the exported graph
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, z, y):
            return self.model(z, y, t)

    def randomise():
        from make_fixtures import randomise_hf
        randomise_hf(model, calib_batch=CALIB_BATCH)

    return Built(module=Truncated(), inputs={"z": z, "y": y}, state=model, randomise=randomise,
                 convert=lambda: checkpoint.get("biggan-deep").convert(model, provenance=_provenance(name)),
                 bake=lambda: bench_torch._bake_hf_sn(model), truncation=t, bench_truncation=t)


def _build_ajbrock(name, batch):
    import biggan_ref
    import bench_torch
    import checkpoint
    run, _ = bench_torch.build(name, batch, keep_sn=True)
    v = _closure(run)
    G, z, y = v["G"], v["z"], v["y"]

    def randomise():
        from make_fixtures import randomise_ajbrock
        randomise_ajbrock(G, calib_batch=CALIB_BATCH)

    def convert():
        cfg = G.config_dict()
        opts = {k: cfg[k] for k in ("resolution", "ch", "dim_z", "shared_dim", "hier", "attention",
                                    "bn_eps", "sn_eps")}
        if [dict(b) for b in G.arch] == biggan_ref.g_arch(G.resolution, G.ch, G.attention):
            return checkpoint.get("biggan").convert(G.state_dict(), **opts, provenance=_provenance(name))
        # The "biggan" converter checks the state_dict against biggan_ref's default block table
        # for the resolution (it has no block-table option); a custom table (the tapered
        # fashion-mnist-32 G) goes through the same converter with g_arch answering G's table
        # meanwhile. The config it writes lists the blocks of that table.
        saved = biggan_ref.g_arch
        biggan_ref.g_arch = lambda *a, **k: [dict(b) for b in G.arch]
        try:
            return checkpoint.get("biggan").convert(G.state_dict(), **opts, provenance=_provenance(name))
        finally:
            biggan_ref.g_arch = saved

    return Built(module=G, inputs={"z": z, "y": y}, state=G, randomise=randomise, convert=convert,
                 bake=lambda: bench_torch._bake_ajbrock_sn(G), truncation=1.0, bench_truncation=None)


def nvlabs_stylegan_config(resolution):
    """NVlabs' StyleGAN v1 generator at `resolution` (FFHQ's settings: z = W = 512, 8 mapping layers
    with lrmul 0.01, nf(stage) = min(8192 / 2^stage, 512), fused up-convolutions from 128 px, blur,
    RGB, unconditional, cutoff 8, stored noise)."""
    res_log2 = int(math.log2(resolution))
    return dict(format_version=1, architecture="stylegan", resolution=resolution, z_dim=512, w_dim=512, mapping_layers=8,
                mapping_lrmul=0.01, label_size=0, channels=[min(8192 // 2 ** (r - 1), 512) for r in range(2, res_log2 + 1)],
                fused_scale_from=128, blur=True, out_channels=3, use_wscale=True, truncation_cutoff=8, stored_noise=True)


def _build_stylegan(name, batch):
    """`stylegan-256`, `stylegan-1024`: NVlabs' architecture with the random weights of
    make_stylegan_fixtures.random_tensors (seed 0), run by stylegan_ref (NVlabs operation order,
    stored noise, no truncation). The module takes (z, y) like the BigGAN entries; y [B, 1] is
    unused by the unconditional model and enters the graph as `+ 0·Σy` so that every runtime
    receives the same inputs."""
    import torch
    import stylegan_ref
    from make_stylegan_fixtures import random_tensors
    cfg = nvlabs_stylegan_config(int(name.split("-")[1]))
    tensors = random_tensors(cfg, torch.Generator().manual_seed(0))

    class StyleGAN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.names = list(tensors)
            for n, t in tensors.items():
                self.register_buffer(n.replace("/", "__"), t.clone())

        def tensors(self):
            return {n: getattr(self, n.replace("/", "__")) for n in self.names}

        def forward(self, z, y):
            return stylegan_ref.forward(cfg, self.tensors(), z, None, noise="const") + 0 * y.sum()

    module = StyleGAN()
    g = torch.Generator().manual_seed(1)
    z = torch.randn(batch, cfg["z_dim"], generator=g)
    y = torch.zeros(batch, 1)
    convert = lambda: (dict(cfg, provenance=_provenance(name)), module.tensors())
    return Built(module=module, inputs={"z": z, "y": y}, state=module, randomise=lambda: None, convert=convert,
                 bake=lambda: None, truncation=1.0, bench_truncation=None)


MODELS = {e.name: e for e in (
    Entry("deep-128", lambda b: _build_deep("deep-128", b)),
    Entry("biggan-128", lambda b: _build_ajbrock("biggan-128", b)),
    Entry("fashion-mnist-32", lambda b: _build_ajbrock("fashion-mnist-32", b)),
    Entry("stylegan-256", lambda b: _build_stylegan("stylegan-256", b)),
    Entry("stylegan-1024", lambda b: _build_stylegan("stylegan-1024", b)),
)}
