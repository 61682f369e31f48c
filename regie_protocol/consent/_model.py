"""The claims of a consent token as typed, frozen values, and their strict JSON form.

:func:`claims_from_json` is the only way from JSON to :class:`ConsentClaims`;
:meth:`ConsentClaims.to_json` the way back. Unknown-member policy (STYLE
habit 13): every object of a version-1 token is closed, the top level
included. A member Regie does not know is refused, never ignored, because an
ignored member could narrow or widen what the citizen agreed to (T14, T17);
a later format adds members under a new ``ver``.

Rules beyond the shapes (each refused with the field's name):

* ``nbf`` is not before ``iat``; ``exp`` is after ``nbf``.
* ``authorization_details`` has 1-16 entries of ``type`` ``regie_attributes``,
  one per source: no ``vct`` appears in two entries.
* ``actions`` is a non-empty subset of ``present``/``store``. ``store`` needs a
  ``retention`` other than zero, and a non-zero retention needs ``store``
  (``P0D`` = the verifier keeps nothing after the use).
* ``frequency`` (optional) is a non-zero duration: at most one use in any
  window of that length. ``max_uses`` (optional) is a positive integer: the
  total number of uses over the consent's life.
* ``data_range`` (optional) limits the records to those whose date lies in
  ``from``..``to`` (inclusive, ``YYYY-MM-DD``; at least one bound).
* ``recipients`` lists who the verifier may pass the data on to; ``[]`` means
  nobody. It is always written, so its absence is refused too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import vocab
from ..keys import THUMBPRINT_URI_PREFIX
from . import _fields as f

CONSENT_VERSION = 1
AUTHORIZATION_DETAILS_TYPE = "regie_attributes"
ACTIONS = frozenset({"present", "store"})
MAX_AUTHORIZATION_DETAILS = 16
_MAX_TIME = 2**53
_THUMBPRINT_URI = re.compile(
    re.escape(THUMBPRINT_URI_PREFIX) + r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]"
)

_TOP_REQUIRED = frozenset(
    {"ver", "jti", "iss", "aud", "iat", "nbf", "exp", "request", "notice", "status", "cnf"}
    | {"authorization_details"}
)
_DETAIL_REQUIRED = frozenset(
    {"type", "credential_types", "claims", "actions", "purpose", "purpose_text"}
    | {"legal_basis", "processing_activity", "retention", "recipients"}
)
_DETAIL_OPTIONAL = frozenset({"data_range", "max_uses", "frequency"})


@dataclass(frozen=True, slots=True)
class LocalizedText:
    """The purpose in the words the citizen saw, in Dutch and English."""

    nl: str
    en: str


@dataclass(frozen=True, slots=True)
class DataRange:
    """Records dated from ``start`` to ``end`` inclusive (JSON ``from`` / ``to``)."""

    start: str | None = None
    end: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationDetail:
    """One RFC 9396 ``authorization_details`` entry: what one source may release, and why."""

    credential_types: tuple[str, ...]
    claims: tuple[str, ...]
    actions: tuple[str, ...]
    purpose: str
    purpose_text: LocalizedText
    legal_basis: str
    processing_activity: str
    retention: str
    recipients: tuple[str, ...] = ()
    data_range: DataRange | None = None
    max_uses: int | None = None
    frequency: str | None = None

    @property
    def retention_duration(self) -> f.Duration:
        return f.Duration.parse(self.retention, "retention")

    @property
    def frequency_duration(self) -> f.Duration | None:
        return None if self.frequency is None else f.Duration.parse(self.frequency, "frequency")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": AUTHORIZATION_DETAILS_TYPE,
            "credential_types": list(self.credential_types),
            "claims": list(self.claims),
            "actions": list(self.actions),
            "purpose": self.purpose,
            "purpose_text": {"nl": self.purpose_text.nl, "en": self.purpose_text.en},
            "legal_basis": self.legal_basis,
            "processing_activity": self.processing_activity,
            "retention": self.retention,
            "recipients": list(self.recipients),
        }
        if self.data_range is not None:
            out["data_range"] = {
                name: value
                for name, value in (("from", self.data_range.start), ("to", self.data_range.end))
                if value is not None
            }
        if self.max_uses is not None:
            out["max_uses"] = self.max_uses
        if self.frequency is not None:
            out["frequency"] = self.frequency
        return out


@dataclass(frozen=True, slots=True)
class RequestRef:
    """The verifier's signed request this consent answers: its id and SHA-256."""

    id: str
    sha256: str


@dataclass(frozen=True, slots=True)
class NoticeRef:
    """The text the citizen saw: where it is, its SHA-256 and its language."""

    uri: str
    sha256: str
    lang: str


@dataclass(frozen=True, slots=True)
class StatusRef:
    """The consent's entry in a Token Status List (JSON ``{"status_list": {...}}``)."""

    idx: int
    uri: str


@dataclass(frozen=True, slots=True)
class Actor:
    """A representative acting for the citizen (``act``), with the mandate reference."""

    sub: str
    mandate: str


@dataclass(frozen=True, slots=True)
class ConsentClaims:
    """Every claim of a version-1 consent token. ``cnf_jkt`` is ``cnf.jkt``."""

    jti: str
    iss: str
    aud: str
    iat: int
    nbf: int
    exp: int
    request: RequestRef
    notice: NoticeRef
    status: StatusRef
    cnf_jkt: str
    authorization_details: tuple[AuthorizationDetail, ...]
    act: Actor | None = None
    ver: int = CONSENT_VERSION

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ver": self.ver,
            "jti": self.jti,
            "iss": self.iss,
            "aud": self.aud,
            "iat": self.iat,
            "nbf": self.nbf,
            "exp": self.exp,
            "request": {"id": self.request.id, "sha256": self.request.sha256},
            "notice": {
                "uri": self.notice.uri,
                "sha256": self.notice.sha256,
                "lang": self.notice.lang,
            },
            "status": {"status_list": {"idx": self.status.idx, "uri": self.status.uri}},
            "cnf": {"jkt": self.cnf_jkt},
            "authorization_details": [detail.to_json() for detail in self.authorization_details],
        }
        if self.act is not None:
            out["act"] = {"sub": self.act.sub, "mandate": self.act.mandate}
        return out


def _detail(value: Any, path: str) -> AuthorizationDetail:
    obj = f.members(value, path, required=_DETAIL_REQUIRED, optional=_DETAIL_OPTIONAL)
    if obj["type"] != AUTHORIZATION_DETAILS_TYPE:
        raise f.refuse(f"{path}.type", f"is not {AUTHORIZATION_DETAILS_TYPE!r}")
    actions = f.string_list(obj["actions"], f"{path}.actions", item=_action)
    retention = f.Duration.parse(obj["retention"], f"{path}.retention")
    if ("store" in actions) == retention.is_zero:
        raise f.refuse(
            f"{path}.retention",
            "action 'store' needs a retention other than P0D, and a retention needs 'store'",
        )
    text = f.members(obj["purpose_text"], f"{path}.purpose_text", required=frozenset({"nl", "en"}))
    vocab.require_purpose(obj["purpose"], field=f"{path}.purpose")
    vocab.require_legal_basis(obj["legal_basis"], field=f"{path}.legal_basis")
    frequency = obj.get("frequency")
    if frequency is not None and f.Duration.parse(frequency, f"{path}.frequency").is_zero:
        raise f.refuse(f"{path}.frequency", "is zero: at most one use per zero time means nothing")
    max_uses = obj.get("max_uses")
    return AuthorizationDetail(
        credential_types=f.string_list(
            obj["credential_types"], f"{path}.credential_types", item=f.uri
        ),
        claims=f.string_list(obj["claims"], f"{path}.claims", item=f.claim_name),
        actions=actions,
        purpose=obj["purpose"],
        purpose_text=LocalizedText(
            nl=f.text(text["nl"], f"{path}.purpose_text.nl"),
            en=f.text(text["en"], f"{path}.purpose_text.en"),
        ),
        legal_basis=obj["legal_basis"],
        processing_activity=f.uri(obj["processing_activity"], f"{path}.processing_activity"),
        retention=retention.text,
        recipients=f.string_list(
            obj["recipients"], f"{path}.recipients", item=f.uri, allow_empty=True
        ),
        data_range=_data_range(obj["data_range"], f"{path}.data_range")
        if "data_range" in obj
        else None,
        max_uses=None if max_uses is None else f.integer(max_uses, f"{path}.max_uses", minimum=1),
        frequency=frequency,
    )


def _action(value: Any, path: str) -> str:
    if not isinstance(value, str) or value not in ACTIONS:
        raise f.refuse(path, f"{value!r} is not one of {sorted(ACTIONS)}")
    return value


def _data_range(value: Any, path: str) -> DataRange:
    obj = f.members(value, path, required=frozenset(), optional=frozenset({"from", "to"}))
    start = f.iso_date(obj["from"], f"{path}.from") if "from" in obj else None
    end = f.iso_date(obj["to"], f"{path}.to") if "to" in obj else None
    if start is None and end is None:
        raise f.refuse(path, "names neither 'from' nor 'to'")
    if start is not None and end is not None and start > end:
        raise f.refuse(path, "ends before it starts")
    return DataRange(start=start, end=end)


def claims_from_json(claims: Any) -> ConsentClaims:
    """Validate a consent token's claims into :class:`ConsentClaims` (``ClaimRefused``)."""
    obj = f.members(claims, "$", required=_TOP_REQUIRED, optional=frozenset({"act"}))
    if obj["ver"] != CONSENT_VERSION or type(obj["ver"]) is not int:
        raise f.refuse("ver", f"is {obj['ver']!r}; this Regie reads version {CONSENT_VERSION}")
    iss = obj["iss"]
    if not isinstance(iss, str) or not _THUMBPRINT_URI.fullmatch(iss):
        raise f.refuse("iss", "is not a JWK SHA-256 thumbprint URI (RFC 9278)")
    iat, nbf, exp = (
        f.integer(obj[n], n, minimum=0, maximum=_MAX_TIME) for n in ("iat", "nbf", "exp")
    )
    if nbf < iat:
        raise f.refuse("nbf", "is before iat")
    if exp <= nbf:
        raise f.refuse("exp", "is not after nbf")
    request = f.members(obj["request"], "request", required=frozenset({"id", "sha256"}))
    notice = f.members(obj["notice"], "notice", required=frozenset({"uri", "sha256", "lang"}))
    status = f.members(obj["status"], "status", required=frozenset({"status_list"}))
    entry = f.members(
        status["status_list"], "status.status_list", required=frozenset({"idx", "uri"})
    )
    cnf = f.members(obj["cnf"], "cnf", required=frozenset({"jkt"}))
    details = obj["authorization_details"]
    if not isinstance(details, list) or not 1 <= len(details) <= MAX_AUTHORIZATION_DETAILS:
        raise f.refuse(
            "authorization_details", f"is not an array of 1 to {MAX_AUTHORIZATION_DETAILS} entries"
        )
    parsed = tuple(_detail(d, f"authorization_details[{i}]") for i, d in enumerate(details))
    vcts = [vct for detail in parsed for vct in detail.credential_types]
    if len(set(vcts)) != len(vcts):
        raise f.refuse("authorization_details", "names one credential type in two entries")
    act = None
    if "act" in obj:
        actor = f.members(obj["act"], "act", required=frozenset({"sub", "mandate"}))
        act = Actor(
            sub=f.text(actor["sub"], "act.sub", max_len=256),
            mandate=f.uri(actor["mandate"], "act.mandate"),
        )
    return ConsentClaims(
        ver=CONSENT_VERSION,
        jti=f.identifier(obj["jti"], "jti"),
        iss=iss,
        aud=f.uri(obj["aud"], "aud"),
        iat=iat,
        nbf=nbf,
        exp=exp,
        request=RequestRef(
            id=f.identifier(request["id"], "request.id"),
            sha256=f.sha256_b64url(request["sha256"], "request.sha256"),
        ),
        notice=NoticeRef(
            uri=f.uri(notice["uri"], "notice.uri"),
            sha256=f.sha256_b64url(notice["sha256"], "notice.sha256"),
            lang=f.language(notice["lang"], "notice.lang"),
        ),
        status=StatusRef(
            idx=f.integer(entry["idx"], "status.status_list.idx", minimum=0),
            uri=f.uri(entry["uri"], "status.status_list.uri"),
        ),
        cnf_jkt=f.sha256_b64url(cnf["jkt"], "cnf.jkt"),
        authorization_details=parsed,
        act=act,
    )


__all__ = [
    "ACTIONS",
    "AUTHORIZATION_DETAILS_TYPE",
    "CONSENT_VERSION",
    "Actor",
    "AuthorizationDetail",
    "ConsentClaims",
    "DataRange",
    "LocalizedText",
    "NoticeRef",
    "RequestRef",
    "StatusRef",
    "claims_from_json",
]
