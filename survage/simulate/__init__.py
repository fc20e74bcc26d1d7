"""The documented opportunistic-CT cohort simulator (equations in ``docs/simulator.md``).

- :func:`simulate_cohort` ``(n, *, seed, params=None) -> DataFrame``: canonical columns, clean
  numbers, hidden truth (``true_biological_age``, ``true_log_hazard``).
- :func:`to_sheet` ``(df, *, seed) -> DataFrame``: the exact sheet layout with its messy cells.
- :func:`simulate_sheet_to_file` ``(n, *, seed, out, images=None) -> Path``: both, written
  atomically to ``.csv``/``.xlsx`` (``survage simulate``), optionally with rendered L3 slices.
- :func:`five_year_death_auroc` and :data:`AUROC_TARGETS`: the calibration targets.
"""

from survage.simulate.files import simulate_sheet_to_file
from survage.simulate.generative import simulate_cohort
from survage.simulate.parameters import SimulationParameters
from survage.simulate.sheet import to_sheet
from survage.simulate.targets import APPROXIMATE_TARGETS, AUROC_TARGETS, five_year_death_auroc



def __getattr__(name: str) -> object:
    # render_images needs survage.imaging (MONAI), slow to import: loaded on first use
    if name == "render_images":
        from survage.simulate.images import render_images

        return render_images
    raise AttributeError(f"module 'survage.simulate' has no attribute {name!r}")


__all__ = ["APPROXIMATE_TARGETS", "AUROC_TARGETS", "SimulationParameters", "five_year_death_auroc",
           "render_images", "simulate_cohort", "simulate_sheet_to_file", "to_sheet"]
