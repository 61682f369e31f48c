"""``regie wallet serve``, ``host-key`` and ``inbox``: run the wallet host, make its key, and
tell the citizen what to give a verifier (the host URL and the wallet's inbox id).

The host serves verifiers (consent requests, reads under a consent with DPoP,
the consents' status lists) from the wallet database, without the
passphrase. Its public base URL (``--url``, else ``REGIE_WALLET_HOST_URL``,
else ``http://127.0.0.1:<port>``) must be the URL the wallet writes into
consents, so set ``REGIE_WALLET_HOST_URL`` once for both. Settings beyond the
options come from the environment (:mod:`wallet.host.settings`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from wallet.config import config_from_env
from wallet.host.host_key import load_or_create_host_key, public_jwk
from wallet.host.settings import HostSettings

from .console import err, handle_errors, home_dir, out, print_json
from .wallet_session import opened_wallet

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home", help="The wallet's directory (default: $REGIE_HOME or your user data dir)."
    ),
]
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (names, not a bind)


def _settings(home: Path | None, url: str | None, host: str, port: int | None) -> HostSettings:
    if url is None and port is None:  # serve where this wallet's consents say the host is
        return HostSettings.from_env(home=home_dir(home))
    if url is None and not os.environ.get("REGIE_WALLET_HOST_URL"):
        shown = "127.0.0.1" if host in _WILDCARDS else host
        url = f"http://{shown}:{port}"
    return HostSettings.from_env(home=home_dir(home), host_url=url)


def _listen_port(settings: HostSettings, port: int | None) -> int:
    if port is not None:
        return port
    parts = urlsplit(settings.host_url)
    return parts.port or (443 if parts.scheme == "https" else 80)


@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(
            help="Port to listen on (default: the port of the host URL, 8002).", min=1, max=65535
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="The public base URL (default: $REGIE_WALLET_HOST_URL)."),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Serve the wallet host: consent requests, reads under consent (DPoP), status lists."""
    import uvicorn

    from wallet.host.app import create_app

    settings = _settings(home, url, host, port)
    named = config_from_env(home_dir(home)).host_url
    app = create_app(settings)
    out.print(f"Wallet host at {settings.host_url}", markup=False, highlight=False)
    if settings.host_url != named:
        err.print(
            f"Note: consents from this wallet name the host {named}. Set "
            f"REGIE_WALLET_HOST_URL={settings.host_url} for your regie commands, or verifiers "
            "will look for the status of your consents in the wrong place.",
            markup=False,
            highlight=False,
        )
    uvicorn.run(app, host=host, port=_listen_port(settings, port), log_level="info")


@handle_errors
def host_key(home: HomeOpt = None) -> None:
    """Make the host's status-list signing key (once); prints its PUBLIC JWK."""
    settings = HostSettings.from_env(home=home_dir(home))
    key, created = load_or_create_host_key(settings.host_key_file)
    verb = "Created" if created else "Kept the existing"
    err.print(f"{verb} host key {settings.host_key_file}", markup=False, highlight=False)
    print_json(public_jwk(key))


@handle_errors
def inbox(
    home: HomeOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Your inbox at your wallet host: give it to a verifier that is to ask you for consent."""
    with opened_wallet(home) as (config, wallet):
        owner, host_url = wallet.owner, config.host_url
    if json_out:
        print_json({"inbox": owner, "host": host_url})
        return
    out.print(
        f"Your inbox is {owner} at the wallet host {host_url}.\n"
        f"A verifier sends you a request with: regie verifier request --host {host_url} "
        f"--inbox {owner} ...; you answer it with 'regie consent requests'.",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``host-key`` and ``inbox`` to the ``regie wallet`` commands."""
    app.command("serve")(serve)
    app.command("host-key")(host_key)
    app.command("inbox")(inbox)


__all__ = ["host_key", "inbox", "register", "serve"]
