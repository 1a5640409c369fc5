"""Garbage collection for a daemon that holds a large inventory for its whole life.

The inventory, state and rules of 20,000 APs are hundreds of thousands of objects that live
until the next reload. Python's collector scans them all on every full collection, and a
rules cycle that happens to trigger one stalls for as long. Frozen (`gc.freeze`), they are
left out of those scans; reference counting still frees them as usual once nothing refers to
them. Only garbage in reference cycles among them would stay, so a reload and a stop thaw
everything and let the collector see it again first.
"""

from __future__ import annotations

import gc

# Young objects allocated before a collection (CPython's default: 700). A rules cycle makes
# and drops tens of thousands of small tuples and sets; with room for them, nearly all are
# freed by reference counting before a collection would scan them.
YOUNG_OBJECTS = 100_000


def freeze_long_lived() -> None:
    """Collect what is garbage now, then leave everything alive out of later collections,
    and let young objects pile up further before the next one."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])


def thaw() -> None:
    """Let the collector see every object again (before a reload drops the old ones)."""
    gc.unfreeze()
