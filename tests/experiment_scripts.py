"""Load a script of ``experiments/`` as a module, so tests check the figures it prints."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def load_experiment(stem: str) -> ModuleType:
    """The module of ``experiments/<stem>.py`` (loaded once per test session)."""
    name = f"survage_experiments_{stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{stem}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses resolve the module by name
        spec.loader.exec_module(module)
    return sys.modules[name]
