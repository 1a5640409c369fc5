"""Bearer tokens for /api/v1 and POST /-/reload: roles grant permissions; only SHA-256 hashes
are configured."""

from __future__ import annotations

import hashlib
import hmac
import secrets as token_source
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Permission = Literal["alerts:read", "alerts:ack", "silences:read", "silences:write",
                     "reports:read", "config:reload"]  # fmt: skip
DEFAULT_ROLES: dict[str, list[Permission]] = {
    "noc": ["alerts:read", "alerts:ack", "silences:read", "silences:write", "reports:read",
            "config:reload"],
    "auditor": ["reports:read", "alerts:read"],
}  # fmt: skip
MAX_TOKEN_CHARACTERS = 1024  # generated tokens have 43; a longer one is not worth hashing


class ApiToken(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    role: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ApiSettings(BaseModel):
    """`api:` in the config: roles (name -> permissions), tokens (stored as hashes), and
    whether POST /-/reload may go without a token (as Prometheus' --web.enable-lifecycle)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: dict[str, list[Permission]] = Field(default_factory=lambda: dict(DEFAULT_ROLES))
    tokens: list[ApiToken] = Field(default_factory=list)
    reload_without_token: bool = False

    @model_validator(mode="after")
    def _roles_exist(self) -> ApiSettings:
        for token in self.tokens:
            if token.role not in self.roles:
                raise ValueError(f"token {token.name!r}: undefined role {token.role!r}")
        return self


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token (bytes a client sent that are not UTF-8 hash as sent)."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def new_token() -> tuple[str, str]:
    """A random token and the hash to put in the config."""
    token = token_source.token_urlsafe(32)
    return token, hash_token(token)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header (scheme in any case), or None."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    token = credentials.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARACTERS:
        return None
    return token


def permissions_of(settings: ApiSettings, authorization: str | None) -> tuple[str, set[str]] | None:
    """(token name, permissions) for an `Authorization: Bearer ...` header, None if invalid."""
    token = bearer_token(authorization)
    if token is None:
        return None
    digest = hash_token(token)
    for configured in settings.tokens:
        if hmac.compare_digest(configured.sha256, digest):
            return configured.name, set(settings.roles[configured.role])
    return None
