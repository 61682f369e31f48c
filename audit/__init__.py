"""The auditor role: verify the consent log offline, find violations, report.

Arrives with the issue "Tamper-evident consent log and the auditor".
"""

__all__: list[str] = []
