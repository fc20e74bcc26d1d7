"""The documented opportunistic-CT cohort simulator (see ``docs/simulator.md``)."""

from survage.simulate.generative import simulate_cohort
from survage.simulate.parameters import SimulationParameters

__all__ = ["SimulationParameters", "simulate_cohort"]
