"""The issuer role: an authoritative source that signs attributes as SD-JWT VC.

Library: :class:`Issuer` (issue, status, key rotation) over an
:class:`IssuerState`; the credential types of three example sources. The HTTP
service is built by :func:`issuer.app.create_app`.
"""

from .issuer import IssuedCredential, Issuer, check_issuer_id, new_state
from .schemas import ClaimSpec, CredentialType, Kind, mark_disclosable, validate_claims
from .sources import CREDENTIAL_TYPES, SOURCES, Source, with_derived_claims
from .state import IssuerState, StateFile
from .status import StatusRegistry

__all__ = [
    "CREDENTIAL_TYPES",
    "SOURCES",
    "ClaimSpec",
    "CredentialType",
    "IssuedCredential",
    "Issuer",
    "IssuerState",
    "Kind",
    "Source",
    "StateFile",
    "StatusRegistry",
    "check_issuer_id",
    "mark_disclosable",
    "new_state",
    "validate_claims",
    "with_derived_claims",
]
