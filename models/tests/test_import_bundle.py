import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from toklip.import_bundle import import_bundle, main

TINY = Path(__file__).resolve().parents[2] / "public/models/toklip-tiny"


def test_the_committed_bundle_comes_back_bit_exact(tmp_path: Path) -> None:
    model, teacher, report = import_bundle(TINY)
    assert set(report["max_abs_output_diff"]) == {"vq_encoder", "vq_decoder", "semantic_encoder", "text_encoder",
                                                  "teacher_image_encoder"}
    assert all(d == 0.0 for d in report["max_abs_output_diff"].values())
    # Only the usage counters keep their constructor values; every trained tensor came from a graph.
    assert report["constructor_values"] == {"toklip": ["visual.trunk.vq.quantize.codebook_used"], "teacher": []}
    dec = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(TINY / "vq_decoder.onnx")).graph.initializer}
    vq = model.trunk.vq
    assert np.array_equal(vq.decoder.conv_in.weight.detach().numpy(), dec["vq.decoder.conv_in.weight"])
    with torch.no_grad():
        codebook = vq.quantize.codebook().numpy()
    assert np.array_equal(codebook, np.fromfile(TINY / "codebook.bin", dtype="<f4").reshape(codebook.shape))
    assert teacher is not None and torch.equal(teacher.text.token_embedding.weight, model.text.token_embedding.weight)

    out = tmp_path / "final.pt"
    main(["--bundle", str(TINY), "--out", str(out), "--vq-out", str(tmp_path / "stage1_vq.pt")])
    from toklip.vq_ablation import load_vq

    vq_alone = load_vq(tmp_path / "stage1_vq.pt", model.cfg)
    for k, v in vq.state_dict().items():
        assert torch.equal(v, vq_alone.state_dict()[k]), k
    from toklip.export import load_checkpoint

    again, again_teacher, ck = load_checkpoint(out)
    assert ck["imported_from_bundle"]["model_id"] == "toklip-tiny"
    assert again_teacher is not None
    for k, v in model.state_dict().items():
        assert torch.equal(v, again.state_dict()[k]), k


def test_a_graph_the_modules_cannot_rebuild_is_refused(tmp_path: Path) -> None:
    """A bundle whose semantic encoder attends without TokLIP's causal mask: every initializer imports, but the
    re-exported graph differs, and the importer says so instead of returning a different model."""
    bundle = tmp_path / "bundle"
    shutil.copytree(TINY, bundle)
    path = bundle / "semantic_encoder.onnx"
    m = onnx.load(str(path))
    masks = [a for n in m.graph.node if n.op_type == "Constant" for a in n.attribute
             if a.name == "value" and np.isneginf(numpy_helper.to_array(a.t)).any()]
    assert masks
    for a in masks:
        a.t.CopyFrom(numpy_helper.from_array(np.zeros_like(numpy_helper.to_array(a.t)), a.t.name))
    onnx.save(m, str(path))
    with pytest.raises(SystemExit, match="semantic_encoder"):
        import_bundle(bundle)


def test_quantised_folders_are_refused(tmp_path: Path) -> None:
    import json

    manifest = json.loads((TINY / "manifest.json").read_text())
    for f in manifest["files"]:
        if f["role"] == "semantic_encoder":
            f["dtype"] = "int8"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SystemExit, match="only fp32"):
        import_bundle(tmp_path)
