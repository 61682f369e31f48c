"""Independent checks: PyJWT verifies Regie's status list tokens; plain zlib reads the bits.

Nothing here decodes through Regie: the token goes to PyJWT with the public
JWK, and ``lst`` is inflated with :mod:`zlib` and read by hand, so a wrong bit
order or compression format in Regie would show up against the draft's bytes.
"""

from __future__ import annotations

import base64
import time
import zlib

import jwt
import pytest

from regie_protocol.keys import SigningKey
from regie_protocol.statuslist import STATUS_LIST_TYP, StatusList, sign_status_list

pytestmark = pytest.mark.interop

URI = "https://issuer.example/statuslists/1"
# the draft's examples (section "Status List in JSON Format"): statuses and their bytes
DRAFT_1_BIT = ([1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1], bytes([0xB9, 0xA3]))
DRAFT_2_BIT = ([1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3], bytes([0xC9, 0x44, 0xF9]))
DRAFT_1_BIT_LONG = [0, 1993, 25460, 159495, 495669, 554353, 645645, 723232, 854545, 934534, 1000345]


def _inflate_lst(lst: str) -> bytes:
    return zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))


def _pyjwt_decode(token: str, key: SigningKey) -> dict[str, object]:
    header = jwt.get_unverified_header(token)
    assert header["typ"] == STATUS_LIST_TYP
    return jwt.decode(
        token,
        jwt.PyJWK(key.public_key.to_jwk()),
        algorithms=[key.alg.value],
        subject=URI,
        options={"require": ["sub", "iat", "exp"]},
    )


@pytest.mark.parametrize(
    ("bits", "example"), [(1, DRAFT_1_BIT), (2, DRAFT_2_BIT)], ids=["1-bit", "2-bit"]
)
def test_pyjwt_verifies_and_zlib_reads_the_drafts_bytes(
    signing_key: SigningKey, bits: int, example: tuple[list[int], bytes]
) -> None:
    statuses, draft_bytes = example
    lst = StatusList(bits, len(statuses))  # type: ignore[arg-type]
    for idx, value in enumerate(statuses):
        lst.set(idx, value)
    iat = int(time.time()) - 60  # PyJWT reads the real clock
    token = sign_status_list(lst, key=signing_key, uri=URI, iat=iat, exp=iat + 3600, ttl=300)

    claims = _pyjwt_decode(token, signing_key)
    assert claims["sub"] == URI
    assert claims["ttl"] == 300
    status_list = claims["status_list"]
    assert isinstance(status_list, dict)
    assert status_list["bits"] == bits
    assert _inflate_lst(status_list["lst"]) == draft_bytes


def test_pyjwt_refuses_a_regie_token_under_another_key(signing_key: SigningKey) -> None:
    iat = int(time.time()) - 60
    token = sign_status_list(
        StatusList(1, 8), key=signing_key, uri=URI, iat=iat, exp=iat + 3600, ttl=None
    )
    with pytest.raises(jwt.InvalidSignatureError):
        _pyjwt_decode(token, SigningKey.generate(signing_key.alg))


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_zlib_reads_a_long_list_least_significant_bit_first(bits: int) -> None:
    lst = StatusList(bits, 2**20)  # type: ignore[arg-type]
    mask = (1 << bits) - 1
    expected = {idx: (n % mask) + 1 for n, idx in enumerate(DRAFT_1_BIT_LONG)}
    for idx, value in expected.items():
        lst.set(idx, value)
    encoded = lst.encode()
    raw = _inflate_lst(encoded["lst"])
    assert len(raw) == 2**20 * bits // 8
    read = {}
    per_byte = 8 // bits
    for byte_index, byte in enumerate(raw):
        for slot in range(per_byte) if byte else ():
            value = (byte >> (slot * bits)) & mask
            if value:
                read[byte_index * per_byte + slot] = value
    assert read == expected  # and no other entry is set
