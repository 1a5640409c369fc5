"""How a name only compared is cut into sides: the same side, the same answer to every
comparison the rules make (a rule is run again only when a side changes)."""

from __future__ import annotations

import operator

from hypothesis import given, settings
from hypothesis import strategies as st

from wifimon.alerts.plan import Cut

COMPARISONS = (operator.lt, operator.le, operator.eq, operator.ne, operator.ge, operator.gt)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.sampled_from([0.8, 0.9, 50.0, 50, -0.0]),
)
VALUES = st.one_of(NUMBERS, st.none(), st.booleans(), st.sampled_from(["up", "down"]))
EDGES = st.lists(st.sampled_from([-1.0, 0.0, 0.8, 0.9, 50.0]), max_size=3, unique=True)
FIXED = st.lists(st.one_of(NUMBERS, st.none()), min_size=1, max_size=2)


def answers(value: object, edges: list[object]) -> list[object]:
    """What the rules could ask of `value`: each comparison with each edge, as Python answers
    it for numbers (None: the language's unknown, for anything else)."""
    if type(value) not in (int, float):
        return [type(value), value]  # compared as it is: only an equal value answers alike
    return [compare(value, edge) if type(edge) in (int, float) else None
            for edge in edges for compare in COMPARISONS]  # fmt: skip


def same(a: object, b: object) -> bool:
    return a is b or (type(a) is type(b) and a == b)


@settings(max_examples=400, deadline=None)
@given(EDGES, st.integers(0, 2), FIXED, VALUES, VALUES)
def test_values_on_the_same_side_answer_every_comparison_alike(
    numbers: list[float], columns: int, fixed: list[object], a: object, b: object
) -> None:
    taken = [None, *fixed]  # the name itself first, then the fixed names it is compared with
    where = tuple(range(1, 1 + min(columns, len(fixed))))
    cut = Cut(0, tuple(sorted(numbers)), where)
    edges = [*sorted(numbers), *(taken[i] for i in where)]
    if same(cut.side(a, taken), cut.side(b, taken)):
        assert answers(a, edges) == answers(b, edges)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([((0.9,), ()), ((0.8, 0.9), ()), ((), (1,))]), FIXED, VALUES)
def test_the_written_out_shapes_give_the_general_answer(
    shape: tuple[tuple[float, ...], tuple[int, ...]], fixed: list[object], value: object
) -> None:
    numbers, columns = shape
    cut, taken = Cut(0, numbers, columns), [None, *fixed]
    assert cut.side != cut._side_of  # (the shape has its own)
    assert same(cut.side(value, taken), cut._side_of(value, taken))
