"""Signed notes (C2SP signed-note): the spec's example, round trips and a table of refusals."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from hypothesis import given
from hypothesis import strategies as st

from regie_protocol.errors import Code, KeyRefused, MalformedInput, Misuse, SignatureRefused
from regie_protocol.tlog.note import (
    MAX_NOTE_BYTES,
    MAX_SIGNATURES,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    CosignerKey,
    Note,
    NoteKey,
    NoteVerifier,
    b64decode_std,
    parse_note,
    parse_signature_line,
    verified_by,
)

# c2sp.org/signed-note, "Verifier keys", "Example"
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuw"
    "HjG1Yu72IneyaQM=\n"
).encode()
# c2sp.org/tlog-cosignature, the example's witness line (signed at "time 1679315147")
SPEC_COSIGNATURE_LINE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2"
    "oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)

TEXT = b"wallet.example/log\n7\nsome text\n"
KEY = NoteKey("wallet.example/log", bytes(range(32)))
OTHER = NoteKey("other.example/log", bytes(range(1, 33)))
# same name as KEY, another key: a different key ID, so it is a different key
IMPOSTOR = NoteKey("wallet.example/log", bytes(range(2, 34)))
WITNESS = CosignerKey("witness.example/w1", bytes(range(3, 35)))


def _note(text: bytes, *lines: str) -> bytes:
    return text + b"\n" + "".join(lines).encode()


def _line(name: str, raw: bytes) -> str:
    return f"— {name} {base64.b64encode(raw).decode()}\n"


def _raw(line: str) -> bytes:
    return base64.b64decode(line.rstrip("\n").split(" ")[2])


# --- the spec's examples --------------------------------------------------------------------


def test_spec_example_verifies() -> None:
    verifier = NoteVerifier.parse(SPEC_VKEY)
    note = parse_note(SPEC_NOTE)
    assert note.text == b"This is an example message.\n"
    assert verified_by(note, [verifier]) == {verifier: None}
    assert note.render() == SPEC_NOTE


def test_spec_example_refused_when_text_changes() -> None:
    verifier = NoteVerifier.parse(SPEC_VKEY)
    forged = SPEC_NOTE.replace(b"example message", b"exemplary message")
    with pytest.raises(SignatureRefused) as refused:
        verified_by(parse_note(forged), [verifier])
    assert refused.value.code is Code.SIGNATURE_INVALID


def test_spec_vkey_round_trip_and_key_id() -> None:
    verifier = NoteVerifier.parse(SPEC_VKEY)
    assert verifier.name == "example.com/foo"
    assert verifier.sig_type == SIG_ED25519
    assert verifier.vkey() == SPEC_VKEY
    # key ID = SHA-256(name || 0x0A || type || public key)[:4], computed here independently
    expected = hashlib.sha256(b"example.com/foo\n\x01" + verifier.public_key).digest()[:4]
    assert verifier.key_id == expected == bytes.fromhex("530d903a")


def test_spec_cosignature_line_format() -> None:
    signature = parse_signature_line(SPEC_COSIGNATURE_LINE)
    assert signature.name == "witness.example.com/w1"
    assert len(signature.key_id) == 4
    # timestamped_signature: u64 big-endian timestamp, then 64 bytes of Ed25519
    assert len(signature.signature) == 8 + 64
    assert int.from_bytes(signature.signature[:8], "big") == 1679315147
    assert signature.line == SPEC_COSIGNATURE_LINE


# --- our own keys ---------------------------------------------------------------------------


def test_sign_and_verify_round_trip() -> None:
    data = _note(TEXT, KEY.sign_line(TEXT))
    note = parse_note(data)
    assert note.text == TEXT
    assert note.render() == data
    assert verified_by(note, [KEY.verifier()]) == {KEY.verifier(): None}


def test_signature_is_plain_ed25519_over_the_text() -> None:
    line = KEY.sign_line(TEXT)
    assert line.startswith("— wallet.example/log ") and line.endswith("\n")
    raw = _raw(line)
    public = KEY.verifier().public_key
    assert raw[:4] == hashlib.sha256(b"wallet.example/log\n\x01" + public).digest()[:4]
    Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], TEXT)


def test_cosignature_is_timestamped_ed25519_over_the_spec_message() -> None:
    line = WITNESS.cosign_line(TEXT, 1679315147)
    raw = _raw(line)
    public = WITNESS.verifier().public_key
    assert raw[:4] == hashlib.sha256(b"witness.example/w1\n\x04" + public).digest()[:4]
    assert raw[4:12] == (1679315147).to_bytes(8, "big")
    message = b"cosignature/v1\ntime 1679315147\n" + TEXT
    Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], message)
    note = parse_note(_note(TEXT, KEY.sign_line(TEXT), line))
    assert verified_by(note, [KEY.verifier(), WITNESS.verifier()]) == {
        KEY.verifier(): None,
        WITNESS.verifier(): 1679315147,
    }


def test_keys_from_seed_are_stable_and_hidden() -> None:
    again = NoteKey("wallet.example/log", KEY.seed)
    assert again.verifier() == KEY.verifier()
    assert KEY.seed == bytes(range(32))
    generated = CosignerKey.generate("witness.example/w9")
    assert CosignerKey("witness.example/w9", generated.seed).verifier() == generated.verifier()
    assert generated.verifier().sig_type == SIG_COSIGNATURE_V1
    for key in (KEY, generated):
        assert key.seed.hex() not in repr(key)
        assert base64.b64encode(key.seed).decode() not in repr(key)


def test_vkey_round_trip_for_both_types() -> None:
    for key in (KEY, WITNESS, NoteKey.generate("a.example/b")):
        verifier = key.verifier()
        assert NoteVerifier.parse(verifier.vkey()) == verifier


def test_unknown_keys_are_ignored() -> None:
    note = parse_note(
        _note(TEXT, IMPOSTOR.sign_line(TEXT), OTHER.sign_line(TEXT), KEY.sign_line(TEXT))
    )
    assert verified_by(note, [KEY.verifier()]) == {KEY.verifier(): None}


def test_same_key_id_other_name_is_another_key() -> None:
    raw = _raw(KEY.sign_line(TEXT))
    note = parse_note(_note(TEXT, _line("renamed.example/log", raw), OTHER.sign_line(TEXT)))
    assert verified_by(note, [KEY.verifier(), OTHER.verifier()]) == {OTHER.verifier(): None}


def test_a_key_that_signed_twice_counts_once() -> None:
    note = parse_note(_note(TEXT, KEY.sign_line(TEXT), KEY.sign_line(TEXT)))
    assert verified_by(note, [KEY.verifier()]) == {KEY.verifier(): None}


def test_text_may_hold_blank_lines() -> None:
    text = b"first\n\nthird\n\n"
    note = parse_note(_note(text, KEY.sign_line(text)))
    assert note.text == text
    assert verified_by(note, [KEY.verifier()]) == {KEY.verifier(): None}


@given(
    st.lists(
        st.text(
            st.characters(
                blacklist_categories=("Cs",), blacklist_characters="\n", min_codepoint=32
            ),
            max_size=40,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_text_round_trips(lines: list[str]) -> None:
    text = ("\n".join(lines) + "\n").encode()
    data = _note(text, KEY.sign_line(text), WITNESS.cosign_line(text, 5))
    note = parse_note(data)
    assert note.text == text
    assert note.render() == data
    assert verified_by(note, [KEY.verifier(), WITNESS.verifier()]) == {
        KEY.verifier(): None,
        WITNESS.verifier(): 5,
    }


# --- refusals -------------------------------------------------------------------------------

GOOD_LINE = KEY.sign_line(TEXT)
GOOD_B64 = GOOD_LINE.rstrip("\n").split(" ")[2]
RAW = _raw(GOOD_LINE)
FLIPPED = RAW[:10] + bytes([RAW[10] ^ 1]) + RAW[11:]
# 68 bytes: one '=' of padding and two unused bits in the last character, set here
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
TRAILING_BITS = GOOD_B64[:-2] + _ALPHABET[_ALPHABET.index(GOOD_B64[-2]) | 1] + "="
assert TRAILING_BITS != GOOD_B64


def _cosignature_at(timestamp: int) -> str:
    private = Ed25519PrivateKey.from_private_bytes(WITNESS.seed)
    message = b"cosignature/v1\ntime %d\n" % timestamp + TEXT
    signature = private.sign(message)
    return _line(
        "witness.example/w1",
        WITNESS.verifier().key_id + timestamp.to_bytes(8, "big") + signature,
    )


V = [KEY.verifier()]
VW = [KEY.verifier(), WITNESS.verifier()]
LOG = "wallet.example/log"
W1 = "witness.example/w1"
W1_ID = WITNESS.verifier().key_id


def _with_b64(encoded: str, name: str = LOG) -> bytes:
    return _note(TEXT, f"— {name} {encoded}\n")


def _changed_timestamp() -> str:
    line = WITNESS.cosign_line(TEXT, 7)
    before = base64.b64encode(W1_ID + (7).to_bytes(8, "big")).decode()[:16]
    after = base64.b64encode(W1_ID + (8).to_bytes(8, "big")).decode()[:16]
    return line.replace(before, after)


def _url_safe() -> bytes:
    return _with_b64(base64.urlsafe_b64encode(b"\xfb\xff" * 40).decode())


def _case(name: str, data: bytes, verifiers: list[NoteVerifier], error: type[Exception]) -> Any:
    return pytest.param(data, verifiers, error, id=name)


REFUSALS = [
    _case("bad base64", _with_b64(GOOD_B64[:-3] + "!!="), V, MalformedInput),
    _case("base64 trailing bits set", _with_b64(TRAILING_BITS), V, MalformedInput),
    _case("base64 without padding", _with_b64(GOOD_B64[:-1]), V, MalformedInput),
    _case("space inside base64", _with_b64(GOOD_B64[:8] + " " + GOOD_B64[8:]), V, MalformedInput),
    _case("url-safe base64", _url_safe(), V, MalformedInput),
    _case("signature shorter than a key ID", _note(TEXT, _line(LOG, b"123")), V, MalformedInput),
    _case(
        "no known key (unknown keys only)",
        _note(TEXT, OTHER.sign_line(TEXT), IMPOSTOR.sign_line(TEXT)),
        V,
        SignatureRefused,
    ),
    _case("known key, bad signature", _note(TEXT, _line(LOG, FLIPPED)), V, SignatureRefused),
    _case(
        "known key bad beside a good one",
        _note(TEXT, GOOD_LINE, WITNESS.cosign_line(TEXT + b"x\n", 9)),
        VW,
        SignatureRefused,
    ),
    _case(
        "known key, signature of another text",
        _note(TEXT, KEY.sign_line(b"other\n")),
        V,
        SignatureRefused,
    ),
    _case("known key, truncated signature", _note(TEXT, _line(LOG, RAW[:-1])), V, SignatureRefused),
    _case(
        "cosignature without timestamp",
        _note(TEXT, GOOD_LINE, _line(W1, W1_ID + RAW[4:])),
        VW,
        SignatureRefused,
    ),
    _case(
        "cosignature timestamp 2**63",
        _note(TEXT, GOOD_LINE, _cosignature_at(2**63)),
        VW,
        SignatureRefused,
    ),
    _case(
        "cosignature with a changed timestamp",
        _note(TEXT, GOOD_LINE, _changed_timestamp()),
        VW,
        SignatureRefused,
    ),
    _case(
        "control character in text",
        _note(b"tab\there\n", KEY.sign_line(b"tab here\n")),
        V,
        MalformedInput,
    ),
    _case("carriage return", _note(b"crlf\r\n", GOOD_LINE), V, MalformedInput),
    _case("NUL in a signature line", _note(TEXT, GOOD_LINE[:-1] + "\x00\n"), V, MalformedInput),
    _case(
        "too many signatures",
        _note(TEXT, *[GOOD_LINE] * (MAX_SIGNATURES + 1)),
        V,
        MalformedInput,
    ),
    _case("name with '+'", _with_b64(GOOD_B64, "wallet.example+log"), V, MalformedInput),
    _case("empty name", _with_b64(GOOD_B64, ""), V, MalformedInput),
    _case("name with a no-break space", _with_b64(GOOD_B64, "wallet\u00a0log"), V, MalformedInput),
    _case("hyphen instead of em dash", _note(TEXT, "-" + GOOD_LINE[1:]), V, MalformedInput),
    _case("no space after em dash", _note(TEXT, "—" + GOOD_LINE[2:]), V, MalformedInput),
    _case("no base64 part", _note(TEXT, f"— {LOG}\n"), V, MalformedInput),
    _case("missing blank line", TEXT + GOOD_LINE.encode(), V, MalformedInput),
    _case("note not ending with newline", _note(TEXT, GOOD_LINE)[:-1], V, MalformedInput),
    _case("no signature lines", TEXT + b"\n", V, MalformedInput),
    _case("blank line after the signatures", _note(TEXT, GOOD_LINE) + b"\n", V, MalformedInput),
    _case("not UTF-8", _note(b"caf\xe9\n", GOOD_LINE), V, MalformedInput),
    _case(
        "lone surrogate",
        _note("\ud800\n".encode("utf-8", "surrogatepass"), GOOD_LINE),
        V,
        MalformedInput,
    ),
    _case("too large", _note(b"x" * MAX_NOTE_BYTES + b"\n", GOOD_LINE), V, MalformedInput),
    _case("empty", b"", V, MalformedInput),
]


@pytest.mark.parametrize(("data", "verifiers", "error"), REFUSALS)
def test_refused(data: bytes, verifiers: list[NoteVerifier], error: type[Exception]) -> None:
    with pytest.raises(error) as refused:
        verified_by(parse_note(data), verifiers)
    assert str(refused.value)  # a message a person can read


def test_refusal_codes() -> None:
    with pytest.raises(SignatureRefused) as unknown:
        verified_by(parse_note(_note(TEXT, OTHER.sign_line(TEXT))), V)
    assert unknown.value.code is Code.KEY_UNKNOWN
    with pytest.raises(SignatureRefused) as bad:
        verified_by(parse_note(_note(TEXT, _line("wallet.example/log", FLIPPED))), V)
    assert bad.value.code is Code.SIGNATURE_INVALID
    with pytest.raises(MalformedInput) as many:
        parse_note(_note(TEXT, *[GOOD_LINE] * (MAX_SIGNATURES + 1)))
    assert many.value.code is Code.SIZE_EXCEEDED


def test_the_signature_limit_is_inclusive() -> None:
    note = parse_note(_note(TEXT, *[OTHER.sign_line(TEXT)] * (MAX_SIGNATURES - 1), GOOD_LINE))
    assert verified_by(note, V) == {KEY.verifier(): None}


def test_parsed_note_is_verbatim() -> None:
    note = parse_note(_note(TEXT, OTHER.sign_line(TEXT), GOOD_LINE))
    assert isinstance(note, Note)
    assert [s.name for s in note.signatures] == ["other.example/log", "wallet.example/log"]
    assert note.signatures[1].key_id == KEY.verifier().key_id
    assert note.signatures[1].signature == RAW[4:]


_PUBLIC = KEY.verifier().public_key
_PK = base64.b64encode(b"\x01" + _PUBLIC).decode()
_PK_TYPE_2 = base64.b64encode(b"\x02" + _PUBLIC).decode()
_PK_SHORT = base64.b64encode(b"\x01" + bytes(31)).decode()
_ID = KEY.verifier().key_id.hex()

VKEY_REFUSALS = [
    ("two parts", f"{LOG}+{_ID}"),
    ("four parts", f"{LOG}+{_ID}+{_PK}+x"),
    ("uppercase key ID", f"{LOG}+{_ID.upper()}+{_PK}"),
    ("short key ID", f"{LOG}+{_ID[:6]}+{_PK}"),
    ("wrong key ID", f"{LOG}+{int(_ID, 16) ^ 1:08x}+{_PK}"),
    ("another name", f"other.example/log+{_ID}+{_PK}"),
    ("unsupported type 0x02", f"{LOG}+{_ID}+{_PK_TYPE_2}"),
    ("short key", f"{LOG}+{_ID}+{_PK_SHORT}"),
    ("bad base64", f"{LOG}+{_ID}+{_PK[:-1]}"),
    ("name with a space", f"wallet example+{_ID}+{_PK}"),
    ("empty name", f"+{_ID}+{_PK}"),
    ("too long", "a" * 2000 + f"+{_ID}+{_PK}"),
]


@pytest.mark.parametrize("vkey", [pytest.param(v, id=i) for i, v in VKEY_REFUSALS])
def test_vkey_refused(vkey: str) -> None:
    with pytest.raises(MalformedInput):
        NoteVerifier.parse(vkey)


def test_signer_refuses_text_a_verifier_could_not_read() -> None:
    for text in (b"no newline", b"tab\t\n", b"\xff\n"):
        with pytest.raises(Misuse):
            KEY.sign_line(text)
    with pytest.raises(Misuse):
        WITNESS.cosign_line(TEXT, 2**63)
    with pytest.raises(Misuse):
        WITNESS.cosign_line(TEXT, -1)


def test_bad_key_material_refused() -> None:
    with pytest.raises(KeyRefused):
        NoteKey("wallet.example/log", bytes(31))
    with pytest.raises(MalformedInput):
        NoteKey("wallet example", bytes(32))


def test_ambiguous_trust_configuration_is_misuse() -> None:
    good = KEY.verifier()
    # the same (name, key ID) for two different keys can only be a configuration mistake;
    # it cannot be built from a vkey (the ID is checked), only by bypassing the checks
    clash = object.__new__(NoteVerifier)
    for field, value in (
        ("name", good.name),
        ("key_id", good.key_id),
        ("sig_type", good.sig_type),
        ("public_key", IMPOSTOR.verifier().public_key),
    ):
        object.__setattr__(clash, field, value)
    with pytest.raises(Misuse):
        verified_by(parse_note(_note(TEXT, GOOD_LINE)), [good, clash])


def test_b64_helper_is_strict() -> None:
    assert b64decode_std("AAEC", what="x") == b"\x00\x01\x02"
    for bad in ("AAE", "AAEC\n", " AAEC", "AA==AA==", "AAF=", "AAE=="):
        with pytest.raises(MalformedInput):
            b64decode_std(bad, what="x")
