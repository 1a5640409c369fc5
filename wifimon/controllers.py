"""Controllers: one poll of a wireless controller becomes a sample for each AP it manages.

Pure mapping, no I/O. An AP is found in the controller's per-AP table by the MAC or name
the inventory gives (`controller_ap`, default the AP's id as its name). What the controller
cannot say stays unknown: when the controller does not answer or gives no per-AP table, its
APs get no sample (they are not "down": nobody asked them); an AP missing from a table the
controller did give is not joined to it, and that is a failed poll of that AP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wifimon.inventory import AccessPoint
from wifimon.measurements import ApSample, ClientReading, ManagedApClients, PollIssue
from wifimon.snmp.decode import normalise_mac


@dataclass(frozen=True, slots=True)
class ControllerOutcome:
    """What one controller poll says about its APs: samples for some, unknown for the rest."""

    samples: list[ApSample]
    unknown: list[str]  # AP ids whose state is now unknown
    why_unknown: str | None


def managed_samples(controller: ApSample, aps: Iterable[AccessPoint]) -> ControllerOutcome:
    """A sample per managed AP from the controller's per-AP table."""
    aps = list(aps)
    if not controller.reachable:
        return ControllerOutcome([], [ap.id for ap in aps], "controller did not answer")
    if controller.managed_aps is None:
        why = "controller gave no per-AP client table"
        return ControllerOutcome([], [ap.id for ap in aps], why)
    by_mac = {row.mac: row for row in controller.managed_aps if row.mac}
    by_name = {row.name.casefold(): row for row in controller.managed_aps if row.name}
    samples = []
    for ap in aps:
        wanted = ap.name_on_controller
        mac = normalise_mac(wanted)
        row = by_mac.get(mac) if mac else by_name.get(wanted.casefold())
        samples.append(_sample(controller, ap, row))
    return ControllerOutcome(samples, [], None)


def _sample(controller: ApSample, ap: AccessPoint, row: ManagedApClients | None) -> ApSample:
    """The AP as its controller sees it; not in the table means not joined (unreachable)."""
    if row is None:
        issue = PollIssue("not_on_controller", f"{ap.name_on_controller!r} is not joined")
        return ApSample(ap.id, controller.timestamp, reachable=False, issues=[issue])
    return ApSample(
        ap_id=ap.id,
        timestamp=controller.timestamp,
        reachable=True,
        profile=controller.profile,
        sys_name=row.name,
        clients=ClientReading(row.clients),
    )
