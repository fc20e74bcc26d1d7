"""Checkpoints: save/load round trip, tampered or truncated files, kill-and-resume reproducibility."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from survage.data.benchmarks import load_rossi
from survage.errors import SurvageInputError
from survage.models import SurvivalModel

SETTINGS = dict(outcomes=("arrest",), hidden=(8,), max_epochs=12, patience=50, lr=1e-2, seed=3,
                modality_dropout=0.2, dropout=0.2)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def rossi():
    return load_rossi()


@pytest.fixture(scope="module")
def fitted(rossi):
    return SurvivalModel(**SETTINGS).fit(rossi)


def test_save_load_identical_predictions(tmp_path, rossi, fitted):
    fitted.save(tmp_path / "m")
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert names == ["model.json", "model.safetensors"]  # no temp files left behind
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert {"config", "preprocessing", "baseline", "versions", "feature_names", "weights_sha256"} <= set(doc)
    loaded = SurvivalModel.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_risk(rossi), fitted.predict_risk(rossi))
    t = [0.2, 0.5, 0.9]
    np.testing.assert_array_equal(loaded.predict_survival(rossi, t), fitted.predict_survival(rossi, t))


@pytest.mark.parametrize("damage", ["flip_weights", "truncate_weights", "truncate_json", "edit_json"])
def test_damaged_checkpoint_names_the_file(tmp_path, fitted, damage):
    d = fitted.save(tmp_path / "m")
    w, j = d / "model.safetensors", d / "model.json"
    if damage == "flip_weights":
        data = bytearray(w.read_bytes())
        data[-3] ^= 0xFF
        w.write_bytes(bytes(data))
        bad = w
    elif damage == "truncate_weights":
        w.write_bytes(w.read_bytes()[:-20])
        bad = w
    elif damage == "truncate_json":
        j.write_bytes(j.read_bytes()[:200])
        bad = j
    else:
        doc = json.loads(j.read_text())
        doc["config"]["hidden"] = [16]
        j.write_text(json.dumps(doc))
        bad = j
    with pytest.raises(SurvageInputError) as err:
        SurvivalModel.load(d)
    assert str(bad) in str(err.value)


class _Stop(Exception):
    pass


@pytest.mark.parametrize("batch_size", [None, 100])
def test_resume_after_interruption_gives_identical_model(tmp_path, rossi, fitted, batch_size):
    def crash(epoch: int, record: object) -> None:
        if epoch == 5:
            raise _Stop

    settings = {**SETTINGS, "batch_size": batch_size}
    with pytest.raises(_Stop):
        SurvivalModel(**settings).fit(rossi, checkpoint_dir=tmp_path, resume=True, callback=crash)
    state = json.loads((tmp_path / "train_state.json").read_text())
    assert state["epoch"] == 5
    resumed = SurvivalModel(**settings).fit(rossi, checkpoint_dir=tmp_path, resume=True)
    straight = fitted if batch_size is None else SurvivalModel(**settings).fit(rossi)
    assert resumed.history_ == straight.history_
    np.testing.assert_array_equal(resumed.predict_risk(rossi), straight.predict_risk(rossi))
    if batch_size is not None:  # mini-batches (shuffled by the seeded RNG) give another model
        assert not np.array_equal(straight.predict_risk(rossi), fitted.predict_risk(rossi))
    # other settings must not silently reuse this state
    with pytest.raises(SurvageInputError):
        SurvivalModel(**{**settings, "seed": 4}).fit(rossi, checkpoint_dir=tmp_path, resume=True)


@pytest.mark.slow  # ~30 s of interpreter start-up; the callback test above covers the same path
def test_resume_after_kill_of_a_process(tmp_path, rossi):
    script = textwrap.dedent(f"""
        import os, sys, torch
        torch.set_num_threads(1)
        from survage.data.benchmarks import load_rossi
        from survage.models import SurvivalModel
        settings = {dict(SETTINGS, max_epochs=8)!r}
        kill_at = int(sys.argv[1])
        def cb(epoch, record):
            if epoch == kill_at:
                os.kill(os.getpid(), 9)
        m = SurvivalModel(**settings).fit(load_rossi(), checkpoint_dir=sys.argv[2], resume=True, callback=cb)
        m.save(sys.argv[3])
    """)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.run([sys.executable, "-c", script, "3", str(tmp_path / "ck"), str(tmp_path / "out")],
                           env=env, capture_output=True)
    assert first.returncode == -9
    again = subprocess.run([sys.executable, "-c", script, "-1", str(tmp_path / "ck"), str(tmp_path / "out")],
                           env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    resumed = SurvivalModel.load(tmp_path / "out")
    straight = SurvivalModel(**dict(SETTINGS, max_epochs=8)).fit(rossi)
    np.testing.assert_array_equal(resumed.predict_risk(rossi), straight.predict_risk(rossi))


def test_fit_restores_global_rng_and_is_deterministic(rossi, fitted):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    again = SurvivalModel(**SETTINGS).fit(rossi)
    assert torch.equal(torch.get_rng_state(), before)
    np.testing.assert_array_equal(again.predict_risk(rossi), fitted.predict_risk(rossi))
    other = SurvivalModel(**{**SETTINGS, "seed": 4}).fit(rossi)
    assert not np.array_equal(other.predict_risk(rossi), fitted.predict_risk(rossi))
