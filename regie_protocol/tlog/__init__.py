"""The tamper-evident log's formats: the RFC 9162 Merkle tree, events, signed notes and proofs.

Everything here is pure and offline: a wallet host appends and signs with it,
an auditor or a verifier checks with it, and neither needs the other's code.
"""
