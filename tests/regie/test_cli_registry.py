"""``regie registry ...`` as a registrar runs it: exit codes, one-line refusals, a 0600 key."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from regie.cli import app
from regie_protocol._encoding import b64url_decode, b64url_encode
from regie_protocol.keys import Alg, EncryptionKey, SigningKey, Unprotected, public_key_from_jwk
from regie_protocol.registry import verify_registry

runner = CliRunner()
VERIFIER = "https://ouderenpas.utrecht.example"
SERVICE = "https://w3id.org/dpv#ServiceProvision"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    verifier = SigningKey.generate(Alg.ES256)
    paths = {
        "registry": tmp_path / "registry.jwt",
        "key": tmp_path / "registry.registrar.jwk",
        "registrar_pub": tmp_path / "registrar.pub.jwk",
        "verifier": tmp_path / "verifier.pub.jwk",
        "verifier_private": tmp_path / "verifier.jwk",
        "enc": tmp_path / "verifier.enc.jwk",
    }
    paths["verifier"].write_text(json.dumps(verifier.public_key.to_jwk()))
    paths["verifier_private"].write_text(verifier.export_private_jwk(protection=Unprotected()))
    paths["enc"].write_text(json.dumps(EncryptionKey.generate().public_key.to_jwk()))
    result = runner.invoke(app, ["registry", "init", "--out", str(paths["registry"])])
    assert result.exit_code == 0, result.stderr
    paths["registrar_pub"].write_text(result.stdout)
    return paths


def add_args(files: dict[str, Path], *extra: str, **options: str) -> list[str]:
    values = {
        "--key": str(files["key"]),
        "--verifier": VERIFIER,
        "--name": "Gemeente Utrecht — Ouderenpas",
        "--jwk": str(files["verifier"]),
        "--attributes": "age_over_65,address.locality",
        "--purposes": "ServiceProvision",
        **{f"--{name.replace('_', '-')}": value for name, value in options.items()},
    }
    args = ["registry", "add", str(files["registry"])]
    for name, value in values.items():
        args += [name, value]
    return [*args, *extra]


def show_json(files: dict[str, Path], *extra: str) -> dict[str, Any]:
    result = runner.invoke(app, ["registry", "show", str(files["registry"]), "--json", *extra])
    assert result.exit_code == 0, result.stderr
    value: dict[str, Any] = json.loads(result.stdout)
    return value


def assert_one_line_refusal(result: object, exit_code: int, start: str) -> None:
    assert getattr(result, "exit_code") == exit_code  # noqa: B009
    stderr: str = getattr(result, "stderr")  # noqa: B009
    assert stderr.startswith(f"regie: {start}"), stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr


def test_init_writes_a_0600_key_and_prints_only_the_public_key(files: dict[str, Path]) -> None:
    assert stat.S_IMODE(files["key"].stat().st_mode) == 0o600
    printed = json.loads(files["registrar_pub"].read_text())
    assert "d" not in printed and printed["kty"] == "OKP"
    assert json.loads(files["key"].read_text())["kid"] == printed["kid"]
    registry = verify_registry(
        files["registry"].read_text().strip(),
        registrar_keys=public_key_from_jwk(printed),
        now=int(time.time()),
        min_version=None,
    )
    assert registry.version == 1 and not registry.verifiers
    assert registry.registrar == "https://registrar.regie.example"
    again = runner.invoke(app, ["registry", "init", "--out", str(files["registry"])])
    assert_one_line_refusal(again, 2, "")
    assert "exists" in again.stderr


def test_init_with_registrar_id_key_out_and_es256(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "registrar.jwk"
    result = runner.invoke(
        app,
        [
            "registry", "init", "--out", str(tmp_path / "r.jwt"), "--key-out", str(key),
            "--registrar-id", "https://registrar.example", "--alg", "ES256",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["kty"] == "EC"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    bad = runner.invoke(
        app,
        ["registry", "init", "--out", str(tmp_path / "s.jwt"), "--registrar-id", "http://x"],
    )
    assert_one_line_refusal(bad, 2, "this registry would be refused")


def test_init_add_show(files: dict[str, Path]) -> None:
    result = runner.invoke(app, add_args(files, "--enc-jwk", str(files["enc"])))
    assert result.exit_code == 0, result.stderr
    assert "version 2" in result.stdout
    data = show_json(files, "--registrar-jwk", str(files["registrar_pub"]))
    assert data["verified"] is True and data["version"] == 2
    [entry] = data["verifiers"]
    assert entry["id"] == VERIFIER
    assert entry["purposes"] == [SERVICE]
    assert entry["attributes"] == ["address.locality", "age_over_65"]
    assert len(entry["encryption_keys"]) == 1
    # a second add with the same id replaces the registration
    again = runner.invoke(app, add_args(files, attributes="age_over_65"))
    assert again.exit_code == 0, again.stderr
    assert "Updated" in again.stdout
    data = show_json(files)
    assert data["verified"] is False and data["version"] == 3
    [entry] = data["verifiers"]
    assert entry["attributes"] == ["age_over_65"]


def test_show_table_says_whether_the_signature_was_checked(files: dict[str, Path]) -> None:
    assert runner.invoke(app, add_args(files, name="[b]B")).exit_code == 0
    plain = runner.invoke(app, ["registry", "show", str(files["registry"])])
    assert plain.exit_code == 0, plain.stderr
    assert "NOT checked" in plain.stdout
    assert "[b]B" in plain.stdout  # names are text, never Rich markup
    checked = runner.invoke(
        app,
        [
            "registry",
            "show",
            str(files["registry"]),
            "--registrar-jwk",
            str(files["registrar_pub"]),
        ],
    )
    assert checked.exit_code == 0, checked.stderr
    assert "signature checked" in checked.stdout and "[b]B" in checked.stdout


def _tamper(files: dict[str, Path]) -> None:
    """Widen the registration in the payload, keeping the registrar's signature."""
    header, payload, signature = files["registry"].read_text().strip().split(".")
    claims = json.loads(b64url_decode(payload))
    claims["verifiers"][0]["attributes"].append("bsn")
    forged = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    files["registry"].write_text(f"{header}.{forged}.{signature}\n")


@pytest.mark.parametrize("command", ["add", "show"])
def test_a_tampered_registry_is_refused(files: dict[str, Path], command: str) -> None:
    assert runner.invoke(app, add_args(files)).exit_code == 0
    _tamper(files)
    if command == "add":
        args = add_args(files)
    else:
        args = ["registry", "show", str(files["registry"]), "--registrar-jwk"]
        args.append(str(files["registrar_pub"]))
    assert_one_line_refusal(runner.invoke(app, args), 1, "signature_invalid: ")


def test_show_with_another_registrars_key_is_refused(files: dict[str, Path]) -> None:
    files["registrar_pub"].write_text(json.dumps(SigningKey.generate().public_key.to_jwk()))
    result = runner.invoke(
        app,
        [
            "registry",
            "show",
            str(files["registry"]),
            "--registrar-jwk",
            str(files["registrar_pub"]),
        ],
    )
    assert_one_line_refusal(result, 1, "signature_invalid: ")


@pytest.mark.parametrize(
    ("options", "start"),
    [
        pytest.param({"attributes": "Age_over_65"}, "claim_invalid: ", id="non-canonical-attr"),
        pytest.param({"attributes": "*"}, "claim_invalid: ", id="wildcard-attr"),
        pytest.param({"purposes": "Everything"}, "claim_invalid: ", id="unknown-purpose"),
        pytest.param({"verifier": VERIFIER + "/"}, "claim_invalid: ", id="trailing-slash-id"),
        pytest.param({"verifier": "http://x.example"}, "claim_invalid: ", id="http-id"),
        pytest.param({"name": "Bank\u202eknab"}, "claim_invalid: ", id="bidi-name"),
        pytest.param({"legal_bases": "Because"}, "claim_invalid: ", id="unknown-legal-basis"),
    ],
)
def test_add_refuses_a_bad_registration_in_one_line(
    files: dict[str, Path], options: dict[str, str], start: str
) -> None:
    assert runner.invoke(app, add_args(files)).exit_code == 0  # positive control
    before = files["registry"].read_text()
    result = runner.invoke(app, add_args(files, **options))
    assert_one_line_refusal(result, 1, start)
    assert files["registry"].read_text() == before


def test_add_refuses_a_private_verifier_key(files: dict[str, Path]) -> None:
    result = runner.invoke(app, add_args(files, jwk=str(files["verifier_private"])))
    assert_one_line_refusal(result, 1, "private_key_refused: ")


def test_add_refuses_a_key_of_another_verifier(files: dict[str, Path]) -> None:
    assert runner.invoke(app, add_args(files)).exit_code == 0
    result = runner.invoke(app, add_args(files, verifier="https://thief.example"))
    assert_one_line_refusal(result, 1, "claim_invalid: ")
    assert VERIFIER in result.stderr


def test_add_refuses_a_registrar_key_others_can_read(files: dict[str, Path]) -> None:
    files["key"].chmod(0o644)
    assert_one_line_refusal(runner.invoke(app, add_args(files)), 1, "key_file_exposed: ")


def test_add_with_another_registrars_key_is_refused(files: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.jwk"
    assert runner.invoke(app, ["registry", "init", "--out", str(tmp_path / "o.jwt"),
                               "--key-out", str(other)]).exit_code == 0  # fmt: skip
    result = runner.invoke(app, add_args(files, key=str(other)))
    assert_one_line_refusal(result, 1, "signature_invalid: ")


def test_missing_files_are_usage_errors(files: dict[str, Path], tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    show = runner.invoke(app, ["registry", "show", missing])
    assert_one_line_refusal(show, 2, "registry file")
    add = runner.invoke(app, add_args(files, key=missing))
    assert_one_line_refusal(add, 2, "key file")


def test_show_refuses_a_file_that_is_not_a_registry(files: dict[str, Path]) -> None:
    files["registry"].write_text("not a token\n")
    result = runner.invoke(app, ["registry", "show", str(files["registry"])])
    assert_one_line_refusal(result, 1, "malformed: ")
