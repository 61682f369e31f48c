"""WalletHostClient against the real wallet host app: ask, collect, read, and the attacks refused.

The flow runs on SQLite and PostgreSQL (the host's database); the attack table
on SQLite. An attacker on the path (or a host gone bad) is the
:class:`~tests.verifier.host_world.RewritingTransport` hook: it changes the
host's real answer before the verifier sees it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from regie_protocol.consent_request import sign_request
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    KeyBindingRefused,
    MalformedInput,
    Misuse,
    Refused,
    RegieError,
    SignatureRefused,
    StatusRefused,
    TimeRefused,
    Unavailable,
)
from regie_protocol.keys import EncryptionKey
from regie_protocol.release import ReleaseContent, decrypt_release, encrypt_release
from regie_protocol.sdjwt import present
from regie_protocol.statuslist import Status
from tests.verifier.host_world import BRP, DAY, HOST_URL, HostWorld, host_world
from tests.wallet.databases import Target, target
from wallet.consents import revoke

__all__ = ["target"]


@pytest.fixture
def world(target: Target, tmp_path: Path) -> Iterator[HostWorld]:
    with host_world(target, tmp_path) as built:
        yield built


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[HostWorld]:
    with host_world(Target("sqlite", None, tmp_path), tmp_path) as built:
        yield built


def test_ask_collect_read_revoke(world: HostWorld) -> None:
    claims = world.request_claims()
    signed = world.client.sign_request(claims)
    request_id = world.client.submit_signed(signed)
    # the same request again is the same request at the host (a retry)
    assert world.client.submit_signed(signed) == request_id
    # the same id signed anew is another request: refused as a reused id
    with pytest.raises(ClaimRefused) as reused:
        world.client.submit_signed(
            sign_request(replace(claims, iat=claims.iat + 1), key=world.identity.signing_key)
        )
    assert reused.value.code is Code.IDEMPOTENCY_CONFLICT
    assert world.client.answer(request_id).state == "pending"
    consent_id = world.approve(request_id)
    answer = world.client.answer(request_id)
    assert answer.state == "approved"
    consent = world.client.verify_answer(answer, world.policy(), request_jti=claims.jti)
    assert consent.jti == consent_id
    assert answer.holder_jwk is not None
    world.store.save_consent(consent, answer.holder_jwk, now=world.clock.now)

    result = world.client.read(consent.token, ["address"], policy=world.policy())
    assert result.consent_id == consent_id
    assert result.use == 1
    assert result.attributes["address"]["locality"] == "Utrecht"
    assert result.missing == ()
    assert set(result.attributes) == {"address"}
    # all consented attributes when none are named
    world.clock.now += 60
    assert set(world.client.read(consent.token, policy=world.policy()).attributes) == {"address"}

    revoke(world.wallet, consent_id, now=world.clock.now)
    with pytest.raises(StatusRefused) as caught:  # the host refuses (the cache is still fresh)
        world.client.read(consent.token, ["address"], policy=world.policy())
    assert caught.value.code in (Code.CONSENT_ENDED, Code.REVOKED)
    world.clock.now += 3600
    with pytest.raises(StatusRefused):  # and now the verifier's own check refuses first
        world.client.read(consent.token, ["address"], policy=world.policy())


def test_refused_and_unknown_requests(sqlite_world: HostWorld) -> None:
    world = sqlite_world
    from wallet.requests import refuse

    request_id = world.client.submit_request(world.request_claims())
    refuse(world.wallet, request_id, now=world.clock.now)
    answer = world.client.answer(request_id)
    assert answer.state == "refused"
    assert answer.consent_token is None
    with pytest.raises(Misuse):
        world.client.verify_answer(answer, world.policy())
    with pytest.raises(ClaimRefused) as caught:
        world.client.answer("no-such-request")
    assert caught.value.code is Code.REQUEST_UNKNOWN
    for bad in ("../keys", "..", "a b"):
        with pytest.raises(MalformedInput):
            world.client.answer(bad)


def test_over_asking_is_refused_by_the_host(sqlite_world: HostWorld) -> None:
    world = sqlite_world
    with pytest.raises(ClaimRefused) as caught:
        world.client.submit_request(world.request_claims(attributes=("address", "birthdate")))
    assert caught.value.code is Code.BEYOND_REGISTRATION


def test_collected_consent_must_answer_our_request(sqlite_world: HostWorld) -> None:
    world = sqlite_world
    request_id = world.client.submit_request(world.request_claims())
    world.approve(request_id)
    answer = world.client.answer(request_id)
    with pytest.raises(ClaimRefused):
        world.client.verify_answer(answer, world.policy(), request_jti="another-request")


# --- attacks on a read: a named case each, the good case first ------------------------------


def _body(response: httpx.Response) -> dict[str, object]:
    return dict(json.loads(response.content))


def _with_release(world: HostWorld, make: Callable[[ReleaseContent], str]) -> None:
    """Replace the release in the host's answer to POST /v1/data."""

    def rewrite(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path != "/v1/data" or response.status_code != 200:
            return response
        body = _body(response)
        content = decrypt_release(str(body["release"]), keys=world.identity.encryption_key)
        body["release"] = make(content)
        return httpx.Response(200, json=body, headers={"API-Version": "1.0.0"})

    world.transport.rewrite = rewrite


def _reseal(world: HostWorld, content: ReleaseContent) -> str:
    return encrypt_release(content, recipient=world.identity.encryption_key.public_key)


def _presentation(world: HostWorld, *, disclose: list[object], **kb: object) -> str:
    options: dict[str, object] = {
        "audience": world.identity.id,
        "nonce": "x",
        "now": world.clock.now,
        **kb,
    }
    return present(world.sd_jwt, disclose=disclose, holder_key=world.holder, **options)  # type: ignore[arg-type]


def _tampered(world: HostWorld) -> None:
    def rewrite(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path != "/v1/data" or response.status_code != 200:
            return response
        body = _body(response)
        release = str(body["release"])
        flip = "A" if release[-5] != "A" else "B"
        body["release"] = release[:-5] + flip + release[-4:]
        return httpx.Response(200, json=body)

    world.transport.rewrite = rewrite


def _other_consent(world: HostWorld) -> None:
    content_of_other = [""]
    other = world.consent()
    world.transport.rewrite = None
    # capture the other consent's real release
    original = world.transport.rewrite

    def capture(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path == "/v1/data" and response.status_code == 200:
            content_of_other[0] = str(_body(response)["release"])
        return response

    world.transport.rewrite = capture
    world.client.read(other, ["address"], policy=world.policy())
    world.transport.rewrite = original
    _with_release(world, lambda content: content_of_other[0])


def _kb_of_other_consent(world: HostWorld) -> None:
    def make(content: ReleaseContent) -> str:
        shown = _presentation(world, disclose=["address"], nonce="another-consent-id")
        return _reseal(world, replace(content, presentations=(shown,)))

    _with_release(world, make)


def _kb_for_other_verifier(world: HostWorld) -> None:
    def make(content: ReleaseContent) -> str:
        shown = _presentation(
            world, disclose=["address"], nonce=content.consent_id, audience="https://b.example"
        )
        return _reseal(world, replace(content, presentations=(shown,)))

    _with_release(world, make)


def _kb_before_consent(world: HostWorld) -> None:
    def make(content: ReleaseContent) -> str:
        shown = _presentation(
            world, disclose=["address"], nonce=content.consent_id, now=world.clock.now - 2 * DAY
        )
        return _reseal(world, replace(content, presentations=(shown,)))

    _with_release(world, make)


def _over_disclosed(world: HostWorld) -> None:
    def make(content: ReleaseContent) -> str:
        shown = _presentation(world, disclose=["address", "birthdate"], nonce=content.consent_id)
        return _reseal(world, replace(content, presentations=(shown,)))

    _with_release(world, make)


def _no_key_binding(world: HostWorld) -> None:
    def make(content: ReleaseContent) -> str:
        shown = present(world.sd_jwt, disclose=["address"], holder_key=None)
        return _reseal(world, replace(content, presentations=(shown,)))

    _with_release(world, make)


def _consent_as_credential(world: HostWorld) -> None:
    token = [""]

    def make(content: ReleaseContent) -> str:
        return _reseal(world, replace(content, presentations=(token[0],)))

    token[0] = world.store.consents()[0].token
    _with_release(world, make)


def _sealed_to_another_key(world: HostWorld) -> None:
    def make(content: ReleaseContent) -> str:
        return encrypt_release(content, recipient=EncryptionKey.generate().public_key)

    _with_release(world, make)


def _credential_revoked(world: HostWorld) -> None:
    world.issuer.set_status(world.status_index, Status.INVALID)


def _issuer_untrusted(world: HostWorld) -> None:
    world.policy_changes["trusted_issuers"] = {}


def _host_down(world: HostWorld) -> None:
    def rewrite(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path == "/v1/data":
            raise httpx.ConnectError("down", request=request)
        return response

    world.transport.rewrite = rewrite


def _attribute_not_consented(world: HostWorld) -> None:
    world.attributes = ["given_name"]


def _read_elsewhere(world: HostWorld) -> None:
    world.policy_changes["trusted_hosts"] = {
        HOST_URL: world.host_keys,
        "https://other-host.example": world.host_keys,
    }
    world.read_from = "https://other-host.example"


@dataclass(frozen=True)
class Case:
    expected: type[RegieError] | None
    code: Code | None = None
    setup: Callable[[HostWorld], None] = lambda w: None


CASES: dict[str, Case] = {
    "good": Case(None),
    "release-tampered-in-transit": Case(Refused, Code.RELEASE_INVALID, _tampered),
    "release-sealed-to-another-key": Case(Refused, Code.RELEASE_INVALID, _sealed_to_another_key),
    "release-of-another-consent": Case(ClaimRefused, Code.RELEASE_INVALID, _other_consent),
    "key-binding-of-another-consent": Case(
        KeyBindingRefused, Code.NONCE_MISMATCH, _kb_of_other_consent
    ),
    "key-binding-for-another-verifier": Case(
        KeyBindingRefused, Code.AUDIENCE_MISMATCH, _kb_for_other_verifier
    ),
    "key-binding-made-before-the-consent": Case(
        KeyBindingRefused, Code.KEY_BINDING_INVALID, _kb_before_consent
    ),
    "presentation-without-key-binding": Case(
        KeyBindingRefused, Code.KEY_BINDING_MISSING, _no_key_binding
    ),
    "disclosure-beyond-the-consent": Case(ClaimRefused, Code.RELEASE_INVALID, _over_disclosed),
    "consent-token-as-credential": Case(MalformedInput, None, _consent_as_credential),
    "credential-revoked-by-issuer": Case(StatusRefused, Code.REVOKED, _credential_revoked),
    "issuer-untrusted": Case(SignatureRefused, Code.ISSUER_UNTRUSTED, _issuer_untrusted),
    "attribute-not-consented": Case(ClaimRefused, Code.NOT_CONSENTED, _attribute_not_consented),
    "read-from-another-host": Case(Misuse, None, _read_elsewhere),
    "host-unreachable": Case(Unavailable, Code.UNAVAILABLE, _host_down),
}


@pytest.mark.parametrize("name", list(CASES))
def test_read_refusals(sqlite_world: HostWorld, name: str) -> None:
    case = CASES[name]
    world = sqlite_world
    token = world.consent()
    world.policy_changes = {}
    world.attributes = ["address"]
    world.read_from = HOST_URL
    case.setup(world)
    client = world.client
    if world.read_from != HOST_URL:
        from verifier.client import WalletHostClient

        client = WalletHostClient(
            world.read_from, world.identity, http=world.http, clock=world.clock, status=world.cache
        )
    policy = world.policy(**world.policy_changes)
    if case.expected is None:
        result = client.read(token, world.attributes, policy=policy)
        assert result.attributes["address"]["postal_code"] == "3511 NK"
        assert len(result.presentations) == 1
        assert result.presentations[0].issuer == BRP.issuer_id
        return
    with pytest.raises(case.expected) as caught:
        client.read(token, world.attributes, policy=policy)
    if case.code is not None:
        assert caught.value.code is case.code, caught.value


def test_a_consent_expired_at_the_host_is_refused(sqlite_world: HostWorld) -> None:
    world = sqlite_world
    token = world.consent(valid_for=DAY)
    world.clock.now += 2 * DAY
    with pytest.raises(TimeRefused):
        world.client.read(token, ["address"], policy=world.policy())
