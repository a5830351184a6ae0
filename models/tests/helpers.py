"""Small configs so model tests run in seconds."""

from toklip.model import TextConfig, TokLIPConfig, VisionConfig
from toklip.vq import VQConfig


def micro_config() -> TokLIPConfig:
    vq = VQConfig(codebook_size=64, codebook_embed_dim=8, ch=32, ch_mult=(1, 2), num_res_blocks=1, z_channels=32)
    vision = VisionConfig(image_size=32, width=64, depth=2, heads=2, mlp_hidden=128, act="gelu_tanh", causal=True)
    text = TextConfig(vocab_size=512, context_length=8, width=64, layers=2, heads=2, mlp_hidden=128)
    teacher = VisionConfig(image_size=32, width=64, depth=1, heads=2, mlp_hidden=128, causal=False, patch_size=8)
    return TokLIPConfig(name="micro", vq=vq, vision=vision, text=text, embed_dim=64, teacher=teacher)
