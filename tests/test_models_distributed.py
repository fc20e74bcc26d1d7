"""Data-parallel training (DDP, gloo on CPU, 2 processes) reproduces the single-process fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from survage.models import SurvivalModel, cohort_from_arrays

ROSSI = Path(__file__).parent / "reference" / "rossi.csv"
COVARIATES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
DEEP = dict(hidden=(8,), dropout=0.0, modality_dropout=0.0, validation_fraction=0.2, max_epochs=25, patience=50,
            seed=2)


def _cohort():
    r = pd.read_csv(ROSSI)
    return cohort_from_arrays(r[COVARIATES], r["week"].to_numpy() / 52.0, r["arrest"].to_numpy())


def _fits():
    cohort = _cohort()
    linear = SurvivalModel(linear=True, weight_decay=0.0, validation_fraction=0.0, max_epochs=50)
    linear.fit_arrays(pd.read_csv(ROSSI)[COVARIATES], cohort.time("death"), cohort.event("death"))
    deep = SurvivalModel(modalities=("tabular",), **DEEP).fit(cohort)
    return linear.coefficients().to_numpy(), deep.predict_risk(cohort), deep.history_


def _worker(rank: int, world: int, folder: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/pg", rank=rank, world_size=world)
    try:
        coef, risk, history = _fits()
        if rank == 0:
            Path(folder, "out.json").write_text(json.dumps(
                {"coef": coef.tolist(), "risk": risk.tolist(), "history": history}))
    finally:
        dist.destroy_process_group()


def test_two_process_gloo_fit_equals_one_process(tmp_path):
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        coef, risk, history = _fits()
    finally:
        torch.set_num_threads(n)
    mp.start_processes(_worker, args=(2, str(tmp_path)), nprocs=2, join=True, start_method="spawn")
    out = json.loads((tmp_path / "out.json").read_text())
    # linear Cox by L-BFGS: the all-gathered Efron loss is the full-batch loss
    np.testing.assert_allclose(out["coef"], coef, atol=1e-6)
    # MLP by full-batch AdamW, no dropout: same trajectory up to float32 summation order
    np.testing.assert_allclose(out["risk"], risk, atol=2e-4)
    assert len(out["history"]) == len(history)
