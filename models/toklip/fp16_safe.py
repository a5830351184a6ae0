"""fp16 that cannot overflow: measure every node's largest |activation| on the fp32 graph with calibration
inputs, keep the nodes whose range comes within a safety margin of fp16's largest finite value (65504) in
fp32, and check the result with an fp16-emulating reference.

* :func:`activation_ranges` adds ``ReduceMax(Abs(x))`` for every float tensor to a copy of the graph (one
  scalar output each, so even full-size decoder activations are never all held at once) and runs it with
  onnxruntime, no graph optimisation, over the calibration feeds;
* :func:`fp32_nodes`: a node stays fp32 when one of its float outputs or inputs reaches ``65504 / margin``
  (an input counts because a node computed in fp16 would receive that tensor cast to fp16, i.e. inf);
* :func:`convert_mixed`: onnxruntime's float16 converter with those nodes (and the ops this project keeps in
  fp32 anyway: norms, softmax) in its block lists, inputs and outputs left float32;
* :func:`emulate_fp16`: the fp32 graph with every output of an fp16 node rounded through float16 (Cast to
  fp16 and back) and its float initializers rounded likewise, run in fp32. An overflow becomes inf/NaN here
  as it would on a GPU with ``shader-f16``; onnxruntime's CPU provider runs many fp16 ops in fp32 and is no
  such check. What it does not model: fp16 accumulation inside one node (GPUs accumulate MatMul/Conv in fp32
  or fp16 depending on the kernel) and rounding inside fused ops.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FP16_MAX = 65504.0
DEFAULT_MARGIN = 4.0
# Kept in fp32 in every fp16 graph of this project (docs/CONTRACT.md: norms and softmax in fp32), on top of
# onnxruntime's own default block list.
FP32_OPS = ("InstanceNormalization", "LayerNormalization", "GroupNormalization", "Softmax")


def _float_types(proto: onnx.ModelProto) -> dict[str, int]:
    inferred = onnx.shape_inference.infer_shapes(proto)
    g = inferred.graph
    out: dict[str, int] = {}
    for vi in list(g.value_info) + list(g.input) + list(g.output):
        out[vi.name] = vi.type.tensor_type.elem_type
    for t in g.initializer:
        out[t.name] = t.data_type
    for n in g.node:  # Constant outputs are not always in value_info
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    out[n.output[0]] = a.t.data_type
    return out


def activation_ranges(proto: onnx.ModelProto, feeds: Iterable[dict[str, np.ndarray]]) -> dict[str, float]:
    """tensor name -> max |finite value| over all feeds (NaN if a NaN appears), for every float tensor a node
    produces or the graph takes."""
    import onnxruntime as ort

    types = _float_types(proto)
    m = onnx.ModelProto()
    m.CopyFrom(proto)
    g = m.graph
    inits = {t.name for t in g.initializer}
    names = [i.name for i in g.input if types.get(i.name) == TensorProto.FLOAT and i.name not in inits]
    names += [o for n in g.node for o in n.output if o and types.get(o) == TensorProto.FLOAT]
    del g.output[:]
    zero = "__range_zero"
    g.initializer.append(numpy_helper.from_array(np.zeros((), np.float32), zero))
    for i, name in enumerate(names):
        a, f, z, r = (f"__range_{k}_{i}" for k in ("abs", "isinf", "finite", "max"))
        # Over finite values only: the causal mask's -inf is representable in fp16 and no overflow.
        g.node.extend([helper.make_node("Abs", [name], [a], name=a),
                       helper.make_node("IsInf", [name], [f], name=f),
                       helper.make_node("Where", [f, zero, a], [z], name=z),
                       helper.make_node("ReduceMax", [z], [r], name=r, keepdims=0)])
        g.output.append(helper.make_tensor_value_info(r, TensorProto.FLOAT, []))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    best = np.zeros(len(names), np.float64)
    for feed in feeds:
        vals = np.array([float(v) for v in sess.run(None, feed)], np.float64)
        best = np.where(np.isnan(vals) | (vals > best), vals, best)
    return dict(zip(names, (float(v) for v in best)))


def fp32_nodes(proto: onnx.ModelProto, ranges: dict[str, float], margin: float = DEFAULT_MARGIN) -> list[str]:
    """Names of the nodes that must stay fp32: any float input or output at or above ``65504 / margin``."""
    limit = FP16_MAX / margin
    hot = {t for t, v in ranges.items() if not (v < limit)}  # NaN counts as hot
    keep = []
    for n in proto.graph.node:
        if any(t in hot for t in list(n.input) + list(n.output)):
            assert n.name, "every node needs a name for the block list"
            keep.append(n.name)
    return keep


def fp16_node_names(proto: onnx.ModelProto, keep_fp32: Iterable[str]) -> set[str]:
    """The nodes :func:`convert_mixed` computes in fp16 (all but the block lists)."""
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST

    ops = set(DEFAULT_OP_BLOCK_LIST) | set(FP32_OPS)
    keep = set(keep_fp32)
    return {n.name for n in proto.graph.node if n.op_type not in ops and n.name not in keep}


def convert_mixed(proto: onnx.ModelProto, keep_fp32: Sequence[str]) -> onnx.ModelProto:
    """fp16 weights and compute except ``keep_fp32`` nodes and :data:`FP32_OPS`; float32 inputs/outputs."""
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    m = onnx.ModelProto()
    m.CopyFrom(proto)
    out: onnx.ModelProto = convert_float_to_float16(m, keep_io_types=True,
                                                    op_block_list=list(DEFAULT_OP_BLOCK_LIST) + list(FP32_OPS),
                                                    node_block_list=list(keep_fp32))
    return drop_fp16_round_trips(out)


def drop_fp16_round_trips(proto: onnx.ModelProto) -> onnx.ModelProto:
    """The converter casts every blocked node's output to fp16 and back before the next blocked node: a
    tensor kept in fp32 because it exceeds fp16's range would overflow in that round trip. Cast(fp32 -> fp16)
    followed by Cast(fp16 -> fp32) is replaced by the fp32 tensor itself; a Cast left without consumers goes."""
    g = proto.graph

    def cast_to(n: onnx.NodeProto) -> int | None:
        return next((a.i for a in n.attribute if a.name == "to"), None) if n.op_type == "Cast" else None

    producer = {o: n for n in g.node for o in n.output}
    alias: dict[str, str] = {}
    for n in g.node:
        src = producer.get(n.input[0]) if n.input else None
        # The converter names the Cast it puts after a blocked (fp32) node "<tensor>_cast_to_fp16_node".
        if cast_to(n) == TensorProto.FLOAT and src is not None and cast_to(src) == TensorProto.FLOAT16 \
                and src.name.endswith("_cast_to_fp16_node"):
            alias[n.output[0]] = src.input[0]
    outputs = {o.name for o in g.output}
    for n in g.node:
        for j, name in enumerate(n.input):
            if name in alias:
                n.input[j] = alias[name]
    # A graph output must keep its name: its Cast stays, fed by the fp32 tensor directly.
    for n in g.node:
        if cast_to(n) == TensorProto.FLOAT and n.output[0] in alias and n.output[0] in outputs:
            n.input[0] = alias[n.output[0]]
    used = {i for n in g.node for i in n.input} | outputs
    keep = [n for n in g.node if n.op_type != "Cast" or any(o in used for o in n.output)]
    # Removing one dead Cast can leave its fp16 source dead too.
    while True:
        used = {i for n in keep for i in n.input} | outputs
        nxt = [n for n in keep if n.op_type != "Cast" or any(o in used for o in n.output)]
        if len(nxt) == len(keep):
            break
        keep = nxt
    del g.node[:]
    g.node.extend(keep)
    return proto


def emulate_fp16(proto: onnx.ModelProto, fp16_nodes: Iterable[str]) -> onnx.ModelProto:
    """An fp32 graph whose ``fp16_nodes`` see float16-rounded float inputs and weights and produce float16-rounded
    outputs (Cast to float16 and back after each): run it with graph optimisation off."""
    types = _float_types(proto)
    half = set(fp16_nodes)
    m = onnx.ModelProto()
    m.CopyFrom(proto)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    rounded: dict[str, str] = {}
    nodes: list[onnx.NodeProto] = []

    def round_pair(src: str, dst: str) -> list[onnx.NodeProto]:
        return [helper.make_node("Cast", [src], [dst + "__h"], name=dst + "__to_h", to=TensorProto.FLOAT16),
                helper.make_node("Cast", [dst + "__h"], [dst], name=dst + "__to_f", to=TensorProto.FLOAT)]

    producer = {o: n.name for n in g.node for o in n.output if o}
    for n in g.node:
        if n.name not in half:
            nodes.append(n)
            continue
        for j, name in enumerate(n.input):
            if not name or types.get(name) != TensorProto.FLOAT:
                continue
            if name in inits:  # weights as stored in fp16 (the converter clamps them to the finite range)
                if name not in rounded:
                    w = numpy_helper.to_array(inits[name]).astype(np.float32)
                    w16 = np.clip(w, -FP16_MAX, FP16_MAX).astype(np.float16).astype(np.float32)
                    rounded[name] = name + "__w16"
                    g.initializer.append(numpy_helper.from_array(w16, rounded[name]))
                n.input[j] = rounded[name]
            elif producer.get(name) not in half:  # a graph input or an fp32 node's output, cast to fp16 on its way in
                if name not in rounded:
                    rounded[name] = name + "__in16"
                    nodes.extend(round_pair(name, rounded[name]))
                n.input[j] = rounded[name]
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value" and a.t.data_type == TensorProto.FLOAT:
                    v = numpy_helper.to_array(a.t).astype(np.float16).astype(np.float32)
                    a.t.CopyFrom(numpy_helper.from_array(v, a.t.name))
            nodes.append(n)
            continue
        tail = []
        for j, name in enumerate(n.output):
            if name and types.get(name) == TensorProto.FLOAT:
                n.output[j] = name + "__f32"
                tail += round_pair(name + "__f32", name)
        nodes.append(n)
        nodes.extend(tail)
    del g.node[:]
    g.node.extend(nodes)
    return m


def run(proto: onnx.ModelProto, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    so = ort.SessionOptions()
    # No fusion: a Cast pair must not be folded away, and the graph runs node by node as written.
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    sess = ort.InferenceSession(proto.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return [np.asarray(x) for x in sess.run(None, feed)]


def node_ranges(proto: onnx.ModelProto, ranges: dict[str, float]) -> dict[str, float | None]:
    """node name -> max |output| (the figure stored in the manifest)."""
    out: dict[str, float] = {}
    for n in proto.graph.node:
        vals = [ranges[o] for o in n.output if o in ranges]
        if vals and n.op_type != "Constant":
            v = max(vals)
            out[n.name] = float(f"{v:.4g}") if np.isfinite(v) else None  # JSON has no NaN
    return out


def safety_report(proto: onnx.ModelProto, ranges: dict[str, float], keep: Sequence[str], margin: float,
                  method: str) -> dict[str, Any]:
    nr = node_ranges(proto, ranges)
    return {"method": method, "margin": margin, "limit": FP16_MAX / margin,
            "max_abs": max((v for v in nr.values() if v is not None), default=0.0),
            "ranges_note": "max |activation| over finite values per node (fp32 graph, calibration inputs)", "fp32_nodes": list(keep), "node_max_abs": nr}
