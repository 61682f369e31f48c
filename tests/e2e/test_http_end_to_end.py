"""End to end over real HTTP: issue -> receive -> request -> approve -> read -> revoke -> refused.

Every role is its own process, started from the ``regie`` CLI as a user
would, with its own home directory and environment: the issuer (``regie
issuer serve``), the citizen's wallet host (``regie wallet serve``, sharing
the citizen's wallet database) and the verifier's parking desk (``regie
verifier serve``), each on 127.0.0.1 on a free port; the citizen, the
registrar and the verifier's operator run ``regie`` commands.

1. The issuer makes a key and serves; the citizen makes a wallet and a holder
   key; the issuer issues a BRP credential bound to it; the citizen trusts the
   issuer (its published metadata) and receives the credential (its status
   checked over HTTP). The citizen's inbox id comes from ``regie wallet inbox``.
2. The verifier makes its identity and the registrar registers it for
   ``address`` (meanwhile, in a thread: they need nobody else); the citizen
   loads the registry; the verifier trusts the wallet host and the issuer
   (keys fetched from them) and starts its desk.
3. The verifier sends a request to the citizen's inbox; ``regie consent
   requests`` shows it; the citizen approves; the verifier collects the
   consent and reads: the address, nothing else. The desk's guarded endpoint
   answers a permit for the consent token.
4. The citizen revokes: the read is refused (exit 1, one line), the desk
   answers 403 problem+json, and ``regie verify`` refuses the token as revoked
   (the host's status list, fetched over HTTP).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from issuer.sources import SOURCES
from regie_protocol.http import PROBLEM_TYPE_BASE

from .processes import Role, Servers, clean_environment

pytestmark = pytest.mark.service

PASSPHRASE = "kat boom huis fiets"
VERIFIER_ID = "https://parkeren.utrecht.example"
VERIFIER_NAME = "Gemeente Utrecht — Parkeren"
BRP = SOURCES["brp"]
ENDED = {PROBLEM_TYPE_BASE + "consent_ended", PROBLEM_TYPE_BASE + "revoked"}


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    logs = tmp_path / "logs"
    logs.mkdir()
    running = Servers(logs)
    try:
        yield running
    finally:
        running.stop_all()


def role(tmp_path: Path, name: str, **env: str) -> Role:
    home = tmp_path / name
    home.mkdir()
    common = {"REGIE_KDF": "unsafe-fast", "REGIE_ALLOW_LOCAL_URLS": "1"}
    return Role(name, home, clean_environment(**common, **env))


def local(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def served_at(base: str, answer: httpx.Response) -> bool:
    """An API of ours says it is served at ``base`` (its OpenAPI ``servers``)."""
    return answer.status_code == 200 and answer.json().get("servers") == [{"url": base + "/v1"}]


def issuer_at(base: str, answer: httpx.Response) -> bool:
    return answer.status_code == 200 and answer.json().get("issuer") == base


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value) + "\n")
    return path


def apply_for_permit(desk: str, token: str) -> httpx.Response:
    """The citizen hands the desk the consent token (``Authorization: Bearer``)."""
    return httpx.post(
        desk + "/v1/parking-permits",
        json={"licensePlate": "XX-123-Y"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30.0,
    )


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def register_verifier(verifier: Role, registrar: Role) -> str:
    """The verifier makes its identity, the registrar registers it; the registrar's public JWK."""
    verifier.run("verifier", "keygen", "--id", VERIFIER_ID, "--name", VERIFIER_NAME)
    registration = json.loads(
        verifier.run(
            "verifier", "register", "--attributes", "address", "--purposes", "ServiceProvision",
            "--legal-bases", "A6-1-a", "--out", "registration",
        ).stdout
    )  # fmt: skip
    for name in ("signing.jwk", "encryption.jwk"):  # handed to the registrar
        (registrar.home / name).write_text((verifier.home / "registration" / name).read_text())
    registrar_jwk = registrar.run("registry", "init", "--out", "registry.jwt").stdout
    registrar.run(
        "registry", "add", "registry.jwt", "--key", "registry.registrar.jwk",
        "--verifier", VERIFIER_ID, "--name", VERIFIER_NAME, "--jwk", "signing.jwk",
        "--enc-jwk", "encryption.jwk", "--attributes", "address",
        "--purposes", "ServiceProvision", "--legal-bases", "A6-1-a",
    )  # fmt: skip
    (entry,) = registrar.json("registry", "show", "registry.jwt")["verifiers"]
    for name in ("id", "attributes", "purposes", "legal_bases"):
        assert entry[name] == registration[name], name
    return registrar_jwk


def test_issue_receive_request_approve_read_revoke(tmp_path: Path, servers: Servers) -> None:
    issuer = role(tmp_path, "issuer", REGIE_ISSUER_ADMIN_TOKEN="e2e-" + "x" * 40)
    citizen = role(tmp_path, "citizen", REGIE_PASSPHRASE=PASSPHRASE)
    registrar = role(tmp_path, "registrar")
    verifier = role(tmp_path, "verifier")
    for each in (issuer, citizen, registrar, verifier):
        each.env["REGIE_HOME"] = str(each.home)
    verifier.env["REGIE_VERIFIER_HOME"] = str(verifier.home)

    with ThreadPoolExecutor(max_workers=1) as meanwhile:
        # the verifier and the registrar need nobody else: they go ahead in parallel
        registering = meanwhile.submit(register_verifier, verifier, registrar)

        # --- 1. issue and receive -----------------------------------------------------------
        issuer.run("issuer", "keygen", "--out", "issuer.jwk")
        issuer_id = servers.start(
            issuer,
            lambda port: ["issuer", "serve", "--key", "issuer.jwk", "--port", str(port)],
            ready="/.well-known/jwt-vc-issuer",
            is_ours=issuer_at,
        ).base
        citizen.run("wallet", "init")
        host = servers.start(
            citizen,
            lambda port: ["wallet", "serve", "--port", str(port), "--url", local(port)],
            ready="/v1/openapi.json",
            is_ours=served_at,
        )
        citizen.env["REGIE_WALLET_HOST_URL"] = host.base  # consents name this host
        mine = citizen.json("wallet", "inbox")  # what the citizen gives the verifier
        assert mine["host"] == host.base
        (citizen.home / "holder.jwk").write_text(citizen.run("wallet", "holder-key").stdout)
        write_json(issuer.home / "claims.json", dict(BRP.sample))
        credential = issuer.run(
            "issuer", "issue", "--key", "issuer.jwk", "--holder", str(citizen.home / "holder.jwk"),
            "--type", BRP.ctype.vct, "--claims", "claims.json", "--issuer", issuer_id,
        ).stdout  # fmt: skip
        (citizen.home / "brp.txt").write_text(credential)
        citizen.run("wallet", "trust", "add-issuer", issuer_id, "--metadata", issuer_id)
        assert f"from {issuer_id}" in citizen.run("wallet", "receive", "brp.txt").stdout
        registrar_jwk = registering.result()

    # --- 2. the citizen loads the registry; the verifier trusts the host and the issuer --------
    (citizen.home / "registrar.jwk").write_text(registrar_jwk)
    (citizen.home / "registry.jwt").write_text((registrar.home / "registry.jwt").read_text())
    citizen.run(
        "wallet", "trust", "add-registry", "registry.jwt", "--registrar-jwk", "registrar.jwk"
    )
    verifier.run("verifier", "trust", "host", host.base)
    verifier.run("verifier", "trust", "issuer", issuer_id)
    desk = servers.start(
        verifier,
        lambda port: ["verifier", "serve", "--port", str(port)],
        ready="/v1/openapi.json",
        is_ours=served_at,
    )

    # --- 3. request, approve, collect, read ---------------------------------------------------
    asked = verifier.json(
        "verifier", "request", "--host", host.base, "--inbox", mine["inbox"],
        "--attributes", "address", "--purpose", "ServiceProvision", "--legal-basis", "A6-1-a",
    )  # fmt: skip
    assert asked["state"] == "pending"
    request_id = asked["request"]
    (waiting,) = citizen.json("consent", "requests")
    assert (waiting["id"], waiting["verifier"]) == (request_id, VERIFIER_ID)
    assert (waiting["verifier_name"], waiting["attributes"]) == (VERIFIER_NAME, ["address"])
    shown = citizen.run("consent", "requests").stdout
    assert f"Request {request_id}" in shown and VERIFIER_NAME in shown

    approved = citizen.json("consent", "approve", request_id)
    consent_id, token = approved["consent"], approved["token"]
    assert approved["attributes"] == ["address"]
    collected = verifier.json("verifier", "collect", request_id)
    assert (collected["state"], collected["consent"]) == ("approved", consent_id)

    read = verifier.json("verifier", "read", consent_id)
    assert read["attributes"] == {"address": BRP.sample["address"]}  # the address, nothing else
    assert (read["consent"], read["use"], read["missing"]) == (consent_id, 1, [])
    valid = verifier.json("verify", token, "--audience", VERIFIER_ID)
    assert (valid["valid"], valid["consent"], valid["host"]) == (True, consent_id, host.base)
    permit = apply_for_permit(desk.base, token)
    assert permit.status_code == 201, permit.text
    assert permit.json()["address"] == BRP.sample["address"]
    assert permit.json()["consent"] == consent_id

    # --- 4. revoke: every way of using the consent is refused ---------------------------------
    revoked = citizen.run("consent", "revoke", consent_id).stdout
    assert f"consent {consent_id} withdrawn" in revoked

    refused = verifier.run("verifier", "read", consent_id, expect=1)
    assert one_line(refused.stderr).startswith(("regie: revoked: ", "regie: consent_ended: "))
    assert "Oudegracht" not in refused.stdout
    denied = apply_for_permit(desk.base, token)
    assert denied.status_code == 403, denied.text
    assert denied.headers["content-type"] == "application/problem+json"
    assert denied.json()["type"] in ENDED
    rejected = verifier.run("verify", token, "--audience", VERIFIER_ID, expect=1)
    assert one_line(rejected.stderr).startswith("regie: revoked: ")
    history = citizen.json("consent", "history", consent_id)
    used = [e.get("use") for e in history if e["event"] == "consent.used"]
    assert used == [1, 2]  # the CLI's read and the desk's; nothing after the revocation
    assert history[-1]["event"] == "consent.withdrawn"

    # --- 5. the log: receipts, an auditor over HTTP, a witness, a tampered copy ---------------
    receipts = [e for e in history if e["event"] == "consent.used"]
    assert [e["receiptChecked"] for e in receipts] == [True, True]  # checked on the host machine
    auditor = role(tmp_path, "auditor")
    public = auditor.run("audit", "keygen", "--out", "auditor.jwk").stdout
    write_json(citizen.home / "auditor-public.jwk", json.loads(public))
    citizen.run("wallet", "log", "reader", "add", "auditor-public.jwk", "--name", "AP")
    vkey = citizen.run("wallet", "log", "key").stdout.strip()
    assert vkey == httpx.get(host.base + "/v1/log/key").text.strip()  # the same key, out of band
    auditor.run("audit", "trust", "--log-key", vkey)
    checked = auditor.json(
        "audit", "verify", "--host", host.base, "--key", "auditor.jwk", "--fresh"
    )
    assert checked["eventsChecked"] == checked["size"] >= 6
    reported = auditor.json("audit", "report", "--host", host.base, "--key", "auditor.jwk")
    assert reported["violations"] == []
    auditor.run("audit", "export", "--host", host.base, "--key", "auditor.jwk", "--out", "log")
    auditor.run("audit", "verify", "--export", "log")
    events = auditor.home / "log" / "events.jsonl"
    lines = events.read_bytes().split(b"\n")
    lines[2], lines[3] = lines[3], lines[2]  # two entries swapped in the copy
    events.write_bytes(b"\n".join(lines))
    caught = auditor.run("audit", "verify", "--export", "log", expect=1)
    assert one_line(caught.stderr).startswith("regie: log_event_mismatch: ")
