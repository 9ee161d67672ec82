"""The models `bench_runtimes.py` compares: one `Entry` per model name, each building (for a
batch size) the PyTorch module, its named inputs and output, and how to randomise, convert and
bake it. See bench_runtimes.py's docstring for how they are used.

Generators take (z, y) and give `out` [B, C, R, R]; the BigBiGAN encoders take `x` [B, C, R, R]
and give `z_mean` [B, z_dim] (biggan-bench times them with `--encoder`).
"""
import dataclasses
import inspect
import math
from typing import Callable, Optional

CALIB_BATCH = 2      # make_fixtures' BN calibration batch (as check_full_parity.py uses)

@dataclasses.dataclass
class Built:
    module: object                 # torch.nn.Module taking `inputs` positionally, giving one tensor
    inputs: dict                   # name -> tensor, in forward order (bench_torch's z and y; an encoder's x):
                                   # the ONNX graph's input names and the io file's tensor names
    state: object                  # the module whose state_dict is randomised, saved, converted
    randomise: Callable[[], None]  # make_fixtures' randomisation (--weights fixture)
    convert: Callable[[], tuple]   # () -> (config, tensors) through the checkpoint registry
    bake: Callable[[], None]       # bakes SN in place (bench_torch's helpers)
    truncation: Optional[float]    # stored in the io file (None: no truncation tensor, as for encoders)
    bench_truncation: Optional[float]  # passed to biggan-bench (None: its default)
    output: str = "out"            # name of the module's output (ONNX output, io file tensor)
    bench_args: tuple = ()         # more biggan-bench arguments, for timing and --check (encoders: --encoder)


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


# BigBiGAN encoders (bigbigan_ref.Encoder keyword arguments, z_dim included).
BIGBIGAN_ENCODERS = {
    # 128 px RGB, ResNet-v2 basic blocks in ResNet-18's [2, 2, 2, 2] layout with strided
    # downsampling (128 → 8 px, widths 64–512): 2.24 G multiply-adds per image, between
    # ResNet-50 at 128 px (1.3 G) and at the 256 px of BigBiGAN's encoder input (5.4 G); an MLP
    # [2048, 2048] (the paper's is 4 layers of 4096) and BigBiGAN's z_dim 120.
    "bigbigan-enc-128": dict(resolution=128, in_channels=3, stem_channels=64,
                             blocks=[(64, 64, True), (64, 64, False), (64, 128, True), (128, 128, False),
                                     (128, 256, True), (256, 256, False), (256, 512, True), (512, 512, False)],
                             mlp=[2048, 2048], z_dim=120, bn_eps=1e-5, sigma="softplus", downsample="stride"),
    # The shipped Fashion-MNIST run's encoder (biggan-train --architecture bigbigan, --d-width 16,
    # dim_z 64: TrainCommand.bigBiGANConfigs): 32 px grey, stem 16, blocks 16→32→64→64 each
    # halving (avgpool) to 4 px, MLP [256].
    "bigbigan-enc-32": dict(resolution=32, in_channels=1, stem_channels=16,
                            blocks=[(16, 32, True), (32, 64, True), (64, 64, True)],
                            mlp=[256], z_dim=64, bn_eps=1e-5, sigma="softplus", downsample="avgpool"),
}


def _build_bigbigan_encoder(name, batch):
    """`bigbigan-enc-*`: the encoder of scripts/bigbigan_ref.py (config BIGBIGAN_ENCODERS[name],
    PyTorch's default init, seed 0), timed as x [B, C, R, R] → z_mean. Randomised as
    make_bigbigan_fixtures.randomise_encoder does (BN affine and biases drawn, running statistics
    calibrated on 8 smooth images and perturbed). The checkpoint pairs it with a small random
    unconditional ajbrock G (32 px, ch 4, the encoder's z_dim and channels; never run here), as
    make_bigbigan_fixtures.py builds its fixtures. Inputs: smooth random images in [-1, 1]."""
    import torch
    import biggan_ref
    import bigbigan_ref
    from make_bigbigan_fixtures import bigbigan_checkpoint, randomise_encoder, smooth_images
    cfg = BIGBIGAN_ENCODERS[name]
    torch.manual_seed(0)
    E = bigbigan_ref.Encoder(**cfg).eval()
    channels, side = cfg["in_channels"], cfg["resolution"]
    x = smooth_images(batch, channels, side)

    class ZMean(torch.nn.Module):   # the encoder's mean alone: one output, as the generators have
        def __init__(self):
            super().__init__()
            self.encoder = E

        def forward(self, x):
            return self.encoder(x)[0]

    def randomise():
        randomise_encoder(E, smooth_images(8, channels, side))

    def convert():
        torch.manual_seed(0)
        G = biggan_ref.Generator(resolution=32, ch=4, dim_z=cfg["z_dim"], shared_dim=8, n_classes=1, hier=False,
                                 attention=[], bn_eps=1e-5, sn_eps=1e-6, out_channels=channels)
        from make_fixtures import randomise_ajbrock
        randomise_ajbrock(G)
        return bigbigan_checkpoint(G, E, provenance=f"random weights: scripts/bench_models.py '{name}' (scripts/bench_runtimes.py)")

    return Built(module=ZMean(), inputs={"x": x}, state=E, randomise=randomise, convert=convert,
                 bake=lambda: None, truncation=None, bench_truncation=None, output="z_mean", bench_args=("--encoder",))


MODELS = {e.name: e for e in (
    Entry("deep-128", lambda b: _build_deep("deep-128", b)),
    Entry("biggan-128", lambda b: _build_ajbrock("biggan-128", b)),
    Entry("fashion-mnist-32", lambda b: _build_ajbrock("fashion-mnist-32", b)),
    Entry("stylegan-256", lambda b: _build_stylegan("stylegan-256", b)),
    Entry("stylegan-1024", lambda b: _build_stylegan("stylegan-1024", b)),
    Entry("bigbigan-enc-128", lambda b: _build_bigbigan_encoder("bigbigan-enc-128", b)),
    Entry("bigbigan-enc-32", lambda b: _build_bigbigan_encoder("bigbigan-enc-32", b)),
)}
