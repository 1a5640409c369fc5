"""`history:` and `reports:` in the config."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wifimon.history.report import SlaTargets


class HistorySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_seconds: float = Field(default=5.0, gt=0, le=60)  # one transaction per batch
    minutes_days: float = Field(default=35, gt=0)  # users per minute kept this long
    hours_days: float = Field(default=730, gt=0)  # hourly rollups
    events_days: float = Field(default=730, gt=0)  # transitions, probes, reboots, runs
    hotspot_up: Literal["any", "all"] = "any"  # up while any AP answers, or only all


class ReportSettings(SlaTargets):
    csv_delimiter: Literal[";", ",", "\t"] = ";"  # as Indonesian spreadsheets save
    csv_decimal: Literal[",", "."] = ","
    language: Literal["id", "en"] = "id"
