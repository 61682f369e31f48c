"""A small SD-JWT VC world for tests: an issuer, a holder, a baseline credential and tools
to change exactly one thing in it (re-sign a payload, add a disclosure, bind by hand)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from regie_protocol import jws
from regie_protocol._encoding import b64url_decode
from regie_protocol.keys import Alg, SigningKey
from regie_protocol.sdjwt import (
    SD,
    SD_JWT_VC_TYP,
    KeyBindingRequired,
    VerifiedSdJwt,
    cnf_for,
    issue,
    present,
    verify,
)
from regie_protocol.sdjwt._disclosures import KB_JWT_TYP, digest
from regie_protocol.statuslist import Status
from tests.conftest import NOW

ISS = "https://issuer.example/brp"
VCT = "https://credentials.example/vct/person"
AUDIENCE = "https://verifier.example/rp/7"
NONCE = "n-0S6_WzA2Mj"
STATUS_URI = "https://issuer.example/status/1"
STATUS_IDX = 7
#: what the baseline presentation discloses
DISCLOSE: tuple[str | tuple[str | int, ...], ...] = (
    "given_name",
    ("address", "street"),
    ("nationalities", 0),
)
DROP = object()


def baseline_payload(holder: SigningKey, now: int, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "iss": ISS,
        "vct": VCT,
        "iat": now - 100,
        "exp": now + 3600,
        "cnf": cnf_for(holder.public_key),
        "status": {"status_list": {"idx": STATUS_IDX, "uri": STATUS_URI}},
        "given_name": SD("Jan"),
        "family_name": SD("Jansen"),
        "address": SD({"street": SD("Dorpsstraat 1"), "locality": "Utrecht"}),
        "nationalities": [SD("NL"), "DE"],
        "age_over_18": SD(True),
    }
    for name, value in changes.items():
        if value is DROP:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


def split(token: str) -> tuple[str, list[str], str]:
    """(issuer JWT, disclosures, KB-JWT or "")."""
    parts = token.split("~")
    return parts[0], parts[1:-1], parts[-1]


def join(issuer_jwt: str, disclosures: Sequence[str], kb: str = "") -> str:
    return issuer_jwt + "~" + "".join(d + "~" for d in disclosures) + kb


def decode_payload(issuer_jwt: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(b64url_decode(issuer_jwt.split(".")[1]))
    return payload


def static_status(value: int) -> Callable[[str, int], int]:
    def resolve(uri: str, idx: int) -> int:
        assert (uri, idx) == (STATUS_URI, STATUS_IDX)
        return value

    return resolve


@dataclass
class World:
    issuer: SigningKey
    holder: SigningKey
    now: int = NOW
    _baseline: str | None = None

    @classmethod
    def make(cls, issuer_alg: Alg, holder_alg: Alg) -> World:
        return cls(SigningKey.generate(issuer_alg), SigningKey.generate(holder_alg))

    def payload(self, **changes: Any) -> dict[str, Any]:
        return baseline_payload(self.holder, self.now, **changes)

    def issue(self, payload: dict[str, Any] | None = None, **kwargs: Any) -> str:
        """A new credential; without arguments the baseline one (issued once per world)."""
        if payload is None and not kwargs:
            if self._baseline is None:
                self._baseline = issue(self.payload(), issuer_key=self.issuer)
            return self._baseline
        return issue(payload or self.payload(), issuer_key=self.issuer, **kwargs)

    def present(
        self, sd_jwt: str | None = None, disclose: Sequence[Any] = DISCLOSE, **kwargs: Any
    ) -> str:
        options: dict[str, Any] = {
            "holder_key": self.holder,
            "audience": AUDIENCE,
            "nonce": NONCE,
            "now": self.now,
        }
        options.update(kwargs)
        return present(sd_jwt or self.issue(), disclose=disclose, **options)

    def good(self) -> str:
        """The baseline presentation: accepted by :meth:`verify` with the default policy.

        Every call presents the same baseline credential (same digests)."""
        return self.present()

    def trusted(self) -> dict[str, dict[str, Any]]:
        return {ISS: {self.issuer.kid: self.issuer.public_key}}

    def verify(self, token: str, **overrides: Any) -> VerifiedSdJwt:
        options: dict[str, Any] = {
            "issuer_keys": self.trusted(),
            "key_binding": KeyBindingRequired(audience=AUDIENCE, nonce=NONCE),
            "status": static_status(Status.VALID),
            "now": self.now,
            "accepted_vcts": {VCT},
        }
        options.update(overrides)
        return verify(token, **options)

    def resign(
        self,
        issuer_jwt: str,
        change: Callable[[dict[str, Any]], None],
        *,
        key: SigningKey | None = None,
        typ: str = SD_JWT_VC_TYP,
        kid: bool = True,
    ) -> str:
        """The issuer JWT with its payload changed by ``change`` and signed again."""
        payload = decode_payload(issuer_jwt)
        change(payload)
        return jws.sign(payload, key=key or self.issuer, typ=typ, kid=kid)

    def bind(
        self,
        sd_jwt: str,
        *,
        key: SigningKey | None = None,
        claims: dict[str, Any] | None = None,
        typ: str = KB_JWT_TYP,
    ) -> str:
        """``sd_jwt`` (ending in ``~``) plus a KB-JWT made by hand (for crafted tokens)."""
        body: dict[str, Any] = {
            "iat": self.now,
            "aud": AUDIENCE,
            "nonce": NONCE,
            "sd_hash": digest(sd_jwt),
        }
        for name, value in (claims or {}).items():
            if value is DROP:
                body.pop(name)
            else:
                body[name] = value
        return sd_jwt + jws.sign(body, key=key or self.holder, typ=typ, kid=False)


__all__ = [
    "AUDIENCE",
    "DISCLOSE",
    "DROP",
    "ISS",
    "NONCE",
    "STATUS_IDX",
    "STATUS_URI",
    "VCT",
    "World",
    "baseline_payload",
    "decode_payload",
    "join",
    "split",
    "static_status",
]
