"""The ``methods`` section of ``metrics.json``: data, configuration, versions, references."""

from __future__ import annotations

import datetime as _dt
import platform
from importlib import metadata
from typing import Any

from survage.workflow.config import ExperimentConfig

#: packages whose versions a report prints
VERSIONED = ("survage", "numpy", "scipy", "pandas", "torch", "lifelines", "scikit-survival",
             "scikit-learn", "matplotlib", "reportlab")

REFERENCES = (
    "Harrell FE et al. Evaluating the yield of medical tests. JAMA 1982;247:2543-2546. doi:10.1001/jama.1982.03320430047030",
    "Uno H et al. On the C-statistics for evaluating overall adequacy of risk prediction procedures with censored "
    "survival data. Stat Med 2011;30:1105-1117. doi:10.1002/sim.4154",
    "Uno H et al. Evaluating prediction rules for t-year survivors with censored regression models. JASA "
    "2007;102:527-537. doi:10.1198/016214507000000149",
    "Graf E et al. Assessment and comparison of prognostic classification schemes for survival data. Stat Med "
    "1999;18:2529-2545. doi:10.1002/(SICI)1097-0258(19990915/30)18:17/18<2529::AID-SIM274>3.0.CO;2-5",
    "Austin PC, Harrell FE, van Klaveren D. Graphical calibration curves and the integrated calibration index "
    "(ICI) for survival models. Stat Med 2020;39:2714-2742. doi:10.1002/sim.8570",
    "Levine ME et al. An epigenetic biomarker of aging for lifespan and healthspan. Aging 2018;10:573-591. "
    "doi:10.18632/aging.101414",
    "Klemera P, Doubal S. A new approach to the concept and computation of biological age. Mech Ageing Dev "
    "2006;127:240-248. doi:10.1016/j.mad.2005.10.005",
    "Kwon D, Belsky DW. A toolkit for quantification of biological age from blood chemistry and organ function "
    "test data: BioAge. GeroScience 2021;43:2795-2808. doi:10.1007/s11357-021-00480-5",
    "Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993. doi:10.1201/9780429246593",
)


def versions() -> dict[str, str]:
    """Installed versions of the packages behind the numbers, and Python."""
    out = {"python": platform.python_version()}
    for p in VERSIONED:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def methods_section(cfg: ExperimentConfig, *, data: str, seed: int, model_card: dict[str, str],
                    text: list[str]) -> dict[str, Any]:
    """The ``methods`` section (no identifiers: the config names no person)."""
    return {
        "data": data,
        "seed": int(seed),
        "phenoage_constant": cfg.bioage.phenoage_constant,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions(),
        "config": cfg.to_dict(),
        "model_card": model_card,
        "text": text,
        "references": list(REFERENCES),
    }
