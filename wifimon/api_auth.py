"""Bearer tokens for /api/v1: roles grant permissions; only SHA-256 hashes are configured."""

from __future__ import annotations

import hashlib
import hmac
import secrets as token_source
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Permission = Literal["alerts:read", "alerts:ack", "silences:read", "silences:write",
                     "reports:read"]  # fmt: skip
DEFAULT_ROLES: dict[str, list[Permission]] = {
    "noc": ["alerts:read", "alerts:ack", "silences:read", "silences:write", "reports:read"],
    "auditor": ["reports:read", "alerts:read"],
}


class ApiToken(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    role: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ApiSettings(BaseModel):
    """`api:` in the config: roles (name -> permissions) and tokens (stored as hashes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: dict[str, list[Permission]] = Field(default_factory=lambda: dict(DEFAULT_ROLES))
    tokens: list[ApiToken] = Field(default_factory=list)

    @model_validator(mode="after")
    def _roles_exist(self) -> ApiSettings:
        for token in self.tokens:
            if token.role not in self.roles:
                raise ValueError(f"token {token.name!r}: undefined role {token.role!r}")
        return self


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A random token and the hash to put in the config."""
    token = token_source.token_urlsafe(32)
    return token, hash_token(token)


def permissions_of(settings: ApiSettings, authorization: str | None) -> tuple[str, set[str]] | None:
    """(token name, permissions) for an `Authorization: Bearer ...` header, None if invalid."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    digest = hash_token(authorization[len("Bearer ") :].strip())
    for token in settings.tokens:
        if hmac.compare_digest(token.sha256, digest):
            return token.name, set(settings.roles[token.role])
    return None
