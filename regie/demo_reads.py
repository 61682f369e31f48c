"""``regie demo``, the reading: the desk reads Anna's address under her consent, until she stops it.

The desk's service (``POST /v1/parking-permits``) and its client read from the
wallet host (``POST /v1/data``, DPoP); the story shows, from the network's
wire tap, that the host sent only ciphertext, then what the desk sees after
opening and checking it. Then: a replayed proof, Anna's move (a new
credential, the release re-sealed), the old credential revoked, the consent
withdrawn, a read refused, and the desk's purge.
"""

from __future__ import annotations

import datetime as dt

import httpx

from issuer.sources import with_derived_claims
from regie_protocol import sdjwt
from regie_protocol.consent import ConsentClaims
from regie_protocol.errors import RegieError
from regie_protocol.release import decrypt_release
from verifier.purge import purge
from verifier.verify import VerifiedConsentToken
from wallet.consents import history, revoke, status_of
from wallet.credentials import receive
from wallet.releases import reseal

from .demo_asks import Scene, problem_of
from .demo_net import NetworkFetcher
from .demo_story import disclosed_names, jose_header, shortened, when
from .demo_world import DAY, DESK_NAME, HOST_URL, PARKING_DESK

DATA_URL = HOST_URL + "/v1/data"
NEW_ADDRESS = {
    "street_address": "Biltstraat 14",
    "postal_code": "3572 AC",
    "locality": "Utrecht",
    "country": "NL",
}
#: what an SD-JWT VC always carries besides the holder's data
ENVELOPE = frozenset({"iss", "iat", "nbf", "exp", "vct", "cnf", "status"})


def check(scene: Scene, presentation: str, consent: ConsentClaims) -> sdjwt.VerifiedSdJwt:
    """The desk's check of one presentation from a release (as its client does on each read)."""
    desk, brp = scene.desk, scene.brp.source
    policy = desk.policy()
    return sdjwt.verify(
        presentation,
        issuer_keys=policy.trusted_issuers,
        key_binding=sdjwt.KeyBindingRequired(
            audience=desk.identity.id, nonce=consent.jti, max_age=consent.exp - consent.iat
        ),
        status=desk.context.status.resolver(lambda uri: policy.issuer_serves(brp.issuer_id, uri)),
        now=scene.clock.now,
        accepted_vcts=[brp.ctype.vct],
    )


def apply_for_permit(scene: Scene, consent: VerifiedConsentToken) -> str:
    """Anna applies; the desk's service reads her address. The presentation it got."""
    story, net = scene.story, scene.net
    applied = scene.desk.http.post(
        PARKING_DESK + "/v1/parking-permits",
        json={"licensePlate": "GZ-123-K"},
        headers={"Authorization": f"Bearer {consent.token}"},
    )
    wire = net.last("POST", DATA_URL)
    body = wire.json()
    release = str(body["release"])
    readable = b"Oudegracht" in wire.content or b"Oudegracht" in scene.database_bytes()
    story.say(
        "Anna applies for a parking permit",
        "She sends the desk her licence plate. The desk's service checks the consent, then "
        "reads her address from her wallet host with a new DPoP proof. In one database "
        "transaction the host checks the consent (signature, desk, time, status, uses), "
        "records the read and sends the sealed data. "
        f"Use count: {body['use']}. Is 'Oudegracht' readable in what the host sent, or in "
        f"its database? {'YES (wrong!)' if readable else 'No: both hold only ciphertext.'}",
    )
    story.http(applied, by="to the desk's service")
    story.http(wire, by="the desk to Anna's wallet host")
    story.show("What the wallet host sent the desk", {**body, "release": shortened(release)})
    story.show(
        "The release's header (JWE, encrypted to the desk's X25519 key)", jose_header(release)
    )
    content = decrypt_release(release, keys=scene.desk.identity.encryption_key)
    presentation = content.presentations[0]
    seen = check(scene, presentation, consent.claims)
    story.say(
        "The desk opens and checks the data",
        "Only the desk's private key opens the release. Inside is one SD-JWT presentation "
        f"that discloses {', '.join(disclosed_names(presentation))}: her name, birth date "
        "and the rest stay out. The desk checks the BRP's signature, the key binding (for "
        "this desk and this consent), the validity period and the BRP's status list. Then "
        "it gives the permit.",
    )
    story.show(
        "What the desk sees of Anna", {k: v for k, v in seen.claims.items() if k not in ENVELOPE}
    )
    permit = applied.json()
    story.show("The permit", {k: permit[k] for k in ("licensePlate", "address", "addressKept")})
    return presentation


def replay(scene: Scene) -> None:
    """Someone sends the desk's last read again, proof and all: refused."""
    sent = scene.net.last("POST", DATA_URL).request
    again = scene.desk.http.send(
        httpx.Request(sent.method, sent.url, headers=sent.headers, content=sent.content)
    )
    problem = problem_of(again.json())
    scene.story.say(
        "Someone replays the desk's read",
        "An attacker who copied the desk's call to the host sends it again, consent and "
        "proof unchanged. The host remembers every proof it accepted. "
        f"Refused: {problem.get('type')} (HTTP {again.status_code}). A new proof needs the "
        "desk's private key.",
    )
    scene.story.http(again)
    scene.story.show("The host's answer", problem)


def move(scene: Scene, old_index: int) -> None:
    """Three weeks on, Anna moves: a new credential, the old one revoked, her data re-sealed."""
    story, clock, brp = scene.story, scene.clock, scene.brp
    clock.advance(21 * DAY)
    source = brp.source
    today = dt.datetime.fromtimestamp(clock.now, dt.UTC).date()
    claims = with_derived_claims(source.ctype.vct, {**source.sample, "address": NEW_ADDRESS}, today)
    issued = brp.issue(claims, scene.holder, now=clock.now)
    brp.revoke(old_index)
    fetcher = NetworkFetcher(scene.net.client())
    received = receive(scene.wallet, issued.token, now=clock.now, fetcher=fetcher)
    resealed = reseal(scene.wallet, now=clock.now)
    story.say(
        "Anna moves",
        "Three weeks later Anna moves to Biltstraat 14. The BRP issues a new credential "
        "with her new address and revokes the old one. Her wallet checks the new credential "
        f"and keeps it in place of the old one ({len(received.replaced)} replaced). It "
        "re-seals the data of her active consents from the new credential: "
        f"consents updated: {resealed}. Anna does not have to do anything else.",
    )


def read_again(scene: Scene, consent: VerifiedConsentToken) -> None:
    """The desk's next read gives the new address."""
    result = scene.desk.host().read(consent.token, ["address"], policy=scene.desk.policy())
    scene.story.say(
        "The desk reads the new address",
        "The desk checks the permit's address again with its client library. The host "
        f"sends the re-sealed data. Use count: {result.use}.",
    )
    scene.story.http(scene.net.last("POST", DATA_URL))
    scene.story.show("What the desk sees of Anna", dict(result.attributes))


def old_credential(scene: Scene, presentation: str, consent: ConsentClaims) -> None:
    """The presentation made from the old credential no longer passes."""
    try:
        check(scene, presentation, consent)
    except RegieError as exc:
        outcome = f"Refused, as it should be: {exc}"
    else:  # pragma: no cover - the demo would be wrong
        raise SystemExit("the revoked credential was accepted")
    scene.story.say(
        "The old credential no longer counts",
        "The desk checks the presentation it got before the move once more. The BRP has set "
        f"the old credential's bit in its status list. {outcome}",
    )


def withdraw(scene: Scene, consent_id: str) -> None:
    """Anna withdraws her consent; her wallet's history of it."""
    withdrawn = revoke(scene.wallet, consent_id, now=scene.clock.now)
    scene.story.say(
        "Anna withdraws her consent",
        "Anna no longer has a car. Withdrawing is one step, as easy as giving. Her wallet "
        "host's status list changes at once. "
        f"State now: {withdrawn.state.value}; status bit: {status_of(scene.wallet, withdrawn)} "
        "(1 = no longer valid).",
    )
    events = history(scene.wallet, consent_id, now=scene.clock.now)
    scene.story.table("Consent history", ["when", "event"], [[when(e.at), e.name] for e in events])


def read_refused(scene: Scene, consent: VerifiedConsentToken) -> None:
    """The desk's next read is refused by the host; the desk's store notes the consent ended."""
    try:
        scene.desk.host().read(consent.token, ["address"], policy=scene.desk.policy())
    except RegieError as exc:
        refused = f"Refused: {exc.code.value}."
    else:  # pragma: no cover - the demo would be wrong
        raise SystemExit("a read after the withdrawal returned data")
    wire = scene.net.last("POST", DATA_URL)
    stored = scene.desk.context.store.consent(consent.jti)
    scene.story.say(
        "The desk can no longer read",
        "The desk's own copy of the consent's status list is from before the withdrawal and "
        "still says yes, but the host checks the consent in the same transaction as each "
        "read. "
        f"{refused} No data was sent. The desk's client writes down what the host said: "
        f"in the desk's store the consent is now {stored.state if stored else 'unknown'}.",
    )
    scene.story.http(wire)
    scene.story.show("The host's answer", problem_of(wire.json()))


def purge_kept(scene: Scene) -> None:
    """The desk's purge, right after the refused read, deletes the address it kept."""
    store = scene.desk.context.store
    report = purge(store, now=scene.clock.now, status=scene.desk.context.status)
    reported = []
    for consent_id, names in report.by_consent().items():
        stored = store.consent(consent_id)
        if stored is not None:
            index, _ = scene.desk.host().report_purge(
                stored.token, names, purged_at=scene.clock.now
            )
            reported.append(index)
    scene.story.say(
        "The desk deletes what it kept",
        f"{DESK_NAME} kept Anna's address with her permit, as the consent allowed. Its "
        "purge runs right away: its store already knows the consent was withdrawn, so it "
        "need not wait until its copy of the status list is out of date. It deletes the "
        f"address. Purged: {len(report.purged)} "
        f"({', '.join(p.reason.value for p in report.purged)}). "
        f"Addresses of Anna the desk still keeps: {len(store.kept())}. The desk reports "
        "the purge to Anna's wallet host, which logs it "
        f"(log entr{'y' if len(reported) == 1 else 'ies'} {', '.join(map(str, reported))}).",
    )
    scene.story.show("Purge report", report.to_json())


def read_and_stop(scene: Scene, consent: VerifiedConsentToken, old_index: int) -> None:
    """Everything from the first read to the purge, in story order."""
    presentation = apply_for_permit(scene, consent)
    replay(scene)
    move(scene, old_index)
    read_again(scene, consent)
    old_credential(scene, presentation, consent.claims)
    withdraw(scene, consent.jti)
    read_refused(scene, consent)
    purge_kept(scene)


__all__ = ["check", "read_and_stop"]
