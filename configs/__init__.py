"""The model configuration files, shipped inside the wheel as ``skquant.configs``.

One YAML file per model family; read them with :func:`skquant.load_model_config`.
"""
