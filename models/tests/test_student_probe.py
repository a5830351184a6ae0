import torch

from toklip.model import PixelCLIP, TokLIP, tiny_v2_config
from toklip.student_probe import fit_token_mlp, teacher_patch_features, through_student


def test_teacher_patch_features_cover_their_tokens() -> None:
    cfg = tiny_v2_config()
    teacher = PixelCLIP(cfg).eval()
    px = torch.randn(2, 3, 128, 128)
    grid = 128 // cfg.vq.downsample
    feat = teacher_patch_features(teacher, px, grid)
    assert feat.shape == (2, grid * grid, cfg.vision.width)
    pe = teacher.visual.trunk.patch_embed.proj(px)  # [2, width, 8, 8]
    f = feat.reshape(2, grid, grid, -1)
    for (ti, tj), (pi, pj) in (((0, 0), (0, 0)), ((1, 1), (0, 0)), ((3, 2), (1, 1)), ((15, 14), (7, 7))):
        torch.testing.assert_close(f[:, ti, tj], pe[:, :, pi, pj])


def test_causal_mask_changes_the_student_and_mlp_fit_reaches_targets() -> None:
    torch.manual_seed(0)
    cfg = tiny_v2_config()
    trunk = TokLIP(cfg).trunk.eval()
    feat = torch.randn(1, 256, cfg.vision.width)
    with torch.no_grad():
        causal, bidi = through_student(trunk, feat, True), through_student(trunk, feat, False)
    assert not torch.allclose(causal, bidi)
    # a smooth function of the code vectors, as a real per-code target is; the MLP must get most of the way there
    codes = trunk.vq.quantize.codebook().detach()
    target = torch.tanh(codes @ torch.randn(cfg.vq.codebook_embed_dim, cfg.vision.width))
    counts = torch.ones(cfg.vq.codebook_size, dtype=torch.float64)
    with torch.no_grad():
        start = float(((trunk.vq_mapping(trunk.vq_act(trunk.vq_table(codes))) - target) ** 2).mean())
    assert fit_token_mlp(trunk, target, counts, steps=50) < 0.1 * start
