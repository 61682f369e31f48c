"""The wallet role: the citizen's keys, encrypted vault, consents and the wallet host.

Arrives with the issue "Wallet: the encrypted vault and the consent lifecycle".
"""

__all__: list[str] = []
