"""Lists in words, for messages: the first few names and how many more."""

from __future__ import annotations


def few_names(names, at_most: int = 5, sep: str = ", ") -> str:
    """``"A, B, C"``, or the first ``at_most`` of ``names`` and ``" and N more"``.

    ``names`` are joined as given (pass ``map(repr, ...)`` for quoted names); ``sep``
    joins them (``"; "`` for clauses that hold commas).

    >>> few_names(["a", "b", "c"], at_most=2)
    'a, b and 1 more'
    """
    names = [str(name) for name in names]
    more = f" and {len(names) - at_most} more" if len(names) > at_most else ""
    return sep.join(names[:at_most]) + more
