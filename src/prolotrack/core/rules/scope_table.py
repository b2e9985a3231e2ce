"""Scope of practice as data: who may give which injections where (DOMAIN 6).

The table lives in ``core/data/scope_of_practice.json`` so that a regulator's change is a data
edit with a cited source, not a code change (DOMAIN 6, "Software rules"). Each rule names a
jurisdiction (an ISO 3166-2 code such as CA-BC, or a country such as CA), the professions, depths,
regions and sites it covers, and a decision: allowed (perhaps only with one of some
certifications), not allowed, or unknown.

Lookup: the rules of the exact jurisdiction first, then those of its country, in file order; the
first rule that covers the injection decides. A jurisdiction with no rules at all is unknown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, NoReturn

from prolotrack.core.catalog import Catalog, CatalogError, Depth, frozen, load_catalog
from prolotrack.core.rules.vocabulary import Profession

FILE = "scope_of_practice.json"
JURISDICTION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?\Z")
_CODE = re.compile(r"[a-z][a-z0-9_]*\Z")
ALL = "all"
_CERT_FIELDS = ("code", "name", "jurisdiction", "includes", "sources")
_RULE_FIELDS = (
    "jurisdiction", "professions", "depths", "regions", "sites", "decision", "certifications",
    "note", "sources",
)  # fmt: skip


class Decision(StrEnum):
    ALLOWED = "allowed"
    NOT_ALLOWED = "not_allowed"
    UNKNOWN = "unknown"


class Outcome(StrEnum):
    """What the table says about one injection by one practitioner."""

    ALLOWED = "allowed"
    CERTIFICATION_REQUIRED = "certification_required"
    NOT_ALLOWED = "not_allowed"
    NOT_KNOWN = "not_known"
    UNKNOWN_JURISDICTION = "unknown_jurisdiction"


@dataclass(frozen=True, slots=True)
class Certification:
    code: str
    name: str
    jurisdiction: str
    # Holding this certification also grants these (CNPBC AIT Part B includes Part A).
    includes: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScopeRule:
    jurisdiction: str
    professions: frozenset[Profession]
    # None means every depth, region or site.
    depths: frozenset[Depth] | None
    regions: frozenset[str] | None
    sites: frozenset[str] | None
    decision: Decision
    # Any one of these is enough; empty means no certification is needed.
    certifications: tuple[str, ...]
    note: str
    sources: tuple[str, ...]

    def covers(self, profession: Profession, region: str, depth: Depth, site: str | None) -> bool:
        return (
            profession in self.professions
            and (self.depths is None or depth in self.depths)
            and (self.regions is None or region in self.regions)
            and (self.sites is None or (site is not None and site in self.sites))
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    rule: ScopeRule | None = None


def country_of(jurisdiction: str) -> str:
    return jurisdiction.split("-", 1)[0]


@dataclass(frozen=True)
class ScopeTable:
    certifications: Mapping[str, Certification]
    rules: tuple[ScopeRule, ...]

    def knows(self, jurisdiction: str) -> bool:
        return bool(self._rules_for(jurisdiction))

    def _rules_for(self, jurisdiction: str) -> tuple[ScopeRule, ...]:
        own = tuple(r for r in self.rules if r.jurisdiction == jurisdiction)
        country = country_of(jurisdiction)
        if country == jurisdiction:
            return own
        return own + tuple(r for r in self.rules if r.jurisdiction == country)

    def held(self, certifications: frozenset[str]) -> frozenset[str]:
        """The certifications held, with every certification they include, transitively."""
        held = set(certifications)
        pending = list(certifications)
        while pending:
            cert = self.certifications.get(pending.pop())
            for included in cert.includes if cert else ():
                if included not in held:
                    held.add(included)
                    pending.append(included)
        return frozenset(held)

    def decide(
        self,
        *,
        jurisdiction: str,
        profession: Profession,
        certifications: frozenset[str],
        region: str,
        depth: Depth,
        site: str | None = None,
    ) -> Verdict:
        rules = self._rules_for(jurisdiction)
        if not rules:
            return Verdict(Outcome.UNKNOWN_JURISDICTION)
        rule = next((r for r in rules if r.covers(profession, region, depth, site)), None)
        if rule is None or rule.decision is Decision.UNKNOWN:
            return Verdict(Outcome.NOT_KNOWN, rule)
        if rule.decision is Decision.NOT_ALLOWED:
            return Verdict(Outcome.NOT_ALLOWED, rule)
        if rule.certifications and not set(rule.certifications) & self.held(certifications):
            return Verdict(Outcome.CERTIFICATION_REQUIRED, rule)
        return Verdict(Outcome.ALLOWED, rule)


class _Reader:
    """One object of the file; each accessor checks one field or raises naming it."""

    def __init__(self, where: str, raw: object, fields: tuple[str, ...]) -> None:
        self.where = where
        if not isinstance(raw, dict):
            self.fail(None, "must be a JSON object")
        self.raw: dict[str, Any] = raw
        for field in fields:
            if field not in raw:
                self.fail(field, "is missing")
        for field in raw:
            if field not in fields:
                self.fail(field, "is not a known field")

    def fail(self, field: str | None, problem: str) -> NoReturn:
        where = self.where if field is None else f"{self.where}: {field}"
        raise CatalogError(f"{FILE}: {where}: {problem}")

    def text(self, field: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self.raw[field]
        if not isinstance(value, str) or not value.strip():
            self.fail(field, "must be a non-empty string")
        if pattern is not None and not pattern.match(value):
            self.fail(field, f"{value!r} is not a valid {field}")
        return value

    def codes(self, field: str, known: Mapping[str, object] | set[str], what: str) -> list[str]:
        value = self.raw[field]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(field, "must be a list of strings")
        for item in value:
            if item not in known:
                self.fail(field, f"unknown {what} {item!r}")
        if len(set(value)) != len(value):
            self.fail(field, "lists a value twice")
        return value

    def some(self, field: str, known: Mapping[str, object] | set[str], what: str) -> list[str]:
        values = self.codes(field, known, what)
        if not values:
            self.fail(field, "must not be empty")
        return values

    def all_or_some(
        self, field: str, known: Mapping[str, object] | set[str], what: str
    ) -> frozenset[str] | None:
        if self.raw[field] == ALL:
            return None
        return frozenset(self.some(field, known, what))


def _certifications(raw: object, sources: Mapping[str, object]) -> dict[str, Certification]:
    if not isinstance(raw, list):
        raise CatalogError(f"{FILE}: certifications: must be a list")
    out: dict[str, Certification] = {}
    for index, item in enumerate(raw):
        r = _Reader(f"certifications[{index}]", item, _CERT_FIELDS)
        code = r.text("code", _CODE)
        if code in out:
            r.fail("code", "is a duplicate")
        out[code] = Certification(
            code=code,
            name=r.text("name"),
            jurisdiction=r.text("jurisdiction", JURISDICTION),
            includes=(),
            sources=tuple(r.some("sources", sources, "source key")),
        )
    # Includes may point forward in the file, so they are read once every code is known.
    for index, item in enumerate(raw):
        r = _Reader(f"certifications[{index}]", item, _CERT_FIELDS)
        code = r.raw["code"]
        includes = r.codes("includes", out, "certification")
        if code in includes:
            r.fail("includes", "a certification cannot include itself")
        cert = out[code]
        out[code] = Certification(
            cert.code, cert.name, cert.jurisdiction, tuple(includes), cert.sources
        )
    return out


def _rule(
    index: int, item: object, catalog: Catalog, certs: Mapping[str, Certification]
) -> ScopeRule:
    r = _Reader(f"rules[{index}]", item, _RULE_FIELDS)
    decision = r.text("decision")
    if decision not in {d.value for d in Decision}:
        r.fail("decision", f"{decision!r} is not one of: {', '.join(d.value for d in Decision)}")
    required = r.codes("certifications", certs, "certification")
    if required and decision != Decision.ALLOWED:
        r.fail("certifications", "only an allowed rule can require a certification")
    depths = r.all_or_some("depths", {d.value for d in Depth}, "depth")
    return ScopeRule(
        jurisdiction=r.text("jurisdiction", JURISDICTION),
        professions=frozenset(
            Profession(p)
            for p in r.some("professions", {p.value for p in Profession}, "profession")
        ),
        depths=None if depths is None else frozenset(Depth(d) for d in depths),
        regions=r.all_or_some("regions", catalog.regions, "region"),
        sites=r.all_or_some("sites", catalog.sites, "site"),
        decision=Decision(decision),
        certifications=tuple(required),
        note=r.text("note"),
        sources=tuple(r.some("sources", catalog.sources, "source key")),
    )


def build_scope_table(raw: object, catalog: Catalog) -> ScopeTable:
    """Validate the parsed file against the catalog; raise CatalogError naming the first problem."""
    top = _Reader("(file)", raw, ("certifications", "rules"))
    certs = _certifications(top.raw["certifications"], catalog.sources)
    rules = top.raw["rules"]
    if not isinstance(rules, list):
        top.fail("rules", "must be a list")
    return ScopeTable(
        certifications=frozen(certs),
        rules=tuple(_rule(i, item, catalog, certs) for i, item in enumerate(rules)),
    )


@cache
def load_scope_table() -> ScopeTable:
    text = resources.files("prolotrack.core.data").joinpath(FILE).read_text(encoding="utf-8")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{FILE}: not valid JSON: {exc}") from exc
    return build_scope_table(raw, load_catalog())
