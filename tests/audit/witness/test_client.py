"""The log's witness client against the real witness on uvicorn over a socket on 127.0.0.1.

Cosigned answers verify with the witness key; a 409 gives the witness's size and
the retry from it is cosigned; every refusal is a typed error with the status and
a code; a transport failure or a 5xx is Unavailable; redirects are not followed;
an oversized answer is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Response
from fastapi.responses import RedirectResponse

from regie_protocol.errors import Code, Misuse, Unavailable
from regie_protocol.tlog.checkpoint import open_checkpoint, with_cosignatures
from regie_protocol.tlog.note import CosignerKey, NoteKey
from regie_protocol.tlog.witness_client import (
    MAX_ANSWER_BYTES,
    WitnessAnswer,
    WitnessRefused,
    request_cosignature,
    request_cosignature_sync,
)
from tests.serving import free_port, serve_app

from .world import T0, TestLog

pytestmark = pytest.mark.service


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    with serve_app(app, ready="/v1/logs", name="the witness") as base:
        yield base


def misbehaving_app(witness_base: str) -> FastAPI:
    """Answers a real witness would not give, one per submission prefix."""
    odd = FastAPI()

    @odd.post("/redirect/add-checkpoint")
    def redirect() -> Response:
        return RedirectResponse(witness_base + "/add-checkpoint", status_code=307)

    @odd.post("/huge/add-checkpoint")
    def huge() -> Response:
        return Response("— w " + "A" * MAX_ANSWER_BYTES + "\n", media_type="text/plain")

    @odd.post("/plain409/add-checkpoint")
    def plain_409() -> Response:
        return Response("5\n", status_code=409, media_type="text/plain")

    @odd.post("/leading-zero/add-checkpoint")
    def leading_zero() -> Response:
        return Response("05\n", status_code=409, headers={"Content-Type": "text/x.tlog.size"})

    @odd.post("/empty/add-checkpoint")
    def empty() -> Response:
        return Response(b"", media_type="text/plain")

    @odd.post("/broken/add-checkpoint")
    def broken() -> Response:
        return Response("oops", status_code=502)

    return odd


def verified(log: TestLog, note: bytes, answer: WitnessAnswer, witness: CosignerKey) -> int:
    cosigned = with_cosignatures(note, answer.cosignatures)
    opened = open_checkpoint(cosigned, log.key.verifier(), witnesses=[witness.verifier()], quorum=1)
    return opened.checkpoint.size


@pytest.mark.anyio
async def test_cosigned_then_409_then_retry(
    served: str, log: TestLog, witness_key: CosignerKey
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        first = await request_cosignature(
            client, served, old_size=0, proof=[], checkpoint=log.checkpoint(5)
        )
        assert first.cosigned
        assert first.witness_size is None
        assert verified(log, log.checkpoint(5), first, witness_key) == 5
        # a log that lost track of the witness's size starts from 0 and learns it
        stale = await request_cosignature(
            client, served + "/", old_size=0, proof=[], checkpoint=log.checkpoint(13)
        )
        assert stale == WitnessAnswer(witness_size=5)
        retried = await request_cosignature(
            client, served, old_size=5, proof=log.proof(5, 13), checkpoint=log.checkpoint(13)
        )
        assert verified(log, log.checkpoint(13), retried, witness_key) == 13


def test_the_sync_client_does_the_same(served: str, log: TestLog, witness_key: CosignerKey) -> None:
    with httpx.Client(timeout=10) as client:
        first = request_cosignature_sync(
            client, served, old_size=0, proof=[], checkpoint=log.checkpoint(3)
        )
        assert verified(log, log.checkpoint(3), first, witness_key) == 3
        stale = request_cosignature_sync(
            client, served, old_size=1, proof=log.proof(1, 7), checkpoint=log.checkpoint(7)
        )
        assert stale.witness_size == 3
        again = request_cosignature_sync(
            client, served, old_size=3, proof=log.proof(3, 7), checkpoint=log.checkpoint(7)
        )
        assert verified(log, log.checkpoint(7), again, witness_key) == 7


@pytest.mark.anyio
async def test_two_logs_racing_over_http_never_roll_back(served: str, log: TestLog) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        await request_cosignature(
            client, served, old_size=0, proof=[], checkpoint=log.checkpoint(4)
        )
        answers = await asyncio.gather(
            *(
                request_cosignature(
                    client, served, old_size=4, proof=log.proof(4, n), checkpoint=log.checkpoint(n)
                )
                for n in (6, 12)
            )
        )
        winners = [n for n, a in zip((6, 12), answers, strict=True) if a.cosigned]
        assert len(winners) == 1
        assert [a.witness_size for a in answers if not a.cosigned] == winners
        listed = (await client.get(served + "/v1/logs")).json()["logs"]
        assert listed[0]["size"] == winners[0]


def _refusal(served: str, old: int, proof: list[bytes], note: bytes) -> WitnessRefused:
    with httpx.Client(timeout=10) as client, pytest.raises(WitnessRefused) as refused:
        request_cosignature_sync(client, served, old_size=old, proof=proof, checkpoint=note)
    return refused.value


def test_refusals_are_typed(served: str, log: TestLog) -> None:
    with httpx.Client(timeout=10) as client:
        request_cosignature_sync(client, served, old_size=0, proof=[], checkpoint=log.checkpoint(8))

    stranger = TestLog.create("other.example/log", 4)
    unknown = _refusal(served, 0, [], stranger.checkpoint(4))
    assert (unknown.status, unknown.code) == (404, Code.KEY_UNKNOWN)
    assert "does not cosign for this log" in unknown.message

    impostor = _refusal(
        served, 8, log.proof(8, 9), log.checkpoint(9, key=NoteKey.generate(log.origin))
    )
    assert (impostor.status, impostor.code) == (403, Code.KEY_UNKNOWN)

    fork = TestLog(log.key, list(log.leaves))
    fork.leaves[0] = b"rewritten"
    split = _refusal(served, 8, [], fork.checkpoint(8))
    assert (split.status, split.code) == (422, Code.LOG_SPLIT_VIEW)

    inconsistent = _refusal(served, 8, fork.proof(8, 12), fork.checkpoint(12))
    assert (inconsistent.status, inconsistent.code) == (422, Code.LOG_INCONSISTENT)

    smaller = _refusal(served, 8, [], log.checkpoint(5))
    assert (smaller.status, smaller.code) == (400, Code.MALFORMED)


@pytest.mark.parametrize(
    ("prefix", "status", "code"),
    [
        ("/redirect", 307, Code.URL_REFUSED),
        ("/huge", 200, Code.SIZE_EXCEEDED),
        ("/plain409", 409, Code.MALFORMED),
        ("/leading-zero", 409, Code.MALFORMED),
        ("/empty", 200, Code.MALFORMED),
    ],
)
def test_odd_answers_are_refused(
    served: str, log: TestLog, prefix: str, status: int, code: Code
) -> None:
    with serve_app(misbehaving_app(served), ready="/", name="an odd witness") as odd:
        refused = _refusal(odd + prefix, 0, [], log.checkpoint(4))
    assert (refused.status, refused.code) == (status, code)
    with httpx.Client(timeout=10) as client:  # the redirect was not followed
        assert client.get(served + "/v1/logs").json()["logs"][0]["size"] is None


@pytest.mark.anyio
async def test_a_failing_or_absent_witness_is_unavailable(served: str, log: TestLog) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with serve_app(misbehaving_app(served), ready="/", name="an odd witness") as odd:
        async with httpx.AsyncClient(timeout=10) as client:
            for url in (closed, odd + "/broken"):
                with pytest.raises(Unavailable):
                    await request_cosignature(
                        client, url, old_size=0, proof=[], checkpoint=log.checkpoint(4)
                    )


def test_a_witness_url_is_http_without_query() -> None:
    with httpx.Client() as client:
        for url in ("ftp://witness.example", "https://witness.example/?x=1", "not a url"):
            with pytest.raises(Misuse):
                request_cosignature_sync(client, url, old_size=0, proof=[], checkpoint=b"")


def test_an_answer_is_cosignatures_or_a_size() -> None:
    with pytest.raises(Misuse):
        WitnessAnswer()
    with pytest.raises(Misuse):
        WitnessAnswer(cosignatures=("— w AAAA\n",), witness_size=3)
    assert WitnessAnswer(witness_size=T0).cosigned is False
