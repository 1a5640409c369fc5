"""YAML loading that remembers the line of every key, so errors can name file:line:field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import yaml
from pydantic import ValidationError

from wifimon.errors import ConfigError
from wifimon.textfile import text_position

Path_ = tuple[str | int, ...]
# libyaml's parser when PyYAML has it (ten times faster on a 9,000-titik inventory); the
# nodes, their line marks and error marks are the same
COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Values (keys, scalars, lists, mappings) that aliases (*name) of one document may repeat
# in all (about 50 MB once built): a contact shared by each of 20,000 titik repeats about
# 160,000; a "billion laughs" repeats billions, and is refused before any is built. A
# document without aliases is not limited by it.
MAX_ALIAS_NODES = 250_000
# Levels of nesting: an inventory needs 6, a rules file fewer.
MAX_DEPTH = 64


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
        raise _syntax_error(exc, text, filename) from exc
    except RecursionError:  # the pure-Python parser, when libyaml is missing
        raise ConfigError(f"{filename}: nested more than {MAX_DEPTH} levels deep") from None
    if node is None:
        return {}, source
    _measure(node, 0, _Sizes(filename), node)
    source.lines[()] = node.start_mark.line + 1
    return _construct(node, (), source, yaml.constructor.SafeConstructor()), source


def _syntax_error(exc: yaml.YAMLError, text: str, filename: str) -> ConfigError:
    """`file:line: not valid YAML: problem`, in words (no parser dump)."""
    if isinstance(exc, yaml.reader.ReaderError):
        where = text_position(text[: exc.position], filename)
        character = exc.character if isinstance(exc.character, int) else 0
        return ConfigError(f"{where}: not valid YAML: the character U+{character:04X} "
                           "is not allowed")  # fmt: skip
    mark = getattr(exc, "problem_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or "cannot be parsed"
    return ConfigError(f"{filename}{line}: not valid YAML: {problem}")


def _compose(text: str) -> yaml.Node | None:
    """Nodes by libyaml; on an error, the pure-Python parser's report (its wording and marks
    are what wifimon's error messages were written and tested with)."""
    try:
        return yaml.compose(text, Loader=COMPOSER)
    except yaml.YAMLError as exc:
        if getattr(exc, "problem", None) == "exceeded maximum nesting depth":
            raise  # the pure-Python parser would take seconds to fail on it
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except RecursionError:  # nested deeper than Python recurses: libyaml's report
            raise exc from None


@dataclass
class _Sizes:
    """What _measure learnt: nodes and levels of each list or mapping, the ones being
    measured, and the values aliases repeat."""

    filename: str
    known: dict[int, tuple[int, int]] = field(default_factory=dict)
    open: set[int] = field(default_factory=set)
    repeated: int = 0

    def at(self, node: yaml.Node) -> str:
        """`file:line` of a node."""
        return f"{self.filename}:{node.start_mark.line + 1}"

    def repeat(self, nodes: int, parent: yaml.Node) -> None:
        """An alias in `parent` repeats `nodes` values: within the budget, or refused."""
        self.repeated += nodes
        if self.repeated > MAX_ALIAS_NODES:
            raise ConfigError(f"{self.at(parent)}: aliases (*name) repeat more than "
                              f"{MAX_ALIAS_NODES:,} values; write the values out")  # fmt: skip


def _measure(node: yaml.Node, depth: int, sizes: _Sizes, parent: yaml.Node) -> tuple[int, int]:
    """(nodes, levels) `node` stands for with its aliases expanded, counted without
    expanding them: an alias reuses its anchor's count, so a "billion laughs" is refused
    at once, and nesting is bounded before anything recurses deeper."""
    if isinstance(node, yaml.ScalarNode):
        return 1, 1
    key = id(node)
    if key in sizes.open:
        raise ConfigError(f"{sizes.at(node)}: an alias (*name) refers to a list or mapping "
                          "it is in")  # fmt: skip
    found = sizes.known.get(key)
    if found is None:
        found = sizes.known[key] = _count(node, depth, sizes)
    else:  # a second use: an alias
        sizes.repeat(found[0], parent)
    if depth + found[1] > MAX_DEPTH:
        raise ConfigError(f"{sizes.at(node)}: nested more than {MAX_DEPTH} levels deep")
    return found


def _count(node: yaml.Node, depth: int, sizes: _Sizes) -> tuple[int, int]:
    """(nodes, levels) of a list or mapping met for the first time."""
    if depth >= MAX_DEPTH:
        raise ConfigError(f"{sizes.at(node)}: nested more than {MAX_DEPTH} levels deep")
    sizes.open.add(id(node))
    nodes, levels = 1, 1
    pairs = not isinstance(node, yaml.SequenceNode)  # a mapping: its keys and values
    children = chain.from_iterable(node.value) if pairs else node.value
    for child in children:
        if isinstance(child, yaml.ScalarNode):  # most of them: counted here, no call
            nodes, levels = nodes + 1, max(levels, 2)
            continue
        child_nodes, child_levels = _measure(child, depth + 1, sizes, node)
        nodes += child_nodes
        levels = max(levels, child_levels + 1)
    sizes.open.discard(id(node))
    return nodes, levels


def _construct(node: yaml.Node, path: Path_, source: SourceMap,
               scalars: yaml.constructor.SafeConstructor) -> Any:  # fmt: skip
    """Build Python data from a node, recording positions on the way."""
    if isinstance(node, yaml.MappingNode) and node.tag == MAP_TAG:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, path, source, scalars, "key")
            child = (*path, key)
            if key in result:
                raise ConfigError(
                    f"{source.filename}:{key_node.start_mark.line + 1}: "
                    f"{format_path(child)}: duplicate key"
                )
            source.lines[child] = key_node.start_mark.line + 1
            result[key] = _construct(value_node, child, source, scalars)
        return result
    if isinstance(node, yaml.SequenceNode) and node.tag == SEQ_TAG:
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            source.lines[child] = item.start_mark.line + 1
            items.append(_construct(item, child, source, scalars))
        return items
    return _scalar(node, path, source, scalars, "value")


# Lists and mappings are built plain; a tag asking for another type is refused.
MAP_TAG, SEQ_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_KINDS = {"int": "an integer", "float": "a number", "bool": "true or false",
          "timestamp": "a date", "binary": "base64 data", "null": "null"}  # fmt: skip


def _scalar(node: yaml.Node, path: Path_, source: SourceMap,
            scalars: yaml.constructor.SafeConstructor, what: str) -> Any:  # fmt: skip
    """One plain value (or key) as the safe loader builds it; an unknown tag fails there."""
    if not isinstance(node, yaml.ScalarNode):
        raise _refusal(node, path, source, what)
    try:
        return scalars.construct_object(node)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        raise _refusal(node, path, source, what) from exc


def _refusal(node: yaml.Node, path: Path_, source: SourceMap, what: str) -> ConfigError:
    """An unknown tag, a list as a key, a malformed date or number, in words that do not
    echo the value (it may stand where a secret belongs)."""
    where = f"{source.filename}:{node.start_mark.line + 1}: {format_path(path)}"
    tag = node.tag.removeprefix("tag:yaml.org,2002:")
    if node.tag not in (MAP_TAG, SEQ_TAG) and not isinstance(node, yaml.ScalarNode):
        return ConfigError(f"{where}: the YAML tag {node.tag} is not supported")
    if not isinstance(node, yaml.ScalarNode):
        return ConfigError(f"{where}: a list or mapping cannot be a key")
    if tag == "merge":
        return ConfigError(f"{where}: merge keys (<<) are not supported; write the keys out")
    if node.tag not in yaml.constructor.SafeConstructor.yaml_constructors:
        return ConfigError(f"{where}: the YAML tag {node.tag} is not supported")
    kind = _KINDS.get(tag, f"a {tag}")
    return ConfigError(f"{where}: the {what} is not {kind} (quote it if it is text)")


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
