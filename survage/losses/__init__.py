"""Plain typed torch loss functions for time-to-event models."""
from survage.losses.cox import cox_nll

__all__ = ["cox_nll"]
