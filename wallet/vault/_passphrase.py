"""The rules a new passphrase must meet, with reasons a person understands.

The rules are few and explainable (NIST SP 800-63B §3.1.1.2 style: length
first, a block list, no composition rules):

* at least 12 characters (four short words are enough) and at most 1024;
* at least 5 different characters (refuses ``aaaaaaaaaaaa`` and ``abababababab``);
* not a simple row such as ``123456789012`` or ``abcdefghijkl``;
* not a well-known password, compared without case, spaces and trailing digits;
* no control characters, no space at the start or end (both get lost or added when
  people paste).

The messages are short English sentences (CEFR level B1) for a person choosing a passphrase.
"""

from __future__ import annotations

import unicodedata
from itertools import pairwise

from regie_protocol.errors import ClaimRefused, Code

from ._secret import MAX_PASSPHRASE_CHARS, VaultPassphrase

MIN_PASSPHRASE_CHARS = 12
MIN_DISTINCT_CHARS = 5

#: common passwords and phrases people choose (English and Dutch), lower case, without
#: spaces and without trailing digits; the length rule already refuses short ones
_COMMON = frozenset(
    {
        "password", "passw0rd", "wachtwoord", "welkom", "welcome", "qwerty", "qwertyuiop",
        "qwertyuiopasdfghjkl", "asdfghjkl", "azerty", "azertyuiop", "zxcvbnm", "iloveyou",
        "ikhouvanjou", "letmein", "trustno", "monkey", "dragon", "football", "voetbal",
        "princess", "sunshine", "baseball", "superman", "batman", "starwars", "whatever",
        "administrator", "admin", "changeme", "secret", "geheim", "geheimwachtwoord",
        "mijnwachtwoord", "mypassword", "thisismypassword", "ditismijnwachtwoord",
        "correcthorsebatterystaple", "passwordpassword", "wachtwoordwachtwoord",
        "abcdefghijkl", "qazwsxedcrfv", "1qaz2wsx3edc", "zaq1xsw2cde3", "lovelovelove",
        "amsterdam", "rotterdam", "nederland", "regie", "regiewallet", "mijnregie",
    }
)  # fmt: skip


def _folded(text: str) -> str:
    """Lower case, spaces and separators removed, trailing digits and '!' removed."""
    compact = "".join(ch for ch in text.casefold() if ch.isalnum())
    return compact.rstrip("0123456789!")


def _is_simple_row(text: str) -> bool:
    """Every step between neighbouring characters is the same +1, 0 or -1 (``123456``, ``zyx``)."""
    codes = [ord(ch) for ch in text.casefold() if not ch.isspace()]
    steps = {b - a for a, b in pairwise(codes)}
    return len(steps) <= 1 and steps <= {-1, 0, 1}


def passphrase_problems(passphrase: str | VaultPassphrase) -> tuple[str, ...]:
    """Every rule the passphrase breaks, as short sentences; empty when it is good."""
    text = (
        passphrase.unsafe_text()
        if isinstance(passphrase, VaultPassphrase)
        else unicodedata.normalize("NFC", passphrase)
    )
    problems: list[str] = []
    if len(text) < MIN_PASSPHRASE_CHARS:
        problems.append(
            f"Use at least {MIN_PASSPHRASE_CHARS} characters. Four short words are fine."
        )
    if len(text) > MAX_PASSPHRASE_CHARS:
        problems.append(f"Use at most {MAX_PASSPHRASE_CHARS} characters.")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        problems.append("Do not use tabs, line breaks or other invisible characters.")
    if text != text.strip():
        problems.append("Do not start or end with a space.")
    if len(text) >= MIN_PASSPHRASE_CHARS and len(set(text)) < MIN_DISTINCT_CHARS:
        problems.append("Use more different characters.")
    elif len(text) >= 3 and _is_simple_row(text):
        problems.append("Do not use a simple row like 123456 or abcdef.")
    folded = _folded(text)
    if text and not folded:
        problems.append("Use letters or words, not only numbers and signs.")
    elif folded in _COMMON:
        problems.append("This passphrase is too common. Choose words that are not easy to guess.")
    return tuple(problems)


def check_passphrase(passphrase: str | VaultPassphrase) -> None:
    """Refuse a weak new passphrase: :class:`ClaimRefused` (``key_weak``), the reasons as text."""
    problems = passphrase_problems(passphrase)
    if problems:
        raise ClaimRefused(" ".join(problems), code=Code.KEY_WEAK)


__all__ = [
    "MIN_DISTINCT_CHARS",
    "MIN_PASSPHRASE_CHARS",
    "check_passphrase",
    "passphrase_problems",
]
