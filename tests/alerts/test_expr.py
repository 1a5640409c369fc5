"""The rule expression language: evaluation, windows, refusals with positions, fuzzing."""

from __future__ import annotations

import contextlib
import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wifimon.alerts.context import History
from wifimon.alerts.expr import MAX_DEPTH, ExprError, Value, compile_expression

NAMES = frozenset(
    {
        "download_mbps",
        "clients",
        "up",
        "sla.min_mbps",
        "sla.capacity_users",
        "reboots",
        "loss_ratio",
        "provider",
    }
)
NOW = {
    "download_mbps": 42.0,
    "clients": 50.0,
    "up": True,
    "sla.min_mbps": 50.0,
    "sla.capacity_users": 50.0,
    "reboots": 7.0,
    "loss_ratio": None,
    "provider": "Mitra A",
}


def Series(data: dict[str, list[tuple[float, Value]]]) -> History:
    """History as a test writes it: name -> [(time, value)], oldest first."""
    return History.of(data)


def ev(text: str, values=NOW, history=None):  # type: ignore[no-untyped-def]
    return compile_expression(text, NAMES).evaluate(values, history)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("download_mbps < sla.min_mbps", True),
        ("download_mbps < sla.min_mbps and clients >= sla.capacity_users", True),
        ("not up or clients > 60", False),
        ("clients / sla.capacity_users >= 1", True),
        ("2 ^ 3 + 1 == 9", True),
        ("-download_mbps < 0", True),
        ("provider == 'Mitra A'", True),
        ('provider != "Mitra B"', True),
        ("(clients - 10) * 2 % 7", 3.0),
        ("abs(0 - download_mbps)", 42.0),
        ("15m", 900.0),
    ],
)
def test_evaluation(text: str, expected) -> None:  # type: ignore[no-untyped-def]
    assert ev(text) == expected


OPERATORS = {
    "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y,
    ">": lambda x, y: x > y,
    ">=": lambda x, y: x >= y,
    "+": lambda x, y: x + y,
    "-": lambda x, y: x - y,
    "*": lambda x, y: x * y,
    "/": lambda x, y: x / y,
}
ANY_VALUE = st.one_of(st.floats(allow_nan=True), st.integers(-3, 3), st.booleans(), st.none(),
                      st.sampled_from(["up", ""]))  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(OPERATORS)), ANY_VALUE, ANY_VALUE, st.booleans())
def test_a_name_with_a_number_or_a_name_computes_on_numbers_only(
    op: str, a: object, b: object, b_is_a_name: bool
) -> None:
    """Written-out shapes (name with number, name with name) answer as arithmetic does: only
    numbers (not yes/no) are computed with, anything else is unknown."""
    numeric = all(type(x) in (int, float) for x in (a, b))
    if not b_is_a_name:
        if not numeric or not math.isfinite(b) or b < 0:  # type: ignore[arg-type]
            return  # literals are plain numbers
        b = float(b)  # type: ignore[arg-type]
    right = "sla.min_mbps" if b_is_a_name else repr(b)
    got = ev(f"download_mbps {op} {right}", {"download_mbps": a, "sla.min_mbps": b})
    if not numeric or (op == "/" and b == 0):
        assert got is None
    else:
        expected = OPERATORS[op](a, b)
        assert got == expected or (got != got and expected != expected)


def test_unknown_values_never_fire() -> None:
    assert ev("loss_ratio > 0.2") is None
    assert compile_expression("loss_ratio > 0.2", NAMES).is_true(NOW) is False
    assert ev("loss_ratio > 0.2 or up") is True
    assert ev("clients / 0") is None
    assert ev("not loss_ratio") is None


def test_window_functions() -> None:
    history = Series(
        {
            "clients": [(0, 40.0), (300, 50.0), (600, 60.0), (900, 55.0)],
            "download_mbps": [(0, 60.0), (900, 40.0), (1800, 45.0), (2700, 42.0)],
            "sla.min_mbps": [(0, 50.0), (900, 50.0), (1800, 50.0), (2700, 50.0)],
            "reboots": [(0, 5.0), (1200, 6.0), (2400, 1.0), (3000, 3.0)],
        }
    )
    assert ev("avg(clients, 10m)", history=history) == pytest.approx(57.5)  # (300, 900]
    assert ev("max(clients, 1h)", history=history) == 60.0
    assert ev("min(clients, 5m)", history=history) == 55.0
    assert ev("consecutive(download_mbps < sla.min_mbps)", history=history) == 3.0
    assert ev("consecutive(download_mbps < sla.min_mbps) >= 2", history=history) is True
    assert ev("count(download_mbps < sla.min_mbps, 1h)", history=history) == 3.0
    assert ev("increase(reboots, 1h)", history=history) == 4.0  # 5->6, reset to 1, 1->3
    assert ev("avg(loss_ratio, 1h)", history=history) is None


@pytest.mark.parametrize(
    "text,message,position",
    [
        ("download_mbps.__class__", "unknown name 'download_mbps.__class__'", 1),
        ("__import__('os')", "unknown function '__import__'", 1),
        ("open('/etc/passwd')", "unknown function 'open'", 1),
        ("clients ^ 99999", "exponents must be numbers up to 16", 11),
        ("clients ^ clients", "exponents must be numbers up to 16", 11),
        ("avg(clients)", "avg() takes 2 argument(s)", 1),
        ("avg(clients, clients)", "avg() needs a window such as 15m", 1),
        ("avg(1 + 2, 5m)", "avg() takes a name first", 1),
        ("avg(clients, 9d)", "window 9d must be between 1s and 7d", 14),
        ("clients >", "expected a value, found 'the end'", 10),
        ("clients < 5 )", "unexpected ')'", 13),
        ("(clients", "expected ')', found 'the end'", 9),
        ("clients @ 2", "unexpected character '@'", 9),
        ("client < 5", "unknown name 'client'", 1),
        ("and clients", "unexpected 'and'", 1),
    ],
)
def test_refused_with_position(text: str, message: str, position: int) -> None:
    with pytest.raises(ExprError) as info:
        compile_expression(text, NAMES)
    assert info.value.message == message
    assert info.value.position + 1 == position
    assert str(info.value).endswith(f"(at position {position})")


def test_deep_nesting_is_refused_not_a_crash() -> None:
    for text in (
        "(" * 1000 + "1" + ")" * 1000,
        "-" * 1000 + "1",
        "not " * 500 + "up",
        "2^" * 200 + "2",
    ):
        with pytest.raises(ExprError):
            compile_expression(text, NAMES)
    compile_expression("(" * (MAX_DEPTH - 1) + "1" + ")" * (MAX_DEPTH - 1), NAMES)


def test_overlong_expression_is_refused() -> None:
    with pytest.raises(ExprError, match="longer than"):
        compile_expression("1 + " * 1000 + "1", NAMES)


def test_huge_results_become_unknown() -> None:
    assert ev("((10 ^ 16) ^ 16) ^ 16") is None  # overflow: unknown, not an exception
    assert ev("(10 ^ 16) ^ 16 > 0") is True


TOKENS = [
    *"()+-*/%^<>=!., '\"0123456789abcdeflmnorstuvxz_",
    "and ",
    "or ",
    "not ",
    "clients",
    "avg(",
    "15m",
    "consecutive(",
    "sla.min_mbps",
]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_fuzzed_input_never_crashes_the_parser(text: str) -> None:
    try:
        expression = compile_expression(text, NAMES)
    except ExprError:
        return
    expression.evaluate(NOW, Series({"clients": [(0, 1.0), (60, 2.0)]}))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_unicode_never_crashes(text: str) -> None:
    with contextlib.suppress(ExprError):
        compile_expression(text, NAMES)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, 1.0, 2.0, 5.0, None]), min_size=1, max_size=40),
    st.sampled_from(["min", "max", "increase"]),
    st.one_of(st.integers(1, 5), st.integers(1, 45)),  # (short windows: repeats outlast them)
)
def test_collapsed_repeats_give_the_same_window_answers(
    readings: list[Value], function: str, minutes: int
) -> None:
    full = History(frozenset({"reboots"}), 10_000.0)
    collapsed = History(frozenset({"reboots"}), 10_000.0, runs=frozenset({"reboots"}))
    again = History(frozenset({"reboots"}), 10_000.0, runs=frozenset({"reboots"}))
    expression = compile_expression(f"{function}(reboots, {minutes}m)", {"reboots"})
    for minute, reading in enumerate(readings):
        for history in (full, collapsed):
            history.add(minute * 60.0, (reading,), {"reboots": 0}, {})
        if again.steady and minute and reading == readings[minute - 1]:
            again.same_again(minute * 60.0)  # as the rules engine records a poll moving nothing
        else:
            again.add(minute * 60.0, (reading,), {"reboots": 0}, {})
        assert expression.evaluate({}, collapsed) == expression.evaluate({}, full)
        assert expression.evaluate({}, again) == expression.evaluate({}, full)
    if any(a == b for a, b in itertools.pairwise(readings)):
        assert len(collapsed.series("reboots")) < len(full.series("reboots"))
