"""Resealing: a replaced credential (a move) updates the releases of active consents, only those."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from regie_protocol import sdjwt
from tests.wallet.consents.helpers import snapshot
from tests.wallet.databases import Target
from wallet import consents, requests
from wallet.releases import RELEASE_SOURCE_KIND
from wallet.storage import Release

from .helpers import DAY, HOST_URL, VERIFIER, World

MOVED: dict[str, Any] = {
    "given_name": "Anna Maria",
    "family_name": "de Vries",
    "birthdate": "1958-04-12",
    "address": {
        "street_address": "Langestraat 1",
        "postal_code": "3811 AA",
        "locality": "Amersfoort",
        "country": "NL",
    },
    "nationalities": ["NL"],
}


def _approve(world: World, **changes: Any) -> requests.Approved:
    stored = world.send(**changes)
    return requests.approve(
        world.wallet, stored.id, registry=world.registry, now=world.now, host_url=HOST_URL
    )


def _release(world: World, consent_id: str) -> dict[str, Any]:
    rows = world.db.fetch_all(select(Release).where(Release.consent_id == consent_id))
    return dict(rows[0])


def _locality(world: World, jwe: str, consent_id: str, now: int) -> str:
    (presentation,) = world.open_release(jwe).presentations
    shown = sdjwt.verify(
        presentation,
        issuer_keys=world.issuer_keys(),
        key_binding=sdjwt.KeyBindingRequired(audience=VERIFIER, nonce=consent_id),
        status=sdjwt.UNSAFE_SKIP_STATUS,
        now=now,
        accepted_vcts=None,
    )
    assert "street_address" not in shown.claims["address"]
    return str(shown.claims["address"]["locality"])


def test_a_new_address_reseals_the_active_consents_that_show_it(world: World) -> None:
    done = _approve(world)
    other = _approve(world, attributes=("nlqf_level",), optional_attributes=())
    before_other = _release(world, other.consent.id)
    first = _release(world, done.consent.id)
    assert _locality(world, first["jwe"], done.consent.id, world.now) == "Utrecht"
    later = world.now + DAY
    world.store_credential("brp", now=later, claims=MOVED)
    assert requests.reseal(world.wallet, now=later) == 1
    after = _release(world, done.consent.id)
    assert after["sealed_at"] == later and after["jwe"] != first["jwe"]
    assert after["attributes"] == first["attributes"]
    assert after["recipient_kid"] == first["recipient_kid"]
    assert _locality(world, after["jwe"], done.consent.id, later) == "Amersfoort"
    assert world.open_release(after["jwe"]).sealed_at == later
    assert _release(world, other.consent.id) == before_other  # the diploma did not change
    sources = world.wallet.find(RELEASE_SOURCE_KIND, ref=done.consent.id)
    assert len(sources) == 1 and set(sources[0].payload["credentials"]) == {
        d.credential_types[0] for d in done.consent.claims.authorization_details
    }
    assert requests.reseal(world.wallet, now=later + 1) == 0  # nothing changed since


def test_nothing_to_reseal_writes_nothing(world: World, target: Target) -> None:
    assert requests.reseal(world.wallet, now=world.now) == 0  # no consents at all
    _approve(world)
    world.grant_by_cli()  # a CLI grant has no release
    world.store_credential("income", now=world.now + 5)  # a type no consent uses
    before = snapshot(world.db, target.home)
    assert requests.reseal(world.wallet, now=world.now + 5) == 0
    assert snapshot(world.db, target.home) == before


def test_ended_consents_are_not_resealed(world: World) -> None:
    withdrawn = _approve(world)
    expiring = _approve(world, valid_for=DAY)
    consents.revoke(world.wallet, withdrawn.consent.id, now=world.now + 1)
    old = {c: _release(world, c) for c in (withdrawn.consent.id, expiring.consent.id)}
    later = world.now + DAY
    world.store_credential("brp", now=later, claims=MOVED)
    assert requests.reseal(world.wallet, now=later) == 0
    assert {c: _release(world, c) for c in old} == old


def test_a_consent_whose_credential_is_gone_keeps_its_release(world: World) -> None:
    done = _approve(world)
    old = _release(world, done.consent.id)
    brp = [r.id for r in world.wallet.find("credential") if "address" in r.payload["claims"]]
    world.wallet.delete(brp)
    world.store_credential("diploma", now=world.now + 5)  # a newer diploma: not this consent's
    assert requests.reseal(world.wallet, now=world.now + 5) == 0
    assert _release(world, done.consent.id) == old
    assert json.loads(old["attributes"]) == list(done.attributes)
