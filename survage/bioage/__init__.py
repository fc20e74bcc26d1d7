"""Biological age: PhenoAge, Klemera-Doubal, reference mortality curves and hazard-to-age mapping.

Array-level: everything here takes frames or arrays (a model's predicted cumulative hazard at a
horizon), so any survival model can be mapped to a biological age.
"""

from survage.bioage.acceleration import (
    ResidualAcceleration,
    ResidualAccelerationFit,
    age_acceleration,
    residual_acceleration,
)
from survage.bioage.gompertz import GompertzReference
from survage.bioage.kdm import KDM_BIOMARKERS, KlemeraDoubal
from survage.bioage.mapping import BioAgeInterval, BioAgeResult, biological_age, biological_age_interval
from survage.bioage.phenoage import PHENOAGE_COLUMNS, phenoage, phenoage_mortality_score
from survage.bioage.reference import HazardReference
from survage.bioage.spline_reference import SplineReference

__all__ = [
    "KDM_BIOMARKERS",
    "PHENOAGE_COLUMNS",
    "BioAgeInterval",
    "BioAgeResult",
    "GompertzReference",
    "HazardReference",
    "KlemeraDoubal",
    "ResidualAcceleration",
    "ResidualAccelerationFit",
    "SplineReference",
    "age_acceleration",
    "biological_age",
    "biological_age_interval",
    "phenoage",
    "phenoage_mortality_score",
    "residual_acceleration",
]
