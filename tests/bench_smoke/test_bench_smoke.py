"""The benches' own code, run with tiny numbers so it cannot rot (no timing is asserted).

``make bench`` runs them for real; here: the offline-verify bench end to end
(one round of a few calls), and the read bench's wallet, consent and
precomputed requests sent to the real host app in process (no uvicorn, no
node): every request is answered 200 and recorded as a use.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import anyio
import httpx

from bench.bare_app import app as bare_app
from bench.reads import write_requests
from bench.verify_offline import bench_verify_offline
from bench.world import approved_consent, uses
from wallet.host import HostSettings, create_app
from wallet.storage import open_database


def test_offline_verify_bench_runs_with_one_status_fetch() -> None:
    result = bench_verify_offline(rounds=1, number=3)
    assert result["status_fetches"] == 1
    assert result["raw_per_s"] > 0
    assert result["verify_per_s"] > 0


def _send(app: object, base: str, lines: list[dict[str, str]]) -> list[httpx.Response]:
    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            return [await client.post("/v1/data", headers=headers) for headers in lines]

    return anyio.run(send_all)


def test_read_bench_requests_are_each_answered_and_recorded(tmp_path: Path) -> None:
    base, count = "http://127.0.0.1:8002", 3
    with open_database(None, home=tmp_path) as db:
        consent = approved_consent(db, host_url=base, now=int(time.time()))
        requests_file = tmp_path / "requests.jsonl"
        write_requests(consent, count, requests_file)
        common, *each = (json.loads(line) for line in requests_file.read_text().splitlines())
        lines = [{**common, **own} for own in each]
        assert len(lines) == count
        assert len({line["dpop"] for line in lines}) == count  # a fresh proof per request

        host = create_app(HostSettings(home=tmp_path, host_url=base))
        try:
            answers = _send(host, base, lines)
            replayed = _send(host, base, lines[:1])
        finally:
            host.state.host.close()
        assert [a.status_code for a in answers] == [200] * count, answers[-1].text
        assert [a.json()["use"] for a in answers] == list(range(1, count + 1))
        assert uses(db, consent.consent_id) == count
        assert replayed[0].status_code == 401  # so the bench must never send a proof twice

    bare = _send(bare_app, base, lines[:1])[0]
    assert bare.status_code == 200
    assert len(bare.json()["release"]) > 0


def test_log_bench_runs_small(tmp_path: Path) -> None:
    from bench.log import appends_per_second, export_database, fill, proof_ms, verify_ratio

    db = open_database(None, home=tmp_path / "log")
    try:
        appended = appends_per_second(db, total=64)
        assert appended["per_s"] > 0
        fill(db, 300)
        assert proof_ms(db, 300, samples=20)["p50_ms"] > 0
        export_database(db, tmp_path / "export")
        assert verify_ratio(tmp_path / "export")["events"] == 300
    finally:
        db.dispose()
