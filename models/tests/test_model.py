import torch

from toklip.model import PixelCLIP, TokLIP, TokLIPConfig, sigmoid_loss, tiny_config

from helpers import micro_config


def test_state_dict_uses_official_key_layout() -> None:
    torch.manual_seed(0)
    keys = set(TokLIP(micro_config()).state_dict())
    for k in [
        "visual.trunk.vq.encoder.conv_in.weight",
        "visual.trunk.vq.encoder.conv_blocks.0.res.0.norm1.weight",
        "visual.trunk.vq.encoder.conv_blocks.0.downsample.conv.weight",
        "visual.trunk.vq.encoder.conv_blocks.1.attn.0.q.weight",
        "visual.trunk.vq.encoder.mid.1.proj_out.weight",
        "visual.trunk.vq.decoder.conv_blocks.0.upsample.conv.weight",
        "visual.trunk.vq.quantize.embedding.weight",
        "visual.trunk.vq.quantize.codebook_used",
        "visual.trunk.vq.quant_conv.weight",
        "visual.trunk.vq.post_quant_conv.weight",
        "visual.trunk.vq_table.weight",
        "visual.trunk.vq_mapping.weight",
        "visual.trunk.pos_embed",
        "visual.trunk.blocks.1.attn.qkv.weight",
        "visual.trunk.blocks.1.mlp.fc2.bias",
        "visual.trunk.norm.weight",
        "visual.trunk.attn_pool.latent",
        "visual.trunk.attn_pool.kv.weight",
        "visual.trunk.attn_pool.mlp.fc1.weight",
        "text.token_embedding.weight",
        "text.positional_embedding",
        "text.transformer.resblocks.0.attn.in_proj_weight",
        "text.transformer.resblocks.0.attn.out_proj.weight",
        "text.transformer.resblocks.0.mlp.c_fc.weight",
        "text.ln_final.weight",
        "text.text_projection.weight",
        "text.text_projection.bias",
        "logit_scale",
        "logit_bias",
    ]:
        assert k in keys, k
    assert not any("attn_mask" in k for k in keys)


def test_semantic_encoder_is_causal() -> None:
    torch.manual_seed(0)
    m = TokLIP(micro_config()).eval()
    g = m.cfg.grid
    ids = torch.randint(0, 64, (1, g, g))
    other = ids.clone()
    other[0, -1, -1] = (other[0, -1, -1] + 1) % 64  # change only the last token
    with torch.no_grad():
        a, b = m.trunk.token_features(ids), m.trunk.token_features(other)
    torch.testing.assert_close(a[:, :-1], b[:, :-1])
    assert not torch.allclose(a[:, -1], b[:, -1])


def test_blocks_from_is_token_features_after_the_token_mlp() -> None:
    torch.manual_seed(0)
    t = TokLIP(micro_config()).trunk.eval()
    g = TokLIP(micro_config()).cfg.grid
    ids = torch.randint(0, 64, (2, g, g))
    with torch.no_grad():
        mlp = t.vq_mapping(t.vq_act(t.vq_table(t.vq.quantize.lookup(ids).flatten(1, 2))))
        # the exported graph traces token_features: the split must not change one bit of it
        assert torch.equal(t.token_features(ids), t.blocks_from(mlp))
        early = mlp.clone()
        early[:, -1] += 1.0  # a change to the last token reaches earlier tokens only without the mask
        torch.testing.assert_close(t.blocks_from(mlp)[:, :-1], t.blocks_from(early)[:, :-1])
        assert not torch.allclose(t.blocks_from(mlp, causal=False)[:, :-1], t.blocks_from(early, causal=False)[:, :-1])


def test_text_tower_is_bidirectional_and_pools_last() -> None:
    torch.manual_seed(0)
    m = TokLIP(micro_config()).eval()
    per_position: list[torch.Tensor] = []
    # the real forward path; the hook only reads the per-position outputs before pooling
    hook = m.text.ln_final.register_forward_hook(lambda _m, _i, out: per_position.append(out.detach().clone()))
    a = torch.tensor([[5, 6, 7, 0, 0, 0, 0, 0]])
    b = a.clone()
    b[0, 2] = 9  # change a later token only
    with torch.no_grad():
        ea, eb = m.encode_text(a), m.encode_text(b)
    hook.remove()
    pa, pb = per_position
    assert pa.shape == (1, 8, m.cfg.text.width)
    # bidirectional: the earlier positions 0 and 1 see the later token (a causal tower leaves them unchanged)
    for pos in (0, 1):
        assert (pa[0, pos] - pb[0, pos]).abs().max() > 1e-3, pos
    # pooled from the last position, which also sees it
    assert (ea - eb).abs().max() > 1e-3
    torch.testing.assert_close(m.text.text_projection(pa[:, -1]), m.text(a))


def test_vq_roundtrip_shapes_and_ids() -> None:
    torch.manual_seed(0)
    cfg = micro_config()
    vq = TokLIP(cfg).trunk.vq.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        rec, loss, ids, _ = vq(x)
        assert ids.shape == (2, cfg.grid, cfg.grid)
        torch.testing.assert_close(vq.encode_ids(x), ids)
        torch.testing.assert_close(vq.decode_ids(ids), rec)
    assert rec.shape == x.shape and loss.item() >= 0


def test_config_roundtrip() -> None:
    cfg = tiny_config()
    assert TokLIPConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.grid == 16 and cfg.vq.downsample == 8


def test_sigmoid_loss_prefers_matching_pairs() -> None:
    torch.manual_seed(0)
    e = torch.nn.functional.normalize(torch.randn(4, 16), dim=-1)
    scale, bias = torch.tensor(2.3), torch.tensor(-2.0)
    assert sigmoid_loss(e, e, scale, bias) < sigmoid_loss(e, e.roll(1, 0), scale, bias)


def test_teacher_embeds_pixels() -> None:
    torch.manual_seed(0)
    t = PixelCLIP(micro_config()).eval()
    with torch.no_grad():
        e = t.encode_image(torch.randn(3, 3, 32, 32))
    torch.testing.assert_close(e.norm(dim=-1), torch.ones(3))
