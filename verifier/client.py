"""A verifier's client for a wallet host: ask for consent, collect it, read under it with DPoP.

::

    client = WalletHostClient(HOST, identity, http=httpx.Client(), clock=clock, status=cache)
    request_id = client.submit_request(claims)            # POST /v1/requests
    answer = client.answer(request_id)                    # GET /v1/requests/{id} + DPoP
    consent = client.verify_answer(answer, policy)        # the consent token, checked
    result = client.read(consent.token, ["address"], policy=policy)   # POST /v1/data + DPoP
    result.attributes["address"]

:meth:`WalletHostClient.read` trusts nothing the host says. It checks the
consent token itself (:func:`~verifier.verify.verify_consent_token`), reads
with ``Authorization: DPoP <token>`` and a DPoP proof bound to the token
(``ath``), decrypts the release with the verifier's X25519 key, checks that the
release is for this consent, and verifies every presentation: a trusted
issuer's signature, the credential type one the consent names, the holder
binding, a key binding JWT for this verifier (``aud``) and this consent
(``nonce`` = the consent's ``jti``), made no earlier than the consent, the
credential's status (its issuer's list, through the status cache), and no
disclosure beyond what the consent covers. Only then are the attributes
returned. A problem+json answer becomes the refusal its ``type`` names
(:mod:`verifier.problems`); when it says the consent is over
(``consent_ended``, ``revoked``) the client first tells ``on_ended``.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from regie_protocol._encoding import loads_strict
from regie_protocol.consent import ConsentClaims
from regie_protocol.consent_request import ConsentRequestClaims, sign_request
from regie_protocol.dpop import create_proof
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    KeyBindingRefused,
    MalformedInput,
    Misuse,
    Unavailable,
)
from regie_protocol.keys import PublicKey, public_key_from_jwk
from regie_protocol.release import MAX_RELEASE_BYTES, decrypt_release
from regie_protocol.sdjwt import KeyBindingRequired, VerifiedSdJwt, parse
from regie_protocol.sdjwt import verify as verify_presentation
from regie_protocol.tlog.receipt import Receipt

from .identity import VerifierIdentity
from .policy import ConsentPolicy
from .problems import refusal_from_response
from .status_cache import StatusLists
from .trust import check_base_url
from .verify import VerifiedConsentToken, covers, verify_consent_token

REQUEST_STATES = frozenset({"pending", "approved", "refused", "expired"})
#: a wallet host's refusals of a read that say the consent itself is over
CONSENT_OVER = frozenset({Code.CONSENT_ENDED, Code.REVOKED})
#: the largest JSON answer read from a host (a release plus a little)
MAX_ANSWER_BYTES = MAX_RELEASE_BYTES + 16 * 1024
_HOST_ID = re.compile(r"[A-Za-z0-9._~-]{1,128}")


@dataclass(frozen=True, slots=True)
class Answer:
    """The state of a consent request at the host; the token once approved (not yet checked)."""

    id: str
    state: str
    consent_token: str | None = None
    holder_jwk: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What one read released, after every check of :meth:`WalletHostClient.read`."""

    consent_id: str
    #: the use number the host recorded for this read
    use: int
    #: attribute id -> value, for the attributes asked for (all consented ones when none)
    attributes: Mapping[str, Any]
    #: attributes asked for that no presentation disclosed
    missing: tuple[str, ...]
    sealed_at: int
    presentations: tuple[VerifiedSdJwt, ...] = field(repr=False)
    #: the read's receipt from the host's log (C2SP tlog-proof), ``None`` from a host without one
    receipt: str | None = None


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    content = response.content
    if len(content) > MAX_ANSWER_BYTES:
        raise MalformedInput(
            f"the wallet host's answer to {what} is too large", code=Code.SIZE_EXCEEDED
        )
    value = loads_strict(content, max_depth=8, what=f"the answer to {what}")
    if not isinstance(value, dict):
        raise MalformedInput(f"the wallet host's answer to {what} is not a JSON object")
    return value


def _receipt(answer: Mapping[str, Any]) -> str | None:
    """The read's receipt, well-formed and for the log entry the answer names (or none)."""
    text, index = answer.get("receipt"), answer.get("logIndex")
    if text is None:
        return None
    if not isinstance(text, str) or type(index) is not int:
        raise MalformedInput("the wallet host's receipt or its log index is malformed")
    if Receipt.parse(text).index != index:
        raise MalformedInput("the wallet host's receipt is for another log entry")
    return text


def _host_id(value: Any) -> str:
    if not isinstance(value, str) or not _HOST_ID.fullmatch(value) or not value.strip("."):
        raise MalformedInput("the wallet host gave a request id that is not a plain id")
    return value


def _path_value(claims: Mapping[str, Any], attribute: str) -> tuple[bool, Any]:
    node: Any = claims
    for part in attribute.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _dotted(path: Sequence[str | int]) -> str:
    names: list[str] = []
    for part in path:
        if not isinstance(part, str):
            break
        names.append(part)
    return ".".join(names)


def _is_container(name: str, consented: Collection[str]) -> bool:
    return any(claim.startswith(name + ".") for claim in consented)


class WalletHostClient:
    """One wallet host, as seen by one verifier. Thread-safe if ``http`` is."""

    def __init__(
        self,
        base_url: str,
        identity: VerifierIdentity,
        *,
        http: httpx.Client,
        clock: Callable[[], int],
        status: StatusLists,
        on_ended: Callable[[str], object] | None = None,
    ) -> None:
        """``on_ended`` is called with a consent's id when the host refuses a read because
        the consent is over (:data:`CONSENT_OVER`), before the refusal is raised: a
        :class:`~verifier.context.VerifierContext` marks it ended in its store."""
        self.base_url = check_base_url(base_url, what="the wallet host URL")
        self.identity = identity
        self._http = http
        self._clock = clock
        self._status = status
        self._on_ended = on_ended

    # --- asking for consent ---

    def sign_request(self, claims: ConsentRequestClaims) -> str:
        """The signed request JWT for ``claims`` (this verifier's id, to this host)."""
        if claims.iss != self.identity.id:
            raise Misuse(f"the request's iss is {claims.iss}, not this verifier's id")
        if claims.aud != self.base_url:
            raise Misuse(f"the request is addressed to {claims.aud}, not to {self.base_url}")
        return sign_request(claims, key=self.identity.signing_key)

    def submit_request(self, claims: ConsentRequestClaims) -> str:
        """Sign ``claims`` and post them to the host; the host's id for the request."""
        return self.submit_signed(self.sign_request(claims))

    def submit_signed(self, token: str) -> str:
        """Post a signed request; the host's id for it.

        To retry, post the same token again: the host answers with the request it
        stored. A new signature over the same ``jti`` is another request (an
        ES256 signature differs each time) and is refused as a reused id.
        """
        response = self._send(
            "POST", "/v1/requests", what="the consent request", json={"request": token}
        )
        if response.status_code not in (200, 201):
            raise refusal_from_response(response, what="the consent request")
        return _host_id(_json(response, "the consent request").get("id"))

    def answer(self, request_id: str) -> Answer:
        """The request's state at the host (a DPoP proof shows it is ours)."""
        path = f"/v1/requests/{_host_id(request_id)}"
        url = self.base_url + path
        proof = create_proof(self.identity.signing_key, htm="GET", htu=url, now=self._now())
        response = self._send("GET", path, what="the answer", headers={"DPoP": proof})
        if response.status_code != 200:
            raise refusal_from_response(response, what="the answer", not_found=Code.REQUEST_UNKNOWN)
        body = _json(response, "the answer")
        state = body.get("state")
        if state not in REQUEST_STATES or body.get("id") != request_id:
            raise MalformedInput("the wallet host's answer names another request or no state")
        token, jwk = body.get("consentToken"), body.get("holderJwk")
        if state == "approved":
            if not isinstance(token, str) or not isinstance(jwk, dict):
                raise MalformedInput("an approved answer carries consentToken and holderJwk")
            return Answer(request_id, state, token, jwk)
        return Answer(request_id, state)

    def verify_answer(
        self, answer: Answer, policy: ConsentPolicy, *, request_jti: str | None = None
    ) -> VerifiedConsentToken:
        """The approved answer's consent token, checked: signed by the holder key the host
        gave (its thumbprint URI is the token's ``iss``), bound to this verifier's key, and
        (with ``request_jti``) answering that request. ``policy.holder_keys`` is not used."""
        if answer.state != "approved" or answer.consent_token is None or answer.holder_jwk is None:
            raise Misuse(f"the request is {answer.state}, not approved: there is no consent")
        holder = public_key_from_jwk(dict(answer.holder_jwk))
        keys: dict[str, PublicKey] = {holder.thumbprint_uri(): holder}
        verified = verify_consent_token(
            answer.consent_token, replace(policy, holder_keys=keys), status=self._status
        )
        self._check_ours(verified.claims)
        if request_jti is not None and not hmac.compare_digest(
            verified.claims.request.id.encode(), request_jti.encode()
        ):
            raise ClaimRefused(
                "the consent answers another request than the one sent", code=Code.CLAIM_INVALID
            )
        return verified

    # --- reading ---

    def read(
        self,
        consent_token: str,
        attributes: Collection[str] | None = None,
        *,
        policy: ConsentPolicy,
    ) -> ReadResult:
        """Read ``attributes`` (all consented ones when None) under ``consent_token``."""
        if isinstance(attributes, str):
            raise Misuse("attributes is a collection of attribute ids, not one string")
        if policy.audience != self.identity.id:
            raise Misuse("the policy's audience is not this verifier's id")
        wanted = None if attributes is None else sorted(set(attributes))
        needed = policy.attributes | frozenset(wanted or ())
        consent = verify_consent_token(
            consent_token, policy.requiring(needed, policy.purpose), status=self._status
        )
        claims = consent.claims
        self._check_ours(claims)
        if consent.host != self.base_url:
            raise Misuse(f"this consent is kept by the wallet host {consent.host}: read it there")
        path = "/v1/data"
        proof = create_proof(
            self.identity.signing_key,
            htm="POST",
            htu=self.base_url + path,
            now=self._now(),
            access_token=consent.token,
        )
        headers = {"Authorization": f"DPoP {consent.token}", "DPoP": proof}
        body = None if wanted is None else {"attributes": wanted}
        response = self._send("POST", path, what="the read", json=body, headers=headers)
        if response.status_code != 200:
            refusal = refusal_from_response(
                response, what="the read", not_found=Code.CONSENT_UNKNOWN
            )
            if refusal.code in CONSENT_OVER and self._on_ended is not None:
                self._on_ended(claims.jti)
            raise refusal
        answer = _json(response, "the read")
        release, use = answer.get("release"), answer.get("use")
        if answer.get("consent") != claims.jti or not isinstance(release, str):
            raise MalformedInput("the wallet host's answer names another consent or no release")
        if type(use) is not int or use < 1:
            raise MalformedInput("the wallet host's answer has no use number")
        receipt = _receipt(answer)
        content = decrypt_release(release, keys=self.identity.encryption_key)
        if not hmac.compare_digest(content.consent_id.encode(), claims.jti.encode()):
            raise ClaimRefused(
                "the release was sealed for another consent", code=Code.RELEASE_INVALID
            )
        now = self._now()
        presentations = tuple(
            self._presentation(p, claims, policy, now) for p in content.presentations
        )
        names = wanted if wanted is not None else sorted(consent.consented)
        values: dict[str, Any] = {}
        missing: list[str] = []
        for name in names:
            for shown in presentations:
                found, value = _path_value(shown.claims, name)
                if found:
                    values[name] = value
                    break
            else:
                missing.append(name)
        return ReadResult(
            consent_id=claims.jti,
            use=use,
            attributes=values,
            missing=tuple(missing),
            sealed_at=content.sealed_at,
            presentations=presentations,
            receipt=receipt,
        )

    def report_purge(
        self, consent_token: str, attributes: Collection[str], *, purged_at: int
    ) -> tuple[int, str]:
        """Tell the host the data read under a consent was deleted: ``(log index, receipt)``.

        The host logs it as ``retention.purged`` in the citizen's log, where an
        auditor checks it against the consent's end and retention.
        """
        path = "/v1/purge-reports"
        proof = create_proof(
            self.identity.signing_key,
            htm="POST",
            htu=self.base_url + path,
            now=self._now(),
            access_token=consent_token,
        )
        headers = {"Authorization": f"DPoP {consent_token}", "DPoP": proof}
        body = {"purgedAt": purged_at, "attributes": sorted(set(attributes))}
        response = self._send("POST", path, what="the purge report", json=body, headers=headers)
        if response.status_code != 201:
            raise refusal_from_response(
                response, what="the purge report", not_found=Code.CONSENT_UNKNOWN
            )
        answer = _json(response, "the purge report")
        index, receipt = answer.get("logIndex"), answer.get("receipt")
        if type(index) is not int or not isinstance(receipt, str):
            raise MalformedInput("the wallet host's purge answer has no log index or receipt")
        if Receipt.parse(receipt).index != index:
            raise MalformedInput("the wallet host's receipt is for another log entry")
        return index, receipt

    def _presentation(
        self, presentation: str, consent: ConsentClaims, policy: ConsentPolicy, now: int
    ) -> VerifiedSdJwt:
        details = [d for d in consent.authorization_details if "present" in d.actions]
        vcts = {vct for detail in details for vct in detail.credential_types}
        iss = parse(presentation, limits=policy.limits).issuer_jws.unverified_claims.get("iss")
        issuer = iss if isinstance(iss, str) else ""
        leeway = policy.leeway
        shown = verify_presentation(
            presentation,
            issuer_keys=policy.trusted_issuers,
            key_binding=KeyBindingRequired(
                audience=self.identity.id,
                nonce=consent.jti,
                max_age=max(1, consent.exp - consent.iat),
            ),
            status=self._credential_status(policy, issuer),
            now=now,
            accepted_vcts=vcts,
            limits=policy.limits,
        )
        kb = shown.key_binding or {}
        if type(kb.get("iat")) is not int or kb["iat"] < consent.iat - leeway:
            raise KeyBindingRefused(
                "the key binding JWT was made before the consent it claims to belong to",
                code=Code.KEY_BINDING_INVALID,
            )
        allowed = {c for d in details if shown.vct in d.credential_types for c in d.claims}
        for disclosed in shown.disclosed_paths:
            name = _dotted(disclosed)
            if not covers(allowed, name) and not _is_container(name, allowed):
                raise ClaimRefused(
                    f"the release discloses {name!r}, which the consent does not cover",
                    code=Code.RELEASE_INVALID,
                )
        return shown

    def _credential_status(self, policy: ConsentPolicy, issuer: str) -> Callable[[str, int], int]:
        status = self._status

        def resolve(uri: str, idx: int) -> int:
            if not policy.issuer_serves(issuer, uri):
                raise ClaimRefused(
                    f"the credential's status list {uri} is not served by its issuer",
                    code=Code.ISSUER_UNTRUSTED,
                )
            return status.get(uri).list.get(idx)

        return resolve

    # --- plumbing ---

    def _check_ours(self, claims: ConsentClaims) -> None:
        if not hmac.compare_digest(claims.cnf_jkt.encode(), self.identity.jkt.encode()):
            raise ClaimRefused(
                "the consent is bound to another key than this verifier's (cnf.jkt)",
                code=Code.DPOP_KEY_MISMATCH,
            )

    def _now(self) -> int:
        now = self._clock()
        if type(now) is not int:
            raise Misuse("the client's clock returns integer seconds")
        return now

    def _send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        try:
            return self._http.request(
                method,
                self.base_url + path,
                json=json,
                headers=dict(headers or {}),
                follow_redirects=False,
            )
        except httpx.TimeoutException:
            raise Unavailable(f"the wallet host did not answer {what} in time") from None
        except httpx.HTTPError as exc:
            raise Unavailable(
                f"cannot reach the wallet host at {self.base_url} ({type(exc).__name__})"
            ) from None


__all__ = [
    "CONSENT_OVER",
    "MAX_ANSWER_BYTES",
    "REQUEST_STATES",
    "Answer",
    "ReadResult",
    "WalletHostClient",
]
