"""The rules for a new passphrase: a table of accepted and refused ones, with their reasons."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regie_protocol.errors import ClaimRefused, Code
from wallet.vault import VaultPassphrase, check_passphrase, passphrase_problems

GOOD = [
    pytest.param("kat boom huis fiets", id="four-dutch-words"),
    pytest.param("correct horse battery stapler", id="four-english-words"),
    pytest.param("Zonnebloem-17-Treinkaart", id="mixed"),
    pytest.param("Één twee drie vier", id="accents"),
    pytest.param("x7#Lq9!vR2@m", id="twelve-random"),
    pytest.param("ik fiets naar de markt op zaterdag", id="sentence"),
]


@pytest.mark.parametrize("text", GOOD)
def test_good_passphrases_pass(text: str) -> None:
    assert passphrase_problems(text) == ()
    check_passphrase(text)
    check_passphrase(VaultPassphrase(text))


BAD = [
    pytest.param("kat boom", "at least 12 characters", id="too-short"),
    pytest.param("", "at least 12 characters", id="empty"),
    pytest.param("a" * 1025 + "bcdef", "at most 1024", id="too-long"),
    pytest.param("aaaaaaaaaaaaaaa", "more different characters", id="one-character"),
    pytest.param("abababababab", "more different characters", id="two-characters"),
    pytest.param("abcdefghijklmnop", "simple row", id="alphabet-row"),
    pytest.param("zyxwvutsrqponm", "simple row", id="alphabet-backwards"),
    pytest.param("123456789012", "not only numbers", id="digits-only"),
    pytest.param("!!!!@@@@####$$$$", "not only numbers", id="signs-only"),
    pytest.param("password1234", "too common", id="common-password-digits"),
    pytest.param("Wachtwoord2024!", "too common", id="common-dutch"),
    pytest.param("Correct Horse Battery Staple", "too common", id="famous-example"),
    pytest.param("qwertyuiop123", "too common", id="keyboard-row"),
    pytest.param("kat boom\thuis fiets", "invisible characters", id="tab"),
    pytest.param("kat boom huis fiets\n", "invisible characters", id="newline"),
    pytest.param(" kat boom huis fiets", "start or end with a space", id="leading-space"),
]


@pytest.mark.parametrize(("text", "reason"), BAD)
def test_weak_passphrases_refused_with_a_reason(text: str, reason: str) -> None:
    check_passphrase("kat boom huis fiets")  # positive control
    problems = passphrase_problems(text)
    assert any(reason in p for p in problems), problems
    with pytest.raises(ClaimRefused) as caught:
        check_passphrase(text)
    assert caught.value.code is Code.KEY_WEAK
    assert reason in caught.value.message


def test_reasons_are_short_sentences() -> None:
    problems = passphrase_problems(" aaa\t")
    assert len(problems) >= 3
    for problem in problems:
        assert problem.endswith(".")
        assert len(problem) <= 80


def test_nfc_and_nfd_spellings_are_one_passphrase() -> None:
    assert VaultPassphrase("caf\u00e9 boom huis") == VaultPassphrase("cafe\u0301 boom huis")


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60))
def test_any_text_gets_a_verdict(text: str) -> None:
    problems = passphrase_problems(text)
    assert isinstance(problems, tuple)
    if problems:
        with pytest.raises(ClaimRefused):
            check_passphrase(text)
    else:
        check_passphrase(text)
