"""``regie issuer ...`` as a user runs it: exit codes, one-line refusals, files with mode 0600."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from issuer.sources import BRP_VCT, SOURCES
from regie.cli import app
from regie_protocol import sdjwt
from regie_protocol.keys import Alg, SigningKey, Unprotected

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    holder = SigningKey.generate(Alg.ES256)
    paths = {
        "home": tmp_path / "home",
        "key": tmp_path / "brp.jwk",
        "holder": tmp_path / "holder.pub.jwk",
        "holder_private": tmp_path / "holder.jwk",
        "claims": tmp_path / "claims.json",
    }
    paths["holder"].write_text(json.dumps(holder.public_key.to_jwk()))
    paths["holder_private"].write_text(holder.export_private_jwk(protection=Unprotected()))
    paths["claims"].write_text(json.dumps(SOURCES["brp"].sample))
    result = runner.invoke(app, ["issuer", "keygen", "--out", str(paths["key"])])
    assert result.exit_code == 0, result.output
    return paths


def issue_args(files: dict[str, Path], *extra: str) -> list[str]:
    return [
        "issuer", "issue",
        "--key", str(files["key"]),
        "--holder", str(files["holder"]),
        "--type", BRP_VCT,
        "--claims", str(files["claims"]),
        "--home", str(files["home"]),
        *extra,
    ]  # fmt: skip


def test_keygen_writes_a_private_file_and_prints_only_the_public_key(
    files: dict[str, Path],
) -> None:
    assert stat.S_IMODE(files["key"].stat().st_mode) == 0o600
    result = runner.invoke(app, ["issuer", "keygen", "--out", str(files["key"]), "--force"])
    printed = json.loads(result.stdout)
    assert "d" not in printed and printed["kty"] == "OKP"
    assert json.loads(files["key"].read_text())["kid"] == printed["kid"]
    again = runner.invoke(app, ["issuer", "keygen", "--out", str(files["key"])])
    assert again.exit_code == 2
    assert "exists" in again.stderr


def test_issue_prints_a_credential_with_every_claim_disclosable(files: dict[str, Path]) -> None:
    result = runner.invoke(app, issue_args(files))
    assert result.exit_code == 0, result.stderr
    token = result.stdout.strip()
    parsed = sdjwt.parse(token)
    assert parsed.unverified_claims["iss"] == SOURCES["brp"].issuer_id
    assert "given_name" not in parsed.unverified_claims  # disclosable by default
    assert parsed.unverified_claims["cnf"]["jwk"]["kty"] == "EC"


def test_issue_with_sd_names_keeps_the_rest_plain(files: dict[str, Path]) -> None:
    result = runner.invoke(app, [*issue_args(files, "--sd", "birthdate", "--json")])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    claims = sdjwt.parse(data["credential"]).unverified_claims
    assert claims["family_name"] == "de Vries" and "birthdate" not in claims
    assert isinstance(data["status_index"], int)


@pytest.mark.parametrize(
    ("change", "exit_code", "message"),
    [
        ("holder_private", 1, "private_key_refused"),
        ("exposed_key", 1, "key_file_exposed"),
        ("bad_claims", 1, "claim_invalid"),
        ("claims_not_json", 2, "not valid JSON"),
        ("missing_claims", 2, "does not exist"),
        ("sd_and_sd_all", 2, "not both"),
    ],
)
def test_bad_input_gives_one_line_and_the_right_exit_code(
    files: dict[str, Path], change: str, exit_code: int, message: str
) -> None:
    args = issue_args(files)
    if change == "holder_private":
        args[args.index("--holder") + 1] = str(files["holder_private"])
    elif change == "exposed_key":
        os.chmod(files["key"], 0o644)
    elif change == "bad_claims":
        files["claims"].write_text(json.dumps({**SOURCES["brp"].sample, "shoe_size": 44}))
    elif change == "claims_not_json":
        files["claims"].write_text("{not json")
    elif change == "missing_claims":
        files["claims"].unlink()
    elif change == "sd_and_sd_all":
        args += ["--sd", "birthdate", "--sd-all"]
    result = runner.invoke(app, args)
    assert result.exit_code == exit_code, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_revoke_suspend_and_reinstate_by_credential(files: dict[str, Path], tmp_path: Path) -> None:
    from issuer.status import StatusRegistry
    from regie.cli_issuer import state_file

    data = json.loads(runner.invoke(app, issue_args(files, "--json")).stdout)
    credential = tmp_path / "anna.sdjwt"
    credential.write_text(data["credential"])
    store = state_file(files["home"], SOURCES["brp"].issuer_id)

    def status() -> int:
        return int(StatusRegistry(store.load()).status_of(data["status_index"]))

    base = ["issuer", "revoke", "--credential", str(credential), "--home", str(files["home"])]
    assert status() == 0
    assert runner.invoke(app, [*base, "--suspend"]).exit_code == 0
    assert status() == 2
    assert runner.invoke(app, [*base, "--reinstate"]).exit_code == 0
    assert status() == 0
    result = runner.invoke(app, base)
    assert result.exit_code == 0 and "revoked" in result.stdout
    assert status() == 1
    again = runner.invoke(app, [*base, "--reinstate"])
    assert again.exit_code == 2 and "stays revoked" in again.stderr
    assert status() == 1
    never = runner.invoke(
        app, ["issuer", "revoke", "--index", "3", "--issuer", SOURCES["brp"].issuer_id,
              "--home", str(files["home"])],
    )  # fmt: skip
    assert never.exit_code == 1 and "status_index_out_of_range" in never.stderr
