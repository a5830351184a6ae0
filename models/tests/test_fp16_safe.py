"""fp16 that cannot overflow (toklip.fp16_safe): a shallow synthetic checkpoint whose VQ decoder is scaled so
its activations pass fp16's 65504. Plain fp16 shows inf/NaN in the fp16-emulating reference; the calibrated
mixed-precision graph stays finite and close to fp32, and the export records what it kept in fp32."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from toklip import fp16_safe
from toklip.export_official import export_official, reference_outputs, verify_folder
from toklip.manifest import validate_manifest
from toklip.model import TokLIP
from toklip.official import prepare_tokenizer
from toklip.onnx_graphs import VQDecoderGraph, export_graph
from toklip.synthetic_official import build_gemma_style_json, random_model, shallow_config

SCALE = 1e6  # conv_in of the decoder: its residual stream then carries values far beyond 65504


def overflowing_model() -> TokLIP:
    model = random_model(shallow_config())
    with torch.no_grad():
        model.trunk.vq.decoder.conv_in.weight.mul_(SCALE)
        model.trunk.vq.decoder.conv_in.bias.mul_(SCALE)
    return model


@pytest.fixture(scope="module")
def decoder(tmp_path_factory: pytest.TempPathFactory) -> tuple[onnx.ModelProto, list[dict[str, np.ndarray]]]:
    model = overflowing_model()
    pixels = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        ids = model.trunk.vq.encode_ids(pixels).to(torch.int32)
    p = tmp_path_factory.mktemp("dec") / "vq_decoder.onnx"
    export_graph(VQDecoderGraph(model), ids[:1], "ids", "image", p)
    return onnx.load(str(p)), [{"ids": ids[i : i + 1].numpy()} for i in range(len(ids))]


def test_plain_fp16_overflows_and_mixed_precision_does_not(decoder: tuple[onnx.ModelProto, list]) -> None:
    proto, feeds = decoder
    ranges = fp16_safe.activation_ranges(proto, feeds[:2])
    assert max(ranges.values()) > fp16_safe.FP16_MAX  # the premise: this decoder does overflow fp16
    test = feeds[2]  # not among the calibration inputs
    ref = fp16_safe.run(proto, test)[0]
    assert np.isfinite(ref).all()

    plain = fp16_safe.emulate_fp16(proto, fp16_safe.fp16_node_names(proto, []))
    assert not np.isfinite(fp16_safe.run(plain, test)[0]).all()  # overflow shows up here, not on a user's GPU

    keep = fp16_safe.fp32_nodes(proto, ranges)
    assert 0 < len(keep) < len(proto.graph.node) // 2
    half = fp16_safe.fp16_node_names(proto, keep)
    limit = fp16_safe.FP16_MAX / fp16_safe.DEFAULT_MARGIN
    hot = {t for t, v in ranges.items() if not v < limit}
    assert not any(set(n.input) & hot or set(n.output) & hot for n in proto.graph.node if n.name in half)
    emulated = fp16_safe.run(fp16_safe.emulate_fp16(proto, half), test)[0]
    assert np.isfinite(emulated).all()
    assert float(np.abs(emulated - ref).max()) < 2e-2  # the fp16 variant's decoder bound (test_official)

    # The converted graph itself (fp16 weights, Casts at the fp16/fp32 boundaries), run by onnxruntime.
    mixed = fp16_safe.convert_mixed(proto, keep)
    inits16 = [t for t in mixed.graph.initializer if t.data_type == onnx.TensorProto.FLOAT16]
    assert inits16  # it really is fp16 where it can be
    out = fp16_safe.run(mixed, test)[0]
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert float(np.abs(out - ref).max()) < 2e-2


def test_converter_round_trips_between_fp32_nodes_are_dropped(decoder: tuple[onnx.ModelProto, list]) -> None:
    """Without drop_fp16_round_trips the converter's own Cast(fp16) between two kept nodes overflows."""
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    proto, feeds = decoder
    keep = fp16_safe.fp32_nodes(proto, fp16_safe.activation_ranges(proto, feeds[:2]))
    m = onnx.ModelProto()
    m.CopyFrom(proto)
    raw = convert_float_to_float16(m, keep_io_types=True, node_block_list=keep,
                                   op_block_list=list(DEFAULT_OP_BLOCK_LIST) + list(fp16_safe.FP32_OPS))
    assert not np.isfinite(fp16_safe.run(raw, feeds[2])[0]).all()


def test_export_keeps_the_hot_decoder_nodes_in_fp32(tmp_path: Path) -> None:
    model = overflowing_model()
    cfg = model.cfg
    prepared = prepare_tokenizer(build_gemma_style_json(tmp_path / "tok"), cfg.text.context_length)
    ref = reference_outputs(model, prepared)
    export_official(model, prepared, tmp_path / "out", ["fp16"], model_id="hot", display_name="Hot",
                    verify=True, log=lambda *_: None)
    folder = tmp_path / "out"
    m = json.loads((folder / "manifest.json").read_text())
    validate_manifest(m, folder)
    s = m["export"]["fp16_safety"]
    dec = s["graphs"]["vq_decoder"]
    assert dec["method"].startswith("onnx-mixed") and dec["fp32_nodes"], dec["method"]
    assert dec["max_abs"] > fp16_safe.FP16_MAX and dec["emulated"]["finite"]
    hot = {n for n, v in dec["node_max_abs"].items() if v is None or v >= dec["limit"]}
    assert hot and hot <= set(dec["fp32_nodes"])
    # The encoders are untouched by the scaling: no node near the limit, their torch fp16 export stays.
    for role in ("semantic_encoder", "text_encoder"):
        assert s["graphs"][role]["fp32_nodes"] == [] and s["graphs"][role]["method"].startswith("torch-fp16")
    res = verify_folder(folder, ref)
    assert m["export"]["parity"] == pytest.approx(res)
    assert np.isfinite(res["decoder_max_abs"]) and res["decoder_max_abs"] < 2e-2, res
    assert res["ids_identical"] and res["semantic_min_cos"] >= 0.999, res
