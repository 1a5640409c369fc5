"""What the rules of one scope read, worked out once per rule set: which rules a change wakes.

A rule can only answer differently when a name it reads moves. A name that rules only compare
with numbers or with a titik's fixed values (`utilisation >= 0.9`, `clients >=
sla.capacity_users`) moves, for them, only when it crosses one of those: its input is the
side of each it is on, not the number itself, so 44 clients becoming 45 of 50 wakes nothing.
"""

from __future__ import annotations

import functools
import operator
from bisect import bisect_left
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from wifimon.alerts.context import STATIC_NAMES, Row
from wifimon.alerts.expr import Value
from wifimon.alerts.rules import Rule
from wifimon.state import MOVED_ANY

CLOCK_NAME = "seconds_since_data"  # changes with time alone, not with new data
CLOCK_SLACK = 0.001  # wake a clock rule this much early: float rounding never skips a crossing


class Side:
    """Which side of a name's edges a value lies on; equal only to itself."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"Side({self.index})"


Input = Value | Side  # a value, or for a name only compared, its side of the edges


class Cut:
    """A name only compared: at `input` of the inputs, against `numbers` and fixed names (at
    `columns` of the inputs)."""

    __slots__ = ("_sides", "columns", "input", "numbers", "side")

    def __init__(self, input: int, numbers: tuple[float, ...], columns: tuple[int, ...]) -> None:
        self.input, self.numbers, self.columns = input, numbers, columns
        # a side per place among the numbers, times below/on/above/unknown for each column
        count = (2 * len(numbers) + 1) * 4 ** len(columns)
        self._sides = tuple(Side(i) for i in range(count))
        # `side`, written out for the usual shapes (thousands of reads a cycle): one number,
        # or one fixed name; `_side_of` is the general case and the reference
        self.side: Callable[[Value, Sequence[Value]], Input] = self._side_of
        if len(numbers) == 1 and not columns:
            self.side = self._side_of_number
        elif len(numbers) == 2 and not columns:
            self.side = self._side_of_two_numbers
        elif not numbers and len(columns) == 1:
            self.side = self._side_of_column

    def __repr__(self) -> str:
        return f"Cut({self.input}, {self.numbers}, {self.columns})"

    def _side_of(self, value: Value, taken: Sequence[Value]) -> Input:
        """Where `value` lies among the edges: the same side of each, the same answers."""
        if (type(value) is not float and type(value) is not int) or value != value:
            return value  # text, yes/no, unknown, NaN (false to every comparison): as they are
        edges = self.numbers
        position = bisect_left(edges, value)
        index = 2 * position + (position < len(edges) and edges[position] == value)
        for column in self.columns:
            edge = taken[column]
            if (type(edge) is float or type(edge) is int) and edge == edge:
                index = 4 * index + (value > edge) - (value < edge) + 1
            else:  # nothing to compare with: the same answer whatever the value
                index = 4 * index + 3
        return self._sides[index]

    def _side_of_number(self, value: Value, taken: Sequence[Value]) -> Input:
        """`_side_of` with one number and no fixed name."""
        if type(value) is not float and type(value) is not int:
            return value
        (edge,) = self.numbers
        if value < edge:
            return self._sides[0]
        if value > edge:
            return self._sides[2]
        return self._sides[1] if value == edge else value

    def _side_of_two_numbers(self, value: Value, taken: Sequence[Value]) -> Input:
        """`_side_of` with two numbers and no fixed name (a rule's edge and its clear edge)."""
        if type(value) is not float and type(value) is not int:
            return value
        low, high = self.numbers
        if value < high:
            if value > low:
                return self._sides[2]
            if value < low:
                return self._sides[0]
            return self._sides[1] if value == low else value
        if value > high:
            return self._sides[4]
        return self._sides[3] if value == high else value  # (NaN: as it is)

    def _side_of_column(self, value: Value, taken: Sequence[Value]) -> Input:
        """`_side_of` with one fixed name and no number."""
        if type(value) is not float and type(value) is not int:
            return value
        edge = taken[self.columns[0]]
        if type(edge) is float or type(edge) is int:
            if value < edge:
                return self._sides[0]
            if value > edge:
                return self._sides[2]
            if value == edge:
                return self._sides[1]
        return value if value != value else self._sides[3]  # NaN: as it is; no edge: one side


@dataclass(frozen=True)
class ScopePlan:
    """The rules of one scope and the names they read (`taken`: their values, in order)."""

    rules: tuple[Rule, ...]
    columns: tuple[str, ...]  # the source's row layout
    names: tuple[str, ...]  # what the rules read, in the order of `inputs`
    index: dict[str, int]  # name -> its place in `names`
    position: dict[str, int]  # name -> its place in the source's row
    cut_at: tuple[Cut | None, ...]  # per input: how a name only compared is cut, else None
    readers: dict[str, frozenset[str]]  # name -> the rules (by name) that read it
    clock_rules: frozenset[str]  # rules that read a value that changes with time alone
    clock_input: int | None  # where it is in the inputs
    thresholds: tuple[float, ...] | None  # where the clock may flip a rule; None: anywhere
    bits: tuple[int, ...]  # per name: the MOVED_* bits after which it is read again
    needs: int  # the MOVED_* bits that can move a name the rules read
    _picked: dict[frozenset[str], tuple[Rule, ...]] = field(default_factory=dict, compare=False)

    @classmethod
    def of(
        cls, rules: Sequence[Rule], columns: tuple[str, ...], moved_by: Mapping[str, int]
    ) -> ScopePlan:
        expressions = {r.name: [e for e in (r.expr, r.clear) if e is not None] for r in rules}
        reads = {name: frozenset().union(*(e.names for e in exprs))
                 for name, exprs in expressions.items()}  # fmt: skip
        names = tuple(sorted(set().union(*reads.values()))) if reads else ()
        where = {name: index for index, name in enumerate(columns)}
        missing = [name for name in names if name not in where]
        if missing:
            raise ValueError(f"the rule source gives no {', '.join(missing)}")
        readers = {n: frozenset(r for r, read in reads.items() if n in read) for n in names}
        clock = frozenset(r for r, read in reads.items() if CLOCK_NAME in read)
        all_expressions = [e for exprs in expressions.values() for e in exprs]
        index = {name: i for i, name in enumerate(names)}
        kept = frozenset().union(*(e.history_names for e in all_expressions))
        bits = tuple(MOVED_ANY if name == CLOCK_NAME and name in kept
                     else moved_by.get(name, MOVED_ANY) for name in names)  # fmt: skip
        cuts = [_cut(i, name, all_expressions, index) for i, name in enumerate(names)]
        return cls(
            rules=tuple(rules),
            columns=columns,
            names=names,
            index=index,
            position=where,
            cut_at=tuple(cuts),
            readers=readers,
            clock_rules=clock,
            clock_input=names.index(CLOCK_NAME) if CLOCK_NAME in names else None,
            thresholds=_thresholds(clock, expressions),
            bits=bits,  # the clock's age is kept in history only as of each read: read it
            needs=functools.reduce(operator.or_, bits, 0),
        )

    @functools.cached_property
    def every(self) -> Reading:
        """Every name: a whole read."""
        return Reading.of(self, tuple(range(len(self.names))))

    def reading(self, moved: int) -> Reading:
        """The names new data with the `moved` bits may have moved."""
        return Reading.of(self, tuple(i for i, bits in enumerate(self.bits) if bits & moved))

    def inputs(self, taken: Sequence[Value]) -> list[Input]:
        """What the rules read, names only compared reduced to their side of each edge."""
        return [value if cut is None else cut.side(value, taken)
                for value, cut in zip(taken, self.cut_at, strict=True)]  # fmt: skip

    def age(self, taken: list[Value], inputs: list[Input], age: float) -> None:
        """Set seconds_since_data to `age`, what the clock rules now see, in `taken` and
        `inputs` (new data is compared with what the rules last saw)."""
        index = self.clock_input
        if index is not None:
            taken[index] = age
            cut = self.cut_at[index]
            inputs[index] = cut.side(age, taken) if cut is not None else age

    def pick(
        self, changed: Collection[str] | None, alerting: Collection[str] | None, clock: bool
    ) -> Sequence[Rule]:
        """Rules that read a changed name (None: all changed), have an alert to advance, or
        (`clock`) read the clock."""
        if changed is None:
            return self.rules
        if alerting or clock:
            return self._pick(changed, alerting, clock)
        key = frozenset(changed)  # the usual case, kept: a few names moved, nothing else
        picked = self._picked.get(key)
        if picked is None:
            picked = self._picked[key] = self._pick(key, None, False)
        return picked

    def _pick(
        self, changed: Collection[str], alerting: Collection[str] | None, clock: bool
    ) -> tuple[Rule, ...]:
        wanted = set(alerting) if alerting else set()
        for name in changed:
            wanted |= self.readers.get(name, frozenset())
        if clock:
            wanted |= self.clock_rules
        return tuple(r for r in self.rules if r.name in wanted) if wanted else ()

    @functools.cached_property
    def soonest_crossing(self) -> float:
        """How long after new data a clock rule may first answer differently (inf: never)."""
        return self.thresholds[0] - CLOCK_SLACK if self.thresholds else float("inf")

    def wake_at(self, data_at: float | None, now: float) -> float | None:
        """The next time a clock rule may answer differently, with no new data meanwhile."""
        if data_at is None or not self.thresholds:
            return None
        for threshold in self.thresholds:  # ascending
            if data_at + threshold + CLOCK_SLACK > now:
                return data_at + threshold - CLOCK_SLACK
        return None


NOTHING_MOVED: set[str] = set()  # `Reading.update`'s answer when no input changed: never changed


SideOf = Callable[[Value, Sequence[Value]], Input]


class Reading:
    """Some of a plan's names, read together after new data: where each is in the inputs,
    how it is cut, and where the clock is among them (None: not read)."""

    __slots__ = ("_slots", "clock", "names")

    def __init__(
        self,
        names: tuple[str, ...],
        clock: int | None,
        slots: tuple[tuple[int, str, SideOf | None], ...],
    ) -> None:
        self.names, self.clock, self._slots = names, clock, slots

    @classmethod
    def of(cls, plan: ScopePlan, read: tuple[int, ...]) -> Reading:
        names = tuple(plan.names[i] for i in read)
        cuts = [plan.cut_at[i] for i in read]
        slots = tuple((i, name, cut.side if cut is not None else None)
                      for i, name, cut in zip(read, names, cuts, strict=True))  # fmt: skip
        clock = plan.clock_input if plan.clock_input in read else None
        return cls(names, clock, slots)

    def update(self, taken: list[Value], inputs: list[Input], values: Row) -> set[str]:
        """Put the values read (in `names` order) in `taken`; returns the names whose input
        changed (`inputs` is brought up to date)."""
        moved = NOTHING_MOVED
        for (i, name, side_of), value in zip(self._slots, values, strict=False):
            old = taken[i]
            if value == old and type(value) is type(old):
                continue
            taken[i] = value
            side = value if side_of is None else side_of(value, taken)
            if side != inputs[i]:
                inputs[i] = side
                if moved is NOTHING_MOVED:
                    moved = set()
                moved.add(name)
        return moved


def _cut(index: int, name: str, expressions: Sequence, where: dict[str, int]) -> Cut | None:
    """The edges of a name every expression only compares (None: it is used otherwise)."""
    found: set[float | str] = set()
    for expression in expressions:
        if name not in expression.names:
            continue
        comparands = expression.comparands(name, STATIC_NAMES)
        if comparands is None:
            return None
        found |= comparands
    numbers = tuple(sorted(c for c in found if isinstance(c, float)))
    static = tuple(sorted(where[c] for c in found if isinstance(c, str) and c in where))
    if len(numbers) + len(static) != len(found):
        return None  # compared with a fixed name the rules do not read
    return Cut(index, numbers, static)


def _thresholds(clock: frozenset[str], expressions: dict[str, list]) -> tuple[float, ...] | None:
    """Every number the clock rules compare seconds_since_data with; None if they do more."""
    found: set[float] = set()
    for rule_name in clock:
        for expression in expressions[rule_name]:
            comparands = expression.comparands(CLOCK_NAME)
            if comparands is None:
                return None
            found |= {c for c in comparands if isinstance(c, float)}
    return tuple(sorted(found))
