"""The chunked and the numba-compiled selective scans against the sequential reference: values,
gradients, stability; the dispatch between them."""

import os
import subprocess
import sys

import pytest
import torch

import mtmixg.ops.chunked_scan as scan_module
import mtmixg.ops.numba_scan as numba_module
import mtmixg.ops.scan as dispatch_module
from mtmixg.models.mamba import Mamba
from mtmixg.ops import (
    HAS_NUMBA,
    chunked_linear_scan,
    chunked_selective_scan,
    fused_kernels,
    selective_scan_ref,
)
from mtmixg.ops.numba_pool import AUTO_MARK
from mtmixg.ops.numba_scan import compiled_selective_scan

selective_scan = chunked_selective_scan  # the tests below written for the chunked scan
needs_numba = pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
NAMES = ["y", "du", "ddelta", "dA", "dB", "dC", "dD", "dz", "ddelta_bias"]


def _inputs(device: torch.device, n: int = 2, d: int = 6, s: int = 4, length: int = 77, dt_scale: float = 1.0):
    g = torch.Generator().manual_seed(1)

    def leaf(*shape: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
        return (torch.randn(*shape, generator=g) * scale + shift).to(device).requires_grad_()

    u, delta = leaf(n, d, length), leaf(n, d, length, scale=dt_scale)
    A = (-(torch.rand(d, s, generator=g) * 3 + 0.2)).to(device).requires_grad_()
    B, C = leaf(n, s, length), leaf(n, s, length)
    D, z, bias = leaf(d), leaf(n, d, length), leaf(d)
    return [u, delta, A, B, C, D, z, bias]


def _run(fn, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
    """Output and the gradients of every input under a fixed random projection of the output."""
    for t in inputs:
        t.grad = None
    y = fn(*inputs[:7], delta_bias=inputs[7], delta_softplus=True)
    weight = torch.randn(y.shape, generator=torch.Generator().manual_seed(2)).to(y.device)
    (y * weight).sum().backward()
    return [y.detach()] + [t.grad.clone() for t in inputs]


@pytest.mark.parametrize("chunk", [None, 1, 5, 16, 77, 128])
def test_scan_matches_reference_values_and_grads(device: torch.device, chunk: int | None) -> None:
    inputs = _inputs(device)
    ours = _run(lambda *a, **k: selective_scan(*a, **k, chunk=chunk), inputs)
    ref = _run(selective_scan_ref, inputs)
    for name, a, b in zip(NAMES, ours, ref):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5, msg=lambda m, n=name: f"{n}: {m}")


def test_scan_without_optional_terms_matches_reference() -> None:
    u, delta, A, B, C = (t.detach() for t in _inputs(torch.device("cpu"))[:5])
    delta = delta.abs()
    torch.testing.assert_close(selective_scan(u, delta, A, B, C), selective_scan_ref(u, delta, A, B, C), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("block_elements", [400, 1000, 2000])
def test_scan_blocks_over_batch_and_channels_match_reference(monkeypatch: pytest.MonkeyPatch, block_elements: int) -> None:
    """Small blocks split the (batch, channel) rows: gradients of B, C and A accumulate across blocks."""
    monkeypatch.setattr(scan_module, "BLOCK_ELEMENTS", block_elements)
    inputs = _inputs(torch.device("cpu"), n=3)
    for a, b in zip(_run(selective_scan, inputs), _run(selective_scan_ref, inputs)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("scan", [chunked_selective_scan, pytest.param(compiled_selective_scan, marks=needs_numba)])
def test_scan_large_dt_long_sequence_is_finite_and_exact(scan) -> None:  # noqa: ANN001
    """dt up to ~20 (exp(dt A) underflows to 0) at L = 3020: no NaN/Inf, still equal to the reference."""
    inputs = _inputs(torch.device("cpu"), n=1, d=4, s=16, length=3020, dt_scale=8.0)
    with torch.no_grad():
        inputs[7].fill_(12.0)  # softplus(delta + 12) spans about 0..20+
        assert torch.nn.functional.softplus(inputs[1] + 12).max() > 20
    ours = _run(scan, inputs)
    for t in ours:
        assert torch.isfinite(t).all()
    ref = _run(selective_scan_ref, inputs)
    for a, b in zip(ours, ref):  # dA sums 3,020 terms: float32 summation order allows rtol 1e-4
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("reverse", [False, True])
def test_chunked_linear_scan_matches_loop(reverse: bool) -> None:
    a, x = torch.rand(60, 3, 5), torch.randn(60, 3, 5)
    expected, h = torch.empty_like(x), torch.zeros(3, 5)
    steps = range(59, -1, -1) if reverse else range(60)
    for t in steps:
        decay = (a[t + 1] if t < 59 else 0.0) if reverse else a[t]
        h = decay * h + x[t]
        expected[t] = h
    torch.testing.assert_close(chunked_linear_scan(a, x.clone(), chunk=12, reverse=reverse), expected)


@pytest.mark.skipif(fused_kernels().selective_scan is not None, reason="mamba_ssm is installed")
def test_fused_backend_without_mamba_ssm_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="mamba_ssm"):
        Mamba(8, backend="fused")(torch.randn(1, 10, 8))


@needs_numba
@pytest.mark.parametrize("length", [1, 77])
def test_compiled_scan_matches_reference_values_and_grads(length: int) -> None:
    """Step sizes (softplus of delta + bias), skip D u and gate SiLU(z) fused in the kernels: the
    output and the gradient of every input equal the reference's."""
    inputs = _inputs(torch.device("cpu"), n=3, length=length)
    ours, ref = _run(compiled_selective_scan, inputs), _run(selective_scan_ref, inputs)
    for name, a, b in zip(NAMES, ours, ref):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5, msg=lambda m, n=name: f"{n}: {m}")


@needs_numba
def test_compiled_scan_channels_last_inputs_match_reference() -> None:
    """u, delta, z laid out (N, L, D) in memory, B and C as transposed views (as the Mamba block
    passes them): the kernels read the strides as given, results equal the reference's."""
    inputs = _inputs(torch.device("cpu"), n=2, length=50)
    for i in (0, 1, 6):  # u, delta, z: leaves with channels-last strides
        inputs[i] = inputs[i].detach().transpose(1, 2).contiguous().transpose(1, 2).requires_grad_()
        assert not inputs[i].is_contiguous()
    ours, ref = _run(compiled_selective_scan, inputs), _run(selective_scan_ref, inputs)
    for name, a, b in zip(NAMES, ours, ref):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5, msg=lambda m, n=name: f"{n}: {m}")


@needs_numba
@pytest.mark.parametrize("drop", ["D", "z", "delta_bias", "softplus", "all"])
def test_compiled_scan_optional_terms_match_reference(drop: str) -> None:
    """Without the skip, the gate, the bias or the softplus (each, or all): still the reference's
    values and gradients (the kernels' switches for absent terms)."""
    u, delta, A, B, C, D, z, bias = _inputs(torch.device("cpu"), n=2, length=40)
    if drop in ("softplus", "all"):
        with torch.no_grad():
            delta.abs_()  # step sizes used as given: keep them (and the decays' products) in range
            bias.abs_()
    leaves = [u, delta, A, B, C, D, z, bias]
    kwargs = {"D": D, "z": z, "delta_bias": bias, "delta_softplus": drop != "softplus"}
    for key in ("D", "z", "delta_bias") if drop == "all" else (drop,) if drop in kwargs else ():
        kwargs[key] = None
    if drop == "all":
        kwargs["delta_softplus"] = False
    results = []
    for fn in (compiled_selective_scan, selective_scan_ref):
        for t in leaves:
            t.grad = None
        y = fn(u, delta, A, B, C, **kwargs)
        (y * torch.randn(y.shape, generator=torch.Generator().manual_seed(2))).sum().backward()
        results.append([y.detach()] + [None if t.grad is None else t.grad.clone() for t in leaves])
    for a, b in zip(*results):
        if b is None:
            assert a is None or not a.any()
        else:
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@needs_numba
def test_compiled_scan_elementwise_functions_match_torch() -> None:
    """The kernels' arithmetic-only exp, softplus and its slope (sigmoid): exp within 2 ulp of
    torch.exp where the result is a normal float32; softplus and slope as torch's to 1 ulp-ish."""
    x = torch.linspace(-87.3, 88.0, 200_001)
    exp, softplus, slope = torch.from_numpy(numba_module._elementwise_all(x.numpy()))
    torch.testing.assert_close(exp, torch.exp(x), atol=0.0, rtol=2.5e-7)
    torch.testing.assert_close(softplus, torch.nn.functional.softplus(x), atol=1e-37, rtol=3e-7)
    torch.testing.assert_close(slope, torch.sigmoid(x), atol=1e-37, rtol=3e-7)


@needs_numba
@pytest.mark.parametrize("width", [1, 4])
def test_compiled_causal_conv_matches_shifted_sums(width: int) -> None:
    """The numba conv on a strided (transposed) input, as the Mamba block passes it: values and the
    gradients of input, weight and bias equal the PyTorch shifted sums'."""
    from mtmixg.ops.causal_conv import shifted_sum_conv
    from mtmixg.ops.numba_conv import numba_causal_conv

    g = torch.Generator().manual_seed(3)
    base = torch.randn(3, 50, 12, generator=g).requires_grad_()
    weight = torch.randn(6, 1, width, generator=g).requires_grad_()
    bias = torch.randn(6, generator=g).requires_grad_()
    results = []
    for conv in (numba_causal_conv, shifted_sum_conv):
        for t in (base, weight, bias):
            t.grad = None
        x = base.transpose(1, 2)[:, :6]  # (N, 6, 50), not contiguous
        out = conv(x, weight, bias)
        (out * torch.randn(out.shape, generator=torch.Generator().manual_seed(4))).sum().backward()
        results.append([out.detach(), base.grad.clone(), weight.grad.clone(), bias.grad.clone()])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


POOL_PROBE = """
import sys, torch
torch.set_num_threads(1)  # what a threads-1 job does before its first batch
import mtmixg.train
from mtmixg.ops import causal_conv1d, selective_scan
assert "numba" not in sys.modules, "numba imported with the package"
x = torch.randn(2, 4, 16)
causal_conv1d(x, torch.randn(4, 1, 3), torch.randn(4))
selective_scan(x, torch.rand(2, 4, 16), -torch.rand(4, 2), torch.randn(2, 2, 16), torch.randn(2, 2, 16))
import numba
print(numba.config.NUMBA_NUM_THREADS)
"""


@needs_numba
@pytest.mark.parametrize(
    ("inherited", "pool"),
    [
        ({}, "1"),
        ({"NUMBA_NUM_THREADS": "2"}, "2"),  # the user's setting
        ({"NUMBA_NUM_THREADS": "2", AUTO_MARK: "2"}, "1"),  # a parent process's automatic one
    ],
)
def test_numba_pool_is_sized_by_the_job_threads_unless_the_user_set_it(inherited: dict, pool: str) -> None:
    """numba's pool is fixed when numba is imported, and its idle threads keep cores busy: the kernels
    load on first use, so a 1-thread job gets a 1-thread pool; a NUMBA_NUM_THREADS of the user's wins,
    one that a parent process (a test session starting Snakemake) set for itself does not."""
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_NUM_THREADS", AUTO_MARK)} | inherited
    out = subprocess.run([sys.executable, "-c", POOL_PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == pool
