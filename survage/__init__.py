"""survage: opportunistic-CT and clinical time-to-event mortality models and biological age."""

__version__ = "0.1.0"
