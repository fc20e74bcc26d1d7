"""Experiment configs: the shipped files validate; unknown keys and bad values name key and file."""

from pathlib import Path

import pytest

from survage.errors import SurvageInputError
from survage.workflow.config import (
    DEFAULT_PHENOAGE_CONSTANT, ExperimentConfig, config_from_dict, dump_config, load_config)

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


@pytest.mark.parametrize("name", ["nhanes", "oppscr_sim", "oppscr", "flchain"])
def test_shipped_experiments_validate(name):
    cfg = load_config(EXPERIMENTS / f"{name}.yaml")
    assert isinstance(cfg, ExperimentConfig)
    assert cfg.name == name
    assert {5.0, 10.0} <= set(cfg.evaluation.horizons)
    assert cfg.bioage.phenoage_constant == DEFAULT_PHENOAGE_CONSTANT


def test_nhanes_is_external_nhanes3_to_1999_2002():
    cfg = load_config(EXPERIMENTS / "nhanes.yaml")
    assert (cfg.design.kind, cfg.design.train, cfg.design.test) == ("external", "nhanes3", "nhanes4")
    assert cfg.outcomes.primary == "death"


def test_nhanes_runs_the_dxa_secondary_analysis():
    cfg = load_config(EXPERIMENTS / "nhanes.yaml")
    assert cfg.secondary.analyses == ("dxa",) and cfg.secondary.folds >= 2
    assert config_from_dict({"name": "x"}).secondary.analyses == ()  # off unless configured


def test_config_is_frozen():
    cfg = config_from_dict({"name": "x"})
    with pytest.raises(AttributeError):
        cfg.seed = 3  # type: ignore[misc]


def _write(tmp_path, text):
    p = tmp_path / "exp.yaml"
    p.write_text(text)
    return p


def test_unknown_key_names_key_and_file(tmp_path):
    p = _write(tmp_path, "name: x\nmodel:\n  hiddn: [8]\n")
    with pytest.raises(SurvageInputError) as ei:
        load_config(p)
    assert "model.hiddn" in str(ei.value) and str(p) in str(ei.value)


def test_unknown_top_level_key(tmp_path):
    p = _write(tmp_path, "name: x\nbootstrap: 10\n")
    with pytest.raises(SurvageInputError, match="unknown key 'bootstrap'"):
        load_config(p)


@pytest.mark.parametrize("text, key", [
    ("name: x\ndata:\n  source: nhanes5\n", "data.source"),
    ("name: x\nevaluation:\n  horizons: [10, 5]\n", "evaluation.horizons"),
    ("name: x\nevaluation:\n  horizons: [five]\n", "evaluation.horizons[0]"),
    ("name: x\nevaluation:\n  bootstrap: -1\n", "evaluation.bootstrap"),
    ("name: x\ntraining:\n  epochs: 2.5\n", "training.epochs"),
    ("name: x\nseed: true\n", "seed"),
    ("name: x\nbioage:\n  phenoage_constant: 9.165\n", "bioage.phenoage_constant"),
    ("name: x\ndata:\n  source: flchain\ndesign:\n  kind: external\n", "design.kind"),
    ("name: x\ndata:\n  age_range: [80, 20]\n", "data.age_range"),
    ("name: x\nsecondary:\n  analyses: [ct]\n", "secondary.analyses[0]"),
    ("name: x\nsecondary:\n  folds: 1\n", "secondary.folds"),
])
def test_bad_values_name_key_and_file(tmp_path, text, key):
    p = _write(tmp_path, text)
    with pytest.raises(SurvageInputError) as ei:
        load_config(p)
    assert repr(key) in str(ei.value) and str(p) in str(ei.value)


def test_missing_name_and_missing_file(tmp_path):
    with pytest.raises(SurvageInputError, match="required key 'name'"):
        load_config(_write(tmp_path, "seed: 1\n"))
    with pytest.raises(SurvageInputError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_dump_round_trip(tmp_path):
    cfg = load_config(EXPERIMENTS / "nhanes.yaml")
    dump_config(cfg, tmp_path / "config.resolved.yaml")
    assert load_config(tmp_path / "config.resolved.yaml") == cfg
