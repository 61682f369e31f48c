"""The ``regie`` command. Each role's commands live in a module of their own."""

from __future__ import annotations

from typing import Annotated

import typer

from . import __version__
from .cli_audit import audit_app
from .cli_consent import app as consent_app
from .cli_host import register as register_host_commands
from .cli_issuer import app as issuer_app
from .cli_log import keygen as audit_keygen
from .cli_log import log_app
from .cli_registry import app as registry_app
from .cli_verifier import app as verifier_app
from .cli_verify import verify as verify_command
from .cli_wallet import app as wallet_app
from .console import handle_errors

app = typer.Typer(
    help="Regie: keep your data under your own control (Regie op gegevens).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(issuer_app, name="issuer")
app.add_typer(registry_app, name="registry")
app.add_typer(wallet_app, name="wallet")
register_host_commands(wallet_app)
wallet_app.add_typer(log_app, name="log")
app.add_typer(consent_app, name="consent")
app.add_typer(verifier_app, name="verifier")
app.command("verify")(verify_command)
app.add_typer(audit_app, name="audit")
audit_app.command("keygen")(audit_keygen)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"regie {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Regie: keep your data under your own control."""


@app.command()
@handle_errors
def demo(
    plain: Annotated[
        bool, typer.Option(help="No colours or boxes (for screen readers and logs).")
    ] = False,
) -> None:
    """Run the whole story end to end on the embedded default, and explain each step."""
    from .demo import run_demo

    run_demo(plain=plain)


def main() -> None:
    app()
