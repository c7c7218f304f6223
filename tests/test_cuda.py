"""GPU behaviour: CUDA equals CPU, an AMP training step runs, the fused kernels are used when
installed and equal the pure scan in values and parameter gradients, in fp32 and under bf16 autocast."""

import dataclasses

import pytest
import torch

import mtmixg.models.mamba as mamba_module
from mtmixg.core.model_config import ModelConfig
from mtmixg.models.architectures import build_model
from mtmixg.ops import fused_kernels, kernel_path

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

TINY = dict(seq_len=600, channels=16, cnn_channels=16, heads=2, d_state=8, pools=[2, 2, 2], cnn_blocks=3, fc_hidden=[32],
            tss_index=200, tts_index=419)  # fmt: skip


def _one_hot(n: int, length: int) -> torch.Tensor:
    codes = torch.randint(0, 4, (n, length))
    return torch.nn.functional.one_hot(codes, 4).permute(0, 2, 1).float()


@pytest.mark.parametrize("arch", ["cnn", "cnn_mamba", "cnn_attention", "mtmixg", "deepcre", "deepplantcre"])
def test_cuda_forward_equals_cpu(arch: str) -> None:
    model = build_model(ModelConfig(arch=arch, **TINY)).eval()
    x = _one_hot(4, 600)
    with torch.no_grad():
        expected = model(x)
        got = model.cuda()(x.cuda()).cpu()
    torch.testing.assert_close(got, expected, atol=1e-3, rtol=1e-3)


def test_amp_training_step_runs_and_updates_weights() -> None:
    model = build_model(ModelConfig(arch="mtmixg", **TINY)).cuda()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda")
    before = [p.detach().clone() for p in model.parameters()]
    x, y = _one_hot(8, 600).cuda(), torch.randint(0, 2, (8, 1)).float().cuda()
    with torch.autocast("cuda", dtype=torch.float16):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x).float(), y)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    assert torch.isfinite(loss)
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))


needs_fused = pytest.mark.skipif(not fused_kernels().available, reason="mamba_ssm / causal_conv1d do not import")


def _fused_and_pure(cfg: ModelConfig) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The model with the auto backend (fused on CUDA) and with the pure scan, same weights, on CUDA."""
    auto = build_model(cfg).cuda()
    pure = build_model(cfg, mamba_backend="pure").cuda()
    pure.load_state_dict(auto.state_dict(), strict=True)
    assert (kernel_path(auto, "cuda"), kernel_path(pure, "cuda")) == ("fused", "pure")
    return auto, pure


@needs_fused
def test_fused_kernels_are_used_and_agree_with_pure(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    kernels = fused_kernels()

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        return kernels.selective_scan(*args, **kwargs)

    monkeypatch.setattr(mamba_module, "fused_kernels", lambda: dataclasses.replace(kernels, selective_scan=counting))
    auto, pure = _fused_and_pure(ModelConfig(arch="mtmixg", **TINY))
    x = _one_hot(4, 600).cuda()
    with torch.no_grad():
        fused_out, pure_out = auto.eval()(x), pure.eval()(x)
    assert calls, "the fused selective scan was not called on CUDA"
    torch.testing.assert_close(fused_out, pure_out, atol=1e-3, rtol=1e-3)


def _loss_and_grads(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, amp: bool) -> tuple[torch.Tensor, dict]:
    model.zero_grad(set_to_none=True)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x).float(), y)
    loss.backward()
    return loss.detach(), {name: p.grad.detach().float().clone() for name, p in model.named_parameters() if p.grad is not None}


@needs_fused
@pytest.mark.parametrize("amp", [False, True], ids=["fp32", "bf16"])
def test_fused_parameter_gradients_agree_with_pure(amp: bool) -> None:
    """Every parameter's gradient of one training loss: fused vs pure scan, fp32 and bf16 autocast."""
    if amp and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    auto, pure = _fused_and_pure(ModelConfig(arch="mtmixg", dropout=0.0, **TINY))
    auto.train(), pure.train()
    x, y = _one_hot(8, 600).cuda(), torch.randint(0, 2, (8, 1)).float().cuda()
    fused_loss, fused_grads = _loss_and_grads(auto, x, y, amp)
    pure_loss, pure_grads = _loss_and_grads(pure, x, y, amp)
    tol = 2e-2 if amp else 1e-3  # bf16 matmuls around the scan: ~3 significant digits
    torch.testing.assert_close(fused_loss, pure_loss, atol=tol, rtol=tol)
    assert fused_grads.keys() == pure_grads.keys()
    for name, grad in fused_grads.items():
        scale = pure_grads[name].abs().max().clamp(min=1e-6)
        diff = (grad - pure_grads[name]).abs().max() / scale
        assert diff <= (5e-2 if amp else 1e-3), f"{name}: relative max difference {diff:.2e}"


@needs_fused
def test_bf16_training_step_on_the_fused_path_updates_weights() -> None:
    if not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    model = build_model(ModelConfig(arch="mtmixg", **TINY)).cuda()
    assert kernel_path(model, "cuda") == "fused"
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    x, y = _one_hot(8, 600).cuda(), torch.randint(0, 2, (8, 1)).float().cuda()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x).float(), y)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    optimizer.step()
    assert torch.isfinite(loss)
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
