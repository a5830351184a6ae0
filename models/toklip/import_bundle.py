"""Read a TokLIP model folder exported by ``toklip-export`` back into PyTorch modules.

    python -m toklip.import_bundle --bundle public/models/toklip-tiny --out models/runs/bundled/final.pt \
        --vq-out models/runs/bundled/stage1_vq.pt

Training runs live in gitignored folders and do not outlive a checkout, while the bundled model does: this turns
the shipped ONNX graphs back into a ``final.pt`` that ``toklip-export`` loads (re-exporting it gives byte-identical
graphs) and a VQ state dict that ``toklip.vq_ablation`` loads, so work on the bundled model can start from it
instead of from a full recipe run.

The exporter names most initializers after their parameters but folds some (a Linear's weight becomes a transposed
``onnx::MatMul_N``, a GroupNorm's affine a ``[C, 1, 1]`` ``onnx::Mul_N``). Rather than encode those rules, the
importer exports a probe: the same config with every float tensor set to distinct seeded values, through the same
exporter. An initializer of the probe equal to one tensor (as is, reshaped or transposed) says where that tensor
sits in the graph, and the bundle's initializer of the same name gives its value. Nothing is guessed: a tensor the
graphs do not carry is listed, and the result is checked by exporting it again and comparing every graph's output
with the bundle's on the same inputs.

What a bundle cannot give back: the teacher's own text tower and logit scale/bias (the bundle ships TokLIP's;
the checkpoint carries TokLIP's in their place, and says so), and tensors no graph holds as an initializer, which
keep their constructor values (the causal mask, rebuilt from the config; the VQ's code-usage counters, zero). The
output check covers both: a trained tensor left at its constructor value would change a graph's output.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

from .model import PixelCLIP, TokLIP, TokLIPConfig
from .onnx_graphs import export_all

# Graph role -> the module whose tensors its initializers are.
ROLES = {"vq_encoder": "toklip", "vq_decoder": "toklip", "semantic_encoder": "toklip", "text_encoder": "toklip",
         "teacher_image_encoder": "teacher"}


def _fill_distinct(module: torch.nn.Module, seed: int) -> None:
    """Every float tensor of the state dict to seeded normal values: no two tensors share a value pattern.
    Non-persistent buffers (the causal mask) are derived from the config and stay as built."""
    g = torch.Generator().manual_seed(seed)
    state = module.state_dict(keep_vars=True)
    with torch.no_grad():
        for key in _aliases(module):
            if state[key].is_floating_point():
                state[key].copy_(torch.randn(state[key].shape, generator=g) * 0.05)


def _aliases(module: torch.nn.Module) -> dict[str, list[str]]:
    """Canonical state key -> every key naming the same tensor (TokLIP registers its VQ twice: ``vq`` and
    ``visual.trunk.vq``)."""
    groups: dict[int, list[str]] = {}
    for k, v in module.state_dict(keep_vars=True).items():
        groups.setdefault(id(v), []).append(k)
    return {keys[0]: keys for keys in groups.values()}


def _initializers(path: Path) -> dict[str, np.ndarray]:
    return {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}


def locate(probe_inits: dict[str, np.ndarray], tensors: dict[str, torch.Tensor]) -> dict[str, tuple[str, str]]:
    """Initializer name -> (state key, "same" | "transposed") for every probe initializer that is one tensor."""
    by_size: dict[int, list[tuple[str, np.ndarray]]] = {}
    for k, t in tensors.items():
        if t.is_floating_point():
            by_size.setdefault(t.numel(), []).append((k, t.detach().numpy()))
    out: dict[str, tuple[str, str]] = {}
    for name, arr in probe_inits.items():
        if arr.dtype != np.float32:
            continue
        for key, val in by_size.get(arr.size, []):
            if np.array_equal(arr.reshape(-1), val.reshape(-1)):
                out[name] = (key, "same")
                break
            if val.ndim == 2 and arr.ndim == 2 and np.array_equal(arr, val.T):
                out[name] = (key, "transposed")
                break
    return out


def _graph_outputs(path: Path, feeds: dict[str, np.ndarray]) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)[0]


def _probe_inputs(cfg: TokLIPConfig, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    s, g = cfg.vision.image_size, cfg.grid
    pixels = rng.uniform(-1, 1, (2, 3, s, s)).astype(np.float32)
    ids = rng.integers(0, cfg.vq.codebook_size, (2, g, g)).astype(np.int32)
    text = rng.integers(1, cfg.text.vocab_size, (2, cfg.text.context_length)).astype(np.int32)
    return {"vq_encoder": {"pixels": pixels}, "vq_decoder": {"ids": ids}, "semantic_encoder": {"ids": ids},
            "text_encoder": {"input_ids": text}, "teacher_image_encoder": {"pixels": pixels}}


def import_bundle(bundle: Path, seed: int = 0) -> tuple[TokLIP, PixelCLIP | None, dict[str, Any]]:
    """(TokLIP, teacher or None, report). Raises if a tensor the graphs need is missing or outputs differ."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    cfg = TokLIPConfig.from_dict(manifest["config"])
    roles = {f["role"]: bundle / f["path"] for f in manifest["files"] if f["role"] in ROLES}
    if any(f.get("dtype", "fp32") != "fp32" for f in manifest["files"] if f["role"] in ROLES):
        raise SystemExit("only fp32 model folders can be imported (quantised weights do not give the trained values)")
    model = TokLIP(cfg)
    teacher = PixelCLIP(cfg) if cfg.teacher is not None and "teacher_image_encoder" in roles else None
    modules: dict[str, torch.nn.Module] = {"toklip": model}
    if teacher is not None:
        modules["teacher"] = teacher
    # Constructor values, for what no graph carries as an initializer (the causal mask, usage counters).
    built = {m: {k: v.clone() for k, v in mod.state_dict().items()} for m, mod in modules.items()}
    for i, mod in enumerate(modules.values()):
        _fill_distinct(mod, seed + i)
    aliases = {m: _aliases(mod) for m, mod in modules.items()}
    states = {m: {k: v.clone() for k, v in mod.state_dict().items()} for m, mod in modules.items()}
    canonical = {m: {k: states[m][k] for k in aliases[m]} for m in modules}
    recovered: dict[str, set[str]] = {m: set() for m in modules}
    # Taken from TokLIP, not the bundle: the teacher's text tower is not shipped.
    substituted = {m: {k for k in aliases[m] if m == "teacher" and k.startswith("text.")} for m in modules}
    with tempfile.TemporaryDirectory() as tmp:
        probe = export_all(model, teacher, Path(tmp) / "probe")
        for role, path in roles.items():
            owner = ROLES[role]
            if owner not in modules or role not in probe:
                continue
            where = locate(_initializers(probe[role]), canonical[owner])
            shipped = _initializers(path)
            missing = sorted(n for n in where if n not in shipped)
            if missing:
                raise SystemExit(f"{path.name}: initializers {missing[:5]} of the probe export are not in the bundle "
                                 "(exported by another toklip version?)")
            for name, (key, how) in where.items():
                val = torch.from_numpy(np.array(shipped[name]))
                val = val.T if how == "transposed" else val
                target = states[owner][key]
                if key in recovered[owner] and not torch.equal(target, val.reshape(target.shape)):
                    raise SystemExit(f"{key}: two graphs of the bundle disagree on its value")
                for alias in aliases[owner][key]:
                    states[owner][alias] = val.reshape(target.shape).clone()
                recovered[owner].add(key)
        # logit scale/bias are not in any graph: the manifest carries them (scale as exp of the parameter).
        states["toklip"]["logit_scale"] = torch.tensor(math.log(float(manifest["logit_scale"])))
        states["toklip"]["logit_bias"] = torch.tensor(float(manifest["logit_bias"]))
        recovered["toklip"] |= {"logit_scale", "logit_bias"}
        not_from_bundle: dict[str, list[str]] = {}
        if teacher is not None:
            for key in substituted["teacher"]:
                for alias in aliases["teacher"][key]:
                    states["teacher"][alias] = states["toklip"][alias].clone()
            states["teacher"]["logit_scale"] = states["toklip"]["logit_scale"].clone()
            states["teacher"]["logit_bias"] = states["toklip"]["logit_bias"].clone()
            recovered["teacher"] |= {"logit_scale", "logit_bias"}
            not_from_bundle["teacher"] = ["text.* (TokLIP's text tower)", "logit_scale / logit_bias (TokLIP's)"]
        for m, mod in modules.items():
            for key, keys in aliases[m].items():
                if key not in recovered[m] | substituted[m]:
                    for alias in keys:
                        states[m][alias] = built[m][alias]
            mod.load_state_dict(states[m], strict=True)
            mod.eval()
        unrecovered = {m: sorted(k for k in aliases[m] if mod.state_dict()[k].is_floating_point()
                                 and k not in recovered[m] | substituted[m]) for m, mod in modules.items()}
        check = export_all(model, teacher, Path(tmp) / "check")
        inputs = _probe_inputs(cfg)
        diffs: dict[str, float] = {}
        for role, path in roles.items():
            if role not in check:
                continue
            a, b = _graph_outputs(path, inputs[role]), _graph_outputs(check[role], inputs[role])
            diffs[role] = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
    report = {"bundle": str(bundle), "model_id": manifest.get("id"), "recovered_tensors":
              {m: len(v) for m, v in recovered.items()}, "constructor_values": unrecovered,
              "not_from_bundle": not_from_bundle, "max_abs_output_diff": diffs}
    bad = {r: d for r, d in diffs.items() if d > 0}
    if bad:
        raise SystemExit(f"re-exported graphs differ from the bundle's: {bad}; unrecovered tensors: {unrecovered}")
    return model, teacher, report


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--bundle", type=Path, required=True, help="fp32 model folder written by toklip-export")
    ap.add_argument("--out", type=Path, required=True, help="checkpoint to write (final.pt layout)")
    ap.add_argument("--vq-out", type=Path, default=None,
                    help="also the VQ's state dict alone (stage1_vq.pt layout, what toklip.vq_ablation loads)")
    a = ap.parse_args(argv)
    model, teacher, report = import_bundle(a.bundle)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": model.cfg.to_dict(), "toklip": model.state_dict(),
                "teacher": teacher.state_dict() if teacher is not None else None,
                "imported_from_bundle": report}, a.out)
    if a.vq_out:
        a.vq_out.parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.trunk.vq.state_dict(), a.vq_out)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
