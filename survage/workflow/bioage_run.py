"""Biological age of a study: Gompertz reference, per-person ages and intervals, saved state.

The reference population is the training rows: a Gompertz hazard in attained age fitted by
maximum likelihood with delayed entry (``survage.bioage.GompertzReference``). A person's
biological age is the age at which that population carries the cumulative hazard the model
predicts over the horizon (Levine et al. 2018, doi:10.18632/aging.101414; ``docs/biological_age.md``).
The interval is the percentile spread over a deep ensemble (Lakshminarayanan et al. 2017,
arXiv:1612.01474) of the primary model refitted with other seeds. The age-adjusted (residual)
acceleration is BA minus the BA expected at that chronological age by an OLS line of BA on CA
fitted on the training rows (Levine et al. 2018's PhenoAgeAccel; ``survage.bioage.ResidualAcceleration``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from survage.data.cohort import Cohort
from survage.atomic import atomic_write_json

REFERENCE_FILE = "bioage_reference.json"
MEMBERS_DIR = "ensemble"


@dataclass
class BioAgeModel:
    """What maps a cohort to biological ages: reference, horizon, outcome, ensemble members."""

    reference: Any
    horizon: float
    outcome: str
    members: list[Any]
    level: float
    residual: Any = None

    def fit_residual(self, primary: Any, train: Cohort) -> BioAgeModel:
        """Fit the residual-acceleration line (BA on CA, OLS) on the training rows; returns ``self``."""
        from survage.bioage import ResidualAcceleration

        self.residual = ResidualAcceleration().fit(self.biological_age(primary, train), train.ages())
        return self

    def biological_age(self, primary: Any, cohort: Cohort) -> np.ndarray:
        """Point biological age from ``primary`` (no interval)."""
        from survage.bioage import biological_age

        h = primary.predict_cumulative_hazard(cohort, [self.horizon], self.outcome)[:, 0]
        return biological_age(h, self.reference, self.horizon).biological_age

    def predict(self, primary: Any, cohort: Cohort) -> dict[str, np.ndarray]:
        """Biological age (from ``primary``), acceleration, interval and extrapolation flag."""
        from survage.bioage import biological_age, biological_age_interval

        h = primary.predict_cumulative_hazard(cohort, [self.horizon], self.outcome)[:, 0]
        res = biological_age(h, self.reference, self.horizon)
        ca = cohort.ages()
        out = {"biological_age": res.biological_age, "age_acceleration": res.biological_age - ca,
               "biological_age_extrapolated": res.extrapolated.astype(int)}
        if self.residual is not None:
            out["age_acceleration_residual"] = self.residual.transform(res.biological_age, ca)
        if self.members:
            stack = np.vstack([h] + [m.predict_cumulative_hazard(cohort, [self.horizon], self.outcome)[:, 0]
                                     for m in self.members])
            iv = biological_age_interval(stack, self.reference, self.horizon, level=self.level)
            out["biological_age_lower"] = iv.lower
            out["biological_age_upper"] = iv.upper
        return out

    def save(self, run_dir: Path) -> None:
        """Reference parameters (JSON) and the ensemble members (``SurvivalModel.save``)."""
        atomic_write_json(run_dir / REFERENCE_FILE, {
            "kind": type(self.reference).__name__, "reference": _jsonable(self.reference.to_dict()),
            "horizon": self.horizon, "outcome": self.outcome, "level": self.level,
            "n_members": len(self.members),
            "residual": None if self.residual is None else self.residual.to_dict()})
        for k, m in enumerate(self.members):
            m.save(run_dir / MEMBERS_DIR / f"member_{k + 1}")

    @classmethod
    def load(cls, run_dir: Path) -> BioAgeModel:
        """Read what :meth:`save` wrote."""
        from survage.bioage import (
            GompertzReference,
            ResidualAcceleration,
            SplineReference,
        )
        from survage.models import SurvivalModel

        d = json.loads((run_dir / REFERENCE_FILE).read_text())
        ref_cls = {"GompertzReference": GompertzReference, "SplineReference": SplineReference}[d["kind"]]
        members = [SurvivalModel.load(run_dir / MEMBERS_DIR / f"member_{k + 1}") for k in range(d["n_members"])]
        res = d.get("residual")
        return cls(ref_cls.from_dict(d["reference"]), float(d["horizon"]), d["outcome"], members, float(d["level"]),
                   None if res is None else ResidualAcceleration.from_dict(res))


def fit_reference(train: Cohort, outcome: str) -> Any:
    """Gompertz reference curve fitted on the training rows (age at baseline, follow-up in years)."""
    from survage.bioage import GompertzReference

    ok = train.at_risk(outcome)
    return GompertzReference().fit(train.ages()[ok], train.time(outcome)[ok], train.event(outcome)[ok])


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    return x
