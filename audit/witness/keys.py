"""The witness's own key: an Ed25519 cosigner (C2SP tlog-cosignature, type 0x04), in a private file.

One key per purpose: it cosigns checkpoints and nothing else. The file (mode 0600,
written atomically through :mod:`regie_protocol.private_files`, refused when others
may read it) is JSON with its format and version::

    {"format": "regie-witness-key", "version": 1, "name": "<cosigner name>",
     "seed": "<base64 of the 32-byte Ed25519 seed>", "vkey": "<the public vkey>"}

``vkey`` is what a log or a client pins (``<name>+<key id>+<base64(0x04 || key)>``);
it is written for convenience and checked against the seed on load, so a damaged
file is refused rather than used. Unknown members are refused too.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

from regie_protocol.errors import Code, KeyRefused, Misuse
from regie_protocol.private_files import check_private_file, write_private_file
from regie_protocol.tlog.note import CosignerKey

KEY_FORMAT = "regie-witness-key"
KEY_VERSION = 1
SEED_SIZE = 32
#: a key file is small; anything bigger is not one
MAX_KEY_FILE_BYTES = 4096
_MEMBERS = frozenset({"format", "version", "name", "seed", "vkey"})


def create_witness_key(path: Path, name: str) -> CosignerKey:
    """A new cosigner key named ``name``, written to ``path`` (0600); never overwrites a file."""
    if path.exists():
        raise Misuse(f"{path} exists already: a witness key is never overwritten")
    key = CosignerKey.generate(name)
    document = {
        "format": KEY_FORMAT,
        "version": KEY_VERSION,
        "name": name,
        "seed": base64.b64encode(key.seed).decode("ascii"),
        "vkey": key.verifier().vkey(),
    }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private_file(path, json.dumps(document, indent=2) + "\n")
    return key


def _refused(path: Path, why: str) -> KeyRefused:
    return KeyRefused(f"{path} is not a witness key file: {why}", code=Code.KEY_INVALID)


def load_witness_key(path: Path) -> CosignerKey:
    """The cosigner key in ``path``; refused when missing, exposed (not 0600) or damaged."""
    if not path.is_file():
        raise Misuse(
            f"the witness key file {path} does not exist: make one with "
            "'regie audit witness keygen --name NAME --out FILE'"
        )
    check_private_file(path)
    with path.open("rb") as handle:
        data = handle.read(MAX_KEY_FILE_BYTES + 1)
    if len(data) > MAX_KEY_FILE_BYTES:
        raise _refused(path, f"larger than {MAX_KEY_FILE_BYTES} bytes")
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _refused(path, "not JSON") from None
    if not isinstance(document, dict) or set(document) != _MEMBERS:
        raise _refused(path, f"the members are not exactly {', '.join(sorted(_MEMBERS))}")
    if document["format"] != KEY_FORMAT or document["version"] != KEY_VERSION:
        raise _refused(path, f"format {document['format']!r} version {document['version']!r}")
    name, seed_text, vkey = document["name"], document["seed"], document["vkey"]
    if not isinstance(name, str) or not isinstance(seed_text, str) or not isinstance(vkey, str):
        raise _refused(path, "name, seed and vkey are strings")
    try:
        seed = base64.b64decode(seed_text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise _refused(path, "the seed is not base64") from None
    if len(seed) != SEED_SIZE:
        raise _refused(path, f"the seed is {len(seed)} bytes, not {SEED_SIZE}")
    key = CosignerKey(name, seed)
    if key.verifier().vkey() != vkey:
        raise _refused(path, "the vkey does not match the seed and name")
    return key


__all__ = [
    "KEY_FORMAT",
    "KEY_VERSION",
    "MAX_KEY_FILE_BYTES",
    "create_witness_key",
    "load_witness_key",
]
