"""Small configs so model tests run in seconds."""

from toklip.model import TextConfig, TokLIPConfig, VisionConfig
from toklip.vq import VQConfig


def micro_config() -> TokLIPConfig:
    vq = VQConfig(codebook_size=64, codebook_embed_dim=8, ch=32, ch_mult=(1, 2), num_res_blocks=1, z_channels=32)
    vision = VisionConfig(image_size=32, width=64, depth=2, heads=2, mlp_hidden=128, act="gelu_tanh", causal=True)
    text = TextConfig(vocab_size=512, context_length=8, width=64, layers=2, heads=2, mlp_hidden=128)
    teacher = VisionConfig(image_size=32, width=64, depth=1, heads=2, mlp_hidden=128, causal=False, patch_size=8)
    return TokLIPConfig(name="micro", vq=vq, vision=vision, text=text, embed_dim=64, teacher=teacher)


def in_ci() -> bool:
    """CI=true (or 1) as CI services and .ci/run set it."""
    import os

    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def skip_unless_ci(reason: str) -> None:
    """Skip locally, fail under CI: a missing prerequisite must not turn into a silent skip in CI."""
    import pytest

    if in_ci():
        pytest.fail(f"{reason} (CI=true: this would be a skip, which hides the test)", pytrace=False)
    pytest.skip(reason)


def import_or_skip_unless_ci(name: str):  # type: ignore[no-untyped-def]
    """pytest.importorskip, except that under CI a missing module (installed by scripts/setup.sh) fails."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        skip_unless_ci(f"Python module {name!r} is not installed (scripts/setup.sh installs models[test,official])")
