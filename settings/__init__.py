"""Configuration, secrets and logging: everything read from the outside world at start-up."""

from settings.config import Config
from settings.durations import Duration
from settings.loader import ConfigError, load_config

__all__ = ["Config", "ConfigError", "Duration", "load_config"]
