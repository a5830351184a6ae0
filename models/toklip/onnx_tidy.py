"""Post-export clean-up of ONNX graphs that changes no value they compute.

The TorchScript exporter writes one ``Constant`` node per traced use of a tensor: a causal ViT gets its
additive attention mask once per block (4 × 256 KB in TokLIP-Tiny's semantic encoder; 24 × 1.3 MB in a
576-token TokLIP-L). ``dedupe_constants`` keeps one of each distinct tensor.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import onnx
from onnx import AttributeProto


def _key(t: onnx.TensorProto) -> tuple[int, tuple[int, ...], str] | None:
    if t.data_location == onnx.TensorProto.EXTERNAL:
        return None  # not read here; left as it is
    if t.raw_data:
        body = t.raw_data
    else:  # typed fields: compare the values, not the tensor's own name
        anon = onnx.TensorProto()
        anon.CopyFrom(t)
        anon.ClearField("name")
        body = anon.SerializeToString(deterministic=True)
    return t.data_type, tuple(t.dims), hashlib.sha256(body).hexdigest()


def _has_subgraphs(graph: onnx.GraphProto) -> bool:
    return any(a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS) for n in graph.node for a in n.attribute)


def dedupe_constants(model: onnx.ModelProto) -> int:
    """Merges top-level ``Constant`` nodes (``value`` attribute) and initializers that hold identical tensors;
    returns how many were removed. Graphs with control-flow subgraphs are left alone (their bodies may name
    the outer values)."""
    g = model.graph
    if _has_subgraphs(g):
        return 0
    keep_names = {o.name for o in g.output} | {i.name for i in g.input}
    first: dict[tuple[int, tuple[int, ...], str], str] = {}
    rename: dict[str, str] = {}
    inits = []
    for t in g.initializer:
        k = _key(t)
        if k is None or t.name in keep_names:
            inits.append(t)
        elif k in first:
            rename[t.name] = first[k]
        else:
            first[k] = t.name
            inits.append(t)
    nodes = []
    for n in g.node:
        value = next((a.t for a in n.attribute if a.name == "value" and a.type == AttributeProto.TENSOR), None)
        if n.op_type == "Constant" and n.domain in ("", "ai.onnx") and value is not None and len(n.attribute) == 1:
            k = _key(value)
            if k is not None and n.output[0] not in keep_names:
                if k in first:
                    rename[n.output[0]] = first[k]
                    continue
                first[k] = n.output[0]
        nodes.append(n)
    if not rename:
        return 0
    for n in nodes:
        for i, name in enumerate(n.input):
            if name in rename:
                n.input[i] = rename[name]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(inits)
    return len(rename)


def dedupe_constants_file(path: Path) -> int:
    """``dedupe_constants`` on a saved model, rewritten in place (external weight files are kept as they are)."""
    model = onnx.load(str(path), load_external_data=False)
    n = dedupe_constants(model)
    if n:
        onnx.save(model, str(path))
    return n
