"""YAML loading that remembers the line of every key, so errors can name file:line:field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from wifimon.errors import ConfigError

Path_ = tuple[str | int, ...]
# libyaml's parser when PyYAML has it (ten times faster on a 9,000-titik inventory); the
# nodes, their line marks and error marks are the same
COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class SourceMap:
    """Line numbers (1-based) of every mapping key and list item, by path."""

    filename: str
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """Line of the deepest known prefix of `path`."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get(())

    def where(self, path: Sequence[str | int]) -> str:
        """`file:line` for a path (just `file` when the line is unknown)."""
        line = self.line_of(path)
        return f"{self.filename}:{line}" if line else self.filename


def format_path(path: Sequence[str | int]) -> str:
    """hotspots[2].access_points[0].address style."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_yaml(text: str, filename: str) -> tuple[Any, SourceMap]:
    """Parse YAML into plain data plus a line map; duplicate keys are errors."""
    source = SourceMap(filename)
    try:
        node = _compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{filename}{line}: not valid YAML: {problem}") from exc
    if node is None:
        return {}, source
    source.lines[()] = node.start_mark.line + 1
    return _construct(node, (), source, yaml.constructor.SafeConstructor()), source


def _compose(text: str) -> yaml.Node | None:
    """Nodes by libyaml; on an error, the pure-Python parser's report (its wording and marks
    are what wifimon's error messages were written and tested with)."""
    try:
        return yaml.compose(text, Loader=COMPOSER)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=yaml.SafeLoader)


def _construct(node: yaml.Node, path: Path_, source: SourceMap,
               scalars: yaml.constructor.SafeConstructor) -> Any:  # fmt: skip
    """Build Python data from a node, recording positions on the way."""
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = scalars.construct_object(key_node)
            child = (*path, key)
            if key in result:
                raise ConfigError(
                    f"{source.filename}:{key_node.start_mark.line + 1}: "
                    f"{format_path(child)}: duplicate key"
                )
            source.lines[child] = key_node.start_mark.line + 1
            result[key] = _construct(value_node, child, source, scalars)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            source.lines[child] = item.start_mark.line + 1
            items.append(_construct(item, child, source, scalars))
        return items
    return scalars.construct_object(node)


_FRIENDLY = {
    "extra_forbidden": "unknown key",
    "missing": "required",
}


def validation_error(exc: ValidationError, source: SourceMap, prefix: Path_ = ()) -> ConfigError:
    """One ConfigError listing every problem as `file:line: path: message`."""
    lines = []
    for error in exc.errors():
        path = _user_path((*prefix, *error["loc"]), source, error["type"] == "missing")
        message = _FRIENDLY.get(error["type"], error["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        lines.append(f"{source.where(path)}: {format_path(path)}: {message}")
    return ConfigError("\n".join(dict.fromkeys(lines)))


def _user_path(loc: Sequence[str | int], source: SourceMap, missing: bool) -> tuple[str | int, ...]:
    """Drop what pydantic inserts into error paths (union members, discriminator tags).

    Every element must exist in the file, except the last one of a missing-key error.
    """
    path: tuple[str | int, ...] = ()
    for index, part in enumerate(loc):
        candidate = (*path, part)
        if candidate in source.lines or (missing and index == len(loc) - 1):
            path = candidate
    return path
