"""How much history a fitted model needs before the rows it predicts or transforms."""

from __future__ import annotations


def history_periods(model) -> int:
    """The earlier periods a fitted model needs: ``history_periods_`` when it declares
    it, ``seq_len - 1`` for a sequence model, else 0; for a Pipeline the sum over its
    steps (each step's first rows need the history of the steps before it; a scaler
    before an LSTM got no history: the first ``seq_len - 1`` dates of each test window
    were zero-padded), for a FeatureUnion or ColumnTransformer the most of its parts."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list):
        return sum(history_periods(step) for _, step in steps if hasattr(step, "get_params"))
    parts = getattr(model, "transformer_list", None)  # a FeatureUnion: side by side
    if parts is None:
        parts = [part[:2] for part in getattr(model, "transformers_", None) or ()]
    if isinstance(parts, list) and parts:
        return max(
            (history_periods(part) for _, part in parts if hasattr(part, "get_params")),
            default=0,
        )
    declared = getattr(model, "history_periods_", None)
    if declared is not None:
        return int(declared)
    config = getattr(model, "config_", None)
    seq_len = config.get("seq_len") if isinstance(config, dict) else None
    return max(int(seq_len) - 1, 0) if seq_len else 0
