"""The epidemiologist's workflow: typed experiment configs, the study pipeline, prediction."""

from survage.workflow.config import ExperimentConfig, config_from_dict, load_config

__all__ = ["ExperimentConfig", "config_from_dict", "load_config"]
