"""The DeepPlantCRE baseline (issue 22 item 1): its layers and parameter count (the sizes listed in
README "How this differs from the paper"), its shapes on the demo and the real window, that it learns
on CPU, and that the configs can name it."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from torch import nn

from mtmixg.cli import main
from mtmixg.core.experiments import config_window, resolve_experiment
from mtmixg.core.names import ARCHITECTURES, BASELINES, PAPER_NAMES
from mtmixg.core.model_config import ModelConfig
from mtmixg.models.architectures import build_model
from training_data import make_windows
from workflow_helpers import REPO, demo_config

REAL = dict(seq_len=3020, tss_index=1000, tts_index=2019)  # DeepCRE's window
DEMO = dict(seq_len=620, tss_index=200, tts_index=419)  # mtmixg.demo.DEMO_WINDOW


def _one_hot(n: int, length: int, generator: torch.Generator | None = None) -> torch.Tensor:
    codes = torch.randint(0, 4, (n, length), generator=generator)
    return nn.functional.one_hot(codes, 4).permute(0, 2, 1).float()


def _conv(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k + c_out  # weights + biases


def _dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def test_parameter_count_follows_from_the_layer_sizes_by_hand() -> None:
    # Transformer encoder layer on the one-hot input: d = 4, 1 head, feed-forward 16
    d, ffn = 4, 16
    encoder = (_dense(d, 3 * d)  # Q, K, V projections: 4*12 + 12 = 60
               + _dense(d, d)  # attention output: 16 + 4 = 20
               + 2 * d  # LayerNorm after attention: 8
               + _dense(d, ffn) + _dense(ffn, d)  # feed-forward: 80 + 68 = 148
               + 2 * d)  # LayerNorm after the feed-forward: 8   -> 244
    # three residual stages, kernel 8: two convolutions each, a 1x1 convolution on the skip
    stages = (_conv(4, 64, 8) + _conv(64, 64, 8) + _conv(4, 64, 1)  # 2,112 + 32,832 + 320
              + _conv(64, 128, 8) + _conv(128, 128, 8) + _conv(64, 128, 1)  # 65,664 + 131,200 + 8,320
              + _conv(128, 64, 8) + _conv(64, 64, 8) + _conv(128, 64, 1))  # 65,600 + 32,832 + 8,256
    # pool 8 ('same', rounding up): 3020 -> 378 -> 48 -> 6 positions x 64 filters = 384 features
    head = _dense(6 * 64, 128) + _dense(128, 64) + _dense(64, 1)  # 49,280 + 8,256 + 65
    assert (encoder, stages, head) == (244, 347_136, 57_601)
    model = build_model(ModelConfig(arch="deepplantcre", **REAL))
    assert sum(p.numel() for p in model.parameters()) == encoder + stages + head == 404_981


def test_layers_are_encoder_then_three_residual_stages_then_the_dense_head() -> None:
    model = build_model(ModelConfig(arch="deepplantcre", **REAL))
    enc = model.encoder
    assert (enc.qkv.in_features, enc.qkv.out_features, enc.heads) == (4, 12, 1)
    assert [m.out_features for m in enc.ffn if isinstance(m, nn.Linear)] == [16, 4]
    assert [m.normalized_shape for m in (enc.norm1, enc.norm2)] == [(4,), (4,)]
    convs = [(m.in_channels, m.out_channels, m.kernel_size[0]) for m in model.features.modules() if isinstance(m, nn.Conv1d)]
    assert convs == [(4, 64, 8), (64, 64, 8), (4, 64, 1), (64, 128, 8), (128, 128, 8), (64, 128, 1),
                     (128, 64, 8), (64, 64, 8), (128, 64, 1)]  # fmt: skip
    pools = [m.kernel_size for m in model.features.modules() if isinstance(m, nn.MaxPool1d)]
    assert pools == [8, 8, 8]
    assert [(m.in_features, m.out_features) for m in model.head if isinstance(m, nn.Linear)] == [(384, 128), (128, 64), (64, 1)]
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.Embedding)) for m in model.modules())
    assert {m.p for m in model.modules() if isinstance(m, nn.Dropout)} == {0.25}


@pytest.mark.parametrize("window", [DEMO, REAL], ids=["demo-620", "real-3020"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_forward_shape_on_the_demo_and_the_real_window(window: dict, n_outputs: int) -> None:
    model = build_model(ModelConfig(arch="deepplantcre", n_outputs=n_outputs, **window))
    logits = model(_one_hot(3, window["seq_len"]))
    assert logits.shape == (3, n_outputs)
    assert torch.isfinite(logits).all()
    with pytest.raises(ValueError, match=rf"\(N, 4, {window['seq_len']}\)"):
        model(_one_hot(3, window["seq_len"] - 1))


def test_it_learns_a_tiny_set_on_cpu() -> None:
    # high genes: a G/C-only stretch of 300 bases; low genes: uniform random DNA
    torch.manual_seed(0)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1)
    codes = torch.randint(0, 4, (16, 620), generator=gen)
    y = torch.tensor([[0.0], [1.0]] * 8)
    codes[1::2, 100:400] = torch.randint(1, 3, (8, 300), generator=gen)
    x = nn.functional.one_hot(codes, 4).permute(0, 2, 1).float()
    model = build_model(ModelConfig(arch="deepplantcre", **DEMO))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)

    def loss() -> float:
        model.eval()
        with torch.no_grad():
            return nn.functional.binary_cross_entropy_with_logits(model(x), y).item()

    before = loss()
    for _ in range(30):
        model.train()
        optimiser.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(model(x), y).backward()
        optimiser.step()
    assert before > 0.6 and loss() < 0.25 * before


def test_it_is_a_named_baseline_beside_deepcre() -> None:
    assert ARCHITECTURES[-2:] == BASELINES == ("deepcre", "deepplantcre")
    assert PAPER_NAMES["deepplantcre"] == "DeepPlantCRE"
    cfg = ModelConfig(arch="deepplantcre", pools=[2], cnn_blocks=5)  # MTMixG-Net keys: not its own
    assert cfg.mask_codons is False  # DeepCRE masks codons; DeepPlantCRE's sources do not say it does


def test_the_shipped_config_trains_it_and_the_demo_config_can() -> None:
    shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert "deepplantcre" in shipped["architectures"]
    demo = demo_config(architectures=["cnn", "deepplantcre"])
    assert "deepplantcre" not in demo_config()["architectures"]  # the demo stays fast: it is not trained there
    model_cfg, _ = resolve_experiment("deepplantcre", demo, window=config_window(demo))
    assert (model_cfg.arch, model_cfg.seq_len, model_cfg.dropout) == ("deepplantcre", 620, demo["model"]["dropout"])
    assert build_model(model_cfg)(_one_hot(2, 620)).shape == (2, 1)


def test_mtmixg_train_trains_it(tmp_path) -> None:
    make_windows(tmp_path / "w", n_per_chrom=40)
    out = tmp_path / "fold"
    main(["train", str(tmp_path / "w"), "--fold", "chr1", "--arch", "deepplantcre", "--out", str(out),
          "--epochs", "2", "--warmup-epochs", "0", "--batch-size", "16", "--device", "cpu", "--threads", "1",
          "--set", "max_restarts=0"])  # fmt: skip
    assert json.loads((out / "model.json").read_text())["model"]["arch"] == "deepplantcre"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["arch"] == "deepplantcre" and {"accuracy", "auc", "f1"} <= set(metrics["test"])
