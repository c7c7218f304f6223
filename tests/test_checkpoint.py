"""model.pt + model.json round trip, and clear one-line errors for broken files."""

import json
import pickle

import numpy as np
import pytest
import torch

from mtmixg.checkpoint import load_model, load_state, save_model, save_state
from mtmixg.models.architectures import build_model
from mtmixg.predict import predict
from training_data import SPEC, tiny_model


def _saved(tmp_path, task="binary"):
    cfg = tiny_model(n_outputs=1 if task == "binary" else 3)
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    path = tmp_path / "m" / "model.pt"
    save_model(path, model, {"model": cfg.to_dict(), "task": task, "window": SPEC.to_dict(), "fold": "chr1", "seed": 0})
    return model, path


@pytest.mark.parametrize("task", ["binary", "ternary"])
def test_round_trip_identical_predictions(tmp_path, task):
    model, path = _saved(tmp_path, task)
    codes = np.random.default_rng(0).integers(0, 5, (37, SPEC.length), dtype=np.uint8)
    loaded, meta = load_model(path)
    assert meta["task"] == task and meta["fold"] == "chr1" and meta["window_spec"] == SPEC
    assert meta["mtmixg_version"]
    a = predict(model, codes, task, batch_size=8)
    b = predict(loaded, codes, task, batch_size=16)
    np.testing.assert_array_equal(a, b)
    assert a.shape == ((37,) if task == "binary" else (37, 3))
    # the folder works as well, and the state is tensors only, bound to model.json by its digest
    assert load_model(path.parent)[1]["seed"] == 0
    saved = torch.load(path, weights_only=True)
    assert saved["format"] == "mtmixg-weights" and saved["meta_sha256"] == meta["meta_sha256"]
    assert all(isinstance(v, torch.Tensor) for v in saved["state_dict"].values())


def test_truncated_model_pt(tmp_path):
    _, path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="model.pt: corrupt") as err:
        load_model(path)
    assert "\n" not in str(err.value)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pickled_object_refused(tmp_path):
    _, path = _saved(tmp_path)
    path.write_bytes(pickle.dumps({"w": object()}))
    with pytest.raises(ValueError, match="model.pt"):
        load_model(path)


def test_missing_or_bad_model_json(tmp_path):
    _, path = _saved(tmp_path)
    meta = path.with_suffix(".json")
    text = meta.read_text()
    meta.write_text("{not json")
    with pytest.raises(ValueError, match="model.json: not valid JSON"):
        load_model(path)
    bad = json.loads(text)
    bad["model"]["bogus_key"] = 1
    meta.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="model.json: invalid.*bogus_key"):
        load_model(path)
    meta.unlink()
    with pytest.raises(ValueError, match="model.json: missing"):
        load_model(path)


@pytest.mark.parametrize("edit", ["window split", "mask_codons", "swapped"])
def test_model_json_not_of_these_weights_is_refused(tmp_path, edit):
    """An edited model.json (same total window length, so the weights still fit) or the model.json
    of another model is refused: predictions would cut windows at the wrong offsets."""
    _, path = _saved(tmp_path)
    mpath = path.with_suffix(".json")
    meta = json.loads(mpath.read_text())
    if edit == "window split":
        meta["window"]["upstream_tss"] += 10
        meta["window"]["downstream_tss"] -= 10
    elif edit == "mask_codons":
        meta["window"]["mask_codons"] = not meta["window"].get("mask_codons", False)
    else:
        _, other = _saved(tmp_path / "other", "binary")
        meta = json.loads(other.with_suffix(".json").read_text())
        meta["seed"] = 5
    mpath.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"model.json: does not match model.pt \(its content was edited") as err:
        load_model(path)
    assert "\n" not in str(err.value)
    # layout alone does not matter
    _, path = _saved(tmp_path / "layout")
    mpath = path.with_suffix(".json")
    mpath.write_text(json.dumps(json.loads(mpath.read_text()), indent=None, sort_keys=True))
    load_model(path)


def test_state_dict_without_digest_is_refused(tmp_path):
    model, path = _saved(tmp_path)
    torch.save(model.state_dict(), path)
    with pytest.raises(ValueError, match="model.pt: not an mtmixg model.pt of format mtmixg-weights"):
        load_model(path)


def test_resume_state_round_trip_and_garbage(tmp_path):
    state = {"a": torch.arange(3), "rng": torch.get_rng_state(), "h": [{"epoch": 1, "loss": 0.5}], "x": None}
    save_state(tmp_path / "s.pt", state)
    back = load_state(tmp_path / "s.pt")
    assert torch.equal(back["rng"], state["rng"]) and back["h"] == state["h"]
    (tmp_path / "s.pt").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="s.pt: unreadable resume state"):
        load_state(tmp_path / "s.pt")


def test_model_json_records_the_codon_mask_and_older_files_migrate(tmp_path):
    cfg = tiny_model(mask_codons=True)
    path = tmp_path / "m" / "model.pt"
    save_model(path, build_model(cfg), {"model": cfg.to_dict(), "task": "binary", "window": SPEC.to_dict()})
    recorded = json.loads(path.with_suffix(".json").read_text())["model"]
    assert (recorded["mask_codons"], recorded["tss_index"], recorded["tts_index"]) == (True, 60, 119)
    # a model.json written before mask_codons was a model key: the window's key decides
    for old_flag, arch in ((True, "cnn"), (False, "deepcre")):
        old = {k: v for k, v in cfg.to_dict().items() if k not in ("mask_codons", "tss_index", "tts_index")}
        old["variant"] = arch  # the architecture's key before the rename
        meta = {"model": old, "task": "binary", "window": {**SPEC.to_dict(), "mask_codons": old_flag}}
        save_model(path, build_model(tiny_model(arch=arch, mask_codons=old_flag)), meta)
        loaded = load_model(path)[1]["model_config"]
        assert (loaded.mask_codons, loaded.tss_index, loaded.tts_index) == (old_flag, 60, 119)
