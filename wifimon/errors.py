"""One exception root so callers can catch everything wifimon raises on purpose."""


class WifimonError(Exception):
    """Root of every error wifimon raises deliberately."""


class ConfigError(WifimonError):
    """A config, inventory or profile file is invalid; the message names where."""


class SnmpError(WifimonError):
    """An SNMP request failed; `reason` is a short label used in metrics."""

    def __init__(self, message: str, reason: str = "error") -> None:
        super().__init__(message)
        self.reason = reason


class ProbeError(WifimonError):
    """An active probe could not produce a result."""


class NotifyError(WifimonError):
    """A notification could not be delivered."""
