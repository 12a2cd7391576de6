"""Inner splits embargoed at least as long as the outer ones.

A model that holds out rows of its own (an early-stopping tail, out-of-fold blocks)
inside an embargoed split must drop at least as many dates before them: a label of
horizon h on a training row is computed from the prices of the next h dates. One rule
for every caller: the walk-forward engine (the trainer it builds by name) and the
composite trainers (the bases and stages they build).
"""

from __future__ import annotations

from numbers import Integral

# An own embargo left unset (None): a skquant trainer's target horizon at ``fit``.
_UNSET = object()


def _own_embargo(estimator, params: dict) -> int | object | None:
    """The embargo ``estimator`` would fit with, ``_UNSET`` when unset (None), or None
    when it decides itself.

    A skquant trainer's comes from its resolved config (parameter, then ``config``,
    then the YAML variant); None when that config does not resolve (its ``fit``
    reports the error). Another estimator's is its ``embargo_days`` parameter. An
    unset one (None): a skquant trainer's None is the horizon its target tells, known
    only at ``fit`` and not from an array target (the engine's, which would then warn
    that its embargo is 0), so it is replaced by the caller's embargo, 0 included,
    and the trainer warns at ``fit`` when that is below its target's horizon - 1.
    ``"auto"`` (a cascade's: its targets' horizons, estimated from their
    autocorrelation when they tell none) counts as unset too: the caller has resolved
    the horizon of the whole target, which a fold of it (an array inside the engine)
    may not tell; left as it is when the caller resolved none. Another value that is
    not an int is left to the estimator.
    """
    resolve = getattr(estimator, "_resolve_config", None)
    if callable(resolve):
        try:
            value = resolve().get("embargo_days")
        except (ValueError, TypeError):
            return None
    else:
        value = params["embargo_days"]
    if value is None or (isinstance(value, str) and value == "auto"):
        return _UNSET
    if isinstance(value, Integral) and not isinstance(value, bool):
        return int(value)
    return None


def embargo_at_least(estimator, embargo: int | None):
    """Raise the embargo of ``estimator``'s own inner splits to at least ``embargo`` dates.

    ``estimator`` and every estimator among its parameters (a Pipeline's steps) that
    takes ``embargo_days`` gets ``embargo_days = max(own, embargo)``; a larger own
    embargo (parameter, ``config`` or YAML variant) is kept, and nothing is set when
    ``embargo`` is None or the own one is at least as large. An unset own embargo
    (None, a skquant trainer's target horizon at ``fit``; ``"auto"``, a cascade's)
    becomes ``embargo``, 0 included: the caller has resolved it, and an array target
    tells the trainer none.

    Parameters
    ----------
    estimator : estimator object
        The caller's own copy (built or cloned for this fit): it is changed in place.
    embargo : int or None
        Dates the caller drops before the rows it holds out (None: none resolved,
        nothing is set).

    Returns
    -------
    estimator : estimator object
        The same object.
    """
    if embargo is None or not hasattr(estimator, "get_params"):
        return estimator
    embargo = int(embargo)
    found = {id(estimator): estimator}
    for value in estimator.get_params(deep=True).values():
        if hasattr(value, "get_params") and not isinstance(value, type):
            found.setdefault(id(value), value)
    for item in found.values():
        params = item.get_params(deep=False)
        if "embargo_days" not in params:
            continue
        own = _own_embargo(item, params)
        if own is _UNSET or (own is not None and own < embargo):
            item.set_params(embargo_days=embargo)
    return estimator
