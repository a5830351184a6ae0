"""q4 / q4f16 official exports on the shallow synthetic checkpoint: MatMulNBits in the semantic and text
encoders, the VQ untouched, parity against the fp32 PyTorch model recorded in the manifest, and the 4-bit
weights within half a quantisation step of the fp32 weights they replace."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from toklip.export_official import export_official, reference_outputs, verify_folder
from toklip.manifest import validate_manifest
from toklip.official import load_official, prepare_tokenizer
from toklip.quant4 import Q4_BLOCK_SIZE, Q4_SYMMETRIC
from toklip.synthetic_official import build_gemma_style_json, official_files, shallow_config

from helpers import import_or_skip_unless_ci

DTYPES = ("fp32", "q4", "q4f16")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray]]:
    import_or_skip_unless_ci("onnx_ir")  # onnxruntime's MatMulNBits quantiser imports it (models[official])
    tmp = tmp_path_factory.mktemp("q4")
    cfg = shallow_config()
    ckpt, vqf, _ = official_files(tmp / "ckpt", cfg)
    model = load_official(cfg, ckpt, vqf)
    prepared = prepare_tokenizer(build_gemma_style_json(tmp / "tok"), cfg.text.context_length)
    ref = reference_outputs(model, prepared)
    export_official(model, prepared, tmp / "out", DTYPES, model_id="shallow", display_name="Shallow",
                    shard_bytes=200_000, external_threshold=300_000, verify=True, log=lambda *_: None)
    return tmp / "out", ref


def _manifest(out: Path, dtype: str) -> dict:
    return json.loads((out / f"shallow-{dtype}" / "manifest.json").read_text())


@pytest.mark.parametrize("dtype", ["q4", "q4f16"])
def test_q4_parity_against_fp32_pytorch(exported: tuple[Path, dict[str, np.ndarray]], dtype: str) -> None:
    out, ref = exported
    folder = out / f"shallow-{dtype}"
    m = _manifest(out, dtype)
    validate_manifest(m, folder)
    res = verify_folder(folder, ref)
    assert m["export"]["parity"] == pytest.approx(res)  # what the manifest records is what the folder does
    assert res["ids_identical"] and res["text_ids_identical"], res  # the VQ encoder is fp32 in every variant
    # All-4-bit RTN on random width-64 weights measures 0.984-0.993 (bench/results/q4-sweep-shallow.json); the
    # MatMuls chosen on calibration inputs (not these) are kept fp32 until the 0.995 target holds here.
    assert res["semantic_min_cos"] >= 0.995 and res["text_min_cos"] >= 0.995, res
    # ...and the 4 bits really cost something: an export that silently kept fp32 weights would reach 0.9999.
    fp32 = _manifest(out, "fp32")["export"]["parity"]
    assert res["semantic_min_cos"] < fp32["semantic_min_cos"] - 1e-4, (res, fp32)
    assert res["decoder_max_abs"] < (1e-4 if dtype == "q4" else 2e-2), res


def test_q4_manifest_variant_and_sizes(exported: tuple[Path, dict[str, np.ndarray]]) -> None:
    out, _ = exported
    fp32 = _manifest(out, "fp32")["memory"]["graph_weights_bytes"]
    for dtype in ("q4", "q4f16"):
        m = _manifest(out, dtype)
        v = m["variant"]
        assert v["dtype"] == dtype
        assert (v["providers"], v["requires"]) == ((["webgpu", "wasm"], []) if dtype == "q4" else
                                                  (["webgpu"], ["shader-f16"]))
        q = m["export"]["q4"]
        assert (q["bits"], q["block_size"], q["symmetric"]) == (4, Q4_BLOCK_SIZE, Q4_SYMMETRIC)
        vq4 = q["vq_4bit_measured"]  # why the VQ graphs below are not 4-bit: measured on this model at export
        assert vq4["encoder_convs"] > 0 and vq4["decoder_convs"] > 0
        assert vq4["safe"] == (vq4["ids_mismatch_fraction"] <= 0.01) and 0 < vq4["decoder_psnr_db"] < 60
        roles = {f["role"]: f for f in m["files"]}
        assert roles["vq_encoder"]["dtype"] == "fp32"
        assert roles["vq_decoder"]["dtype"] == ("fp32" if dtype == "q4" else "fp16")
        assert roles["semantic_encoder"]["dtype"] == roles["text_encoder"]["dtype"] == dtype
        assert m["text"]["embedding_table"]["dtype"] == "int8"
        g = m["memory"]["graph_weights_bytes"]
        for role in ("semantic_encoder", "text_encoder"):
            mixed = q["mixed_precision"][role]
            assert 0 <= mixed["kept_fp32_weight_fraction"] <= mixed["max_kept_fraction"], mixed
            assert len(mixed["kept_fp32"]) == len(mixed["tried"]) - 1 and mixed["matmuls"] > len(mixed["kept_fp32"])
            # 4 bits + one scale (+ zero point) per 32 weights, plus the unquantised biases/norms/embeddings and
            # the MatMuls kept fp32.
            bound = (0.3 + mixed["kept_fp32_weight_fraction"]) * fp32[role]
            assert g[role] < bound, (dtype, role, g[role], fp32[role], mixed)
        if dtype == "q4":
            assert g["vq_decoder"] == fp32["vq_decoder"] and g["vq_encoder"] == fp32["vq_encoder"]


def _dequantise(node: onnx.NodeProto, inits: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """MatMulNBits (bits=4) -> (weight [K, N] float32, scale per element [K, N]), from the contrib op's layout:
    B uint8 [N, K/block, block/2] with the low nibble first, scales [N * K/block], zero points packed two per byte
    (8 when absent)."""
    a = {x.name: onnx.helper.get_attribute_value(x) for x in node.attribute}
    k, n, block = a["K"], a["N"], a["block_size"]
    assert a["bits"] == 4
    b = inits[node.input[1]]
    nb = b.shape[1]
    q = np.stack([b & 0x0F, b >> 4], axis=-1).reshape(n, nb * block).astype(np.float32)
    scales = inits[node.input[2]].astype(np.float32).reshape(n, nb)
    if len(node.input) > 3 and node.input[3]:
        zp = inits[node.input[3]].reshape(n, -1)
        zp = np.stack([zp & 0x0F, zp >> 4], axis=-1).reshape(n, -1)[:, :nb].astype(np.float32)
    else:
        zp = np.full((n, nb), 8.0, np.float32)
    w = (q - np.repeat(zp, block, 1)) * np.repeat(scales, block, 1)
    return w[:, :k].T, np.repeat(scales, block, 1)[:, :k].T


@pytest.mark.parametrize("role", ["semantic_encoder", "text_encoder"])
def test_q4_weights_within_half_a_step_of_fp32(exported: tuple[Path, dict[str, np.ndarray]], role: str) -> None:
    out, _ = exported
    ref = onnx.load(str(out / "shallow-fp32" / f"{role}.onnx"))
    ref_w = {t.name: numpy_helper.to_array(t) for t in ref.graph.initializer}
    matmuls = {nd.name: nd for nd in ref.graph.node if nd.op_type == "MatMul" and nd.input[1] in ref_w}
    q4 = onnx.load(str(out / "shallow-q4" / f"{role}.onnx"))
    inits = {t.name: numpy_helper.to_array(t) for t in q4.graph.initializer}
    nbits = [nd for nd in q4.graph.node if nd.op_type == "MatMulNBits"]
    kept = _manifest(out, "q4")["export"]["q4"]["mixed_precision"][role]["kept_fp32"]
    # exactly the MatMuls the manifest names stay unquantised, with their fp32 weights untouched
    plain = {nd.name: nd for nd in q4.graph.node if nd.op_type == "MatMul" and nd.input[1] in inits}
    assert sorted(plain) == sorted(kept)
    for name, nd in plain.items():
        np.testing.assert_array_equal(inits[nd.input[1]], ref_w[matmuls[name].input[1]])
    assert nbits and len(nbits) + len(kept) == len(matmuls)
    a0 = {x.name: onnx.helper.get_attribute_value(x) for x in nbits[0].attribute}
    assert a0["block_size"] == Q4_BLOCK_SIZE and (len(nbits[0].input) > 3) == (not Q4_SYMMETRIC)
    for nd in nbits:
        src = matmuls[nd.name.removesuffix("_Q4")]
        w32 = ref_w[src.input[1]].reshape(-1, ref_w[src.input[1]].shape[-1])
        w, step = _dequantise(nd, inits)
        assert w.shape == w32.shape, nd.name
        # Round-to-nearest: every weight within half a step (plus float slack); the scale is range / 15.
        err = np.abs(w - w32)
        assert np.all(err <= 0.5 * step + 1e-6), (nd.name, float((err / step).max()))
        assert float(step.max()) <= float(np.abs(w32).max()) * 2 / 15 + 1e-6, nd.name


def test_q4_choice_within_a_run_budget_ranks_by_weight_error(exported: tuple[Path, dict[str, np.ndarray]]) -> None:
    """A graph with more MatMuls than the run budget (full-size towers) is not run once per MatMul: the choice
    ranks by 4-bit rounding error, stays within the budget, and still only keeps MatMuls that helped."""
    from toklip.quant4 import choose_fp32_matmuls, rtn_relative_error, weight_matmuls

    out, _ = exported
    proto = onnx.load(str(out / "shallow-fp32" / "semantic_encoder.onnx"))
    m = _manifest(out, "fp32")
    g = m["grid"]
    rng = np.random.default_rng(3)
    feeds = [{"ids": rng.integers(0, m["codebook"]["size"], (1, g["h"], g["w"])).astype(np.int32)} for _ in range(3)]
    kept, info = choose_fp32_matmuls(proto, feeds, max_evaluations=14, target=0.9999)
    assert info["cost"].startswith("relative Frobenius") and info["graph_runs"] <= 14 + 2, info
    assert len(weight_matmuls(proto)) == info["matmuls"] == 15
    steps = [t["min_cos"] for t in info["tried"]]
    assert steps == sorted(steps) and len(kept) == len(steps) - 1 and not info["reached"], info
    w = np.random.default_rng(0).standard_normal((64, 48)).astype(np.float32)
    e = rtn_relative_error(w)
    assert 0.02 < e < 0.2  # 16 levels over a Gaussian block's range: a few percent, never zero
    assert rtn_relative_error(np.ones((64, 48), np.float32)) < 1e-12  # a constant block is exact


def test_every_exported_dtype_names_its_siblings(exported: tuple[Path, dict[str, np.ndarray]]) -> None:
    """Several dtypes exported together: each manifest lists all of them as ../<folder>/, and each path is a
    folder that exists beside it with that dtype (the app opens the best one the browser can run)."""
    out, _ = exported
    for dtype in DTYPES:
        folder = out / f"shallow-{dtype}"
        family = _manifest(out, dtype)["variants"]
        assert sorted(v["dtype"] for v in family) == sorted(DTYPES)
        for v in family:
            sibling = (folder / v["path"]).resolve()
            assert sibling.parent == out.resolve(), v
            assert json.loads((sibling / "manifest.json").read_text())["variant"]["dtype"] == v["dtype"]
    bad = _manifest(out, "q4")
    for path in ("../../", "../a/b/", "shallow-fp32/", "/tmp/x/"):
        bad["variants"] = [{"dtype": "fp32", "path": path}]
        with pytest.raises(ValueError, match="sibling folder"):
            validate_manifest(bad)


def test_q4_short_of_its_target_says_so_loudly(tmp_path: Path) -> None:
    """No room to keep any MatMul fp32 (--q4-max-fp32 0): the export still writes q4, the manifest records the
    target as not reached, and the log carries a WARNING naming the options that give the search more."""
    import_or_skip_unless_ci("onnx_ir")
    cfg = shallow_config()
    ckpt, vqf, _ = official_files(tmp_path / "ckpt", cfg)
    model = load_official(cfg, ckpt, vqf)
    prepared = prepare_tokenizer(build_gemma_style_json(tmp_path / "tok"), cfg.text.context_length)
    lines: list[str] = []
    export_official(model, prepared, tmp_path / "out", ["q4"], model_id="shallow", display_name="Shallow",
                    verify=False, q4_max_fp32_fraction=0.0, log=lambda *a: lines.append(" ".join(map(str, a))))
    mixed = json.loads((tmp_path / "out" / "manifest.json").read_text())["export"]["q4"]["mixed_precision"]
    for role in ("semantic_encoder", "text_encoder"):
        assert not mixed[role]["reached"] and mixed[role]["kept_fp32"] == [], mixed[role]
        warn = [ln for ln in lines if "WARNING" in ln and role in ln]
        assert len(warn) == 1 and "--q4-search-seconds" in warn[0] and "--q4-max-fp32" in warn[0], lines
