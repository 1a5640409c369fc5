"""A string type that never prints its value, so secrets cannot leak by accident."""

from __future__ import annotations


class Secret:
    """Holds a credential; str/repr/format give `<secret>`, `.reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one place that must send it."""
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "<secret>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("secret", self._value))

    def __reduce__(self) -> tuple[type, tuple[str]]:
        raise TypeError("secrets are not serialisable")
