"""The DPV 2.3 vocabularies shipped as package data."""

from __future__ import annotations

import csv
import io
from importlib import resources

import pytest

from regie_protocol import vocab
from regie_protocol.errors import ClaimRefused, Code
from regie_protocol.vocab import ConsentState

DATA = resources.files("regie_protocol.vocab").joinpath("data")


def test_data_files_ship_with_the_package() -> None:
    names = {entry.name for entry in DATA.iterdir()}
    assert {
        "dpv-purposes.csv",
        "dpv-legal_basis.csv",
        "legal-eu-gdpr-legal_basis.csv",
        "dpv-consent_status.csv",
        "LICENSE.md",
        "SOURCE_COMMIT",
    } <= names
    assert DATA.joinpath("SOURCE_COMMIT").read_text().strip() == (
        "f01a55c3c0983e35cdfdf80593ece3353faba7b8"
    )


@pytest.mark.parametrize(
    ("filename", "rows"),
    [
        ("dpv-purposes.csv", 125),
        ("dpv-legal_basis.csv", 20),
        ("legal-eu-gdpr-legal_basis.csv", 17),
        ("dpv-consent_status.csv", 13),
    ],
)
def test_csv_row_counts(filename: str, rows: int) -> None:
    text = DATA.joinpath(filename).read_text(encoding="utf-8")
    assert len(list(csv.DictReader(io.StringIO(text)))) == rows


def test_term_counts() -> None:
    assert len(vocab.purposes()) == 121  # classes of type dpv:Purpose
    assert len(vocab.legal_bases()) == 15 + 17  # DPV + GDPR Art. 6 (and Art. 4(11) consent)
    assert len(vocab.consent_statuses()) == 12


@pytest.mark.parametrize(
    "iri",
    [
        "https://w3id.org/dpv#ServiceProvision",
        "https://w3id.org/dpv#AcademicResearch",
        "https://w3id.org/dpv#FraudPreventionAndDetection",
    ],
)
def test_known_purposes(iri: str) -> None:
    assert vocab.is_purpose(iri)
    term = vocab.require_purpose(iri)
    assert term.iri == iri
    assert term.label
    assert term.definition


@pytest.mark.parametrize(
    "iri",
    [
        "https://w3id.org/dpv#Consent",
        "https://w3id.org/dpv#LegalObligation",
        "https://w3id.org/dpv#PublicInterest",
        "https://w3id.org/dpv/legal/eu/gdpr#A6-1-a",
        "https://w3id.org/dpv/legal/eu/gdpr#A6-1-e",
        "https://w3id.org/dpv/legal/eu/gdpr#A6-1-e-public-interest",
        "https://w3id.org/dpv/legal/eu/gdpr#A6-1-f",
    ],
)
def test_known_legal_bases(iri: str) -> None:
    assert vocab.is_legal_basis(iri)
    assert vocab.require_legal_basis(iri).iri == iri


def test_gdpr_public_task_label() -> None:
    term = vocab.legal_bases()["https://w3id.org/dpv/legal/eu/gdpr#A6-1-e"]
    assert "public interest" in term.label


@pytest.mark.parametrize(
    "iri",
    [
        "https://w3id.org/dpv#Purpose",  # top concept: not specific
        "https://w3id.org/dpv#hasPurpose",  # a property
        "https://w3id.org/dpv#Sector",
        "https://w3id.org/dpv#serviceprovision",
        "http://w3id.org/dpv#ServiceProvision",
        "dpv:ServiceProvision",
        "ServiceProvision",
        "",
        None,
        42,
    ],
)
def test_unknown_purposes_refused(iri: object) -> None:
    assert not vocab.is_purpose(iri)
    with pytest.raises(ClaimRefused) as caught:
        vocab.require_purpose(iri)
    assert caught.value.code is Code.CLAIM_INVALID
    assert "purpose" in caught.value.message


@pytest.mark.parametrize(
    "iri",
    [
        "https://w3id.org/dpv#LegalBasis",
        "https://w3id.org/dpv#hasLegalBasis",
        "https://w3id.org/dpv/legal/eu/gdpr#A6-1-g",
        "https://w3id.org/dpv/legal/eu/gdpr#A6-1-E",
        "https://w3id.org/dpv#ServiceProvision",
        ["https://w3id.org/dpv#Consent"],
    ],
)
def test_unknown_legal_bases_refused(iri: object) -> None:
    assert not vocab.is_legal_basis(iri)
    with pytest.raises(ClaimRefused) as caught:
        vocab.require_legal_basis(iri)
    assert caught.value.code is Code.CLAIM_INVALID


def test_consent_states_map_to_dpv() -> None:
    assert ConsentState.GIVEN.iri == "https://w3id.org/dpv#ConsentGiven"
    assert ConsentState.WITHDRAWN.iri == "https://w3id.org/dpv#ConsentWithdrawn"
    assert ConsentState.REVOKED.iri == "https://w3id.org/dpv#ConsentRevoked"
    assert ConsentState.EXPIRED.iri == "https://w3id.org/dpv#ConsentExpired"
    assert ConsentState.REFUSED.iri == "https://w3id.org/dpv#ConsentRefused"
    assert ConsentState.SUSPENDED.iri == "https://w3id.org/dpv#ConsentStatusInvalidForProcessing"
    for state in ConsentState:
        assert state.iri in vocab.consent_statuses()
        assert ConsentState.from_iri(state.iri) is state
        assert state.valid_for_processing is (state is ConsentState.GIVEN)
    assert ConsentState("given") is ConsentState.GIVEN


def test_unknown_consent_state_refused() -> None:
    with pytest.raises(ClaimRefused):
        ConsentState.from_iri("https://w3id.org/dpv#ConsentUnknown")


def test_vocabularies_are_read_only_and_cached() -> None:
    assert vocab.purposes() is vocab.purposes()
    with pytest.raises(TypeError):
        vocab.purposes()["x"] = vocab.purposes()["https://w3id.org/dpv#ServiceProvision"]  # type: ignore[index]
