"""Every variant: shapes, gradients, config errors, state_dict compatibility across backends."""

import io

import pytest
import torch

from mtmixg.models import VARIANTS, Mamba, ModelConfig, build_model

TINY = dict(seq_len=600, channels=8, cnn_channels=8, heads=2, d_state=4, pools=[2, 2, 2], cnn_blocks=3, fc_hidden=[16])


def _one_hot(n: int, length: int, device: torch.device | str = "cpu") -> torch.Tensor:
    codes = torch.randint(0, 4, (n, length))
    return torch.nn.functional.one_hot(codes, 4).permute(0, 2, 1).float().to(device)


@pytest.mark.parametrize("variant", VARIANTS)
def test_full_size_forward_backward_reaches_every_parameter(variant: str) -> None:
    model = build_model(ModelConfig(variant=variant))
    logits = model(_one_hot(2, 3020))
    assert logits.shape == (2, 1)
    torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor([[0.0], [1.0]])).backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not no_grad, f"parameters without gradient: {no_grad}"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_tiny_models_give_one_logit_per_output(device: torch.device, variant: str, n_outputs: int) -> None:
    model = build_model(ModelConfig(variant=variant, n_outputs=n_outputs, **TINY)).to(device)
    logits = model(_one_hot(5, 600, device))
    assert logits.shape == (5, n_outputs)
    assert torch.isfinite(logits).all()
    logits.sum().backward()


def test_unknown_variant_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown variant 'transformer'"):
        ModelConfig(variant="transformer")


@pytest.mark.parametrize("variant", ["cnn_attention", "cnn_mixenc", "mtmixg"])
def test_heads_must_divide_attention_channels(variant: str) -> None:
    cfg = ModelConfig(variant=variant, **{**TINY, "heads": 3})
    with pytest.raises(ValueError, match="heads"):
        build_model(cfg)


def test_pools_too_large_for_length_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="pools .* reduce a sequence of length 600"):
        build_model(ModelConfig(variant="cnn", **{**TINY, "pools": [8, 8, 16]}))


def test_wrong_input_shape_is_a_clear_error() -> None:
    model = build_model(ModelConfig(variant="cnn", **TINY))
    with pytest.raises(ValueError, match=r"\(N, 4, 600\)"):
        model(_one_hot(2, 300))


@pytest.mark.parametrize("variant", ["cnn_mamba", "cnn_mixenc", "mtmixg"])
def test_state_dict_keys_equal_for_fused_and_pure_backends(variant: str) -> None:
    cfg = ModelConfig(variant=variant, **TINY)
    fused, pure = build_model(cfg, mamba_backend="fused"), build_model(cfg, mamba_backend="pure")
    shapes = lambda m: {k: tuple(v.shape) for k, v in m.state_dict().items()}  # noqa: E731
    assert shapes(fused) == shapes(pure)
    blocks = [m for m in pure.modules() if isinstance(m, Mamba)]
    assert len(blocks) == 1
    assert set(blocks[0].state_dict()) == {  # mamba_ssm's Mamba (bias=False, conv_bias=True)
        "A_log", "D", "in_proj.weight", "conv1d.weight", "conv1d.bias",
        "x_proj.weight", "dt_proj.weight", "dt_proj.bias", "out_proj.weight",
    }  # fmt: skip


def test_mamba_matches_mambapy_block_with_the_same_weights() -> None:
    mambapy = pytest.importorskip("mambapy.mamba")
    ours = Mamba(16, d_state=8, backend="pure")
    theirs = mambapy.MambaBlock(mambapy.MambaConfig(d_model=16, n_layers=1, d_state=8))
    theirs.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, 150, 16)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
def test_saved_weights_reload_strictly_and_reproduce_outputs(variant: str) -> None:
    cfg = ModelConfig(variant=variant, n_outputs=3, **TINY)
    model = build_model(cfg)
    model(_one_hot(4, 600)).sum().backward()  # one train-mode pass updates BatchNorm statistics
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    fresh = build_model(ModelConfig.from_dict(cfg.to_dict()))
    fresh.load_state_dict(torch.load(buffer, weights_only=True), strict=True)
    x = _one_hot(3, 600)
    model.eval(), fresh.eval()
    with torch.no_grad():
        assert torch.equal(model(x), fresh(x))
