"""100,000 mutated device answers through the codec, the poller and the validation step.

Each answer is a real recording (tests/fixtures/devices) mutated structure-aware (wrong
types, extreme values, huge strings, long OIDs, missing or duplicated rows: see
tests/snmp/mutations.py) and polled with its profile, plus the same rows encoded as a
Response message, damaged (truncated, flipped, padded, random) and decoded. Prints one line:

answers=N crashes=N impossible_values=N refused_values=N codec_refusals=N rss_mb_before=X
rss_mb_after=X oid_cache_entries=N oid_cache_kb=X seconds=X

crashes: exceptions other than the codec's BerError; impossible_values: numbers outside what a
device can have that reached a sample (tests/snmp/oracle.py); refused_values: issues the
validation step or the decoders raised instead. Deterministic (--seed).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.snmp.mutations import encode_response, mutate_bytes, mutate_records
from tests.snmp.oracle import impossible_values
from wifimon.poller import poll_ap
from wifimon.snmp import ber, snmprec
from wifimon.snmp.fake import FakeSnmpClient
from wifimon.snmp.profiles import load_profiles
from wifimon.snmp.types import SnmpTarget

DEVICES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "devices"
REFUSALS = {"wrong_type", "out_of_range", "malformed"}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def profile_of(recording: Path) -> str:
    """The profile a recording's expectation file names."""
    return str(yaml.safe_load(recording.with_suffix(".expect.yaml").read_text())["profile"])


async def run(answers: int, seed: int) -> None:
    rng = random.Random(seed)
    profiles = load_profiles()
    recordings = [
        (snmprec.load(path), profile_of(path)) for path in sorted(DEVICES.glob("*.snmprec"))
    ]
    target = SnmpTarget("192.0.2.1")
    counts: Counter[str] = Counter()
    before, started = rss_mb(), time.perf_counter()
    for n in range(answers):
        records, profile = rng.choice(recordings)
        mutated = mutate_records(records, rng)
        try:
            sample = await poll_ap(FakeSnmpClient(records=mutated), target, f"ap{n}", profiles,
                                   profile)  # fmt: skip
            counts["impossible"] += len(impossible_values(sample, profiles.get(profile)))
            counts["refused"] += sum(issue.reason in REFUSALS for issue in sample.issues)
        except Exception as exc:  # what the benchmark counts: nothing may escape a poll
            counts["crashes"] += 1
            print(f"crash in poll: {type(exc).__name__}: {exc}", file=sys.stderr)
        start = rng.randrange(len(mutated) or 1)
        message = mutate_bytes(encode_response(n, mutated[start : start + 12]), rng)
        try:
            ber.decode_response(message)
        except ber.BerError:
            counts["codec_refusals"] += 1
        except Exception as exc:
            counts["crashes"] += 1
            print(f"crash in codec: {type(exc).__name__}: {exc}", file=sys.stderr)
    entries, size = ber.oid_cache_size()
    print(
        f"answers={answers} crashes={counts['crashes']} impossible_values={counts['impossible']} "
        f"refused_values={counts['refused']} codec_refusals={counts['codec_refusals']} "
        f"rss_mb_before={before:.0f} rss_mb_after={rss_mb():.0f} oid_cache_entries={entries} "
        f"oid_cache_kb={size / 1024:.0f} seconds={time.perf_counter() - started:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=24)
    args = parser.parse_args()
    asyncio.run(run(args.answers, args.seed))


if __name__ == "__main__":
    main()
