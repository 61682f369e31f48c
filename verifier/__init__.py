"""The verifier role: verify consent tokens and presentations, guard endpoints, purge data.

Arrives with the issue "Wallet host and verifier: consent-gated reads over HTTP".
"""

__all__: list[str] = []
