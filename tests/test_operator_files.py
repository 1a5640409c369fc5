"""Operator files (config, inventory, rules, secrets, templates) that are not UTF-8, empty,
fleet-less or YAML bombs are refused with a message naming file and line, never a traceback;
a declared encoding (a byte-order mark) is read; a refused reload keeps the running fleet."""

from __future__ import annotations

import asyncio
import codecs
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from wifimon import config
from wifimon.alerts.ruletest import run_file
from wifimon.daemon import Daemon
from wifimon.demo.fleet import FLEET, community_of, write_fleet
from wifimon.demo.simulator import Simulator
from wifimon.errors import ConfigError
from wifimon.inventory_io import read_inventory
from wifimon.notify.messages import Renderer
from wifimon.snmp.profiles import load_profiles
from wifimon.textfile import decode_operator_text
from wifimon.yamlsource import load_yaml

COMMUNITY = "kopi-susu-42"
CONFIG = """\
secrets:
  community: {file: community.txt}
snmp_credentials:
  v2: {version: 2c, community: community}
inventory: [inventory.yaml]
"""
INVENTORY = """\
hotspots:
  - id: jp-ckn-01
    name: RPTRA Cikini
    kota: Jakarta Pusat
    kecamatan: Menteng
    kelurahan: Cikini Ampél
    rw: "02"
    latitude: -6.19
    longitude: 106.84
    provider: JakWifi Mitra A
    access_points:
      - {id: jp-ckn-01-a, address: 127.0.0.1, credentials: v2}
"""
CSV_INVENTORY = (
    "hotspot_id,name,kota,kecamatan,kelurahan,rw,latitude,longitude,provider,"
    "ap_id,ap_address,snmp_credentials\n"
    "jp-ckn-01,RPTRA Cikini,Jakarta Pusat,Menteng,Cikini Ampél,02,-6.19,106.84,"
    "JakWifi Mitra A,jp-ckn-01-a,127.0.0.1,v2\n"
)
EDITOR_HINT = "save it as UTF-8: in an editor, choose the encoding UTF-8"
SPREADSHEET_HINT = "save it as UTF-8: in a spreadsheet, 'CSV UTF-8'"


def write_config(
    directory: Path,
    config_text: str = CONFIG,
    inventory: bytes | None = None,
    inventory_name: str = "inventory.yaml",
) -> Path:
    """A small valid config (one titik, one AP) whose files a test may then spoil."""
    (directory / "community.txt").write_text(COMMUNITY + "\n")
    data = INVENTORY.encode() if inventory is None else inventory
    (directory / inventory_name).write_bytes(data)
    path = directory / "wifimon.yaml"
    path.write_text(config_text.replace("inventory.yaml", inventory_name))
    return path


# --- not UTF-8: refused with file, line, column and a hint -------------------------------


def test_a_latin1_yaml_inventory_is_refused_naming_file_line_and_column(tmp_path: Path) -> None:
    path = write_config(tmp_path, inventory=INVENTORY.encode("latin-1"))
    with pytest.raises(ConfigError) as refused:
        config.load(path, environ={})
    assert str(refused.value) == (
        f"{tmp_path / 'inventory.yaml'}:6:26: not valid UTF-8 (byte 0xE9); {EDITOR_HINT}"
    )


def test_a_cp1252_csv_inventory_is_refused_with_the_spreadsheet_hint(tmp_path: Path) -> None:
    path = write_config(tmp_path, inventory=CSV_INVENTORY.encode("cp1252"),
                        inventory_name="inventory.csv")  # fmt: skip
    with pytest.raises(ConfigError) as refused:
        config.load(path, environ={})
    assert str(refused.value) == (
        f"{tmp_path / 'inventory.csv'}:2:56: not valid UTF-8 (byte 0xE9); {SPREADSHEET_HINT}"
    )


def test_a_latin1_config_is_refused(tmp_path: Path) -> None:
    text = CONFIG.replace("secrets:", "# Dinas Kominfo, Cikini Ampél\nsecrets:")
    path = write_config(tmp_path)
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ConfigError) as refused:
        config.load(path, environ={})
    assert str(refused.value) == f"{path}:1:28: not valid UTF-8 (byte 0xE9); {EDITOR_HINT}"


def test_a_latin1_rules_file_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_bytes("# Aturan untuk Cikini Ampél\nrules: []\n".encode("latin-1"))
    path = write_config(tmp_path, CONFIG + "rules: rules.yaml\n")
    with pytest.raises(ConfigError) as refused:
        config.load(path, environ={})
    assert str(refused.value) == f"{rules}:1:26: not valid UTF-8 (byte 0xE9); {EDITOR_HINT}"


def test_a_rule_test_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    tests = tmp_path / "rules.test.yaml"
    tests.write_bytes(b"rule_files: [rules.yaml]\n# \xff\n")
    with pytest.raises(ConfigError) as refused:
        run_file(tests)
    assert str(refused.value) == f"{tests}:2:3: not valid UTF-8 (byte 0xFF); {EDITOR_HINT}"


def test_a_secret_file_that_is_not_utf8_is_refused_without_showing_it(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    secret = "kopi-sus\u00e9-42"
    (tmp_path / "community.txt").write_bytes(secret.encode("latin-1") + b"\n")
    with pytest.raises(ConfigError) as refused:
        config.load(path, environ={})
    message = str(refused.value)
    assert message == (
        f"{path}:2: secrets.community: {tmp_path / 'community.txt'}:1: not valid UTF-8; "
        f"{EDITOR_HINT}"
    )
    assert "kopi" not in message and "0xE9" not in message


def test_a_message_template_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "sms.id.j2").write_bytes("{{ summary }} di {{ place }}\n\nSilakan cek. Ampél\n"
                                          .encode("cp1252"))  # fmt: skip
    path = write_config(tmp_path, CONFIG + "notifications: {templates_dir: templates}\n")
    with pytest.raises(ConfigError) as refused:
        config.load(path, environ={})
    assert str(refused.value) == (
        f"{templates / 'sms.id.j2'}:3:17: not valid UTF-8 (byte 0xE9); {EDITOR_HINT}"
    )


def test_a_utf16_file_without_a_byte_order_mark_is_refused_not_guessed(tmp_path: Path) -> None:
    path = write_config(tmp_path, inventory=INVENTORY.encode("utf-16-le"))
    with pytest.raises(ConfigError) as refused:
        config.load(path, environ={})
    assert str(refused.value) == (
        f"{tmp_path / 'inventory.yaml'}:1:2: a NUL byte: not UTF-8 text (UTF-16 is read only "
        f"with its byte-order mark); {EDITOR_HINT}"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a: 1\n\x80", f"f.yaml:2:1: not valid UTF-8 (byte 0x80); {EDITOR_HINT}"),
        (codecs.BOM_UTF16_LE + b"a\x00\x00\xdc", f"f.yaml:1:2: not valid UTF-16; {EDITOR_HINT}"),
        (
            codecs.BOM_UTF32_LE + "a".encode("utf-32-le"),
            f"f.yaml: UTF-32 text is not read; {EDITOR_HINT}",
        ),
    ],
    ids=["stray-byte", "lone-utf16-surrogate", "utf32"],
)
def test_undecodable_text_is_named_precisely(data: bytes, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        decode_operator_text(data, "f.yaml")
    assert str(refused.value) == message


# --- declared encodings are read -----------------------------------------------------------


def test_excel_unicode_text_utf16_with_bom_is_read(tmp_path: Path) -> None:
    """Excel's "Unicode text": UTF-16 LE with a byte-order mark, tab-separated, CRLF."""
    text = CSV_INVENTORY.replace(",", "\t").replace("\n", "\r\n")
    path = tmp_path / "inventory.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    inventory, _ = read_inventory(path)
    assert [h.kelurahan for h in inventory.hotspots] == ["Cikini Ampél"]
    assert [ap.address for _, ap in inventory.access_points()] == ["127.0.0.1"]


def test_utf16_big_endian_yaml_with_bom_is_read(tmp_path: Path) -> None:
    path = write_config(tmp_path, inventory=codecs.BOM_UTF16_BE + INVENTORY.encode("utf-16-be"))
    cfg = config.load(path, environ={})
    assert [h.kelurahan for h in cfg.inventory.hotspots] == ["Cikini Ampél"]


def test_a_utf8_bom_is_not_part_of_config_secret_or_rules(tmp_path: Path) -> None:
    bom = codecs.BOM_UTF8
    path = write_config(tmp_path, inventory=bom + INVENTORY.encode())
    path.write_bytes(bom + (CONFIG + "rules: rules.yaml\n").encode())
    (tmp_path / "community.txt").write_bytes(bom + COMMUNITY.encode() + b"\r\n")  # Notepad
    (tmp_path / "rules.yaml").write_bytes(bom + b"rules: []\n")
    cfg = config.load(path, environ={})
    assert cfg.secrets["community"].reveal() == COMMUNITY
    assert cfg.inventory.hotspots[0].kelurahan == "Cikini Ampél"


def test_a_utf16_message_template_with_bom_is_read(tmp_path: Path) -> None:
    (tmp_path / "test.id.j2").write_bytes(
        codecs.BOM_UTF16_LE + "Uji {{ channel }} Ampél\n\nisi\n".encode("utf-16-le")
    )
    assert Renderer(tmp_path).test("wa", "id", 0.0) == ("Uji wa Ampél", "isi")


def test_a_mac_csv_with_carriage_returns_only_is_read(tmp_path: Path) -> None:
    path = tmp_path / "inventory.csv"
    path.write_bytes(CSV_INVENTORY.replace("\n", "\r").encode())
    inventory, _ = read_inventory(path)
    assert [h.id for h in inventory.hotspots] == ["jp-ckn-01"]


def test_a_csv_cell_over_the_csv_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "inventory.csv"
    path.write_text(CSV_INVENTORY.replace("RPTRA Cikini", "x" * 200_000))
    with pytest.raises(ConfigError) as refused:
        read_inventory(path)
    assert str(refused.value) == f"{path}: line 2: a cell is longer than 131,072 characters"


# --- empty and fleet-less configs -----------------------------------------------------------


@pytest.mark.parametrize("text", ["", "# wifimon\n# (to be filled in)\n", "{}\n"],
                         ids=["zero-bytes", "only-comments", "empty-mapping"])  # fmt: skip
def test_an_empty_config_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "wifimon.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        config.load(path, environ={})
    assert str(refused.value) == (
        f"{path}: the config is empty; it needs at least `inventory:` naming the inventory file(s)"
    )


FLEETLESS = (
    ": inventory: no titik (no hotspots and no controllers), so wifimon would poll nothing; "
    "list them in the inventory file(s), or set daemon.allow_empty_inventory: true"
)


def test_a_config_whose_inventory_has_no_titik_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, inventory=b"hotspots: []\n")
    with pytest.raises(ConfigError) as refused:
        config.load(path, environ={})
    assert str(refused.value) == f"{path}:5{FLEETLESS}"


def test_a_config_without_inventory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wifimon.yaml"
    path.write_text("polling: {interval_seconds: 30}\n")
    with pytest.raises(ConfigError) as refused:
        config.load(path, environ={})
    assert str(refused.value) == f"{path}{FLEETLESS}"


def test_an_empty_inventory_is_accepted_when_the_config_says_so(tmp_path: Path) -> None:
    text = CONFIG + "daemon: {allow_empty_inventory: true}\n"
    cfg = config.load(write_config(tmp_path, text, inventory=b"hotspots: []\n"), environ={})
    assert cfg.inventory.hotspots == [] and cfg.model.daemon.allow_empty_inventory


# --- YAML aliases, nesting, tags ----------------------------------------------------------


def laughs(levels: int, width: int = 10, top: int = 3) -> str:
    """A "billion laughs": each level an anchored list of `width` aliases of the one below;
    the last line uses the top level `top` times."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    lines.append(f"boom: [{', '.join([f'*l{levels}'] * top)}]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_is_refused_before_it_expands() -> None:
    """About 450,000 values once expanded (today's loader builds them all: about 100 MB); the
    refusal comes from counting, so it needs a few kilobytes."""
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as refused:
            load_yaml(laughs(4), "inventory.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(refused.value) == (
        "inventory.yaml:6: aliases (*name) repeat more than 250,000 values; write the values out"
    )
    assert peak < 2_000_000


def test_a_billion_laughs_in_the_inventory_refuses_the_config(tmp_path: Path) -> None:
    path = write_config(tmp_path, inventory=(INVENTORY + laughs(4)).encode())
    with pytest.raises(ConfigError) as refused:
        config.load(path, environ={})
    assert str(refused.value) == (
        f"{tmp_path / 'inventory.yaml'}:18: aliases (*name) repeat more than 250,000 values; "
        "write the values out"
    )


def test_aliases_within_the_budget_are_expanded() -> None:
    text = "sla: &sla {min_mbps: 50}\nhotspots:\n" + "  - {sla: *sla}\n" * 1000
    data, _ = load_yaml(text, "inventory.yaml")
    assert data["hotspots"][999] == {"sla": {"min_mbps": 50}}


HOSTILE_YAML = [
    ("recursive-alias", "a: &a [1, *a]\n",
     "f.yaml:1: an alias (*name) refers to a list or mapping it is in"),
    ("deep-block", "- " * 70 + "x\n", "f.yaml:1: nested more than 64 levels deep"),
    ("deep-flow", "[" * 70 + "]" * 70, "f.yaml:1: nested more than 64 levels deep"),
    ("deeper-flow", "[" * 900 + "]" * 900, "f.yaml:1: nested more than 64 levels deep"),
    ("deepest-flow", "[" * 5000 + "]" * 5000,
     "f.yaml:1: not valid YAML: exceeded maximum nesting depth"),
    ("merge-key", "a: &x {b: 1}\nc:\n  <<: *x\n",
     "f.yaml:3: c: merge keys (<<) are not supported; write the keys out"),
    ("python-apply", "a: !!python/object/apply:os.system [true]\n",
     "f.yaml:1: a: the YAML tag tag:yaml.org,2002:python/object/apply:os.system "
     "is not supported"),
    ("python-name", "a: !!python/name:os.system ''\n",
     "f.yaml:1: a: the YAML tag tag:yaml.org,2002:python/name:os.system is not supported"),
    ("unknown-tag", "community: !vault x\n",
     "f.yaml:1: community: the YAML tag !vault is not supported"),
    ("bad-date", "since: 2026-13-45\n",
     "f.yaml:1: since: the value is not a date (quote it if it is text)"),
    ("bad-int", "n: !!int many\n",
     "f.yaml:1: n: the value is not an integer (quote it if it is text)"),
    ("list-as-key", "? [1, 2]\n: x\n",
     "f.yaml:1: (top level): a list or mapping cannot be a key"),
    ("control-character", "name: RW\x0105\n",
     "f.yaml:1:9: not valid YAML: the character U+0001 is not allowed"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in HOSTILE_YAML],
                         ids=[c[0] for c in HOSTILE_YAML])  # fmt: skip
def test_hostile_or_odd_yaml_is_a_config_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_yaml(text, "f.yaml")
    assert str(refused.value) == message


# --- a refused reload keeps the running fleet -------------------------------------------


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Daemon]:
    """The demo fleet polled every 2 s from snmpsim by an in-process daemon."""
    simulator = Simulator(tmp_path / "recordings")
    path = write_fleet(tmp_path, simulator.port, "127.0.0.1:9", 2.0)
    await simulator.start(community_of(FLEET[0].aps[0]))
    daemon = Daemon(path)
    try:
        await daemon.start()
        yield daemon
    finally:
        await daemon.stop()
        await simulator.stop()


def spoil_config(directory: Path, text: bytes) -> None:
    (directory / "config.yaml").write_bytes(text)


def spoil_inventory(directory: Path, text: bytes) -> None:
    path = directory / "inventory.yaml"
    path.write_bytes(path.read_bytes().replace(b"hotspots:", text + b"\nhotspots:", 1))


SPOILS: list[tuple[str, Callable[[Path], None], str]] = [
    ("latin1-inventory", lambda d: spoil_inventory(d, "# Cikini Amp\xe9l".encode("latin-1")),
     "{dir}/inventory.yaml:1:13: not valid UTF-8 (byte 0xE9); " + EDITOR_HINT),
    ("empty-config", lambda d: spoil_config(d, b""),
     "{dir}/config.yaml: the config is empty; it needs at least `inventory:` naming the "
     "inventory file(s)"),
    ("fleetless-inventory", lambda d: (d / "inventory.yaml").write_text("hotspots: []\n"),
     None),
    ("alias-bomb", lambda d: spoil_inventory(d, laughs(4).encode()),
     "{dir}/inventory.yaml:6: aliases (*name) repeat more than 250,000 values; "
     "write the values out"),
]  # fmt: skip


def reload_metric(body: bytes) -> float:
    (line,) = [
        line for line in body.decode().splitlines()
        if line.startswith("wifimon_config_last_reload_successful ")
    ]  # fmt: skip
    return float(line.split()[1])


async def polled_after(daemon: Daemon, moment: float, seconds: float = 15.0) -> set[str]:
    """APs of the running fleet with a successful poll after `moment` (waits until all
    that answer were polled again, or `seconds`)."""
    live = {ap.id for h in FLEET for ap in h.aps if not ap.offline}
    deadline = time.monotonic() + seconds

    def fresh() -> set[str]:
        return {a for a in live if (daemon.state.aps[a].last_success or 0) > moment}

    while fresh() != live and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return fresh()


@pytest.mark.parametrize(("spoil", "message"), [(s[1], s[2]) for s in SPOILS],
                         ids=[s[0] for s in SPOILS])  # fmt: skip
async def test_a_refused_reload_keeps_the_fleet_and_says_so(
    tmp_path: Path, running: Daemon, spoil: Callable[[Path], None], message: str | None
) -> None:
    daemon = running
    old = daemon.config
    live = {ap.id for h in FLEET for ap in h.aps if not ap.offline}
    good = {p: p.read_bytes() for p in (daemon.config_path, tmp_path / "inventory.yaml")}
    spoil(tmp_path)
    with pytest.raises(ConfigError) as refused:
        await daemon.reload()
    refused_at = time.time()
    expected = message or f"{daemon.config_path}:{_inventory_line(tmp_path)}{FLEETLESS}"
    assert str(refused.value) == expected.replace("{dir}", str(tmp_path))
    assert reload_metric(await daemon.metrics_body()) == 0
    assert daemon.config is old
    assert await polled_after(daemon, refused_at) == live  # the old fleet is still polled
    for path, data in good.items():
        path.write_bytes(data)
    await daemon.reload()
    assert reload_metric(await daemon.metrics_body()) == 1


def _inventory_line(directory: Path) -> int:
    """Line of `inventory:` in the demo config."""
    lines = (directory / "config.yaml").read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.startswith("inventory:"))


def test_a_profile_directory_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "kota.yaml").write_bytes("name: kota\nvendor: Ampél\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_profiles([tmp_path])
    assert str(caught.value).startswith(f"{tmp_path / 'kota.yaml'}:2:")
    assert EDITOR_HINT in str(caught.value)


def test_a_billion_laughs_in_a_profile_is_refused_before_it_expands(tmp_path: Path) -> None:
    (tmp_path / "laughs.yaml").write_text(laughs(4))
    with pytest.raises(ConfigError, match="aliases"):
        load_profiles([tmp_path])
