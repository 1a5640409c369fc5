"""The demo fleet's config and inventory, edited for one test (secrets added, keys changed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from wifimon.demo.fleet import write_fleet

Edit = Callable[[dict[str, Any]], None]


def edited_fleet(
    directory: Path,
    *,
    listen: str = "127.0.0.1:9",
    secrets: Mapping[str, str] | None = None,
    config: Edit | None = None,
    inventory: Edit | None = None,
) -> Path:
    """write_fleet's files with `secrets` (name -> value, as secret files), then the config
    and the inventory YAML handed to the edits; returns the config path."""
    path = write_fleet(directory, 9, listen, 60.0)
    data = yaml.safe_load(path.read_text())
    for name, value in (secrets or {}).items():
        (directory / "secrets" / name).write_text(value + "\n")
        data["secrets"][name] = {"file": f"secrets/{name}"}
    if config is not None:
        config(data)
    path.write_text(yaml.safe_dump(data))
    if inventory is not None:
        inventory_path = directory / "inventory.yaml"
        hotspots = yaml.safe_load(inventory_path.read_text())
        inventory(hotspots)
        inventory_path.write_text(yaml.safe_dump(hotspots, sort_keys=False))
    return path


def titik(inventory: dict[str, Any], hotspot_id: str) -> dict[str, Any]:
    """One titik of an inventory document, to edit in place."""
    return next(h for h in inventory["hotspots"] if h["id"] == hotspot_id)
