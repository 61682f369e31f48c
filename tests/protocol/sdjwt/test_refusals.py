"""CR-*: attacks on an SD-JWT VC presentation (SECURITY.md T9-T13), one change per case.

Every case starts from the baseline presentation of :mod:`.world`, which
:func:`verify` accepts (asserted first, in the same test), applies ONE change
with real keys, and must be refused with the exact exception class and
:class:`Code`. Each case runs with Ed25519 and with P-256 issuer and holder keys.
``test_tally`` reruns the whole table and prints "N credential attack cases
tried, 0 accepted".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from regie_protocol import jws
from regie_protocol._encoding import b64url_encode
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    DisclosureRefused,
    KeyBindingRefused,
    KeyRefused,
    MalformedInput,
    RegieError,
    SignatureRefused,
    StatusRefused,
    TimeRefused,
)
from regie_protocol.keys import Alg, SigningKey, Unprotected
from regie_protocol.limits import DEFAULT_LIMITS
from regie_protocol.sdjwt import SD, UNSAFE_SKIP_STATUS, NoKeyBinding, issue, parse
from regie_protocol.sdjwt._disclosures import digest, encode_disclosure
from regie_protocol.statuslist import Status
from tests.protocol.jws_forge import forge, json_bytes

from .world import (
    AUDIENCE,
    DROP,
    ISS,
    NONCE,
    VCT,
    World,
    decode_payload,
    join,
    split,
    static_status,
)

LEEWAY = DEFAULT_LIMITS.leeway_seconds
Built = tuple[str, dict[str, Any]]
Build = Callable[[World], Built]


@pytest.fixture(params=[(Alg.EDDSA, Alg.EDDSA), (Alg.ES256, Alg.ES256)], ids=["Ed25519", "P-256"])
def world(request: pytest.FixtureRequest) -> World:
    issuer_alg, holder_alg = request.param
    return World.make(issuer_alg, holder_alg)


def other_key_type(key: SigningKey) -> SigningKey:
    return SigningKey.generate(Alg.ES256 if key.alg is Alg.EDDSA else Alg.EDDSA)


# --- building blocks ----------------------------------------------------------------------


def shown(w: World) -> tuple[str, list[str], str]:
    """The baseline presentation, split: (issuer JWT, disclosures, KB-JWT)."""
    return split(w.good())


def named(token: str, name: str) -> str:
    """The encoded disclosure for claim ``name`` in ``token``."""
    return next(d.encoded for d in parse(token).disclosures if d.name == name)


def crafted(w: World, change: Callable[[dict[str, Any]], None], *extra: str, **kw: Any) -> Built:
    """Re-sign the baseline payload after ``change``; present the baseline disclosures plus
    ``extra`` with a KB-JWT made by hand (present() itself would refuse the crafted token)."""
    jwt, disclosures, _ = shown(w)
    return w.bind(join(w.resign(jwt, change, **kw), [*disclosures, *extra])), {}


def add_to_sd(*digests: str) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        payload["_sd"] = sorted([*payload["_sd"], *digests])

    return change


def new_disclosure(name: str | None, value: Any, salt: str = "c2FsdHNhbHRzYWx0c2FsdA") -> str:
    return encode_disclosure(salt, name, value).encoded


def with_new_disclosure(w: World, encoded: str, *, where: str = "_sd") -> Built:
    """A disclosure whose digest the (re-signed) issuer JWT references in ``where``."""
    if where == "_sd":
        return crafted(w, add_to_sd(digest(encoded)), encoded)

    def into_array(payload: dict[str, Any]) -> None:
        payload["nationalities"].append({"...": digest(encoded)})

    return crafted(w, into_array, encoded)


def raw_disclosure(array: list[Any]) -> str:
    return b64url_encode(json.dumps(array).encode("utf-8"))


def issued_by(w: World, key: SigningKey, *, kid: bool = True) -> Built:
    """The baseline credential signed by ``key`` (claiming the trusted ``iss``)."""
    return w.present(issue(w.payload(), issuer_key=key, kid=kid)), {}


def presented(**changes: Any) -> Build:
    """Issue the baseline with claims changed, present it normally."""
    return lambda w: (w.present(w.issue(w.payload(**changes))), {})


def policy(**overrides: Any) -> Build:
    """The baseline presentation verified under a changed policy."""
    return lambda w: (w.good(), overrides)


def kb(**claims: Any) -> Build:
    """The baseline disclosures with a hand-made KB-JWT whose claims are changed."""

    def build(w: World) -> Built:
        jwt, disclosures, _ = shown(w)
        return w.bind(join(jwt, disclosures), claims=claims), {}

    return build


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"x": SD(value)}
    return value


# --- the cases ----------------------------------------------------------------------------


def modified_disclosure_value(w: World) -> Built:
    jwt, disclosures, _ = shown(w)
    original = parse(join(jwt, disclosures)).disclosures
    swapped = [
        encode_disclosure(d.salt, d.name, "Piet").encoded if d.name == "given_name" else d.encoded
        for d in original
    ]
    return w.bind(join(jwt, swapped)), {}


def respelled_disclosure(w: World) -> Built:
    """Same salt, name and value in compact JSON: another digest (no canonicalisation)."""
    jwt, disclosures, _ = shown(w)
    d = next(d for d in parse(join(jwt, disclosures)).disclosures if d.name == "given_name")
    compact = b64url_encode(json.dumps([d.salt, d.name, d.value], separators=(",", ":")).encode())
    return w.bind(join(jwt, [compact if x == d.encoded else x for x in disclosures])), {}


def extra_unreferenced(w: World) -> Built:
    jwt, disclosures, _ = shown(w)
    return w.bind(join(jwt, [*disclosures, new_disclosure("nickname", "JJ")])), {}


def disclosure_from_other_credential(w: World) -> Built:
    other = w.issue(w.payload(given_name=SD("Piet")))
    jwt, disclosures, _ = shown(w)
    return w.bind(join(jwt, [*disclosures, named(other, "given_name")])), {}


def same_disclosure_twice(w: World) -> Built:
    jwt, disclosures, _ = shown(w)
    return w.bind(join(jwt, [*disclosures, disclosures[0]])), {}


def digest_twice_in_sd(w: World) -> Built:
    given = named(w.good(), "given_name")
    return crafted(w, add_to_sd(digest(given)))


def undisclosed_digest_also_in_array(w: World) -> Built:
    """The digest of the undisclosed family_name also placed as an array element."""
    token = w.issue()
    jwt, disclosures, _ = split(w.present(token))
    family = digest(named(token, "family_name"))
    change = lambda p: p["nationalities"].append({"...": family})  # noqa: E731
    return w.bind(join(w.resign(jwt, change), disclosures)), {}


def claim_overwrite(w: World) -> Built:
    return crafted(w, lambda p: p.update(given_name="Mallory"))


def two_disclosures_same_name(w: World) -> Built:
    return with_new_disclosure(w, new_disclosure("given_name", "Piet"))


def disclosure_named_sd(w: World) -> Built:
    return with_new_disclosure(w, new_disclosure("_sd", ["x"]))


def disclosure_named_ellipsis(w: World) -> Built:
    return with_new_disclosure(w, new_disclosure("...", "x"))


def disclosed_exp(w: World) -> Built:
    d = new_disclosure("exp", w.now + 3600)

    def change(payload: dict[str, Any]) -> None:
        del payload["exp"]
        add_to_sd(digest(d))(payload)

    return crafted(w, change, d)


def element_disclosure_in_sd(w: World) -> Built:
    return with_new_disclosure(w, new_disclosure(None, "FR"))


def member_disclosure_in_array(w: World) -> Built:
    return with_new_disclosure(w, new_disclosure("n", "FR"), where="array")


def salt_not_a_string(w: World) -> Built:
    return with_new_disclosure(w, raw_disclosure([1, "nickname", "JJ"]))


def four_elements(w: World) -> Built:
    return with_new_disclosure(w, raw_disclosure(["c2FsdA", "nickname", "JJ", "x"]))


def ellipsis_with_other_member(w: World) -> Built:
    def change(payload: dict[str, Any]) -> None:
        payload["nationalities"][0]["x"] = 1

    return crafted(w, change)


def sd_not_an_array(w: World) -> Built:
    def change(payload: dict[str, Any]) -> None:
        payload["address"] = {"_sd": "abc"}

    jwt, _, _ = shown(w)
    return w.bind(join(w.resign(jwt, change), [])), {}


def typ_of(typ: str) -> Build:
    def build(w: World) -> Built:
        jwt, disclosures, _ = shown(w)
        return w.bind(join(w.resign(jwt, lambda p: None, typ=typ), disclosures)), {}

    return build


def kb_jwt_as_credential(w: World) -> Built:
    kb_jwt = shown(w)[2]
    return kb_jwt + "~" + kb_jwt, {}


def other_token_as_credential(typ: str) -> Build:
    def build(w: World) -> Built:
        claims = {"iss": ISS, "vct": VCT, "iat": w.now, "cnf": decode_payload(shown(w)[0])["cnf"]}
        return w.bind(jws.sign(claims, key=w.issuer, typ=typ) + "~"), {}

    return build


def header_member(**members: Any) -> Build:
    def build(w: World) -> Built:
        jwt, disclosures, _ = shown(w)
        header = {"alg": w.issuer.alg.value, "typ": "dc+sd-jwt", **members}
        return w.bind(join(forge(header, decode_payload(jwt), key=w.issuer), disclosures)), {}

    return build


def alg_none(w: World) -> Built:
    jwt, disclosures, _ = shown(w)
    header = {"alg": "none", "typ": "dc+sd-jwt"}
    return w.bind(
        join(forge(header, decode_payload(jwt), key=None, signature=b""), disclosures)
    ), {}


def payload_changed_after_signing(w: World) -> Built:
    jwt, disclosures, _ = shown(w)
    header, _, signature = jwt.split(".")
    payload = decode_payload(jwt)
    payload["age_over_18"] = True
    forged = header + "." + b64url_encode(json_bytes(payload)) + "." + signature
    return w.bind(join(forged, disclosures)), {}


def kb_stripped(w: World) -> Built:
    jwt, disclosures, _ = shown(w)
    return join(jwt, disclosures), {}


def disclosure_dropped_after_binding(w: World) -> Built:
    jwt, disclosures, kb_jwt = shown(w)
    return join(jwt, disclosures[1:], kb_jwt), {}


def disclosure_added_after_binding(w: World) -> Built:
    jwt, disclosures, kb_jwt = shown(w)
    return join(jwt, [*disclosures, named(w.issue(), "family_name")], kb_jwt), {}


def kb_by(key: Callable[[World], SigningKey], **kwargs: Any) -> Build:
    def build(w: World) -> Built:
        jwt, disclosures, _ = shown(w)
        return w.bind(join(jwt, disclosures), key=key(w), **kwargs), {}

    return build


def kb_header_member(w: World) -> Built:
    jwt, disclosures, _ = shown(w)
    sd_jwt = join(jwt, disclosures)
    _, _, kb_jwt = split(w.bind(sd_jwt))
    header = {"alg": w.holder.alg.value, "typ": "kb+jwt", "jwk": w.holder.public_key.to_jwk()}
    return sd_jwt + forge(header, decode_payload(kb_jwt), key=w.holder), {}


def cnf_of(value: Any) -> Build:
    return lambda w: crafted(
        w, lambda p: p.update(cnf=value) if value is not DROP else p.pop("cnf")
    )


def cnf_private_key(w: World) -> Built:
    private = json.loads(w.holder.export_private_jwk(protection=Unprotected()))
    return cnf_of({"jwk": private})(w)


def cnf_other_key(w: World) -> Built:
    other = SigningKey.generate(w.holder.alg)
    return cnf_of({"jwk": other.public_key.required_members()})(w)


def too_many_disclosures(w: World) -> Built:
    jwt, disclosures, _ = shown(w)
    junk = [new_disclosure("n", i, salt=f"s{i}") for i in range(DEFAULT_LIMITS.max_disclosures)]
    return w.bind(join(jwt, [*disclosures, *junk])), {}


def too_large(w: World) -> Built:
    jwt, disclosures, _ = shown(w)
    return w.bind(join(jwt, [*disclosures, "A" * DEFAULT_LIMITS.max_sd_jwt_bytes])), {}


def too_deep(w: World) -> Built:
    depth = DEFAULT_LIMITS.max_json_depth
    token = w.issue(w.payload(deep=nested(depth)))
    jwt, disclosures, _ = split(token)
    return w.bind(join(jwt, disclosures)), {}


def sd_too_long(w: World) -> Built:
    decoys = [digest(new_disclosure(None, i)) for i in range(DEFAULT_LIMITS.max_sd_digests)]
    return crafted(w, add_to_sd(*decoys))


def sd_alg_sha512(w: World) -> Built:
    return crafted(w, lambda p: p.update(_sd_alg="sha-512"))


def status_of(value: Any) -> Build:
    return policy(status=static_status(value))


CASES: list[Any] = [
    # T10 credential tampering
    pytest.param(
        modified_disclosure_value,
        DisclosureRefused,
        Code.DISCLOSURE_UNREFERENCED,
        id="CR-01-modified-disclosure-value",
    ),
    pytest.param(
        respelled_disclosure,
        DisclosureRefused,
        Code.DISCLOSURE_UNREFERENCED,
        id="CR-02-disclosure-respelled",
    ),
    pytest.param(
        extra_unreferenced,
        DisclosureRefused,
        Code.DISCLOSURE_UNREFERENCED,
        id="CR-03-unreferenced-extra-disclosure",
    ),
    pytest.param(
        disclosure_from_other_credential,
        DisclosureRefused,
        Code.DISCLOSURE_UNREFERENCED,
        id="CR-04-disclosure-from-other-credential",
    ),
    pytest.param(
        same_disclosure_twice,
        DisclosureRefused,
        Code.DIGEST_DUPLICATE,
        id="CR-05-same-disclosure-twice",
    ),
    pytest.param(
        digest_twice_in_sd, DisclosureRefused, Code.DIGEST_DUPLICATE, id="CR-06-digest-twice-in-_sd"
    ),
    pytest.param(
        undisclosed_digest_also_in_array,
        DisclosureRefused,
        Code.DIGEST_DUPLICATE,
        id="CR-07-digest-in-_sd-and-array",
    ),
    pytest.param(
        claim_overwrite,
        DisclosureRefused,
        Code.CLAIM_NAME_CONFLICT,
        id="CR-08-disclosure-overwrites-claim",
    ),
    pytest.param(
        two_disclosures_same_name,
        DisclosureRefused,
        Code.CLAIM_NAME_CONFLICT,
        id="CR-09-two-disclosures-same-name",
    ),
    pytest.param(
        disclosure_named_sd, DisclosureRefused, Code.CLAIM_NAME_CONFLICT, id="CR-10-claim-named-_sd"
    ),
    pytest.param(
        disclosure_named_ellipsis,
        DisclosureRefused,
        Code.CLAIM_NAME_CONFLICT,
        id="CR-11-claim-named-ellipsis",
    ),
    pytest.param(
        disclosed_exp,
        DisclosureRefused,
        Code.CLAIM_NAME_CONFLICT,
        id="CR-12-exp-selectively-disclosed",
    ),
    pytest.param(
        sd_alg_sha512, DisclosureRefused, Code.SD_ALG_UNSUPPORTED, id="CR-13-_sd_alg-sha-512"
    ),
    pytest.param(
        element_disclosure_in_sd,
        DisclosureRefused,
        Code.DISCLOSURE_MALFORMED,
        id="CR-14-element-disclosure-in-_sd",
    ),
    pytest.param(
        member_disclosure_in_array,
        DisclosureRefused,
        Code.DISCLOSURE_MALFORMED,
        id="CR-15-member-disclosure-in-array",
    ),
    pytest.param(
        salt_not_a_string,
        DisclosureRefused,
        Code.DISCLOSURE_MALFORMED,
        id="CR-16-salt-not-a-string",
    ),
    pytest.param(
        four_elements,
        DisclosureRefused,
        Code.DISCLOSURE_MALFORMED,
        id="CR-17-disclosure-of-four-elements",
    ),
    pytest.param(
        ellipsis_with_other_member,
        DisclosureRefused,
        Code.DISCLOSURE_MALFORMED,
        id="CR-18-ellipsis-object-with-other-member",
    ),
    pytest.param(
        sd_not_an_array, DisclosureRefused, Code.DISCLOSURE_MALFORMED, id="CR-19-_sd-not-an-array"
    ),
    pytest.param(
        lambda w: with_new_disclosure(w, raw_disclosure(["c2FsdA", 5, "x"])),
        DisclosureRefused,
        Code.DISCLOSURE_MALFORMED,
        id="CR-20-name-not-a-string",
    ),
    pytest.param(
        lambda w: crafted(w, lambda p: p["_sd"].append(5)),
        DisclosureRefused,
        Code.DISCLOSURE_MALFORMED,
        id="CR-21-_sd-digest-not-a-string",
    ),
    pytest.param(
        lambda w: crafted(w, lambda p: p["status"].update(_sd_alg="sha-256")),
        DisclosureRefused,
        Code.CLAIM_NAME_CONFLICT,
        id="CR-22-nested-_sd_alg",
    ),
    pytest.param(
        lambda w: crafted(w, lambda p: p.update({"...": "x"})),
        DisclosureRefused,
        Code.CLAIM_NAME_CONFLICT,
        id="CR-23-plain-claim-named-ellipsis",
    ),
    # T6 cross-JWT confusion
    pytest.param(
        typ_of("vc+sd-jwt"), SignatureRefused, Code.TYP_MISMATCH, id="CR-24-typ-vc+sd-jwt"
    ),
    pytest.param(
        typ_of("example+sd-jwt"), SignatureRefused, Code.TYP_MISMATCH, id="CR-25-typ-example+sd-jwt"
    ),
    pytest.param(
        kb_jwt_as_credential, SignatureRefused, Code.TYP_MISMATCH, id="CR-26-kb-jwt-as-credential"
    ),
    pytest.param(
        other_token_as_credential("regie-consent+jwt"),
        SignatureRefused,
        Code.TYP_MISMATCH,
        id="CR-27-consent-token-as-credential",
    ),
    pytest.param(
        other_token_as_credential("statuslist+jwt"),
        SignatureRefused,
        Code.TYP_MISMATCH,
        id="CR-28-status-list-token-as-credential",
    ),
    pytest.param(alg_none, SignatureRefused, Code.ALGORITHM_REFUSED, id="CR-29-alg-none"),
    pytest.param(
        header_member(jwk={"kty": "OKP"}),
        SignatureRefused,
        Code.HEADER_REFUSED,
        id="CR-30-header-embeds-jwk",
    ),
    pytest.param(
        header_member(x5c=["MIIB"]), SignatureRefused, Code.HEADER_REFUSED, id="CR-31-header-x5c"
    ),
    # T13 rogue issuer
    pytest.param(
        policy(issuer_keys={"https://other.example": {}}),
        SignatureRefused,
        Code.ISSUER_UNTRUSTED,
        id="CR-32-issuer-not-trusted",
    ),
    pytest.param(
        policy(issuer_keys=lambda iss: None),
        SignatureRefused,
        Code.ISSUER_UNTRUSTED,
        id="CR-33-issuer-unknown-to-trust-source",
    ),
    pytest.param(
        lambda w: issued_by(w, SigningKey.generate(w.issuer.alg)),
        SignatureRefused,
        Code.KEY_UNKNOWN,
        id="CR-34-trusted-iss-other-key-with-kid",
    ),
    pytest.param(
        lambda w: issued_by(w, SigningKey.generate(w.issuer.alg), kid=False),
        SignatureRefused,
        Code.SIGNATURE_INVALID,
        id="CR-35-trusted-iss-other-key-no-kid",
    ),
    pytest.param(
        payload_changed_after_signing,
        SignatureRefused,
        Code.SIGNATURE_INVALID,
        id="CR-36-payload-changed-after-signing",
    ),
    # T8 time
    pytest.param(
        lambda w: presented(exp=w.now - LEEWAY)(w), TimeRefused, Code.EXPIRED, id="CR-37-expired"
    ),
    pytest.param(
        lambda w: presented(nbf=w.now + LEEWAY + 1)(w),
        TimeRefused,
        Code.NOT_YET_VALID,
        id="CR-38-nbf-in-future",
    ),
    pytest.param(
        lambda w: presented(iat=w.now + LEEWAY + 1)(w),
        TimeRefused,
        Code.ISSUED_IN_FUTURE,
        id="CR-39-iat-in-future",
    ),
    pytest.param(
        presented(exp="2030-01-01"), ClaimRefused, Code.CLAIM_INVALID, id="CR-40-exp-not-integer"
    ),
    # T11 key binding
    pytest.param(kb_stripped, KeyBindingRefused, Code.KEY_BINDING_MISSING, id="CR-41-kb-stripped"),
    pytest.param(
        policy(key_binding=NoKeyBinding()),
        KeyBindingRefused,
        Code.KEY_BINDING_UNEXPECTED,
        id="CR-42-kb-present-while-not-expected",
    ),
    pytest.param(
        disclosure_dropped_after_binding,
        KeyBindingRefused,
        Code.SD_HASH_MISMATCH,
        id="CR-43-disclosure-dropped-after-binding",
    ),
    pytest.param(
        disclosure_added_after_binding,
        KeyBindingRefused,
        Code.SD_HASH_MISMATCH,
        id="CR-44-disclosure-added-after-binding",
    ),
    pytest.param(
        kb(sd_hash="G3I8z-cFMATAK2ep8MXWk-vnjI3X6-aahYeU9Tvzz3E"),
        KeyBindingRefused,
        Code.SD_HASH_MISMATCH,
        id="CR-45-wrong-sd_hash",
    ),
    pytest.param(
        kb_by(lambda w: SigningKey.generate(w.holder.alg)),
        KeyBindingRefused,
        Code.SIGNATURE_INVALID,
        id="CR-46-kb-signed-by-other-key",
    ),
    pytest.param(
        kb_by(lambda w: other_key_type(w.holder)),
        KeyBindingRefused,
        Code.KEY_BINDING_INVALID,
        id="CR-47-kb-alg-of-other-key-type",
    ),
    pytest.param(
        kb_by(lambda w: w.holder, typ="JWT"),
        KeyBindingRefused,
        Code.KEY_BINDING_INVALID,
        id="CR-48-kb-typ-JWT",
    ),
    pytest.param(
        kb_by(lambda w: w.holder, typ="dc+sd-jwt"),
        KeyBindingRefused,
        Code.KEY_BINDING_INVALID,
        id="CR-49-kb-typ-of-credential",
    ),
    pytest.param(
        kb_header_member,
        KeyBindingRefused,
        Code.KEY_BINDING_INVALID,
        id="CR-50-kb-header-embeds-jwk",
    ),
    pytest.param(
        lambda w: kb(iat=w.now - 300 - LEEWAY - 1)(w),
        TimeRefused,
        Code.EXPIRED,
        id="CR-51-kb-stale",
    ),
    pytest.param(
        lambda w: kb(iat=w.now + LEEWAY + 1)(w),
        TimeRefused,
        Code.ISSUED_IN_FUTURE,
        id="CR-52-kb-iat-in-future",
    ),
    pytest.param(kb(iat="now"), ClaimRefused, Code.CLAIM_INVALID, id="CR-53-kb-iat-not-integer"),
    pytest.param(
        kb(nonce="other-nonce"), KeyBindingRefused, Code.NONCE_MISMATCH, id="CR-54-kb-wrong-nonce"
    ),
    pytest.param(
        kb(aud="https://other.example"),
        KeyBindingRefused,
        Code.AUDIENCE_MISMATCH,
        id="CR-55-kb-wrong-aud",
    ),
    pytest.param(
        kb(aud=[AUDIENCE]), KeyBindingRefused, Code.AUDIENCE_MISMATCH, id="CR-56-kb-aud-array"
    ),
    pytest.param(
        kb(sd_hash=DROP), KeyBindingRefused, Code.KEY_BINDING_INVALID, id="CR-57-kb-without-sd_hash"
    ),
    pytest.param(
        kb(nonce=DROP), KeyBindingRefused, Code.KEY_BINDING_INVALID, id="CR-58-kb-without-nonce"
    ),
    pytest.param(
        cnf_of(DROP),
        KeyBindingRefused,
        Code.KEY_BINDING_INVALID,
        id="CR-59-no-cnf-while-kb-required",
    ),
    pytest.param(
        cnf_of({"jkt": "abc"}),
        KeyBindingRefused,
        Code.KEY_BINDING_INVALID,
        id="CR-60-cnf-without-jwk",
    ),
    pytest.param(
        cnf_private_key, KeyRefused, Code.PRIVATE_KEY_REFUSED, id="CR-61-cnf-carries-private-key"
    ),
    pytest.param(
        cnf_other_key, KeyBindingRefused, Code.SIGNATURE_INVALID, id="CR-62-cnf-names-other-key"
    ),
    # T18/T19 status
    pytest.param(status_of(Status.INVALID), StatusRefused, Code.REVOKED, id="CR-63-revoked"),
    pytest.param(status_of(Status.SUSPENDED), StatusRefused, Code.SUSPENDED, id="CR-64-suspended"),
    pytest.param(
        status_of(3), StatusRefused, Code.STATUS_UNKNOWN, id="CR-65-status-application-specific"
    ),
    pytest.param(
        presented(status={"status_list": {"idx": "7", "uri": "https://s"}}),
        ClaimRefused,
        Code.CLAIM_INVALID,
        id="CR-66-status-idx-not-integer",
    ),
    pytest.param(
        presented(status={"other_mechanism": {}}),
        ClaimRefused,
        Code.CLAIM_INVALID,
        id="CR-67-status-mechanism-unknown",
    ),
    # T13 credential type
    pytest.param(
        policy(accepted_vcts={"https://credentials.example/vct/diploma"}),
        ClaimRefused,
        Code.CLAIM_INVALID,
        id="CR-68-vct-not-accepted",
    ),
    pytest.param(
        lambda w: crafted(w, lambda p: p.pop("vct")),
        ClaimRefused,
        Code.CLAIM_MISSING,
        id="CR-69-vct-missing",
    ),
    pytest.param(
        lambda w: crafted(w, lambda p: p.pop("iss")),
        ClaimRefused,
        Code.CLAIM_MISSING,
        id="CR-70-iss-missing",
    ),
    pytest.param(
        lambda w: crafted(w, lambda p: p.update(iss=["https://issuer.example/brp"])),
        ClaimRefused,
        Code.CLAIM_INVALID,
        id="CR-71-iss-not-a-string",
    ),
    pytest.param(
        lambda w: crafted(w, lambda p: p.update(vct=5)),
        ClaimRefused,
        Code.CLAIM_INVALID,
        id="CR-72-vct-not-a-string",
    ),
    pytest.param(cnf_of("abc"), ClaimRefused, Code.CLAIM_INVALID, id="CR-73-cnf-not-an-object"),
    # T9 resource exhaustion
    pytest.param(
        too_many_disclosures, MalformedInput, Code.SIZE_EXCEEDED, id="CR-74-too-many-disclosures"
    ),
    pytest.param(too_large, MalformedInput, Code.SIZE_EXCEEDED, id="CR-75-too-large"),
    pytest.param(
        too_deep, MalformedInput, Code.DEPTH_EXCEEDED, id="CR-76-recursive-disclosures-too-deep"
    ),
    pytest.param(sd_too_long, MalformedInput, Code.SIZE_EXCEEDED, id="CR-77-_sd-too-long"),
]


@pytest.mark.parametrize(("build", "exc", "code"), CASES)
def test_refused(world: World, build: Build, exc: type[RegieError], code: Code) -> None:
    world.verify(world.good())  # positive control
    token, overrides = build(world)
    with pytest.raises(RegieError) as caught:
        world.verify(token, **overrides)
    assert type(caught.value) is exc, caught.value
    assert caught.value.code is code, caught.value


@dataclass
class Tally:
    tried: int = 0
    accepted: int = 0


def test_tally(capsys: pytest.CaptureFixture[str]) -> None:
    """The figure for SECURITY.md: credential attack cases tried / accepted, both key types."""
    tally = Tally()
    for algs in ((Alg.EDDSA, Alg.EDDSA), (Alg.ES256, Alg.ES256)):
        w = World.make(*algs)
        w.verify(w.good())
        for case in CASES:
            build = case.values[0]
            token, overrides = build(w)
            tally.tried += 1
            try:
                w.verify(token, **overrides)
            except RegieError:
                continue
            tally.accepted += 1
    with capsys.disabled():
        print(f"\n{tally.tried} credential attack cases tried, {tally.accepted} accepted")
    assert tally.accepted == 0


# --- accepted edges: the positive side of the boundaries above ----------------------------

ACCEPTED = [
    pytest.param(lambda w: w.good(), {}, id="baseline"),
    pytest.param(
        lambda w: w.present(w.issue(w.payload(exp=w.now - LEEWAY + 1))), {}, id="exp-within-leeway"
    ),
    pytest.param(
        lambda w: w.present(w.issue(w.payload(nbf=w.now + LEEWAY))), {}, id="nbf-within-leeway"
    ),
    pytest.param(
        lambda w: w.present(w.issue(w.payload(iat=DROP, exp=DROP))), {}, id="no-iat-no-exp"
    ),
    pytest.param(lambda w: w.present(w.issue(w.payload(status=DROP))), {}, id="no-status-claim"),
    pytest.param(
        lambda w: w.present(now=w.now - 300 - LEEWAY), {}, id="kb-exactly-max-age-plus-leeway"
    ),
    pytest.param(lambda w: w.present(now=w.now + LEEWAY), {}, id="kb-iat-within-leeway"),
    pytest.param(lambda w: w.present(disclose=()), {}, id="nothing-disclosed"),
    pytest.param(lambda w: w.present(w.issue(decoys=0)), {}, id="no-decoys"),
    pytest.param(lambda w: w.present(w.issue(kid=False)), {}, id="no-kid-one-trusted-key"),
    pytest.param(lambda w: w.good(), {"accepted_vcts": None}, id="any-vct-on-purpose"),
    pytest.param(
        lambda w: w.good(), {"status": UNSAFE_SKIP_STATUS}, id="status-skipped-on-purpose"
    ),
    pytest.param(
        lambda w: w.present(holder_key=None, audience=None, nonce=None, now=None),
        {"key_binding": NoKeyBinding()},
        id="no-kb-when-not-required",
    ),
]


@pytest.mark.parametrize(("build", "overrides"), ACCEPTED)
def test_accepted(world: World, build: Callable[[World], str], overrides: dict[str, Any]) -> None:
    verified = world.verify(build(world), **overrides)
    assert verified.issuer == ISS
    assert verified.vct == VCT


def test_verified_result(world: World) -> None:
    verified = world.verify(world.good())
    claims = verified.claims
    assert claims["given_name"] == "Jan"
    assert claims["address"] == {"street": "Dorpsstraat 1", "locality": "Utrecht"}
    assert claims["nationalities"] == ["NL", "DE"]
    assert "family_name" not in claims and "age_over_18" not in claims
    assert "_sd" not in claims and "_sd_alg" not in claims and "_sd" not in claims["address"]
    assert verified.disclosed_paths == {
        ("given_name",),
        ("address",),
        ("address", "street"),
        ("nationalities", 0),
    }
    assert verified.holder_key == world.holder.public_key
    assert verified.key_binding is not None
    assert verified.key_binding["aud"] == AUDIENCE and verified.key_binding["nonce"] == NONCE
    assert verified.status == ("https://issuer.example/status/1", 7)
    assert verified.header["typ"] == "dc+sd-jwt"
