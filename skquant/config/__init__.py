"""Model configuration: YAML variants per model family, with validated overrides."""

from skquant.config._loader import (
    DEFAULT_VARIANT,
    list_models,
    list_variants,
    load_model_config,
    valid_config_keys,
    validate_config_keys,
)

__all__ = [
    "DEFAULT_VARIANT",
    "list_models",
    "list_variants",
    "load_model_config",
    "valid_config_keys",
    "validate_config_keys",
]
