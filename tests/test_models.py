"""Every arch: shapes, gradients, config errors, state_dict compatibility across backends."""

import io

import pytest
import torch

from mtmixg.core.model_config import ModelConfig
from mtmixg.core.names import ARCHITECTURES
from mtmixg.models.architectures import build_model
from mtmixg.models.mamba import Mamba

TINY = dict(seq_len=600, channels=8, cnn_channels=8, heads=2, d_state=4, pools=[2, 2, 2], cnn_blocks=3, fc_hidden=[16],
            tss_index=200, tts_index=419)  # fmt: skip


def _one_hot(n: int, length: int, device: torch.device | str = "cpu") -> torch.Tensor:
    codes = torch.randint(0, 4, (n, length))
    return torch.nn.functional.one_hot(codes, 4).permute(0, 2, 1).float().to(device)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_full_size_forward_backward_reaches_every_parameter(arch: str) -> None:
    model = build_model(ModelConfig(arch=arch))
    logits = model(_one_hot(2, 3020))
    assert logits.shape == (2, 1)
    torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor([[0.0], [1.0]])).backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not no_grad, f"parameters without gradient: {no_grad}"


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_tiny_models_give_one_logit_per_output(device: torch.device, arch: str, n_outputs: int) -> None:
    model = build_model(ModelConfig(arch=arch, n_outputs=n_outputs, **TINY)).to(device)
    logits = model(_one_hot(5, 600, device))
    assert logits.shape == (5, n_outputs)
    assert torch.isfinite(logits).all()
    logits.sum().backward()


def test_unknown_arch_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown architecture 'transformer'"):
        ModelConfig(arch="transformer")


@pytest.mark.parametrize("arch", ["cnn_attention", "cnn_mixenc", "mtmixg"])
def test_heads_must_divide_attention_channels(arch: str) -> None:
    cfg = ModelConfig(arch=arch, **{**TINY, "heads": 3})
    with pytest.raises(ValueError, match="heads"):
        build_model(cfg)


def test_pools_too_large_for_length_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="pools .* reduce a sequence of length 600"):
        build_model(ModelConfig(arch="cnn", **{**TINY, "pools": [8, 8, 16]}))


def test_wrong_input_shape_is_a_clear_error() -> None:
    model = build_model(ModelConfig(arch="cnn", **TINY))
    with pytest.raises(ValueError, match=r"\(N, 4, 600\)"):
        model(_one_hot(2, 300))


@pytest.mark.parametrize("arch", ["cnn_mamba", "cnn_mixenc", "mtmixg"])
def test_state_dict_keys_equal_for_fused_and_pure_backends(arch: str) -> None:
    cfg = ModelConfig(arch=arch, **TINY)
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


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_saved_weights_reload_strictly_and_reproduce_outputs(arch: str) -> None:
    cfg = ModelConfig(arch=arch, n_outputs=3, **TINY)
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


# --- structure pinned to the paper (§2.5, §2.6) and to DeepCRE as published (Keras) ---


def test_residual_block_is_the_papers_three_conv_block() -> None:
    """Z1 = ReLU(Conv(H)); Z2 = ReLU(Conv(Z1)) + H; Z3 = BN(ReLU(Conv(Z2))); out = Dropout(MaxPool(Z3))."""
    from mtmixg.models.cnn import ResidualBlock, SameConv1d

    block = ResidualBlock(6, 6, kernel_size=5, pool=2, dropout=0.25)
    convs = [m for m in block.modules() if isinstance(m, SameConv1d)]
    assert len(convs) == 3
    assert len([m for m in block.modules() if isinstance(m, torch.nn.BatchNorm1d)]) == 1
    assert len([m for m in block.modules() if isinstance(m, torch.nn.ReLU)]) == 3
    assert isinstance(block.skip, torch.nn.Identity)
    block.eval()
    with torch.no_grad():
        block.bn.running_mean.uniform_(-0.5, 0.5), block.bn.running_var.uniform_(0.5, 2.0)
        h = torch.randn(2, 6, 40)
        relu = torch.relu
        z2 = relu(convs[1](relu(convs[0](h)))) + h
        expected = torch.nn.functional.max_pool1d(block.bn(relu(convs[2](z2))), 2)
        torch.testing.assert_close(block(h), expected)


def test_residual_block_projects_the_skip_where_channels_change() -> None:
    from mtmixg.models.cnn import ResidualBlock

    block = ResidualBlock(32, 64, kernel_size=8, pool=2, dropout=0.0)
    assert isinstance(block.skip, torch.nn.Conv1d) and block.skip.kernel_size == (1,)
    assert (block.skip.in_channels, block.skip.out_channels) == (32, 64)
    assert block(torch.randn(1, 32, 20)).shape == (1, 64, 10)


def test_dual_path_gate_outputs_half_the_channels_and_the_cnn_starts_there() -> None:
    model = build_model(ModelConfig(arch="mtmixg"))  # C = 64
    gate = model.mixer.gate
    assert all(conv.out_channels == 32 for conv in [*gate.proj, *gate.mask])
    assert model.mixer(torch.randn(2, 64, 50)).shape == (2, 32, 50)
    assert model.cnn[0].conv1.in_channels == 32 and model.cnn[0].skip.in_channels == 32


@pytest.mark.parametrize(("arch", "branch_half", "identity_half"), [("cnn_attention", 0, 1), ("cnn_mamba", 1, 0)])
def test_single_branch_ablations_split_channels_and_pass_the_other_half(arch, branch_half, identity_half) -> None:
    model = build_model(ModelConfig(arch=arch, **TINY)).eval()
    x = torch.randn(2, 8, 60)
    with torch.no_grad():
        out = model.mixer(x)
    halves, out_halves = x.chunk(2, dim=1), out.chunk(2, dim=1)
    assert out.shape == x.shape
    assert torch.equal(out_halves[identity_half], halves[identity_half])
    assert not torch.allclose(out_halves[branch_half], halves[branch_half])


def test_models_build_activations_as_modules() -> None:
    """Attribution hooks see modules only: no functional ReLU/SiLU/sigmoid in the model blocks."""
    import inspect

    from mtmixg.models import architectures, cnn, deepcre, gate, head, mixer, net

    for module in (architectures, cnn, deepcre, gate, head, mixer, net):
        source = inspect.getsource(module)
        for call in ("F.relu", "F.silu", "torch.relu", "torch.sigmoid", "F.sigmoid"):
            assert call not in source, f"{module.__name__} calls {call}"
    model = build_model(ModelConfig(arch="mtmixg"))
    assert sum(isinstance(m, torch.nn.ReLU) for m in model.cnn.modules()) == 3 * 5
    assert sum(isinstance(m, torch.nn.Sigmoid) for m in model.mixer.gate.modules()) == 1


def test_deepcre_pools_round_up_like_keras_same_padding() -> None:
    from mtmixg.models.deepcre import SameMaxPool1d

    model = build_model(ModelConfig(arch="deepcre"))
    lengths, x = [], torch.zeros(1, 4, 3020)
    for layer in model.features:
        x = layer(x)
        if isinstance(layer, SameMaxPool1d):
            lengths.append(x.shape[-1])
    assert lengths == [378, 48, 6]
    assert model.head[1].in_features == 384
    assert sum(p.numel() for p in model.parameters()) == 387_841
    # Keras pads 4 positions of 3020 as 2 left + 2 right: the first window is [0, 6)
    pool = SameMaxPool1d(8, 3020)
    signal = torch.zeros(1, 1, 3020)
    signal[0, 0, 6] = 1.0
    assert pool(signal)[0, 0, :2].tolist() == [0.0, 1.0]


def test_deepcre_has_keras_glorot_uniform_weights_and_zero_biases() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch="deepcre"))
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear))]
    assert len(layers) == 9
    for layer in layers:
        w = layer.weight
        receptive = w[0, 0].numel() if w.ndim == 3 else 1
        limit = (6 / (w.shape[1] * receptive + w.shape[0] * receptive)) ** 0.5
        assert torch.all(layer.bias == 0)
        assert w.abs().max() <= limit
        assert abs(w.std().item() - limit / 3**0.5) < 0.1 * limit  # uniform(-limit, limit)


def test_codon_mask_is_a_model_setting_on_by_default_for_deepcre() -> None:
    assert ModelConfig(arch="deepcre").mask_codons is True
    assert ModelConfig(arch="mtmixg").mask_codons is False
    assert ModelConfig(arch="cnn", mask_codons=True).to_dict()["mask_codons"] is True
    cfg = ModelConfig(arch="deepcre", **TINY)
    model = build_model(cfg).eval()
    x = _one_hot(2, 600)
    changed = x.clone()
    changed[:, :, [200, 201, 202, 417, 418, 419]] = torch.roll(changed[:, :, [200, 201, 202, 417, 418, 419]], 1, dims=1)
    with torch.no_grad():
        assert torch.equal(model(x), model(changed))
        changed[:, :, 203] = torch.roll(changed[:, :, 203], 1, dims=1)
        assert not torch.equal(model(x), model(changed))
    with pytest.raises(ValueError, match="mask_codons"):
        build_model(ModelConfig(arch="deepcre", **{**TINY, "tss_index": 1000}))  # outside a window of 600
