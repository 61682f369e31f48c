"""RV-*: revocation refusals, as a table (SECURITY.md T9, T19; STYLE habit 19).

Every case starts from a good Status List Token that passes the whole verifier
pipeline (verify the token, refuse a rollback against the cache, check the
entry), applies ONE change and asserts the exact exception class and code.
RV-10..RV-13 (cache freshness, outages, TOCTOU, linkability) belong to the
verifier's cache and host and are tested there.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import pytest

from regie_protocol._encoding import b64url_decode, b64url_encode, dumps_compact
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    MalformedInput,
    RegieError,
    SignatureRefused,
    StatusRefused,
    TimeRefused,
)
from regie_protocol.jws import Keys
from regie_protocol.keys import Alg, SigningKey
from regie_protocol.limits import Limits
from regie_protocol.statuslist import (
    STATUS_LIST_TYP,
    StatusList,
    VerifiedStatusList,
    check_status,
    newer_than,
    verify_status_list,
)
from tests.conftest import NOW

URI = "https://issuer.example/statuslists/7"
SIZE = 1024
IDX_VALID, IDX_REVOKED, IDX_SUSPENDED, IDX_APPLICATION = 5, 10, 20, 30
IAT, EXP, TTL = NOW - 600, NOW + 3600, 300
#: small enough that a bomb is cut off at once; the good list (256 bytes) fits
LIMITS = Limits(max_status_list_bytes=4096)
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _good_list() -> StatusList:
    lst = StatusList(2, SIZE)
    lst.set(IDX_REVOKED, 1)
    lst.set(IDX_SUSPENDED, 2)
    lst.set(IDX_APPLICATION, 3)
    # RV-06 needs an `lst` whose last base64url character has unused bits
    filler = 100
    while len(lst.encode()["lst"]) % 4 == 0:
        lst.set(filler, 1)
        filler += 1
    return lst


GOOD_LIST = _good_list()
GOOD_BYTES = GOOD_LIST.to_bytes()


@cache
def _bomb_lst() -> str:
    """100 MB of zeros, ZLIB-compressed (about 100 kB), built without holding 100 MB."""
    deflater = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    parts = [deflater.compress(chunk) for _ in range(100)]
    parts.append(deflater.flush())
    return b64url_encode(b"".join(parts))


def _lst(data: bytes) -> str:
    return b64url_encode(data)


def _noncanonical(lst: str) -> str:
    """The same bytes with an unused low bit of the last character set (RFC 4648 §3.5)."""
    assert len(lst) % 4 in (2, 3)
    return lst[:-1] + _ALPHABET[_ALPHABET.index(lst[-1]) | 1]


def _sign(header: dict[str, Any], claims: dict[str, Any], key: SigningKey) -> str:
    signing_input = (
        b64url_encode(dumps_compact(header)) + "." + b64url_encode(dumps_compact(claims))
    )
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))


@dataclass
class Case:
    """One input to the verifier pipeline; the good one is accepted."""

    signer: SigningKey
    other: SigningKey  # same algorithm, not trusted
    keys: Keys
    header: dict[str, Any]
    claims: dict[str, Any]
    uri: str = URI
    now: int = NOW
    idx: int = IDX_VALID
    cached_iat: int | None = IAT - 3600
    limits: Limits = LIMITS
    tamper: Callable[[str], str] | None = field(default=None)


def _good(signer: SigningKey, other: SigningKey) -> Case:
    return Case(
        signer=signer,
        other=other,
        keys={signer.kid: signer.public_key},
        header={"alg": signer.alg.value, "typ": STATUS_LIST_TYP, "kid": signer.kid},
        claims={
            "sub": URI,
            "iat": IAT,
            "exp": EXP,
            "ttl": TTL,
            "iss": "https://issuer.example",
            "status_list": GOOD_LIST.encode(),
        },
    )


def _run(case: Case) -> VerifiedStatusList:
    token = _sign(case.header, case.claims, case.signer)
    if case.tamper is not None:
        token = case.tamper(token)
    verified = verify_status_list(
        token, keys=case.keys, uri=case.uri, now=case.now, limits=case.limits
    )
    cached = None
    if case.cached_iat is not None:
        older = replace(case, claims={**case.claims, "iat": case.cached_iat}, cached_iat=None)
        cached = verify_status_list(
            _sign(older.header, older.claims, older.signer),
            keys=case.keys,
            uri=URI,
            now=case.now,
            limits=case.limits,
        )
    newer_than(verified, cached)
    check_status(verified, case.idx)
    return verified


def _set(path: str, value: Any) -> Callable[[Case], None]:
    """A change to one claim (``status_list.bits``) or header member (``header.typ``)."""

    def change(case: Case) -> None:
        *parents, last = path.split(".")
        target: dict[str, Any] = case.header if parents[:1] == ["header"] else case.claims
        for name in parents[1:] if parents[:1] == ["header"] else parents:
            target = target[name]
        target[last] = value

    return change


def _delete(path: str) -> Callable[[Case], None]:
    def change(case: Case) -> None:
        *parents, last = path.split(".")
        target: dict[str, Any] = case.header if parents[:1] == ["header"] else case.claims
        for name in parents[1:] if parents[:1] == ["header"] else parents:
            target = target[name]
        del target[last]

    return change


def _attr(name: str, value: Any) -> Callable[[Case], None]:
    def change(case: Case) -> None:
        setattr(case, name, value)

    return change


def _lst_bytes(make: Callable[[bytes], bytes]) -> Callable[[Case], None]:
    """Replace ``lst`` with base64url of ``make(uncompressed good bytes)``."""
    return lambda case: _set("status_list.lst", _lst(make(GOOD_BYTES)))(case)


def _lst_text(make: Callable[[str], str]) -> Callable[[Case], None]:
    def change(case: Case) -> None:
        case.claims["status_list"]["lst"] = make(case.claims["status_list"]["lst"])

    return change


def _compress(data: bytes, wbits: int) -> bytes:
    deflater = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return deflater.compress(data) + deflater.flush()


def _sign_with_other(case: Case) -> None:
    case.signer = case.other
    case.header["kid"] = case.other.kid


def _trust_other_under_same_kid(case: Case) -> None:
    case.keys = {case.signer.kid: case.other.public_key}


def _other_family_alg(case: Case) -> None:
    case.header["alg"] = Alg.ES256.value if case.signer.alg is Alg.EDDSA else Alg.EDDSA.value


def _unrevoke_payload(case: Case) -> None:
    """Clear the revoked entry in the payload and keep the issuer's signature."""
    forged = GOOD_LIST.copy()
    forged.set(IDX_REVOKED, 0)
    payload = b64url_encode(dumps_compact({**case.claims, "status_list": forged.encode()}))

    def tamper(token: str) -> str:
        header, _, signature = token.split(".")
        return f"{header}.{payload}.{signature}"

    case.tamper = tamper
    case.idx = IDX_REVOKED


def _alg_none(case: Case) -> None:
    def tamper(token: str) -> str:
        _, payload, _ = token.split(".")
        header = b64url_encode(dumps_compact({"alg": "none", "typ": STATUS_LIST_TYP}))
        return f"{header}.{payload}."

    case.tamper = tamper


def _list_8_bit_with(value: int) -> Callable[[Case], None]:
    lst = StatusList(8, SIZE)
    lst.set(IDX_VALID, value)
    return _set("status_list", lst.encode())


R = StatusRefused
M = MalformedInput
C = ClaimRefused
T = TimeRefused
S = SignatureRefused

CASES: list[tuple[str, Callable[[Case], None], type[RegieError], Code]] = [
    # the entry's status
    ("RV-01-revoked", _attr("idx", IDX_REVOKED), R, Code.REVOKED),
    ("RV-01-revoked-bit-cleared-in-payload", _unrevoke_payload, S, Code.SIGNATURE_INVALID),
    ("RV-02-suspended", _attr("idx", IDX_SUSPENDED), R, Code.SUSPENDED),
    ("RV-03-application-specific-0x03", _attr("idx", IDX_APPLICATION), R, Code.STATUS_UNKNOWN),
    ("RV-03-reserved-0x42", _list_8_bit_with(0x42), R, Code.STATUS_UNKNOWN),
    ("RV-03-application-specific-0x0f", _list_8_bit_with(0x0F), R, Code.STATUS_UNKNOWN),
    ("RV-04-index-equals-size", _attr("idx", SIZE), R, Code.STATUS_INDEX_OUT_OF_RANGE),
    ("RV-04-index-far-out", _attr("idx", 2**40), R, Code.STATUS_INDEX_OUT_OF_RANGE),
    ("RV-04-index-negative", _attr("idx", -1), R, Code.STATUS_INDEX_OUT_OF_RANGE),
    # bits
    ("RV-05-bits-0", _set("status_list.bits", 0), M, Code.STATUS_LIST_INVALID),
    ("RV-05-bits-3", _set("status_list.bits", 3), M, Code.STATUS_LIST_INVALID),
    ("RV-05-bits-16", _set("status_list.bits", 16), M, Code.STATUS_LIST_INVALID),
    ("RV-05-bits-negative", _set("status_list.bits", -2), M, Code.STATUS_LIST_INVALID),
    ("RV-05-bits-string", _set("status_list.bits", "2"), M, Code.STATUS_LIST_INVALID),
    ("RV-05-bits-true", _set("status_list.bits", True), M, Code.STATUS_LIST_INVALID),
    ("RV-05-bits-float", _set("status_list.bits", 2.0), M, Code.STATUS_LIST_INVALID),
    ("RV-05-bits-null", _set("status_list.bits", None), M, Code.STATUS_LIST_INVALID),
    ("RV-05-bits-missing", _delete("status_list.bits"), M, Code.STATUS_LIST_INVALID),
    # lst: base64url
    ("RV-06-lst-padded", _lst_text(lambda s: s + "="), M, Code.STATUS_LIST_INVALID),
    ("RV-06-lst-std-alphabet", _lst_text(lambda s: "+" + s[1:]), M, Code.STATUS_LIST_INVALID),
    ("RV-06-lst-wrapped", _lst_text(lambda s: s[:8] + "\n" + s[8:]), M, Code.STATUS_LIST_INVALID),
    ("RV-06-lst-noncanonical-tail", _lst_text(_noncanonical), M, Code.STATUS_LIST_INVALID),
    ("RV-06-lst-non-ascii", _lst_text(lambda s: s[:-1] + "é"), M, Code.STATUS_LIST_INVALID),
    ("RV-06-lst-number", _set("status_list.lst", 12345), M, Code.STATUS_LIST_INVALID),
    ("RV-06-lst-array", _set("status_list.lst", ["eNo"]), M, Code.STATUS_LIST_INVALID),
    ("RV-06-lst-null", _set("status_list.lst", None), M, Code.STATUS_LIST_INVALID),
    ("RV-06-lst-missing", _delete("status_list.lst"), M, Code.STATUS_LIST_INVALID),
    # lst: ZLIB
    ("RV-06-lst-empty-string", _set("status_list.lst", ""), M, Code.STATUS_LIST_INVALID),
    ("RV-06-lst-uncompressed", _lst_bytes(lambda d: d), M, Code.STATUS_LIST_INVALID),
    ("RV-06-lst-raw-deflate", _lst_bytes(lambda d: _compress(d, -15)), M, Code.STATUS_LIST_INVALID),
    ("RV-06-lst-gzip", _lst_bytes(lambda d: _compress(d, 31)), M, Code.STATUS_LIST_INVALID),
    (
        "RV-06-lst-truncated-no-checksum",
        _lst_bytes(lambda d: zlib.compress(d, 9)[:-4]),
        M,
        Code.STATUS_LIST_INVALID,
    ),
    (
        "RV-06-lst-bad-checksum",
        _lst_bytes(lambda d: zlib.compress(d, 9)[:-1] + bytes([zlib.compress(d, 9)[-1] ^ 1])),
        M,
        Code.STATUS_LIST_INVALID,
    ),
    (
        "RV-06-lst-trailing-bytes",
        _lst_bytes(lambda d: zlib.compress(d, 9) + b"\x00"),
        M,
        Code.STATUS_LIST_INVALID,
    ),
    (
        "RV-06-lst-empty-list",
        _lst_bytes(lambda d: zlib.compress(b"", 9)),
        M,
        Code.STATUS_LIST_INVALID,
    ),
    ("RV-06-status-list-string", _set("status_list", "eNo"), M, Code.STATUS_LIST_INVALID),
    ("RV-06-status-list-array", _set("status_list", [2, "eNo"]), M, Code.STATUS_LIST_INVALID),
    ("RV-06-status-list-missing", _delete("status_list"), C, Code.CLAIM_MISSING),
    # T9: sizes
    (
        "RV-07-decompression-bomb-100MB",
        lambda c: _set("status_list.lst", _bomb_lst())(c),
        M,
        Code.SIZE_EXCEEDED,
    ),
    (
        "RV-07-one-byte-over-limit",
        _lst_bytes(lambda d: zlib.compress(bytes(LIMITS.max_status_list_bytes + 1), 9)),
        M,
        Code.SIZE_EXCEEDED,
    ),
    (
        "RV-07-token-over-limit",
        _attr("limits", replace(LIMITS, max_status_list_token_bytes=200)),
        M,
        Code.SIZE_EXCEEDED,
    ),
    # T19: rollback and expiry
    ("RV-08-older-than-cached", _attr("cached_iat", IAT + 1), R, Code.STATUS_LIST_INVALID),
    ("RV-09-expired", _attr("now", EXP + LIMITS.leeway_seconds), T, Code.EXPIRED),
    ("RV-09-issued-in-future", _set("iat", NOW + 61), T, Code.ISSUED_IN_FUTURE),
    ("RV-09-exp-not-integer", _set("exp", float(EXP)), C, Code.CLAIM_INVALID),
    ("RV-09-iat-missing", _delete("iat"), C, Code.CLAIM_MISSING),
    ("RV-09-iat-string", _set("iat", str(IAT)), C, Code.CLAIM_INVALID),
    ("RV-09-ttl-zero", _set("ttl", 0), C, Code.CLAIM_INVALID),
    ("RV-09-ttl-negative", _set("ttl", -300), C, Code.CLAIM_INVALID),
    ("RV-09-ttl-string", _set("ttl", "300"), C, Code.CLAIM_INVALID),
    ("RV-09-ttl-float", _set("ttl", 300.5), C, Code.CLAIM_INVALID),
    ("RV-09-ttl-true", _set("ttl", True), C, Code.CLAIM_INVALID),
    # T6: token type and subject
    ("RV-14-typ-jwt", _set("header.typ", "JWT"), S, Code.TYP_MISMATCH),
    ("RV-14-typ-sd-jwt-credential", _set("header.typ", "dc+sd-jwt"), S, Code.TYP_MISMATCH),
    ("RV-14-typ-missing", _delete("header.typ"), S, Code.TYP_MISMATCH),
    ("RV-15-sub-other-list", _set("sub", URI[:-1] + "8"), C, Code.CLAIM_INVALID),
    ("RV-15-fetched-from-other-uri", _attr("uri", URI + "/"), C, Code.CLAIM_INVALID),
    ("RV-15-sub-array", _set("sub", [URI]), C, Code.CLAIM_INVALID),
    ("RV-15-sub-missing", _delete("sub"), C, Code.CLAIM_MISSING),
    # T1-T3: key and algorithm
    ("RV-16-untrusted-signer", _sign_with_other, S, Code.KEY_UNKNOWN),
    ("RV-16-wrong-key-same-kid", _trust_other_under_same_kid, S, Code.SIGNATURE_INVALID),
    ("RV-16-alg-of-other-key-type", _other_family_alg, S, Code.ALGORITHM_REFUSED),
    ("RV-16-alg-none", _alg_none, S, Code.ALGORITHM_REFUSED),
    ("RV-16-embedded-jwk", _set("header.jwk", {"kty": "OKP"}), S, Code.HEADER_REFUSED),
]


@pytest.fixture
def other_key(signing_key: SigningKey) -> SigningKey:
    return SigningKey.generate(signing_key.alg)


def test_good_case_is_accepted(signing_key: SigningKey, other_key: SigningKey) -> None:
    verified = _run(_good(signing_key, other_key))
    assert (verified.uri, verified.iat, verified.exp, verified.ttl) == (URI, IAT, EXP, TTL)
    assert verified.list == GOOD_LIST
    assert len(GOOD_LIST.encode()["lst"]) % 4 != 0  # precondition of RV-06-lst-noncanonical-tail


@pytest.mark.parametrize(
    ("change", "error", "code"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_refused(
    signing_key: SigningKey,
    other_key: SigningKey,
    change: Callable[[Case], None],
    error: type[RegieError],
    code: Code,
) -> None:
    _run(_good(signing_key, other_key))  # positive control
    case = _good(signing_key, other_key)
    change(case)
    with pytest.raises(error) as raised:
        _run(case)
    assert type(raised.value) is error
    assert raised.value.code == code


def test_case_ids_are_unique() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))


def test_bomb_is_refused_without_inflating_it() -> None:
    """The 100 MB bomb under the default limits: peak memory stays near the 16 MiB cap."""
    import tracemalloc

    from regie_protocol.limits import DEFAULT_LIMITS

    bomb = _bomb_lst()
    assert len(b64url_decode(bomb)) < 200_000
    obj = {"bits": 1, "lst": bomb}
    tracemalloc.start()
    try:
        with pytest.raises(MalformedInput) as raised:
            StatusList.decode(obj)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raised.value.code == Code.SIZE_EXCEEDED
    # the output buffer (a bytearray over-allocates by at most 1/8) and the input, not 100 MB
    assert peak < DEFAULT_LIMITS.max_status_list_bytes * 5 // 4


def test_list_exactly_at_the_limit_is_accepted() -> None:
    data = bytes(LIMITS.max_status_list_bytes)
    lst = StatusList.decode({"bits": 8, "lst": _lst(zlib.compress(data, 9))}, limits=LIMITS)
    assert lst.size == LIMITS.max_status_list_bytes


def test_tally(capsys: pytest.CaptureFixture[str]) -> None:
    """Rerun the table for both key types and print the figure for SECURITY.md.

    A case counts as refused only with its exact exception class and code.
    """
    tried = 0
    accepted: list[str] = []
    wrong_reason: list[tuple[str, RegieError]] = []
    for alg in (Alg.EDDSA, Alg.ES256):
        signer, other = SigningKey.generate(alg), SigningKey.generate(alg)
        _run(_good(signer, other))  # positive control
        for name, change, error, code in CASES:
            tried += 1
            case = _good(signer, other)
            change(case)
            try:
                _run(case)
            except RegieError as refusal:
                if type(refusal) is not error or refusal.code is not code:
                    wrong_reason.append((f"{alg}:{name}", refusal))
            else:
                accepted.append(f"{alg}:{name}")
    with capsys.disabled():
        print(f"\n{tried} revocation cases tried, {len(accepted)} accepted")
    assert accepted == []
    assert wrong_reason == []
    assert tried == 2 * len(CASES)
