"""The rule expression language: a small, safe language over one titik's or AP's state.

    download_mbps < sla.min_mbps and consecutive(download_mbps < sla.min_mbps) >= 2
    avg(clients, 15m) >= sla.capacity_users

Parsed once at load (errors carry the position), evaluated many times. There is no Python
`eval`, no attribute access and no calls beyond the listed functions: a name is looked up in
the mapping the caller gives, nothing else is reachable. Unknown values are None; comparisons
with None are false, arithmetic with None is None.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_LENGTH = 2_000
MAX_DEPTH = 40
MAX_EXPONENT = 16
MAX_WINDOW_SECONDS = 7 * 86_400
DURATION_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}

Value = float | bool | str | None


class ExprError(ValueError):
    """An expression that cannot be parsed or checked; `position` is a 0-based offset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position + 1})")
        self.message = message
        self.position = position


class History(Protocol):
    """Recent values of a name, oldest first, as (unix time, value)."""

    def series(self, name: str) -> Sequence[tuple[float, Value]]: ...

    def window(self, name: str, seconds: float) -> list[Value]:
        """Values within `seconds` of the newest sample of `name`, oldest first."""
        ...


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<duration>\d+(?:\.\d+)?[smhd])\b |
        (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?) |
        (?P<string>"[^"\\]*(?:\\.[^"\\]*)*"|'[^'\\]*(?:\\.[^'\\]*)*') |
        (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*) |
        (?P<op><=|>=|==|!=|[-+*/%^<>(),])
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "true", "false"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens; anything unrecognised is an error at its offset."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters", MAX_LENGTH)
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            start = position + len(text[position:]) - len(text[position:].lstrip())
            raise ExprError(f"unexpected character {text[start]!r}", start)
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Node:
    position: int


@dataclass(frozen=True)
class Literal(Node):
    value: Value


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def take(self, text: str | None = None, kind: str | None = None) -> Token | None:
        token = self.current
        if (text is not None and token.text != text) or (kind is not None and token.kind != kind):
            return None
        if text is not None and token.kind not in ("op", "name"):
            return None
        self.index += 1
        return token

    def expect(self, text: str) -> Token:
        token = self.take(text)
        if token is None:
            found = self.current.text or "the end"
            raise ExprError(f"expected {text!r}, found {found!r}", self.current.position)
        return token

    def nested(self, parse: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"nested deeper than {MAX_DEPTH} levels", self.current.position)
        try:
            return parse()
        finally:
            self.depth -= 1

    def parse(self) -> Node:
        node = self.or_expr()
        if self.current.kind != "end":
            raise ExprError(f"unexpected {self.current.text!r}", self.current.position)
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while (token := self.take("or")) is not None:
            node = Binary(token.position, "or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while (token := self.take("and")) is not None:
            node = Binary(token.position, "and", node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        token = self.take("not")
        if token is not None:
            return Unary(token.position, "not", self.nested(self.not_expr))
        return self.comparison()

    def comparison(self) -> Node:
        node = self.sum()
        for op in ("<=", ">=", "==", "!=", "<", ">"):
            token = self.take(op)
            if token is not None:
                return Binary(token.position, op, node, self.sum())
        return node

    def sum(self) -> Node:
        node = self.term()
        while (token := self.take("+") or self.take("-")) is not None:
            node = Binary(token.position, token.text, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while (token := self.take("*") or self.take("/") or self.take("%")) is not None:
            node = Binary(token.position, token.text, node, self.unary())
        return node

    def unary(self) -> Node:
        token = self.take("-")
        if token is not None:
            return Unary(token.position, "-", self.nested(self.unary))
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        token = self.take("^")
        if token is not None:
            return Binary(token.position, "^", node, self.nested(self.unary))
        return node

    def atom(self) -> Node:
        token = self.current
        if token.kind == "number":
            self.index += 1
            return Literal(token.position, float(token.text))
        if token.kind == "duration":
            self.index += 1
            return Literal(token.position, parse_duration(token.text, token.position))
        if token.kind == "string":
            self.index += 1
            return Literal(token.position, _unquote(token.text))
        if token.kind == "name":
            return self.name_or_call()
        if self.take("(") is not None:
            node = self.nested(self.or_expr)
            self.expect(")")
            return node
        found = token.text or "the end"
        raise ExprError(f"expected a value, found {found!r}", token.position)

    def name_or_call(self) -> Node:
        token = self.current
        self.index += 1
        if token.text in ("true", "false"):
            return Literal(token.position, token.text == "true")
        if token.text in KEYWORDS:
            raise ExprError(f"unexpected {token.text!r}", token.position)
        if self.take("(") is None:
            return Name(token.position, token.text)
        args: list[Node] = []
        if self.take(")") is None:
            args.append(self.nested(self.or_expr))
            while self.take(",") is not None:
                args.append(self.nested(self.or_expr))
            self.expect(")")
        return Call(token.position, token.text, tuple(args))


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse_duration(text: str, position: int = 0) -> float:
    """`90s`, `15m`, `1h`, `2d` in seconds."""
    seconds = float(text[:-1]) * DURATION_UNITS[text[-1]]
    if not 0 < seconds <= MAX_WINDOW_SECONDS:
        raise ExprError(f"window {text} must be between 1s and 7d", position)
    return seconds


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Function:
    """A window function: `name(series, window)` or `name(condition)`."""

    arity: tuple[int, ...]
    needs_window: bool


FUNCTIONS = {
    "avg": Function((2,), True),
    "min": Function((2,), True),
    "max": Function((2,), True),
    "count": Function((2,), True),
    "increase": Function((2,), True),
    "consecutive": Function((1,), False),
    "abs": Function((1,), False),
}


WINDOWED = tuple(name for name, f in FUNCTIONS.items() if f.needs_window)


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression and the names it reads."""

    text: str
    tree: Node
    names: frozenset[str]
    fn: Evaluator

    @property
    def history_names(self) -> frozenset[str]:
        """Names whose past values the window functions read (what history must keep)."""
        found: set[str] = set()
        _history_names(self.tree, found)
        return frozenset(found)

    @property
    def sample_names(self) -> frozenset[str]:
        """History names read per sample (avg, count, consecutive): repeats must be kept."""
        found: set[str] = set()
        functions = tuple(f for f in ("consecutive", *WINDOWED) if f not in RUN_FUNCTIONS)
        _history_names(self.tree, found, functions)
        return frozenset(found)

    @property
    def longest_window(self) -> float:
        """The longest window any function here looks back (0 when none)."""
        return _longest_window(self.tree)

    def comparands(
        self, name: str, constants: frozenset[str] = frozenset()
    ) -> frozenset[float | str] | None:
        """What `name` is compared with, when comparing with numbers or with `constants` (names
        that are fixed for a titik, like its SLA) is all this expression does with it.

        The result can then change with `name` alone only where it crosses one of them: the
        engine skips rules whose values stayed on the same side, and wakes a rule on
        `seconds_since_data > 900` once rather than every cycle. None when `name` is used
        any other way.
        """
        found: set[float | str] = set()
        return frozenset(found) if _only_compared(self.tree, name, constants, found) else None

    def evaluate(self, values: Mapping[str, Value], history: History | None = None) -> Value:
        return self.fn(values, history)

    def is_true(self, values: Mapping[str, Value], history: History | None = None) -> bool:
        """Boolean result; unknown (None) counts as false."""
        return self.evaluate(values, history) is True


def compile_expression(text: str, known_names: frozenset[str] | set[str]) -> Expression:
    """Parse and check: every name must be known, every call a listed function."""
    tree = _Parser(text).parse()
    names: set[str] = set()
    _check(tree, known_names, names)
    return Expression(text, tree, frozenset(names), _compile(tree))


def _check(node: Node, known: frozenset[str] | set[str], names: set[str]) -> None:
    if isinstance(node, Name):
        if node.name not in known:
            raise ExprError(f"unknown name {node.name!r}", node.position)
        names.add(node.name)
    elif isinstance(node, Unary):
        _check(node.operand, known, names)
    elif isinstance(node, Binary):
        _check(node.left, known, names)
        _check(node.right, known, names)
        if node.op == "^":
            _check_exponent(node.right)
    elif isinstance(node, Call):
        function = FUNCTIONS.get(node.function)
        if function is None:
            raise ExprError(f"unknown function {node.function!r}", node.position)
        if len(node.args) not in function.arity:
            raise ExprError(
                f"{node.function}() takes {function.arity[0]} argument(s)", node.position
            )
        for arg in node.args:
            _check(arg, known, names)
        if function.needs_window:
            window = node.args[-1]
            if not (isinstance(window, Literal) and isinstance(window.value, float)):
                raise ExprError(f"{node.function}() needs a window such as 15m", node.position)
            if not isinstance(node.args[0], Name) and node.function != "count":
                raise ExprError(f"{node.function}() takes a name first", node.position)


def _history_names(node: Node, found: set[str], functions: tuple[str, ...] = ()) -> None:
    if isinstance(node, Call) and node.function in (functions or ("consecutive", *WINDOWED)):
        found.update(_names(node.args[0]))
    for child in _children(node):
        _history_names(child, found, functions)


COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})


def _only_compared(
    node: Node, name: str, constants: frozenset[str], found: set[float | str]
) -> bool:
    """False when `name` appears other than as `name OP number` or `name OP constant`;
    collects the numbers and constants' names."""
    if isinstance(node, Binary) and node.op in COMPARISONS:
        for own, other in ((node.left, node.right), (node.right, node.left)):
            if not (isinstance(own, Name) and own.name == name):
                continue
            if isinstance(other, Literal) and isinstance(other.value, float):
                found.add(other.value)
                return True
            if isinstance(other, Name) and other.name in constants:
                found.add(other.name)
                return True
    if isinstance(node, Name):
        return node.name != name
    return all(_only_compared(child, name, constants, found) for child in _children(node))


RUN_FUNCTIONS = ("min", "max", "increase")  # same answer when repeated values are collapsed


def _longest_window(node: Node) -> float:
    own = 0.0
    if isinstance(node, Call) and FUNCTIONS[node.function].needs_window:
        window = node.args[-1]
        own = (
            window.value if isinstance(window, Literal) and isinstance(window.value, float) else 0.0
        )
    return max([own, *(_longest_window(child) for child in _children(node))])


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def _check_exponent(node: Node) -> None:
    value = node.value if isinstance(node, Literal) else None
    if isinstance(node, Unary) and node.op == "-" and isinstance(node.operand, Literal):
        value = node.operand.value
    if not isinstance(value, float) or abs(value) > MAX_EXPONENT:
        raise ExprError(f"exponents must be numbers up to {MAX_EXPONENT}", node.position)


# --------------------------------------------------------------------------- evaluation
#
# The checked tree is turned into nested closures once; evaluating is then plain calls, with
# no dispatch on node types (the rules benchmark evaluates ~140,000 expressions a cycle).

Evaluator = Callable[[Mapping[str, Value], "History | None"], Value]


def _number(value: Value) -> float | None:
    if type(value) is float or type(value) is int:
        return value
    return None


def _compile(node: Node) -> Evaluator:
    if isinstance(node, Literal):
        constant = node.value
        return lambda values, history: constant
    if isinstance(node, Name):
        name = node.name
        return lambda values, history: values.get(name)
    if isinstance(node, Unary):
        return _compile_unary(node.op, _compile(node.operand))
    if isinstance(node, Binary):
        if node.op in _OPERATIONS and isinstance(node.left, Name):
            shaped = _compile_name_with(node.op, node.left.name, node.right)
            if shaped is not None:
                return shaped
        return _compile_binary(node.op, _compile(node.left), _compile(node.right))
    assert isinstance(node, Call)
    return _compile_call(node)


def _compile_unary(op: str, operand: Evaluator) -> Evaluator:
    if op == "not":

        def negate(values: Mapping[str, Value], history: History | None) -> Value:
            value = operand(values, history)
            return None if value is None else not bool(value)

        return negate

    def minus(values: Mapping[str, Value], history: History | None) -> Value:
        number = _number(operand(values, history))
        return None if number is None else -number

    return minus


def _compile_binary(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    if op == "and":
        return lambda v, h: left(v, h) is True and right(v, h) is True
    if op == "or":
        return lambda v, h: left(v, h) is True or right(v, h) is True
    if op in ("==", "!="):
        same = op == "=="

        def equality(values: Mapping[str, Value], history: History | None) -> Value:
            a, b = left(values, history), right(values, history)
            if a is None or b is None:
                return None
            return (a == b) == same

        return equality
    compute = _OPERATIONS[op]

    def arithmetic(values: Mapping[str, Value], history: History | None) -> Value:
        a, b = _number(left(values, history)), _number(right(values, history))
        if a is None or b is None:
            return None
        return compute(a, b)

    return arithmetic


def _compile_name_with(op: str, name: str, right: Node) -> Evaluator | None:
    """`arithmetic` written out for a name with a number or another name (`utilisation >=
    0.9`, `clients >= sla.capacity_users`): most of what rules compute; None: another shape."""
    compute = _OPERATIONS[op]
    if isinstance(right, Literal) and (type(right.value) is float or type(right.value) is int):
        number = right.value

        def name_with_number(values: Mapping[str, Value], history: History | None) -> Value:
            a = values.get(name)
            if type(a) is float or type(a) is int:
                return compute(a, number)
            return None

        return name_with_number
    if isinstance(right, Name):
        other = right.name

        def name_with_name(values: Mapping[str, Value], history: History | None) -> Value:
            a, b = values.get(name), values.get(other)
            if (type(a) is float or type(a) is int) and (type(b) is float or type(b) is int):
                return compute(a, b)
            return None

        return name_with_name
    return None


def _divide(a: float, b: float) -> Value:
    return None if b == 0 else a / b


def _modulo(a: float, b: float) -> Value:
    return None if b == 0 else math.fmod(a, b)


def _power(a: float, b: float) -> Value:
    try:
        result = math.pow(a, b)
    except (OverflowError, ValueError):
        return None
    return result if math.isfinite(result) else None


_OPERATIONS: dict[str, Callable[[float, float], Value]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
    "%": _modulo,
    "^": _power,
}


def _compile_call(node: Call) -> Evaluator:
    if node.function == "abs":
        argument = _compile(node.args[0])

        def absolute(values: Mapping[str, Value], history: History | None) -> Value:
            number = _number(argument(values, history))
            return None if number is None else abs(number)

        return absolute
    if node.function in ("consecutive", "count"):
        condition = _compile(node.args[0])
        names = sorted(_names(node.args[0]))
        if node.function == "consecutive":
            return lambda v, h: None if h is None else _consecutive(condition, names, v, h)
        seconds = _window_seconds(node)
        return lambda v, h: None if h is None else _count(condition, names, seconds, v, h)
    name_node = node.args[0]
    assert isinstance(name_node, Name)
    name, seconds, function = name_node.name, _window_seconds(node), node.function

    def windowed(values: Mapping[str, Value], history: History | None) -> Value:
        if history is None:
            return None
        numbers = [n for n in map(_number, history.window(name, seconds)) if n is not None]
        if not numbers:
            return None
        if function == "increase":
            return _increase(numbers)
        if function == "avg":
            return sum(numbers) / len(numbers)
        return float(min(numbers) if function == "min" else max(numbers))

    return windowed


def _window_seconds(node: Call) -> float:
    window = node.args[-1]
    assert isinstance(window, Literal) and isinstance(window.value, float)
    return window.value


def _increase(numbers: list[float]) -> float:
    """Sum of rises, counting a drop as a reset (like Prometheus' increase())."""
    total = 0.0
    for before, after in itertools.pairwise(numbers):
        total += after - before if after >= before else after
    return total


def _names(node: Node) -> set[str]:
    found: set[str] = set()
    _check(node, _AnyName(), found)
    return found


class _AnyName(frozenset[str]):
    def __contains__(self, item: object) -> bool:
        return True


def _aligned(names: list[str], history: History) -> tuple[list[float], list[dict[str, Value]]]:
    """Past values of the names that have history, aligned from the newest backwards."""
    columns = {name: list(history.series(name)) for name in names}
    columns = {name: column for name, column in columns.items() if column}
    if not columns:
        return [], []
    length = min(len(column) for column in columns.values())
    first = next(iter(columns.values()))
    times = [t for t, _ in first[len(first) - length :]]
    snapshots = [
        {name: column[len(column) - length + i][1] for name, column in columns.items()}
        for i in range(length)
    ]
    return times, snapshots


def _consecutive(
    condition: Evaluator, names: list[str], values: Mapping[str, Value], history: History
) -> float:
    """How many of the most recent samples in a row satisfy `condition` (walked back from
    the newest, stopping at the first that does not)."""
    columns = [(name, column) for name in names if (column := history.series(name))]
    if not columns:
        return 0.0
    run = 0
    for back in range(1, min(len(column) for _, column in columns) + 1):
        snapshot = {name: column[-back][1] for name, column in columns}
        if condition({**values, **snapshot}, None) is not True:
            break
        run += 1
    return float(run)


def _count(
    condition: Evaluator,
    names: list[str],
    seconds: float,
    values: Mapping[str, Value],
    history: History,
) -> float:
    """How many samples within the window satisfy `condition`."""
    times, snapshots = _aligned(names, history)
    if not times:
        return 0.0
    newest = times[-1]
    return float(
        sum(
            1
            for t, snapshot in zip(times, snapshots, strict=True)
            if t > newest - seconds and condition({**values, **snapshot}, None) is True
        )
    )
