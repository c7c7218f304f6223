"""DeepLIFT/SHAP through tangermeme's deep_lift_shap, with dinucleotide-shuffled references.

The references shuffle the TSS piece and the TTS piece of each window separately (dinucleotide
counts kept, the zero spacer kept). The convergence delta of each (sequence, reference) pair is
sum(multipliers * (x - reference)) - (score(x) - score(reference)); a map is reported only when
every delta of its sequence is within `tolerance`.

DeepLIFT's rules see non-linearities through module hooks (nn.ReLU, max-pool). Functional calls
(F.relu, F.silu) inside a module's forward are turned into modules first (torch.fx), with the
outputs checked unchanged. Architectures whose non-linearities DeepLIFT does not handle (the Mamba
scan's softplus and exponentials, attention's softmax products, the dual-path gate's products)
are not offered: `supports_deeplift` says which.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import fx, nn

from ..core.window_spec import WindowSpec

# architectures built only from convolutions, batch norm, ReLU, max-pool and linear layers
DEEPLIFT_ARCHITECTURES: frozenset[str] = frozenset({"cnn", "deepcre"})
TOLERANCE = 1e-3  # absolute, on the score (logit) scale; tangermeme's warning threshold
_ACTIVATIONS = {F.relu: nn.ReLU, torch.relu: nn.ReLU, F.silu: nn.SiLU}


def supports_deeplift(arch: str) -> bool:
    """True when DeepLIFT/SHAP's rules cover every non-linearity of the architecture."""
    return arch in DEEPLIFT_ARCHITECTURES


class _LeafTracer(fx.Tracer):
    """Trace one module's own forward; its submodules stay calls."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return True


def _modular(module: nn.Module) -> nn.Module:
    """module, or an fx copy of it whose functional activations are nn.ReLU / nn.SiLU modules."""
    try:
        graph = _LeafTracer().trace(module)
    except Exception:  # data-dependent control flow: leave the module as it is
        return module
    changed = False
    for k, node in enumerate(list(graph.nodes)):
        if node.op == "call_function" and node.target in _ACTIVATIONS and not node.kwargs.get("inplace"):
            name = f"_act{k}"
            module.add_module(name, _ACTIVATIONS[node.target]())
            with graph.inserting_before(node):
                new = graph.call_module(name, (node.args[0],))
            node.replace_all_uses_with(new)
            graph.erase_node(node)
            changed = True
    return fx.GraphModule(module, graph, type(module).__name__) if changed else module


def with_module_activations(model: nn.Module) -> nn.Module:
    """Replace, in place, every submodule that calls F.relu / F.silu by its traced twin."""
    for name, child in list(model.named_children()):
        with_module_activations(child)
        setattr(model, name, _modular(child))
    return model


def shuffled_references(x: torch.Tensor, spec: WindowSpec, n: int, seed: int) -> torch.Tensor:
    """Dinucleotide shuffles (N, n, 4, L) of one-hot x (N, 4, L), each window piece on its own."""
    from tangermeme.ersatz import dinucleotide_shuffle

    refs = torch.zeros((x.shape[0], n, *x.shape[1:]), dtype=x.dtype)
    tts = spec.tss_length + spec.spacer
    for lo, hi in ((0, spec.tss_length), (tts, spec.length)):
        piece = x[:, :, lo:hi].contiguous()
        refs[..., lo:hi] = dinucleotide_shuffle(piece, n=n, random_state=seed, allow_N=True)
    return refs


def deeplift_shap(
    score: nn.Module,
    x: torch.Tensor,
    spec: WindowSpec,
    n_shuffles: int = 20,
    seed: int = 0,
    batch_size: int = 128,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(hypothetical contributions float32 (N, 4, L), convergence deltas float32 (N, n_shuffles)).

    score: (B, 4, L) -> (B, 1) in eval mode, its activations modules (with_module_activations).
    """
    from tangermeme.deep_lift_shap import deep_lift_shap

    device = next(score.parameters()).device
    refs = shuffled_references(x, spec, n_shuffles, seed)
    with warnings.catch_warnings():  # the deltas are checked here, per sequence
        warnings.simplefilter("ignore")
        mult = deep_lift_shap(
            score, x, target=0, references=refs, raw_outputs=True, batch_size=batch_size,
            warning_threshold=float("inf"), only_warn=True, device=device,
        )  # fmt: skip
    mult = mult.float().cpu()
    with torch.no_grad():
        fx_ = score(x.to(device))[:, 0].float().cpu()
        fr = torch.cat([score(r.to(device))[:, 0].float().cpu()[None] for r in refs.transpose(0, 1)]).T
    diff = x[:, None] - refs
    deltas = (mult * diff).sum((2, 3)) - (fx_[:, None] - fr)
    # contribution of base b at i against reference j: mult_j[b, i] - sum_c ref_j[c, i] * mult_j[c, i]
    hyp = (mult - (refs * mult).sum(2, keepdim=True)).mean(1)
    hyp = hyp * (x.sum(1, keepdim=True) > 0)
    return hyp, deltas
