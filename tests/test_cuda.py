"""GPU behaviour: CUDA equals CPU, an AMP training step runs, the fused kernels are used when installed."""

import pytest
import torch

import mtmixg.models.mamba as mamba_module
from mtmixg.models import ModelConfig, build_model
from mtmixg.ops import HAS_FUSED_CONV, HAS_FUSED_SCAN

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

TINY = dict(seq_len=600, channels=16, cnn_channels=16, heads=2, d_state=8, pools=[2, 2, 2], cnn_blocks=3, fc_hidden=[32],
            tss_index=200, tts_index=419)  # fmt: skip


def _one_hot(n: int, length: int) -> torch.Tensor:
    codes = torch.randint(0, 4, (n, length))
    return torch.nn.functional.one_hot(codes, 4).permute(0, 2, 1).float()


@pytest.mark.parametrize("variant", ["cnn", "cnn_mamba", "cnn_attention", "mtmixg", "deepcre"])
def test_cuda_forward_equals_cpu(variant: str) -> None:
    model = build_model(ModelConfig(variant=variant, **TINY)).eval()
    x = _one_hot(4, 600)
    with torch.no_grad():
        expected = model(x)
        got = model.cuda()(x.cuda()).cpu()
    torch.testing.assert_close(got, expected, atol=1e-3, rtol=1e-3)


def test_amp_training_step_runs_and_updates_weights() -> None:
    model = build_model(ModelConfig(variant="mtmixg", **TINY)).cuda()
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


@pytest.mark.skipif(not (HAS_FUSED_SCAN and HAS_FUSED_CONV), reason="mamba_ssm / causal_conv1d not installed")
def test_fused_kernels_are_used_and_agree_with_pure(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = mamba_module.fused_selective_scan

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(mamba_module, "fused_selective_scan", counting)
    cfg = ModelConfig(variant="mtmixg", **TINY)
    auto = build_model(cfg).cuda().eval()
    pure = build_model(cfg, mamba_backend="pure").cuda().eval()
    pure.load_state_dict(auto.state_dict(), strict=True)
    x = _one_hot(4, 600).cuda()
    with torch.no_grad():
        fused_out, pure_out = auto(x), pure(x)
    assert calls, "the fused selective scan was not called on CUDA"
    torch.testing.assert_close(fused_out, pure_out, atol=1e-3, rtol=1e-3)
