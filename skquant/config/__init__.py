"""Model configuration: YAML variants per model family, with validated overrides, and the
search space ``skquant tune`` samples."""

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
from skquant.config._search_space import (
    check_search_space,
    load_search_space,
    sample_search_space,
)

__all__ = [
    "DEFAULT_VARIANT",
    "VARIANT_ENV",
    "check_search_space",
    "list_models",
    "list_variants",
    "load_model_config",
    "load_search_space",
    "read_config_file",
    "sample_search_space",
    "valid_config_keys",
    "validate_config_keys",
]
