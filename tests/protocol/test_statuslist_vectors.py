"""The Token Status List draft's own examples and test vectors (tests/vectors/ietf-status-list).

Each ``status_list_encoding*.md`` file is one case, named by its file. A file
with a ``byte_array`` line gives the exact uncompressed bytes; a 2^20-entry
list takes its expected statuses from the draft's test-vector section
(``test-vectors-section.md``), matched by ``bits``. Every entry not listed
there is 0.
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path
from typing import Any

import pytest

from regie_protocol import jws
from regie_protocol.keys import public_key_from_jwk
from regie_protocol.statuslist import (
    STATUS_LIST_PROFILE,
    STATUS_LIST_TYP,
    Status,
    StatusList,
    verify_status_list,
)

VECTORS = Path(__file__).parent.parent / "vectors" / "ietf-status-list"
ENCODING_FILES = sorted(VECTORS.glob("status_list_encoding*.md"))
DRAFT_SIZE = 2**20
# classic zlib at level 9 reproduces the draft's bytes; zlib-ng and others may not
CLASSIC_ZLIB = "ng" not in zlib.ZLIB_RUNTIME_VERSION.lower()


def _expected_statuses() -> dict[int, dict[int, int]]:
    """bits -> {index: value} from the draft section "Test vectors for Status List encoding"."""
    text = (VECTORS / "test-vectors-section.md").read_text(encoding="utf-8")
    result: dict[int, dict[int, int]] = {}
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        bits = int(re.match(r"(\d)-bit Status List", section).group(1))  # type: ignore[union-attr]
        pairs = re.findall(r"status\[(\d+)\]\s*=\s*0b([01]+)", section)
        result[bits] = {int(idx): int(value, 2) for idx, value in pairs}
    return result


EXPECTED = _expected_statuses()


def _json_object(text: str) -> dict[str, Any]:
    """The JSON object in a vector file; the draft wraps long strings over lines."""
    return json.loads(re.sub(r"\s", "", text[text.index("{") :]))  # type: ignore[no-any-return]


def _byte_array(text: str) -> bytes | None:
    match = re.search(r"byte_array = \[([^\]]*)\]", text)
    if match is None:
        return None
    return bytes(int(item, 16) for item in match.group(1).split(","))


def test_every_vector_file_is_used() -> None:
    names = {path.name for path in VECTORS.glob("*.md")} - {"LICENSE.md"}
    used = {path.name for path in ENCODING_FILES} | {
        "status_list_jwt.md",
        "status_list_jwt_raw.md",
        "test-vectors-section.md",
    }
    assert names == used
    assert len(ENCODING_FILES) == 6
    assert set(EXPECTED) == {1, 2, 4, 8}


def test_the_section_lists_the_documented_1_bit_indices() -> None:
    assert sorted(EXPECTED[1]) == [
        0, 1993, 25460, 159495, 495669, 554353, 645645, 723232, 854545, 934534, 1000345
    ]  # fmt: skip
    assert set(EXPECTED[1].values()) == {1}
    assert len(EXPECTED[8]) == 256
    assert sorted(EXPECTED[8].values()) == list(range(256))


@pytest.mark.parametrize("path", ENCODING_FILES, ids=lambda path: path.name)
def test_encoding_vector(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    obj = _json_object(text)
    decoded = StatusList.decode(obj)
    assert decoded.bits == obj["bits"]

    exact = _byte_array(text)
    if exact is not None:
        expected = StatusList.from_bytes(obj["bits"], exact)
    else:
        expected = StatusList(obj["bits"], DRAFT_SIZE)
        for idx, value in EXPECTED[obj["bits"]].items():
            expected.set(idx, value)
        for idx, value in EXPECTED[obj["bits"]].items():
            assert decoded.get(idx) == value, idx
    assert decoded == expected
    assert decoded.to_bytes() == expected.to_bytes()

    reencoded = expected.encode()
    assert reencoded["bits"] == obj["bits"]
    assert StatusList.decode(reencoded) == decoded
    if CLASSIC_ZLIB:
        assert reencoded["lst"] == obj["lst"]


def test_short_1_bit_example_reads_lsb_first() -> None:
    # draft: status[0..15] = 1,0,0,1,1,1,0,1, 1,1,0,0,0,1,0,1 -> bytes b9 a3
    obj = _json_object((VECTORS / "status_list_encoding_json.md").read_text(encoding="utf-8"))
    decoded = StatusList.decode(obj)
    assert decoded.size == 16
    assert [decoded.get(i) for i in range(16)] == [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]


def test_short_2_bit_example_reads_lsb_first() -> None:
    # draft: status[0..11] = 1,2,0,3, 0,1,0,1, 1,2,3,3 -> bytes c9 44 f9
    obj = _json_object((VECTORS / "status_list_encoding2_json.md").read_text(encoding="utf-8"))
    decoded = StatusList.decode(obj)
    assert decoded.size == 12
    assert [decoded.get(i) for i in range(12)] == [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]


def test_draft_status_list_jwt_verifies() -> None:
    """status_list_jwt_raw.md, signed with the draft's example key, matches status_list_jwt.md."""
    token = re.sub(r"\s", "", (VECTORS / "status_list_jwt_raw.md").read_text(encoding="utf-8"))
    header_text, claims_text = (
        (VECTORS / "status_list_jwt.md").read_text(encoding="utf-8").split("\n.\n")
    )
    header, claims = json.loads(header_text), json.loads(claims_text)
    key = public_key_from_jwk(
        json.loads((VECTORS / "example_key_public.json").read_text(encoding="utf-8"))
    )
    assert header["typ"] == STATUS_LIST_TYP

    verified = verify_status_list(token, keys={"12": key}, uri=claims["sub"], now=claims["iat"] + 1)
    assert (verified.iat, verified.exp, verified.ttl) == (
        claims["iat"],
        claims["exp"],
        claims["ttl"],
    )
    assert verified.list == StatusList.decode(claims["status_list"])
    assert verified.list.to_bytes() == bytes([0xB9, 0xA3])
    assert verified.status(0) is Status.INVALID
    assert verified.status(1) is Status.VALID

    unverified = jws.parse(token, max_bytes=STATUS_LIST_PROFILE.max_bytes)
    assert dict(unverified.header) == header
    # the raw token also carries "iss", which the pretty-printed example leaves out
    assert {k: v for k, v in unverified.unverified_claims.items() if k != "iss"} == claims
