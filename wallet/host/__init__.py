"""The wallet host: the HTTP service verifiers talk to (consent requests, reads, status lists).

Build it with :func:`create_app` and :class:`HostSettings`; the read itself
(every check and its record in one transaction) is :mod:`wallet.host.reads`.
"""

from .app import API_VERSION, create_app, create_app_from_env
from .settings import HostSettings

__all__ = ["API_VERSION", "HostSettings", "create_app", "create_app_from_env"]
