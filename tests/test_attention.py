"""Token-table attention equals SDPA attention exactly (values and every parameter gradient)."""

import pytest
import torch

import mtmixg.models.net as net_module
from mtmixg.core.model_config import ModelConfig
from mtmixg.models.architectures import build_model
from mtmixg.models.attention import SelfAttention, token_ids

TINY = dict(seq_len=240, channels=16, cnn_channels=16, heads=2, d_state=8, pools=[2, 2, 2], cnn_blocks=3, fc_hidden=[32])


def _one_hot_with_gaps(n: int, length: int, device: torch.device) -> torch.Tensor:
    """(n, 4, length) one-hot with all-zero columns (N, spacer); sequence 0 has no T at all."""
    codes = torch.randint(0, 5, (n, length))
    codes[0][codes[0] == 3] = 0
    return torch.nn.functional.one_hot(codes, 5)[..., :4].permute(0, 2, 1).float().to(device)


def _step(model: torch.nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Logits and every parameter's gradient of one BCE loss, dropout masks seeded alike."""
    model.zero_grad()
    torch.manual_seed(3)
    logits = model(x)
    torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)).backward()
    return [logits.detach()] + [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("arch", ["cnn_attention", "mtmixg"])
def test_token_table_equals_sdpa_in_values_and_parameter_gradients(
    device: torch.device, arch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = build_model(ModelConfig(arch=arch, **TINY)).to(device).train()
    x = _one_hot_with_gaps(3, 240, device)
    assert model._tokens(x) is not None  # the fast path is taken
    fast = _step(model, x)
    monkeypatch.setattr(net_module, "token_ids", lambda x: None)
    assert model._tokens(x) is None
    sdpa = _step(model, x)
    names = ["logits"] + [name for name, _ in model.named_parameters()]
    assert "stem.weight" in names and any(".attention.qkv.weight" in n or "branch.qkv.weight" in n for n in names)
    for name, a, b in zip(names, fast, sdpa):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=lambda m, n=name: f"{n}: {m}")


def test_attention_module_token_table_equals_sdpa_at_full_length() -> None:
    """One SelfAttention at L = 3,020 on rows of a 5-row embedding, gradients into it. In float64,
    so that the two summation orders agree to 1e-9 and any formula error would show."""
    attention = SelfAttention(32, 4).double()
    embedding = torch.randn(5, 32, dtype=torch.float64, requires_grad=True)
    tokens = torch.randint(0, 5, (2, 3020))
    weight = torch.randn(2, 3020, 32, dtype=torch.float64)
    outs = []
    for table in (True, False):
        embedding.grad = None
        attention.zero_grad()
        y = attention(embedding[tokens], tokens if table else None)
        (y * weight).sum().backward()
        outs.append([y.detach(), embedding.grad.clone()] + [p.grad.clone() for p in attention.parameters()])
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-9)


def test_token_ids_only_for_exact_one_hot_inputs_without_gradient() -> None:
    x = _one_hot_with_gaps(2, 50, torch.device("cpu"))
    ids = token_ids(x)
    assert ids is not None and ids.shape == (2, 50)
    assert torch.equal(ids == 4, x.sum(1) == 0)
    assert torch.equal(ids[x.sum(1) > 0], x.argmax(1)[x.sum(1) > 0])
    assert token_ids(x * 0.5) is None  # soft input (e.g. integrated gradients)
    assert token_ids(x.clone().requires_grad_()) is None  # saliency, DeepLIFT
    two_hot = x.clone()
    two_hot[0, :, 0] = torch.tensor([1.0, 1.0, 0.0, 0.0])
    assert token_ids(two_hot) is None


def test_input_gradient_falls_back_to_sdpa() -> None:
    """Attribution (input requiring grad) gets SDPA's input gradient: equal to the no-token path."""
    model = build_model(ModelConfig(arch="mtmixg", **TINY)).eval()
    x = _one_hot_with_gaps(2, 240, torch.device("cpu")).requires_grad_()
    assert model._tokens(x) is None
    model(x).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
