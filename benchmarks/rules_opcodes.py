"""Python bytecode instructions in one cycle of the default rules (the same fleet and data as
rules_eval.py): a measure of the rules engine's work that does not move with the machine.

Prints one line: aps=N hotspots=N opcodes=N calls=N (per cycle, the mean of --cycles traced
cycles after a warm-up hour). Timings on a shared machine vary by half from one minute to the
next; this count changes only with the code (and, a little, with PYTHONHASHSEED, which orders
sets of names): compare two versions with the same seed.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

from rules_eval import ROOT, arguments, cycles, fleet

from wifimon.alerts.engine import RuleEngine
from wifimon.alerts.rules import load_rules


class Counter:
    """A trace function counting the instructions and the Python calls it sees."""

    def __init__(self) -> None:
        self.opcodes = 0
        self.calls = 0

    def __call__(self, frame: FrameType, event: str, arg: Any) -> Counter:
        frame.f_trace_opcodes = True
        if event == "opcode":
            self.opcodes += 1
        elif event == "call":
            self.calls += 1
        return self


def main() -> None:
    args = arguments(__doc__, cycles=3)
    rules = load_rules(ROOT / "config" / "rules.yaml")
    state = fleet(args.hotspots, args.aps)
    engine = RuleEngine(rules, state)
    counter = Counter()
    for now, measured in cycles(state, args.cycles, 4, rules.evaluation_interval):
        if measured:
            sys.settrace(counter)
        engine.evaluate(now)
        sys.settrace(None)
    print(f"aps={args.aps} hotspots={args.hotspots} opcodes={counter.opcodes // args.cycles} "
          f"calls={counter.calls // args.cycles}")  # fmt: skip


if __name__ == "__main__":
    main()
