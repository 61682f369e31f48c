"""Processing an issuer-signed payload with Disclosures, literally as RFC 9901 §7.1 step 3-5.

* Every ``_sd`` array holds digest strings; every array element ``{"...": digest}``
  (one member, a string) is an embedded digest. Any other use of ``_sd``, ``...``,
  or a nested ``_sd_alg`` is refused: an honest issuer never writes one (§4.1 rule 7).
* A digest with a Disclosure is replaced by the disclosed claim or element, whose
  value is processed recursively; a digest without one is dropped (decoys,
  undisclosed claims).
* Refused: a digest seen twice anywhere (DIGEST_DUPLICATE, §7.1 step 4), a
  Disclosure never referenced (DISCLOSURE_UNREFERENCED, step 5), an object-member
  Disclosure in an array or an element Disclosure in ``_sd`` (DISCLOSURE_MALFORMED,
  step 3.3), a disclosed name already present at its level or one of
  :data:`NEVER_DISCLOSABLE` at the top level (CLAIM_NAME_CONFLICT).
* Counts and nesting of the *result* are bounded: recursive Disclosures can nest
  far deeper than any single JSON text, so depth is counted here too.

Digests are looked up in a dict built once; nothing is re-serialised or re-hashed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import Code, DisclosureRefused, MalformedInput
from ..limits import Limits
from ._disclosures import (
    ELLIPSIS,
    NEVER_DISCLOSABLE,
    RESERVED_NAMES,
    SD_ALG_KEY,
    SD_KEY,
    Disclosure,
)

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Processed:
    """The Processed SD-JWT Payload and where each Disclosure landed in it."""

    claims: dict[str, Any]
    #: digest of each Disclosure -> its path in ``claims`` (array indices as in ``claims``)
    paths: dict[str, Path]


def index_disclosures(disclosures: Iterable[Disclosure]) -> dict[str, Disclosure]:
    """Map digest -> Disclosure. The same Disclosure sent twice is refused."""
    by_digest: dict[str, Disclosure] = {}
    for disclosure in disclosures:
        if disclosure.digest in by_digest:
            raise DisclosureRefused("the same disclosure is sent twice", code=Code.DIGEST_DUPLICATE)
        by_digest[disclosure.digest] = disclosure
    return by_digest


def process(
    payload: Mapping[str, Any], by_digest: Mapping[str, Disclosure], limits: Limits
) -> Processed:
    """Apply the Disclosures to ``payload`` (already signature-checked by the caller)."""
    paths: dict[str, Path] = {}
    claims = _Walker(by_digest, limits, paths).object(payload, 1, ())
    if len(paths) != len(by_digest):
        raise DisclosureRefused(
            f"{len(by_digest) - len(paths)} disclosure(s) are not referenced by any "
            "digest in the issuer-signed JWT",
            code=Code.DISCLOSURE_UNREFERENCED,
        )
    return Processed(claims=claims, paths=paths)


class _Walker:
    __slots__ = ("by_digest", "max_depth", "max_digests", "paths", "seen")

    def __init__(
        self, by_digest: Mapping[str, Disclosure], limits: Limits, paths: dict[str, Path]
    ) -> None:
        self.by_digest = by_digest
        self.max_depth = limits.max_json_depth
        self.max_digests = limits.max_sd_digests
        self.seen: set[str] = set()
        self.paths = paths

    def value(self, node: Any, depth: int, path: Path) -> Any:
        kind = type(node)
        if kind is dict:
            return self.object(node, depth, path)
        if kind is list:
            return self.array(node, depth, path)
        return node

    def _too_deep(self) -> MalformedInput:
        return MalformedInput(
            f"the processed payload nests deeper than {self.max_depth} levels",
            code=Code.DEPTH_EXCEEDED,
        )

    def _claim(self, digest: Any) -> Disclosure | None:
        """The Disclosure for an embedded digest (None: a decoy or not disclosed)."""
        seen = self.seen
        if type(digest) is not str:
            raise DisclosureRefused(
                "an embedded digest is not a string", code=Code.DISCLOSURE_MALFORMED
            )
        if digest in seen:
            raise DisclosureRefused(
                "a digest appears more than once in the SD-JWT", code=Code.DIGEST_DUPLICATE
            )
        seen.add(digest)
        return self.by_digest.get(digest)

    def object(self, node: Mapping[str, Any], depth: int, path: Path) -> dict[str, Any]:
        if depth > self.max_depth:
            raise self._too_deep()
        out: dict[str, Any] = {}
        digests = None
        for name, member in node.items():
            if name in RESERVED_NAMES:
                if name == SD_KEY:
                    digests = member
                    continue
                if name == SD_ALG_KEY and depth == 1:
                    continue
                raise DisclosureRefused(
                    f"{name!r} is not a claim name", code=Code.CLAIM_NAME_CONFLICT
                )
            kind = type(member)
            if kind is dict:
                out[name] = self.object(member, depth + 1, (*path, name))
            elif kind is list:
                out[name] = self.array(member, depth + 1, (*path, name))
            else:
                out[name] = member
        if digests is None:
            return out
        if type(digests) is not list:
            raise DisclosureRefused("'_sd' is an array of digests", code=Code.DISCLOSURE_MALFORMED)
        if len(digests) > self.max_digests:
            raise MalformedInput(
                f"an '_sd' array holds {len(digests)} digests; at most {self.max_digests}",
                code=Code.SIZE_EXCEEDED,
            )
        seen = self.seen
        by_digest = self.by_digest
        for digest in digests:
            # the checks of _claim, inlined: this loop runs once per digest and decoy
            if type(digest) is not str:
                raise DisclosureRefused(
                    "an embedded digest is not a string", code=Code.DISCLOSURE_MALFORMED
                )
            if digest in seen:
                raise DisclosureRefused(
                    "a digest appears more than once in the SD-JWT", code=Code.DIGEST_DUPLICATE
                )
            seen.add(digest)
            disclosure = by_digest.get(digest)
            if disclosure is None:
                continue
            disclosed_name = disclosure.name
            if disclosed_name is None:
                raise DisclosureRefused(
                    "an array-element disclosure is referenced from an object's '_sd'",
                    code=Code.DISCLOSURE_MALFORMED,
                )
            if disclosed_name in out:
                raise DisclosureRefused(
                    f"the disclosed claim {disclosed_name!r} already exists at its level",
                    code=Code.CLAIM_NAME_CONFLICT,
                )
            if depth == 1 and disclosed_name in NEVER_DISCLOSABLE:
                raise DisclosureRefused(
                    f"the claim {disclosed_name!r} may not be selectively disclosable",
                    code=Code.CLAIM_NAME_CONFLICT,
                )
            claim_path = (*path, disclosed_name)
            self.paths[digest] = claim_path
            value = disclosure.value
            kind = type(value)
            if kind is dict:
                value = self.object(value, depth + 1, claim_path)
            elif kind is list:
                value = self.array(value, depth + 1, claim_path)
            out[disclosed_name] = value
        return out

    def array(self, node: list[Any], depth: int, path: Path) -> list[Any]:
        if depth > self.max_depth:
            raise self._too_deep()
        out: list[Any] = []
        for element in node:
            if type(element) is dict and ELLIPSIS in element:
                if len(element) != 1:
                    raise DisclosureRefused(
                        "an array element with '...' has no other members",
                        code=Code.DISCLOSURE_MALFORMED,
                    )
                disclosure = self._claim(element[ELLIPSIS])
                if disclosure is None:
                    continue
                if disclosure.name is not None:
                    raise DisclosureRefused(
                        "an object-member disclosure is referenced from an array",
                        code=Code.DISCLOSURE_MALFORMED,
                    )
                element_path = (*path, len(out))
                self.paths[disclosure.digest] = element_path
                out.append(self.value(disclosure.value, depth + 1, element_path))
            elif type(element) is list:
                out.append(self.array(element, depth + 1, (*path, len(out))))
            elif type(element) is dict:
                out.append(self.object(element, depth + 1, (*path, len(out))))
            else:
                out.append(element)
        return out


__all__ = ["Path", "Processed", "index_disclosures", "process"]
