"""dedupe_constants: fewer bytes, the same values."""

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

from toklip.model import TokLIP
from toklip.onnx_graphs import SemanticEncoderGraph, export_graph
from toklip.onnx_tidy import dedupe_constants

from helpers import micro_config


def _const(name: str, value: np.ndarray) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name + "_v"))


def test_identical_constants_and_initializers_merge_and_values_stay() -> None:
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    nodes = [
        _const("c1", a), _const("c2", a.copy()), _const("c3", a + 1), _const("c4", a.astype(np.float64).astype(np.float32)),
        helper.make_node("Add", ["x", "c1"], ["s1"]), helper.make_node("Add", ["s1", "c2"], ["s2"]),
        helper.make_node("Add", ["s2", "c3"], ["s3"]), helper.make_node("Add", ["s3", "c4"], ["s4"]),
        helper.make_node("Add", ["s4", "w1"], ["s5"]), helper.make_node("Add", ["s5", "w2"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])],
        initializer=[numpy_helper.from_array(a * 2, "w1"), numpy_helper.from_array(a * 2, "w2")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    before = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]
    assert dedupe_constants(model) == 3  # c2 and c4 (same as c1), w2 (same as w1); c3 differs
    onnx.checker.check_model(model)
    assert [n.output[0] for n in model.graph.node if n.op_type == "Constant"] == ["c1", "c3"]
    assert [t.name for t in model.graph.initializer] == ["w1"]
    after = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]
    assert np.array_equal(before, after)
    assert dedupe_constants(model) == 0


def test_causal_mask_is_stored_once_in_the_semantic_encoder(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = TokLIP(micro_config()).eval()
    g, depth = model.cfg.grid, model.cfg.vision.depth
    assert depth >= 2
    path = export_graph(SemanticEncoderGraph(model), torch.zeros(1, g, g, dtype=torch.int32), "ids", "embedding",
                        tmp_path / "semantic_encoder.onnx")
    masks = [n for n in onnx.load(str(path)).graph.node if n.op_type == "Constant"
             and tuple(n.attribute[0].t.dims) == (g * g, g * g)]
    assert len(masks) == 1
    ids = torch.randint(0, model.cfg.vq.codebook_size, (2, g, g), dtype=torch.int32)
    with torch.no_grad():
        ref = SemanticEncoderGraph(model)(ids).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"ids": ids.numpy()})[0]
    assert np.abs(got - ref).max() < 1e-4
