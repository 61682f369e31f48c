"""Service settings from ``REGIE_*`` environment variables, and their errors naming the variable.

A role's settings are a pydantic model; :func:`settings_values` gathers its
keyword arguments (environment, then computed defaults, then the caller's
overrides), and :func:`settings_errors` words a validation failure for a
:class:`~regie_protocol.errors.Misuse`: a line per wrong value, such as
``REGIE_HOST_STATUS_TTL (status_ttl): Input should be ...``. The value itself
is never repeated (it may be a secret).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

#: computes a field's default from the environment when no variable sets it
Default = Callable[[Mapping[str, str]], Any]


def settings_values(
    env_vars: Mapping[str, str],
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Default] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for a settings model.

    ``env_vars`` maps a field to its variable; a variable set to a non-empty
    value in ``environ`` (default ``os.environ``) gives the field. A field still
    missing that has an entry in ``defaults`` gets what it computes from the
    environment. Last, the ``overrides`` that are not ``None`` win.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {field: env[name] for field, name in env_vars.items() if env.get(name)}
    for field, default in (defaults or {}).items():
        if field not in values:
            values[field] = default(env)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return values


def settings_errors(exc: ValidationError, *, title: str, variable: Callable[[str], str]) -> str:
    """``title are not valid:`` and a line per wrong value: its variable, field and the problem.

    ``variable`` names the environment variable of a field (its dotted location).
    """
    lines = [f"{title} are not valid:"]
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"  {variable(field)} ({field}): {message}")
    return "\n".join(lines)


__all__ = ["Default", "settings_errors", "settings_values"]
