"""Splitting one inventory between N wifimon instances by rendezvous hashing of hotspot ids.

Each titik goes to the shard with the highest hash of (shard, titik): stable across restarts
and machines, and going from N to N+1 shards moves only the titik the new shard wins.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from wifimon.errors import ConfigError
from wifimon.inventory import Inventory


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`K/N` with 1 <= K <= N."""
        match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
        if not match:
            raise ConfigError(f"--shard {text!r}: expected K/N, for example 2/3")
        index, count = int(match.group(1)), int(match.group(2))
        if not 1 <= index <= count:
            raise ConfigError(f"--shard {text!r}: K must be between 1 and N")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, hotspot_id: str) -> bool:
        return owner(hotspot_id, self.count) == self.index

    def filter(self, inventory: Inventory) -> Inventory:
        """The part of the inventory this shard watches."""
        return Inventory(hotspots=[h for h in inventory.hotspots if self.owns(h.id)])


def _score(shard: int, hotspot_id: str) -> int:
    digest = hashlib.blake2b(f"{shard}\0{hotspot_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(hotspot_id: str, count: int) -> int:
    """The 1-based shard that watches `hotspot_id` among `count` shards."""
    return max(range(1, count + 1), key=lambda shard: _score(shard, hotspot_id))
