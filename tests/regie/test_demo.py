"""``regie demo`` tells the whole story end to end, as a new user runs it (plain mode)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

#: the story's steps in order (each title once)
STORY = [
    "The municipality gets ready",
    "Anna sets up her wallet",
    "Anna's wallet fetches the BRP's published keys",
    "The BRP issues Anna's personal data",
    "Anna's wallet checks and keeps the credential",
    "The scheme's registrar lists the parking desk",
    "Anna's wallet host goes online",
    "The parking desk asks Anna for her address",
    "The desk asks for more than it may",
    "Anna reads the request",
    "Anna says yes",
    "The desk collects Anna's consent",
    "Anna applies for a parking permit",
    "The desk opens and checks the data",
    "Someone replays the desk's read",
    "Anna moves",
    "The desk reads the new address",
    "The old credential no longer counts",
    "Anna withdraws her consent",
    "The desk can no longer read",
    "The desk deletes what it kept",
    "A witness cosigns the log",
    "The Autoriteit Persoonsgegevens checks the log",
    "The desk's receipt proves its read",
    "An edited log is caught",
]
_STEP = re.compile(r"^Step (\d+)\. (.+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regie", "demo", "--plain"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def steps(demo: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """Step title -> the step's text, white space collapsed."""
    assert demo.returncode == 0, demo.stderr
    found = list(_STEP.finditer(demo.stdout))
    out: dict[str, str] = {}
    for n, match in enumerate(found):
        end = found[n + 1].start() if n + 1 < len(found) else len(demo.stdout)
        assert int(match[1]) == n + 1
        out[match[2]] = " ".join(demo.stdout[match.end() : end].split())
    return out


def test_the_demo_tells_the_story_in_order(steps: dict[str, str]) -> None:
    assert list(steps) == STORY


def test_plain_mode_has_no_colour_no_boxes_and_no_errors(
    demo: subprocess.CompletedProcess[str],
) -> None:
    assert "\x1b[" not in demo.stdout
    assert not set("╭╮╰╯│┌┐└┘─") & set(demo.stdout)
    assert demo.stderr == ""
    assert demo.stdout.rstrip().endswith("its files were in a temporary folder.")


def test_the_credential_is_kept_encrypted(steps: dict[str, str]) -> None:
    assert "Is 'Oudegracht' readable in the wallet's database file? No." in steps[STORY[4]]


def test_the_desk_asks_and_over_asking_is_refused_before_anna_sees_it(
    steps: dict[str, str],
) -> None:
    assert "HTTP: POST https://wallet.regie.example/v1/requests -> 201 Created" in steps[STORY[7]]
    refused = steps["The desk asks for more than it may"]
    assert "Refused before Anna saw it: beyond_registration." in refused
    assert "Requests waiting for Anna: 1." in refused
    assert "-> 403 Forbidden" in refused
    assert '"type": "beyond_registration"' in refused


def test_anna_sees_who_what_why_how_long_and_that_she_can_withdraw(
    steps: dict[str, str],
) -> None:
    seen = steps["Anna reads the request"]
    assert "Who asks: Gemeente Utrecht — Parkeervergunningen" in seen
    assert "Wants to see: address" in seen
    assert "Why: Give you a parking permit" in seen
    assert "(nl: Uw parkeervergunning" in seen
    assert "For how long: 365 days after you approve" in seen
    assert "Withdraw: you can take your consent back at any time" in seen
    assert "birthdate" not in seen


def test_the_desk_collects_the_consent_with_dpop(steps: dict[str, str]) -> None:
    collected = steps["The desk collects Anna's consent"]
    assert re.search(r"GET https://wallet\.regie\.example/v1/requests/\S+ -> 200 OK", collected)
    assert '"aud": "https://parkeren.gemeente-utrecht.example"' in collected
    request_id = re.search(r"request id (permit-[0-9a-f]+) in the token below", collected)
    assert request_id is not None
    assert f'"id": "{request_id[1]}"' in collected
    assert '"jkt":' in collected


def test_the_host_sends_only_ciphertext_and_the_desk_gets_the_address_only(
    steps: dict[str, str],
) -> None:
    read = steps["Anna applies for a parking permit"]
    assert "Use count: 1." in read
    assert "or in its database? No: both hold only ciphertext." in read
    assert "POST https://wallet.regie.example/v1/data -> 200 OK" in read
    assert '"alg": "ECDH-ES"' in read
    assert '"enc": "A256GCM"' in read
    assert "Oudegracht 231" not in read  # only its question names the street
    opened = steps["The desk opens and checks the data"]
    assert '"street_address": "Oudegracht 231"' in opened
    assert '"addressKept": true' in opened
    seen = opened.split("What the desk sees of Anna:")[1].split("The permit:")[0]
    for other in ("given_name", "family_name", "birthdate", "age_over", "nationalities"):
        assert other not in seen


def test_a_replayed_dpop_proof_is_refused(steps: dict[str, str]) -> None:
    replayed = steps["Someone replays the desk's read"]
    assert "Refused: dpop_replayed (HTTP 401)." in replayed
    assert "-> 401 Unauthorized" in replayed


def test_after_the_move_the_desk_reads_the_new_address(steps: dict[str, str]) -> None:
    assert "consents updated: 1." in steps["Anna moves"]
    reread = steps["The desk reads the new address"]
    assert "Use count: 2." in reread
    assert '"street_address": "Biltstraat 14"' in reread
    assert "Oudegracht" not in reread


def test_the_revoked_credential_is_refused(steps: dict[str, str]) -> None:
    assert "Refused, as it should be: revoked" in steps["The old credential no longer counts"]


def test_after_withdrawal_reads_are_refused_and_the_kept_address_is_purged(
    steps: dict[str, str],
) -> None:
    withdrawn = steps["Anna withdraws her consent"]
    assert "State now: withdrawn; status bit: 1" in withdrawn
    assert withdrawn.count("event: consent.used") == 2
    refused = steps["The desk can no longer read"]
    assert "Refused: consent_ended." in refused
    assert '"type": "consent_ended"' in refused
    assert "in the desk's store the consent is now withdrawn." in refused
    purged = steps["The desk deletes what it kept"]
    assert "Its purge runs right away" in purged
    assert "Purged: 1 (withdrawn)." in purged
    assert "Addresses of Anna the desk still keeps: 0." in purged
    assert '"reason": "withdrawn"' in purged
    assert '"remaining": 0' in purged


def test_the_log_is_cosigned_verified_and_reported_without_violations(
    steps: dict[str, str],
) -> None:
    assert (
        "POST https://witness.regie.example/add-checkpoint -> 200 OK"
        in steps["A witness cosigns the log"]
    )
    checked = steps["The Autoriteit Persoonsgegevens checks the log"]
    assert "Verified: 8 entries, cosigned by witness.regie.example/w1." in checked
    for name in ("consent.granted", "data.released", "consent.withdrawn", "retention.purged"):
        assert f"event: {name}" in checked
    assert "why: consent_ended" in checked  # the refused read after the withdrawal
    assert "The report: 0 violations." in checked
    assert "Oudegracht" not in checked  # names only, never values


def test_receipts_check_out_and_an_edited_entry_is_named(steps: dict[str, str]) -> None:
    receipts = steps["The desk's receipt proves its read"]
    assert "entry 2 is in the log" in receipts
    assert receipts.count("receipt: checked") == 2
    caught = steps["An edited log is caught"]
    assert "Refused: log_event_mismatch: event 2 does not match leaf hash 2" in caught
