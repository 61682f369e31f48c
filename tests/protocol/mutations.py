"""Ways protocol tests spoil a good token: edits for refusal tables, random damage for properties.

:data:`DROP` and :func:`apply_changes` turn a table row's ``{"name": value}``
into an edited header or payload (``DROP`` removes the member; a callable
value is computed from the test's world). :func:`mutated` overwrites one to
four random bytes of a token; :data:`JSON_VALUES` draws small JSON values to
put where a member was.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

#: as a change's value: remove the member
DROP = object()

#: small JSON values of any type, nested a little
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def apply_changes(target: dict[str, Any], changes: dict[str, Any], context: object) -> None:
    """Set each member of ``changes`` in ``target`` (a callable gets ``context``); DROP removes."""
    for name, value in changes.items():
        if value is DROP:
            target.pop(name, None)
        else:
            target[name] = value(context) if callable(value) else value


def mutated(data: st.DataObject, token: str) -> bytes:
    """``token`` with one to four bytes overwritten at drawn places by drawn values."""
    raw = bytearray(token.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    return bytes(raw)


__all__ = ["DROP", "JSON_VALUES", "apply_changes", "mutated"]
