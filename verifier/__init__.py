"""The verifier role: verify consent tokens and presentations, guard endpoints, purge data.

::

    policy = ConsentPolicy(audience=identity.id, attributes=frozenset({"address"}),
                           purpose=DPV + "ServiceProvision", trusted_hosts=trust.wallet_hosts,
                           trusted_issuers=trust.issuers, holder_keys=store.holder_key,
                           clock=clock, leeway=30)
    consent = verify_consent_token(token, policy, status=cache)       # raises a typed refusal
    result = WalletHostClient(host, identity, http=http, clock=clock, status=cache).read(
        consent.token, ["address"], policy=policy)                     # DPoP, JWE, SD-JWT+KB

With a home (identity, trust, store), :class:`VerifierContext` does the same
and keeps the record: ``submit_request``, ``collect`` (the answer, checked and
saved), and its clients note a consent the host says is over.

Modules: :mod:`.policy` (what is trusted and needed), :mod:`.verify` (the
consent token), :mod:`.status_cache` (Token Status Lists, T19), :mod:`.client`
(the wallet host), :mod:`.context` (one verifier's home, in use),
:mod:`.dependency` (FastAPI), :mod:`.store` and :mod:`.purge` (kept data),
:mod:`.identity` and :mod:`.trust` (files), :mod:`.example_service` (a
parking-permit desk).
"""

from .client import Answer, ReadResult, WalletHostClient
from .context import Collected, VerifierContext
from .dependency import require_consent
from .fetch import AllowListFetcher
from .identity import VerifierIdentity, load_identity, save_identity
from .policy import ConsentPolicy
from .purge import Purged, PurgeReason, PurgeReport, purge
from .status_cache import StatusListCache, StatusLists
from .store import KeptData, StoredConsent, VerifierStore
from .trust import Trust, load_trust, save_trust
from .verify import VerifiedConsentToken, verify_consent_token

__all__ = [
    "AllowListFetcher",
    "Answer",
    "Collected",
    "ConsentPolicy",
    "KeptData",
    "PurgeReason",
    "PurgeReport",
    "Purged",
    "ReadResult",
    "StatusListCache",
    "StatusLists",
    "StoredConsent",
    "Trust",
    "VerifiedConsentToken",
    "VerifierContext",
    "VerifierIdentity",
    "VerifierStore",
    "WalletHostClient",
    "load_identity",
    "load_trust",
    "purge",
    "require_consent",
    "save_identity",
    "save_trust",
    "verify_consent_token",
]
