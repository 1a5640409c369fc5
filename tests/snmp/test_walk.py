"""Multi-column walks: interleaved answers, truncation, uneven columns, loops."""

from wifimon.snmp.types import SnmpValue
from wifimon.snmp.walk import MAX_COLUMNS_PER_REQUEST, ColumnWalk

A, B = "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.8"


def v(n: int) -> SnmpValue:
    return SnmpValue("integer", n)


def test_interleaved_rows_go_to_their_columns_and_short_columns_stop() -> None:
    walk = ColumnWalk([A, B])
    assert walk.next_request() == [A, B]
    walk.feed(
        [(f"{A}.1", v(1)), (f"{B}.1", v(10)), (f"{A}.2", v(2)), ("1.3.6.1.2.1.2.2.1.9.1", v(0))]
    )  # B ended after one row
    assert walk.next_request() == [f"{A}.2"]
    walk.feed([(f"{A}.3", v(3)), ("1.3.6.1.2.1.2.2.1.3.1", v(0))])
    assert walk.finished
    assert [o for o, _ in walk.rows[A]] == [f"{A}.1", f"{A}.2", f"{A}.3"]
    assert walk.rows[B] == [(f"{B}.1", v(10))]


def test_a_truncated_answer_continues_from_the_last_row_seen() -> None:
    walk = ColumnWalk([A, B])
    walk.feed([(f"{A}.1", v(1)), (f"{B}.1", v(10)), (f"{A}.2", v(2))])  # B's row 2 cut off
    assert walk.next_request() == [f"{A}.2", f"{B}.1"]


def test_end_of_mib_and_loops_end_a_column() -> None:
    walk = ColumnWalk([A])
    walk.feed([(f"{A}.1", v(1)), (f"{A}.1", v(1))])
    assert walk.finished and len(walk.rows[A]) == 1
    walk = ColumnWalk([A])
    walk.feed([(f"{A}.1", v(1)), ("1.3.6.1.2.1.2.2.1.2.1", SnmpValue("endOfMibView"))])
    assert walk.finished


def test_max_rows_and_repetition_budget() -> None:
    assert ColumnWalk([A, B]).repetitions(60) == 30
    walk = ColumnWalk([A, B], max_rows=2)
    assert walk.repetitions(60) == 2  # never ask for rows that will be thrown away
    walk.feed(
        [
            (f"{A}.{i}", v(i)) if n % 2 == 0 else (f"{B}.{i}", v(i))
            for i in range(1, 4)
            for n in range(2)
        ]
    )
    assert walk.finished
    assert len(walk.rows[A]) == 2 and len(walk.rows[B]) == 2


def test_an_empty_answer_ends_the_walk() -> None:
    walk = ColumnWalk([A, B])
    walk.feed([])
    assert walk.finished and walk.rows == {A: [], B: []}


def test_many_columns_are_asked_a_bounded_number_at_a_time() -> None:
    roots = [f"1.3.6.1.4.1.99.{n}" for n in range(1, 31)]
    walk = ColumnWalk(roots)
    first = walk.next_request()
    assert first == roots[:MAX_COLUMNS_PER_REQUEST]
    walk.feed([(f"{root}.1", v(1)) for root in first])
    walk.feed([("1.3.6.1.4.1.100", v(0)) for _ in walk.next_request()])  # all end
    assert walk.next_request() == roots[MAX_COLUMNS_PER_REQUEST:]
    walk.feed([(f"{root}.1", v(2)) for root in walk.next_request()])
    walk.feed([("1.3.6.1.4.1.100", v(0)) for _ in walk.next_request()])
    assert walk.finished and all(len(walk.rows[root]) == 1 for root in roots)
