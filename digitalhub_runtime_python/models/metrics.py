"""Run metrics: a number, or a series of numbers, per name; how a logged value joins what is already there."""

from __future__ import annotations

import math
from typing import Any

Number = int | float
MetricValue = Number | list[Number]


def check_metric(key: str, value: Any) -> MetricValue:
    """A metric value as given (a finite number or a list of them); ValueError naming the metric otherwise."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
            raise ValueError(
                f"metric {key!r}: {value!r} is not a metric value: log a finite number or a list of finite numbers"
            )
    return list(value) if isinstance(value, list) else value


def merge_metric(
    metrics: dict[str, MetricValue], key: str, value: Any, overwrite: bool = False, single_value: bool = False
) -> dict[str, MetricValue]:
    """``metrics`` with ``value`` logged under ``key``, as DigitalHub does it.

    A number joins the series of ``key`` (a series is started, a single value becomes the first of a series); a
    list extends it. ``single_value`` keeps a number as it is: set if absent, kept if present. ``overwrite``
    replaces what was there.
    """
    value = check_metric(key, value)
    current = metrics.get(key)
    merged = dict(metrics)
    if overwrite or current is None:
        merged[key] = value if isinstance(value, list) or single_value else [value]
    elif isinstance(value, list):
        merged[key] = [*(current if isinstance(current, list) else [current]), *value]
    elif not single_value:
        merged[key] = [*(current if isinstance(current, list) else [current]), value]
    return merged


def latest(value: MetricValue | None) -> Number | None:
    """The last value of a series, or the value itself; None for nothing logged."""
    if isinstance(value, list):
        return value[-1] if value else None
    return value
