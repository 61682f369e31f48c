"""The sd-jwt-python test cases (tests/vectors/sd-jwt-python-testcases, one folder per case).

Each case is issued with Regie's :func:`issue` (``!sd`` becomes :class:`SD`),
presented with the holder's selection, verified, and the result compared with
``expect_verified_user_claims`` plus ``iss`` (and ``cnf`` with key binding), as
the upstream runner does. Cases run with the fixed P-256 keys of
``settings.yml`` and again with fresh Ed25519 keys.

Not collected (not copied either, see SOURCE.md there): ``json_serialization_*``
(JWS JSON serialisation, which Regie does not support) and ``header_mod``
(extra issuer header parameters such as an integer ``kid``, which Regie refuses).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from regie_protocol.keys import Alg, SigningKey
from regie_protocol.sdjwt import (
    SD,
    UNSAFE_SKIP_STATUS,
    KeyBindingRequired,
    NoKeyBinding,
    cnf_for,
    issue,
    present,
    verify,
)
from tests.conftest import NOW

CASES = Path(__file__).parent.parent.parent / "vectors" / "sd-jwt-python-testcases"
TYP = "example+sd-jwt"  # the upstream generator's typ; SD-JWT VC would also require vct


class _Loader(yaml.SafeLoader):
    """YAML with the ``!sd`` tag of sd-jwt-python: on a value or on a member name."""


def _construct_sd(loader: yaml.SafeLoader, node: yaml.Node) -> SD:
    if isinstance(node, yaml.ScalarNode):
        if node.style in ('"', "'"):
            return SD(loader.construct_scalar(node))
        tag = loader.resolve(yaml.ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
        plain = yaml.ScalarNode(tag, node.value, node.start_mark, node.end_mark)
        return SD(loader.construct_object(plain, deep=True))
    if isinstance(node, yaml.MappingNode):
        return SD(loader.construct_mapping(node, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return SD(loader.construct_sequence(node, deep=True))
    raise TypeError(f"unexpected !sd node {node!r}")  # pragma: no cover


_Loader.add_constructor("!sd", _construct_sd)


def load(path: Path) -> Any:
    return yaml.load(path.read_text("utf-8"), Loader=_Loader)  # a SafeLoader subclass


def claims_of(value: Any) -> Any:
    """``{SD(name): value}`` (a tagged member name) becomes ``{name: SD(value)}``."""
    if isinstance(value, SD):
        return SD(claims_of(value.value))
    if isinstance(value, dict):
        out = {}
        for name, member in value.items():
            if isinstance(name, SD):
                out[name.value] = SD(claims_of(member))
            else:
                out[name] = claims_of(member)
        return out
    if isinstance(value, list):
        return [claims_of(element) for element in value]
    return value


def has_sd(value: Any) -> bool:
    if isinstance(value, SD):
        return True
    if isinstance(value, dict):
        return any(has_sd(v) for v in value.values())
    if isinstance(value, list):
        return any(has_sd(v) for v in value)
    return False


def selection_paths(claims: Any, wanted: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """sd-jwt-python's ``holder_disclosed_claims`` as Regie paths.

    A selectively disclosable node the holder discloses becomes its path when
    nothing inside it is selectively disclosable, else the paths its selection
    names inside it (Regie keeps the container). Array positions are those of
    the issued array, which is also the holder's view (Regie adds no array decoys).
    """
    out: list[tuple[Any, ...]] = []
    if isinstance(claims, dict):
        members = wanted if isinstance(wanted, dict) else {}
        for name, value in claims.items():
            pick = members.get(name)
            out += _node(value, pick, (*path, name), truthy=bool(pick))
    elif isinstance(claims, list):
        elements = wanted if isinstance(wanted, list) else []
        for i, element in enumerate(claims):
            pick = elements[i] if i < len(elements) else None
            out += _node(element, pick, (*path, i), truthy=pick not in (None, False))
    return out


def _node(value: Any, wanted: Any, path: tuple[Any, ...], *, truthy: bool) -> list[tuple[Any, ...]]:
    if not isinstance(value, SD):
        return selection_paths(value, wanted, path)
    if not truthy:
        return []
    if not has_sd(value.value):
        return [path]
    inner = selection_paths(value.value, wanted, path)
    if not inner:  # pragma: no cover - no case discloses a container without its insides
        raise AssertionError(f"{path}: disclosing only the container is not expressible")
    return inner


def case_params() -> list[Any]:
    params = []
    for folder in sorted(p for p in CASES.iterdir() if (p / "specification.yml").is_file()):
        for keys in ("settings-P-256", "Ed25519"):
            params.append(pytest.param(folder, keys, id=f"{folder.name}-{keys}"))
    return params


@pytest.fixture(scope="module")
def settings() -> Any:
    return load(CASES / "settings.yml")


def keys_for(kind: str, settings: Any) -> tuple[SigningKey, SigningKey]:
    if kind == "Ed25519":
        return SigningKey.generate(Alg.EDDSA), SigningKey.generate(Alg.EDDSA)
    key_settings = settings["key_settings"]
    issuer = SigningKey.from_private_jwk(dict(key_settings["issuer_keys"][0]))
    holder = SigningKey.from_private_jwk(dict(key_settings["holder_key"]))
    return issuer, holder


@pytest.mark.parametrize(("folder", "kind"), case_params())
def test_case(folder: Path, kind: str, settings: Any) -> None:
    spec = load(folder / "specification.yml")
    issuer, holder = keys_for(kind, settings)
    iss = settings["identifiers"]["issuer"]
    bound = bool(spec.get("key_binding", False))
    claims = {"iss": iss, **claims_of(spec["user_claims"])}
    if bound:
        claims["cnf"] = cnf_for(holder.public_key)
    token = issue(claims, issuer_key=issuer, typ=TYP)

    paths = selection_paths(claims, spec["holder_disclosed_claims"])
    audience, nonce = settings["identifiers"]["verifier"], settings["key_binding_nonce"]
    if bound:
        shown = present(
            token, disclose=paths, holder_key=holder, audience=audience, nonce=nonce, now=NOW
        )
        policy: Any = KeyBindingRequired(audience=audience, nonce=nonce)
    else:
        shown = present(token, disclose=paths, holder_key=None)
        policy = NoKeyBinding()
    verified = verify(
        shown,
        issuer_keys={iss: {issuer.kid: issuer.public_key}},
        key_binding=policy,
        status=UNSAFE_SKIP_STATUS,
        now=NOW,
        accepted_vcts=None,
        typ=TYP,
    )
    expected = dict(spec["expect_verified_user_claims"])
    expected["iss"] = iss
    if bound:
        expected["cnf"] = {"jwk": holder.public_key.required_members()}
    assert verified.claims == expected


def test_all_copied_cases_are_collected() -> None:
    names = sorted(p.name for p in CASES.iterdir() if p.is_dir())
    assert len(names) == 14
    assert not {"header_mod", "json_serialization_flattened", "json_serialization_general"} & set(
        names
    )
