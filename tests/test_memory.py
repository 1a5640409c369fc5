"""The daemon keeps its long-lived objects out of garbage collections while it runs."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from wifimon.daemon import Daemon
from wifimon.demo.fleet import write_fleet
from wifimon.memory import YOUNG_OBJECTS


class Node:
    """An object that refers to itself: only the cycle collector can free it."""

    def __init__(self) -> None:
        self.me = self


async def test_long_lived_objects_are_frozen_until_a_reload_or_stop(tmp_path: Path) -> None:
    daemon = Daemon(write_fleet(tmp_path, 9, "127.0.0.1:9", 60.0))
    cycle = Node()
    alive = weakref.ref(cycle)
    try:
        await daemon.start()
        assert gc.get_freeze_count() > 1000  # inventory, state and rules
        assert gc.get_threshold()[0] == YOUNG_OBJECTS
        del cycle
        gc.collect()
        assert alive() is not None  # frozen with the rest: left alone while running
        await daemon.reload()
        assert alive() is None  # a reload lets the collector see everything first
        assert gc.get_freeze_count() > 1000
    finally:
        await daemon.stop()
    assert gc.get_freeze_count() == 0
