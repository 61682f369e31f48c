"""Speed of the hot paths, as ratios against baselines measured in the same run.

Run with ``make bench``. Writes ``bench/RESULTS.md``.

* baseline: raw Ed25519 verification with libsodium (PyNaCl ``VerifyKey.verify``)
  over the same signing input a consent token has;
* consent-sized JWS verify with every check a consent token gets (strict
  parse, header allow-list, typ, algorithm from the key record, signature,
  required claims, integer times, lifetime, audience), key cached;
* the same token through PyJWT and joserfc, for comparison;
* SD-JWT VC presentation verify (3 disclosures + key binding): Regie with
  Ed25519 keys (ratio to raw), and Regie against the ``sd-jwt`` reference
  package on the same ES256 input (the reference verifies only ES256 key
  binding);
* vault records, consent grants (:mod:`bench.vault`, :mod:`bench.consents`);
* verified reads per second over real HTTP (consent + DPoP + status +
  transaction + release) on SQLite and PostgreSQL, as a ratio to a bare
  FastAPI endpoint served the same way, with p50/p99 latency (:mod:`bench.reads`);
* the verifier's offline consent verification with a cached status list, as
  a ratio to raw Ed25519 (:mod:`bench.verify_offline`);
* the consent log: appends per second with group commit, inclusion proofs at
  a million events, and an auditor's full verification as a ratio to raw
  SHA-256 leaf hashing (:mod:`bench.log`).

Each figure is the best of several timed repeats; each ratio is the median
of several interleaved rounds, so a noisy neighbour moves both sides alike.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.signing

from regie_protocol import jws, sdjwt
from regie_protocol.keys import Alg, SigningKey

RESULTS = Path(__file__).with_name("RESULTS.md")
MILLION_EVENTS = int(os.environ.get("REGIE_BENCH_LOG_EVENTS", "1000000"))
ROUNDS = int(os.environ.get("REGIE_BENCH_ROUNDS", "5"))
AUDIENCE = "https://parkeren.gemeente-utrecht.example"
CONSENT = jws.TokenProfile(
    name="consent token",
    typ="regie-consent+jwt",
    algs=frozenset({"EdDSA", "Ed25519", "ES256"}),
    required_claims=frozenset({"ver", "jti", "iss", "aud", "authorization_details", "cnf"}),
    max_lifetime=400 * 86400,
)


def rate(func: Callable[[], object], number: int) -> float:
    """Calls per second, best of five repeats."""
    best = min(timeit.repeat(func, number=number, repeat=5))
    return number / best


def consent_claims(key: SigningKey, now: int) -> dict[str, Any]:
    return {
        "ver": 1,
        "jti": "urn:uuid:5b0f3c9e-8f43-4c1e-9a57-1c1f0e6f2d11",
        "iss": key.public_key.thumbprint_uri(),
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 30 * 86400,
        "request": {"id": "req-81723", "sha256": "q0bUAX5oWG3bC9x8vH0s1lG5n0a6W9c0s3g9nQk2a8E"},
        "notice": {
            "uri": "https://parkeren.gemeente-utrecht.example/privacy/v3",
            "sha256": "Jd2yQ0bW1fO5tDq5b7Vg1qk0cBvUeZx6mK3pL8sR4tE",
            "lang": "nl",
        },
        "status": {
            "status_list": {"idx": 48213, "uri": "https://wallet.example/v1/status-lists/1"}
        },
        "cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
        "authorization_details": [
            {
                "type": "regie_attributes",
                "credential_types": ["https://credentials.regie.example/vct/brp-persoonsgegevens"],
                "claims": ["address"],
                "actions": ["present"],
                "purpose": "https://w3id.org/dpv#ServiceProvision",
                "purpose_text": {"nl": "Parkeervergunning aanvragen", "en": "Parking permit"},
                "legal_basis": "https://w3id.org/dpv/legal/eu/gdpr#A6-1-e",
                "processing_activity": "https://register.utrecht.example/verwerkingen/parkeren",
                "max_uses": 10,
                "retention": "P0D",
                "recipients": [],
            }
        ],
    }


def bench_jws(now: int) -> dict[str, float]:
    import jwt as pyjwt
    from joserfc import jwt as jose_jwt
    from joserfc.jwk import OKPKey

    key = SigningKey.generate(Alg.EDDSA)
    token = jws.sign(consent_claims(key, now), key=key, typ=CONSENT.typ)
    signing_input, _, _ = token.rpartition(".")
    message = signing_input.encode("ascii")
    signature = key.sign(message)
    verify_key = nacl.signing.VerifyKey(key.public_key.raw)
    public = key.public_key
    jwk = public.to_jwk()
    pyjwt_key = pyjwt.PyJWK(jwk).key
    jose_key = OKPKey.import_key(jwk)

    def regie() -> object:
        return jws.verify(token, profile=CONSENT, keys=public, now=now, audience=AUDIENCE)

    def raw() -> object:
        return verify_key.verify(message, signature)

    def with_pyjwt() -> object:
        return pyjwt.decode(token, pyjwt_key, algorithms=["EdDSA"], audience=AUDIENCE)

    def with_joserfc() -> object:
        return jose_jwt.decode(token, jose_key, algorithms=["EdDSA"])

    rounds: dict[str, list[float]] = {"raw": [], "regie": [], "pyjwt": [], "joserfc": []}
    for _ in range(ROUNDS):
        rounds["raw"].append(rate(raw, 2000))
        rounds["regie"].append(rate(regie, 2000))
        rounds["pyjwt"].append(rate(with_pyjwt, 1000))
        rounds["joserfc"].append(rate(with_joserfc, 1000))
    return {
        "token_bytes": float(len(token)),
        "raw_per_s": statistics.median(rounds["raw"]),
        "regie_per_s": statistics.median(rounds["regie"]),
        "regie_ratio": statistics.median(
            r / b for r, b in zip(rounds["regie"], rounds["raw"], strict=True)
        ),
        "pyjwt_ratio": statistics.median(
            r / b for r, b in zip(rounds["pyjwt"], rounds["raw"], strict=True)
        ),
        "joserfc_ratio": statistics.median(
            r / b for r, b in zip(rounds["joserfc"], rounds["raw"], strict=True)
        ),
    }


def _presentation(alg: Alg, now: int) -> tuple[str, dict[str, Any], SigningKey]:
    issuer_key = SigningKey.generate(alg)
    holder_key = SigningKey.generate(alg)
    payload = {
        "iss": "https://brp.gemeente-utrecht.example",
        "iat": now,
        "exp": now + 365 * 86400,
        "vct": "https://credentials.regie.example/vct/brp-persoonsgegevens",
        "cnf": {"jwk": holder_key.public_key.required_members()},
        "given_name": sdjwt.SD("Anna Maria"),
        "family_name": sdjwt.SD("de Vries"),
        "birthdate": sdjwt.SD("1958-04-12"),
        "address": sdjwt.SD({"locality": "Utrecht", "postal_code": "3511 NK"}),
        "age_over_18": sdjwt.SD(True),
        "age_over_65": sdjwt.SD(True),
    }
    credential = sdjwt.issue(payload, issuer_key=issuer_key)
    presentation = sdjwt.present(
        credential,
        disclose=["age_over_65", "address", "family_name"],
        holder_key=holder_key,
        audience=AUDIENCE,
        nonce="nonce-1",
        now=now,
    )
    return presentation, payload, issuer_key


def bench_sdjwt(now: int) -> dict[str, float]:
    from jwcrypto.jwk import JWK
    from sd_jwt.verifier import SDJWTVerifier

    ed_presentation, _, ed_issuer = _presentation(Alg.EDDSA, now)
    es_presentation, _, es_issuer = _presentation(Alg.ES256, now)
    policy = sdjwt.KeyBindingRequired(audience=AUDIENCE, nonce="nonce-1")
    ed_keys = {"https://brp.gemeente-utrecht.example": {ed_issuer.kid: ed_issuer.public_key}}
    es_keys = {"https://brp.gemeente-utrecht.example": {es_issuer.kid: es_issuer.public_key}}
    reference_key = JWK.from_json(json.dumps(es_issuer.public_key.to_jwk()))
    verify_key = nacl.signing.VerifyKey(ed_issuer.public_key.raw)
    message = b"x" * 400
    signature = ed_issuer.sign(message)

    def regie(token: str, keys: Any) -> Callable[[], object]:
        return lambda: sdjwt.verify(
            token,
            issuer_keys=keys,
            key_binding=policy,
            status=sdjwt.UNSAFE_SKIP_STATUS,
            now=now,
            accepted_vcts=None,
        )

    def reference() -> object:
        verifier = SDJWTVerifier(
            es_presentation, lambda iss, header: reference_key, AUDIENCE, "nonce-1"
        )
        return verifier.get_verified_payload()

    def raw() -> object:
        return verify_key.verify(message, signature)

    regie(ed_presentation, ed_keys)()  # the positive control: both must verify
    reference()
    rounds: dict[str, list[float]] = {"raw": [], "ed": [], "es": [], "ref": []}
    for _ in range(ROUNDS):
        rounds["raw"].append(rate(raw, 2000))
        rounds["ed"].append(rate(regie(ed_presentation, ed_keys), 500))
        rounds["es"].append(rate(regie(es_presentation, es_keys), 300))
        rounds["ref"].append(rate(reference, 100))
    return {
        "raw_per_s": statistics.median(rounds["raw"]),
        "ed_per_s": statistics.median(rounds["ed"]),
        "ed_ratio": statistics.median(
            r / b for r, b in zip(rounds["ed"], rounds["raw"], strict=True)
        ),
        "es_per_s": statistics.median(rounds["es"]),
        "ref_per_s": statistics.median(rounds["ref"]),
        "es_vs_ref": statistics.median(
            r / b for r, b in zip(rounds["es"], rounds["ref"], strict=True)
        ),
    }


#: RESULTS.md from this heading on (the soak runs, and any section written by hand
#: after them) is kept when the bench rewrites the file
KEPT_HEADING = "## Soak runs"


def _kept_sections() -> str:
    if not RESULTS.exists():
        return ""
    text = RESULTS.read_text(encoding="utf-8")
    at = text.find(KEPT_HEADING)
    return "\n" + text[at:] if at >= 0 else ""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, PyNaCl {nacl.__version__}"
    )


def _load() -> str:
    try:
        return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "load average unknown"


def read_section(r: dict[str, Any]) -> list[str]:
    """The RESULTS.md lines of the HTTP read bench (:func:`bench.reads.bench_reads`)."""
    head = [
        "## Verified reads over HTTP (consent + DPoP + status + transaction + release)",
        "",
    ]
    if "skipped" in r:
        return [*head, f"Not measured: {r['skipped']}.", ""]
    rows = [
        "| server | reads/s | ratio to bare | p50 ms | p99 ms | server CPU ms/request | mean commit batch |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = {
        "bare": "bare `FastAPI()` endpoint, constant answer",
        "sqlite": "wallet host, SQLite (WAL, synchronous=FULL)",
        "postgresql": "wallet host, PostgreSQL (SERIALIZABLE, fsync on)",
    }
    for key, label in names.items():
        f = r.get(key)
        if f is None:
            rows.append(f"| {label} | PostgreSQL not reachable | — | — | — | — | — |")
            continue
        batch = f"{f['batch_mean']:.1f}" if "batch_mean" in f else "—"
        rows.append(
            f"| {label} | {f['per_s']:.0f} | {f['ratio']:.2f} | {f['p50_ms']:.0f} | "
            f"{f['p99_ms']:.0f} | {f['cpu_ms']:.2f} | {batch} |"
        )
    return [
        *head,
        f"Each server: uvicorn in its own process, 1 worker, `--loop uvloop --http httptools "
        f"--no-access-log`, on 127.0.0.1. Load: autocannon (`bench/node/load.mjs`), "
        f"{r['connections']} keep-alive connections, each precomputed request sent once "
        "(`Authorization: DPoP <consent token>`, a fresh DPoP proof with its own `jti`, "
        "`iat` = now); runs of about 6 s, interleaved, "
        f"{r['rounds']} rounds; medians. A host run counts only when every answer was 2xx and "
        "the consent's `uses` grew by exactly the number of requests. Server CPU is the "
        "uvicorn process's user + system time over the run, per request.",
        "",
        *rows,
        "",
    ]


def log_section(lg: dict[str, Any]) -> list[str]:
    """The RESULTS.md lines of the consent log bench (:func:`bench.log.bench_log`)."""
    pg = lg.get("pg_appends")
    pg_row = (
        f"| appends, PostgreSQL (synchronous_commit=on) | {pg['per_s']:.0f} | {pg['per_commit']:.0f} |"
        if pg
        else "| appends, PostgreSQL | server not reachable | — |"
    )
    a, p, v = lg["sqlite_appends"], lg["proof"], lg["verify"]
    return [
        "## Consent log (RFC 9162 tree in the wallet database)",
        "",
        "Appends: 16 threads hand single-event units to one group committer (each a real "
        "`data.released` event: encode, leaf and node rows, head update).",
        "",
        "| what | per second | events per commit |",
        "| --- | ---: | ---: |",
        f"| appends, SQLite (WAL, synchronous=FULL) | {a['per_s']:.0f} | {a['per_commit']:.0f} |",
        pg_row,
        "",
        f"A log of {int(v['events']):,} events on SQLite (filled in {lg['fill_s']:.0f} s through "
        "the same appender):",
        "",
        "| what | figure |",
        "| --- | ---: |",
        f"| inclusion proof from the database, p50 | {p['p50_ms']:.3f} ms |",
        f"| inclusion proof, p99 | {p['p99_ms']:.3f} ms |",
        f"| raw SHA-256 of every event line (one core) | {v['raw_per_s']:.0f} lines/s |",
        f"| `audit.verify` of the export: every leaf and node hashed, root compared | {v['verify_per_s']:.0f} lines/s |",
        f"| ratio, verify to raw hashing (median of 3) | {v['ratio']:.2f} |",
        "",
        "The auditor hashes the events in worker processes while it builds the tree "
        "(Linux, 2 or more CPUs, 100,000 entries or more); on one core the ratio is "
        "about 0.6 (see `audit/verify.py`).",
        "",
    ]


def main() -> int:
    now = int(time.time())
    load_at_start = _load()
    print(f"Benchmarking on {machine()} ({ROUNDS} rounds, {load_at_start}) ...", flush=True)
    j = bench_jws(now)
    print(
        f"JWS: raw {j['raw_per_s']:.0f}/s, Regie {j['regie_per_s']:.0f}/s, ratio {j['regie_ratio']:.2f}"
    )
    s = bench_sdjwt(now)
    print(
        f"SD-JWT: Regie Ed25519 {s['ed_per_s']:.0f}/s (ratio {s['ed_ratio']:.2f}); "
        f"ES256 Regie {s['es_per_s']:.0f}/s vs reference {s['ref_per_s']:.0f}/s "
        f"({s['es_vs_ref']:.1f}x)"
    )
    from bench.consents import bench_consents
    from bench.vault import bench_vault

    v = bench_vault()
    c = bench_consents()
    print(
        f"Vault: seal {v['seal_per_s']:.0f}/s ({v['seal_ratio']:.2f} × raw AEAD), open {v['open_per_s']:.0f}/s ({v['open_ratio']:.2f})"
    )
    from bench.reads import bench_reads
    from bench.verify_offline import bench_verify_offline

    o = bench_verify_offline()
    print(
        f"Offline consent verify: {o['verify_per_s']:.0f}/s, raw {o['raw_per_s']:.0f}/s, ratio {o['ratio']:.2f}"
    )
    r = bench_reads()
    if "skipped" in r:
        print(f"HTTP reads: not measured ({r['skipped']})")
    else:
        for name in ("bare", "sqlite", "postgresql"):
            f = r.get(name)
            if f is not None:
                print(
                    f"HTTP reads {name}: {f['per_s']:.0f}/s (ratio {f['ratio']:.2f}), "
                    f"p50 {f['p50_ms']:.0f} ms, p99 {f['p99_ms']:.0f} ms, {f['cpu_ms']:.2f} ms CPU"
                )
    from bench.log import bench_log

    lg = bench_log()
    print(
        f"Log: appends SQLite {lg['sqlite_appends']['per_s']:.0f}/s, proof p50 "
        f"{lg['proof']['p50_ms']:.3f} ms at {MILLION_EVENTS:,}, verify ratio "
        f"{lg['verify']['ratio']:.2f}"
    )
    reads_ratio = None if "skipped" in r else r["sqlite"]["ratio"]
    checks = [
        ("consent-sized JWS verify ≥ 0.70 × raw Ed25519", j["regie_ratio"] >= 0.70),
        ("presentation verify ≥ 0.35 × raw Ed25519", s["ed_ratio"] >= 0.35),
        ("presentation verify ≥ 3 × the sd-jwt reference (ES256)", s["es_vs_ref"] >= 3.0),
        ("sealing a 1 KiB vault record ≥ 0.5 × raw XChaCha20-Poly1305", v["seal_ratio"] >= 0.5),
        ("consent grants on SQLite ≥ 0.3 × raw single-row commits", c["grant_sqlite_ratio"] >= 0.3),
        (
            "verified reads over HTTP on SQLite ≥ 0.3 × a bare FastAPI endpoint"
            + (" (not measured)" if reads_ratio is None else ""),
            reads_ratio is not None and reads_ratio >= 0.3,
        ),
        ("offline consent verify, status list cached, ≥ 0.6 × raw Ed25519", o["ratio"] >= 0.6),
        (
            "log appends with group commit on SQLite ≥ 5,000/s",
            lg["sqlite_appends"]["per_s"] >= 5000,
        ),
        ("inclusion proof at 10^6 events < 1 ms (p50)", lg["proof"]["p50_ms"] < 1.0),
        (
            "verifying a 10^6-event export ≥ 0.5 × raw SHA-256 leaf hashing",
            lg["verify"]["ratio"] >= 0.5,
        ),
    ]
    pg = c.get("grant_postgresql_per_s")
    pg_row = (
        f"| grants on PostgreSQL (SERIALIZABLE) | {pg:.0f} | {c['grant_postgresql_ratio']:.2f} |"
        if pg is not None
        else "| grants on PostgreSQL | server not reachable | — |"
    )
    lines = [
        "# Benchmark results",
        "",
        f"Measured {time.strftime('%Y-%m-%d', time.gmtime(now))} with `make bench` on: {machine()}; {load_at_start} at the start.",
        f"Each rate is the best of 5 repeats; each ratio the median of {ROUNDS} interleaved rounds.",
        "",
        "## JWS (consent-sized token, every consent check, key cached)",
        "",
        "| what | per second | ratio to raw Ed25519 (libsodium) |",
        "| --- | ---: | ---: |",
        f"| raw Ed25519 verify (PyNaCl/libsodium) | {j['raw_per_s']:.0f} | 1.00 |",
        f"| Regie `jws.verify` ({int(j['token_bytes'])}-byte token) | {j['regie_per_s']:.0f} | {j['regie_ratio']:.2f} |",
        f"| PyJWT `decode` (fewer checks) | — | {j['pyjwt_ratio']:.2f} |",
        f"| joserfc `jwt.decode` (fewer checks) | — | {j['joserfc_ratio']:.2f} |",
        "",
        "## SD-JWT VC presentation (3 disclosures + key binding)",
        "",
        "| what | per second | ratio |",
        "| --- | ---: | ---: |",
        f"| raw Ed25519 verify | {s['raw_per_s']:.0f} | 1.00 |",
        f"| Regie `sdjwt.verify`, Ed25519 issuer and holder | {s['ed_per_s']:.0f} | {s['ed_ratio']:.2f} × raw |",
        f"| Regie `sdjwt.verify`, ES256 issuer and holder | {s['es_per_s']:.0f} | {s['es_vs_ref']:.1f} × reference |",
        f"| `sd-jwt` reference package, same ES256 input | {s['ref_per_s']:.0f} | 1.0 |",
        "",
        "## Vault records (1 KiB, XChaCha20-Poly1305)",
        "",
        "| what | per second | ratio to raw AEAD (PyNaCl `nacl.bindings`) |",
        "| --- | ---: | ---: |",
        f"| raw encrypt | {v['raw_encrypt_per_s']:.0f} | 1.00 |",
        f"| `wallet.vault.seal` (fresh record key, 2 AEAD calls) | {v['seal_per_s']:.0f} | {v['seal_ratio']:.2f} |",
        f"| raw decrypt | {v['raw_decrypt_per_s']:.0f} | 1.00 |",
        f"| `wallet.vault.open_record` | {v['open_per_s']:.0f} | {v['open_ratio']:.2f} |",
        "",
        "## Consent grants (allocation, consent and event in one transaction)",
        "",
        "| what | per second | ratio to raw SQLite commit |",
        "| --- | ---: | ---: |",
        f"| raw single-row SQLite commit (WAL, synchronous=FULL) | {c['raw_commit_per_s']:.0f} | 1.00 |",
        f"| grants on SQLite | {c['grant_sqlite_per_s']:.0f} | {c['grant_sqlite_ratio']:.2f} |",
        pg_row,
        "",
        *read_section(r),
        "## Offline consent verification (verifier, status list cached)",
        "",
        "`verifier.verify_consent_token` on a real consent token: typ, holder key by `iss`, "
        "signature, times, audience, the status list's host trusted, scope and purpose, the "
        "status entry VALID from a warm `StatusListCache` (fetched once before timing; the "
        "bench fails if it is fetched while timing).",
        "",
        "| what | per second | ratio to raw Ed25519 |",
        "| --- | ---: | ---: |",
        f"| raw Ed25519 verify of the token's signing input | {o['raw_per_s']:.0f} | 1.00 |",
        f"| `verify_consent_token` ({o['token_bytes']}-byte token) | {o['verify_per_s']:.0f} | {o['ratio']:.2f} |",
        "",
        *log_section(lg),
        "## Targets",
        "",
        *[f"- {'met' if ok else 'NOT met'}: {name}" for name, ok in checks],
        "",
        "## Reading these figures",
        "",
        "- A presentation carries two signatures (issuer and key binding), so two raw",
        "  verifications alone cap its ratio at 0.50; 0.35 leaves about 0.9 raw-verify",
        "  times (≈ 55 µs here) for everything else: two strict JWS parses, decoding and",
        "  hashing each disclosure, the digest walk, the key binding checks.",
        "- Against the reference on ES256, two P-256 verifications take most of Regie's",
        "  time; 3 × the reference leaves about 60 µs for everything else.",
        "- Regie's remaining cost is CPython per-call work in the strict layer (base64url",
        "  and duplicate-member checks on every JSON object, typed result objects); no",
        "  check is skipped to gain speed, and nothing is cached between calls except",
        "  parsed JWS headers, imported holder keys, and the decoded claims of a consent",
        "  payload that already passed every check once (the signature, times, audience",
        "  and status are checked again on every call).",
        "- A vault seal makes two AEAD calls (the record under a fresh key, that key",
        "  under the master key), so 0.5 × raw AEAD is its ceiling, not a floor.",
        "- This machine is a shared VM: single rounds vary by ±20 %; the ratios are",
        "  medians of interleaved rounds for that reason.",
        "- The HTTP read figures depend most on the rest of the machine: the load",
        "  generator (node) and the server share its cores, so the bare endpoint",
        "  reaches less than its one-core rate (1 / its CPU per request). Server CPU",
        "  per request is the steadier figure. Where a read's time goes: the section",
        "  after the soak runs.",
        "- Since the consent log (issue 5) every grant and read also appends its",
        "  event (encode, leaf and node rows, head update: about 0.1-0.2 ms) and each",
        "  batch of reads signs a checkpoint and builds its receipts (about 1 ms a",
        "  batch, 16 reads a batch here). Server CPU per read went from 0.73 to 1.54",
        "  ms on SQLite (ratio 0.29 to 0.16) and grants from 0.35 to 0.23. On",
        "  PostgreSQL every write transaction now also locks the log head first and",
        "  pays the append's round trips: reads 0.97 to 2.50 ms, grants 0.22 to 0.08.",
        "  Nothing is skipped to win it back; where it could come from: receipts from",
        "  the batch's own nodes in memory, the head kept per transaction, fewer",
        "  statements per append.",
        "",
    ]
    RESULTS.write_text("\n".join(lines) + _kept_sections(), encoding="utf-8")
    print(f"Wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
