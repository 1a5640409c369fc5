"""SessionTable without the network: duplicates, reopening rules, NAS restarts, expiry,
retention, restarts of wifimon, and that nothing but hashes and times is stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from wifimon.errors import WifimonError
from wifimon.sessions.model import NasIdentity
from wifimon.sessions.table import CHUNK, SCHEMA_VERSION, SessionStoreError, SessionTable

DURI = NasIdentity(identifier="gw-duri", ip="10.60.1.1")
GALUR = NasIdentity(identifier="gw-galur")
NOWHERE = NasIdentity(identifier="gw-nowhere")
TITIK = {"gw-duri": "jb-duri-01", "gw-galur": "jp-glr-01"}
T0 = 1_700_000_000.0


def resolve(identity: NasIdentity) -> str | None:
    return TITIK.get(identity.identifier or "")


@pytest.fixture
def table(tmp_path: Path) -> SessionTable:
    return SessionTable(tmp_path / "sessions.sqlite", resolve, default_interim_seconds=60.0)


def rows(path: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT titik, state, started, last_update, interim FROM sessions "
                          "ORDER BY started").fetchall()  # fmt: skip
    finally:
        db.close()


def test_starts_and_stops_are_counted_per_titik(table: SessionTable) -> None:
    for n in range(5):
        assert table.start(DURI, "10.0.0.1", f"s{n}", T0 + n, None) == "jb-duri-01"
    assert table.start(GALUR, "10.0.0.2", "s0", T0, 600.0) == "jp-glr-01"
    assert table.counts() == {"jb-duri-01": 5, "jp-glr-01": 1}
    assert table.stop(DURI, "10.0.0.1", "s3", T0 + 10) == "jb-duri-01"
    assert table.stop(GALUR, "10.0.0.2", "s0", T0 + 10) == "jp-glr-01"
    assert table.counts() == {"jb-duri-01": 4}  # a titik with none is absent


def test_duplicates_count_once(table: SessionTable) -> None:
    for _ in range(3):
        table.start(DURI, "10.0.0.1", "s1", T0, None)
        table.interim(DURI, "10.0.0.1", "s1", T0 + 60, None)
    assert table.counts() == {"jb-duri-01": 1}
    table.stop(DURI, "10.0.0.1", "s1", T0 + 90)
    table.stop(DURI, "10.0.0.1", "s1", T0 + 90)
    assert table.counts() == {}


def test_the_same_session_id_on_two_nas_is_two_sessions(table: SessionTable) -> None:
    table.start(DURI, "10.0.0.1", "80000001", T0, None)
    table.start(DURI, "10.0.0.9", "80000001", T0, None)
    assert table.counts() == {"jb-duri-01": 2}


def test_an_interim_for_an_unknown_session_opens_it(table: SessionTable) -> None:
    assert table.interim(DURI, "10.0.0.1", "s1", T0, 300.0) == "jb-duri-01"
    assert table.counts() == {"jb-duri-01": 1}


def test_a_late_interim_never_reopens_a_stopped_session(table: SessionTable) -> None:
    table.start(DURI, "10.0.0.1", "s1", T0, None)
    table.stop(DURI, "10.0.0.1", "s1", T0 + 100)
    table.interim(DURI, "10.0.0.1", "s1", T0 + 50, None)  # reordered
    table.interim(DURI, "10.0.0.1", "s1", T0 + 150, None)  # retransmit, no delay updated
    assert table.counts() == {}


def test_a_start_after_a_stop_reopens_only_when_it_is_newer(table: SessionTable) -> None:
    table.start(DURI, "10.0.0.1", "s1", T0, None)
    table.stop(DURI, "10.0.0.1", "s1", T0 + 100)
    table.start(DURI, "10.0.0.1", "s1", T0, None)  # the first Start, retransmitted late
    assert table.counts() == {}
    table.start(DURI, "10.0.0.1", "s1", T0 + 200, None)  # the NAS uses the id again
    assert table.counts() == {"jb-duri-01": 1}


def test_a_stop_before_its_start_leaves_nothing_open(table: SessionTable) -> None:
    table.stop(DURI, "10.0.0.1", "s1", T0 + 100)  # the Start was lost or is late
    table.start(DURI, "10.0.0.1", "s1", T0, None)
    assert table.counts() == {}


def test_unresolved_sessions_are_neither_counted_nor_stored(
    table: SessionTable, tmp_path: Path
) -> None:
    assert table.start(NOWHERE, "10.0.0.3", "s1", T0, None) is None
    assert table.interim(NOWHERE, "10.0.0.3", "s2", T0, None) is None
    assert table.stop(NOWHERE, "10.0.0.3", "s3", T0) is None
    assert table.counts() == {}
    assert rows(tmp_path / "sessions.sqlite") == []


def test_a_stop_closes_a_session_its_nas_no_longer_maps(tmp_path: Path) -> None:
    mapping = dict(TITIK)
    table = SessionTable(tmp_path / "s.sqlite", lambda i: mapping.get(i.identifier or ""))
    table.start(DURI, "10.0.0.1", "s1", T0, None)
    del mapping["gw-duri"]  # inventory reloaded without it
    assert table.stop(DURI, "10.0.0.1", "s1", T0 + 5) is None
    assert table.counts() == {}


def test_a_session_follows_its_nas_to_another_titik(tmp_path: Path) -> None:
    mapping = dict(TITIK)
    table = SessionTable(tmp_path / "s.sqlite", lambda i: mapping.get(i.identifier or ""))
    table.start(DURI, "10.0.0.1", "s1", T0, None)
    mapping["gw-duri"] = "jb-duri-02"
    table.interim(DURI, "10.0.0.1", "s1", T0 + 60, None)
    assert table.counts() == {"jb-duri-02": 1}


def test_nas_restarted_closes_only_that_nas(table: SessionTable) -> None:
    for n in range(7):
        table.start(DURI, "10.0.0.1", f"s{n}", T0, None)
    table.start(DURI, "10.0.0.2", "s0", T0, None)
    assert table.nas_restarted("10.0.0.1", T0 + 10) == 7
    assert table.counts() == {"jb-duri-01": 1}
    assert table.nas_restarted("10.0.0.1", T0 + 11) == 0
    # after its reboot the NAS counts from its first session id again
    table.start(DURI, "10.0.0.1", "s0", T0 + 20, None)
    assert table.counts() == {"jb-duri-01": 2}


def test_silent_sessions_expire_after_two_and_a_half_intervals(table: SessionTable) -> None:
    table.start(DURI, "10.0.0.1", "short", T0, 10.0)
    table.start(DURI, "10.0.0.1", "default", T0, None)  # 60 s, the table's default
    table.start(DURI, "10.0.0.1", "zero", T0, 0.0)  # 0: no interval given
    assert table.expire(T0 + 24) == 0
    assert table.expire(T0 + 26) == 1
    assert table.counts() == {"jb-duri-01": 2}
    table.interim(DURI, "10.0.0.1", "default", T0 + 100, None)  # keeps it alive
    assert table.expire(T0 + 151) == 1  # "zero": 60 s default, unheard of since T0
    assert table.counts() == {"jb-duri-01": 1}
    assert table.expire(T0 + 251) == 1
    assert table.counts() == {}


def test_an_interim_after_expiry_brings_the_session_back(table: SessionTable) -> None:
    table.start(DURI, "10.0.0.1", "s1", T0, 10.0)
    table.expire(T0 + 30)
    table.interim(DURI, "10.0.0.1", "s1", T0 + 40, None)
    assert table.counts() == {"jb-duri-01": 1}
    assert table.expire(T0 + 40 + 24) == 0  # kept its 10 s interval


def test_downtime_of_wifimon_is_not_blamed_on_sessions(table: SessionTable) -> None:
    table.start(DURI, "10.0.0.1", "s1", T0, 60.0)
    back = T0 + 3600  # wifimon was down for an hour
    assert table.expire(back + 100, listening_since=back) == 0
    assert table.expire(back + 151, listening_since=back) == 1


def test_closed_rows_are_forgotten_after_retention(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    table = SessionTable(path, resolve, retention_seconds=1000.0)
    table.start(DURI, "10.0.0.1", "s1", T0, None)
    table.stop(DURI, "10.0.0.1", "s1", T0 + 10)
    table.start(DURI, "10.0.0.1", "s2", T0 + 900, 3600.0)
    table.expire(T0 + 1009)
    assert len(rows(path)) == 2
    table.expire(T0 + 1011)
    assert [row[0:2] for row in rows(path)] == [("jb-duri-01", 0)]


def test_many_sessions_expire_and_are_forgotten_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    table = SessionTable(path, resolve, retention_seconds=100.0)
    for n in range(CHUNK * 2 + 50):
        table.start(DURI if n % 2 else GALUR, "10.0.0.1", f"s{n}", T0, 10.0)
    table.start(DURI, "10.0.0.1", "alive", T0 + 20, 10.0)
    assert table.expire(T0 + 30) == CHUNK * 2 + 50
    assert table.counts() == {"jb-duri-01": 1}
    table.expire(T0 + 131)
    assert len(rows(path)) == 1


def test_sessions_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite"
    table = SessionTable(path, resolve)
    for n in range(12):
        table.start(DURI, "10.0.0.1", f"s{n}", T0, None)
    table.stop(DURI, "10.0.0.1", "s0", T0 + 1)
    table.close()
    again = SessionTable(path, resolve)
    assert again.counts() == {"jb-duri-01": 11}
    again.start(DURI, "10.0.0.1", "s5", T0 + 2, None)  # a retransmit after the restart
    again.stop(DURI, "10.0.0.1", "s0", T0 + 3)
    assert again.counts() == {"jb-duri-01": 11}
    again.close()


def test_the_file_is_wal_and_versioned(table: SessionTable) -> None:
    db = sqlite3.connect(table.path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    db.close()


def test_nothing_but_hashes_and_times_is_stored(table: SessionTable) -> None:
    table.start(DURI, "10.99.88.77", "sess-budi-7f3a", T0, None)
    table.interim(DURI, "10.99.88.77", "sess-budi-7f3a", T0 + 60, None)
    table.close()
    stored = b"".join(p.read_bytes() for p in table.path.parent.iterdir() if p.is_file())
    assert b"jb-duri-01" in stored  # the check can see what is there
    for secret in (b"sess-budi-7f3a", b"10.99.88.77", b"gw-duri", b"10.60.1.1"):
        assert secret not in stored


def test_a_closed_table_raises_a_wifimon_error(table: SessionTable) -> None:
    table.close()
    with pytest.raises(SessionStoreError):
        table.start(DURI, "10.0.0.1", "s1", T0, None)
    with pytest.raises(SessionStoreError):
        table.counts()


def test_a_newer_schema_is_refused_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(SessionStoreError, match=r"sessions\.sqlite.*newer"):
        SessionTable(path, resolve)


def test_an_unusable_path_is_a_wifimon_error(tmp_path: Path) -> None:
    (tmp_path / "a-directory").mkdir()
    with pytest.raises(WifimonError, match="a-directory"):
        SessionTable(tmp_path / "a-directory", resolve)


def test_a_resolver_error_changes_nothing(table: SessionTable) -> None:
    def broken(identity: NasIdentity) -> str | None:
        raise RuntimeError("inventory bug")

    other = SessionTable(table.path, broken)
    with pytest.raises(RuntimeError):
        other.start(DURI, "10.0.0.1", "s1", T0, None)
    other.close()
    table.start(DURI, "10.0.0.1", "s2", T0, None)  # the lock was released
    assert table.counts() == {"jb-duri-01": 1}


def test_thousands_of_interim_updates_keep_one_session_each(table: SessionTable) -> None:
    """Interim-Updates, the bulk of accounting (their speed: benchmarks/radius_load.py)."""
    n = 2000
    for i in range(n):
        table.start(DURI, "10.0.0.1", f"s{i}", T0, None)
    for i in range(n):
        table.interim(DURI, "10.0.0.1", f"s{i}", T0 + 60, None)
    assert table.counts() == {"jb-duri-01": n}


def test_a_batch_commits_once_and_a_failing_change_undoes_only_itself(tmp_path: Path) -> None:
    def resolve_or_fail(identity: NasIdentity) -> str | None:
        if identity.identifier == "gw-sick":
            raise RuntimeError("inventory bug")
        return resolve(identity)

    table = SessionTable(tmp_path / "sessions.sqlite", resolve_or_fail)
    with table.batch():
        table.start(DURI, "10.0.0.1", "s1", T0, None)
        with pytest.raises(RuntimeError):
            table.start(NasIdentity(identifier="gw-sick"), "10.0.0.9", "s9", T0, None)
        table.start(GALUR, "10.0.0.2", "s2", T0, None)
        assert rows(table.path) == []  # nothing is committed before the batch ends
    assert table.counts() == {"jb-duri-01": 1, "jp-glr-01": 1}
    table.close()
