"""A registry's samples as a dict, and equality of two such dicts up to float rounding: how
the tally and histogram tests hold the bridge's own series equal to prometheus_client's."""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(registry: CollectorRegistry) -> Samples:
    """Every sample but the `_created` timestamps."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect()
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def same(mine: Samples, theirs: Samples) -> bool:
    """Equal but for rounding (a tally adds its part-sums in another order)."""
    return mine.keys() == theirs.keys() and all(
        math.isclose(value, theirs[key], rel_tol=1e-9, abs_tol=1e-9) for key, value in mine.items()
    )
