"""Model configuration: YAML variants per model family, with validated overrides."""

from skquant.config._loader import (
    DEFAULT_VARIANT,
    VARIANT_ENV,
    list_models,
    list_variants,
    load_model_config,
    read_config_file,
    valid_config_keys,
    validate_config_keys,
)

__all__ = [
    "DEFAULT_VARIANT",
    "VARIANT_ENV",
    "list_models",
    "list_variants",
    "load_model_config",
    "read_config_file",
    "valid_config_keys",
    "validate_config_keys",
]
