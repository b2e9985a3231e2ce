"""Scope of practice (DOMAIN 6): may this practitioner give these injections here?

The decisions are data (``scope_table``); this module turns them into findings, one per region
and depth, naming the injections concerned.
"""

from __future__ import annotations

from collections.abc import Iterator

from prolotrack.core.catalog import Depth
from prolotrack.core.rules.base import Check, Context, Finding, Kind, Rule, Severity
from prolotrack.core.rules.base import injection_label as label
from prolotrack.core.rules.plan import Plan
from prolotrack.core.rules.scope_table import Outcome, Verdict

UNKNOWN_JURISDICTION = Rule(
    "scope_of_practice.unknown_jurisdiction", Kind.SCOPE_OF_PRACTICE, Severity.WARN, "domain.6"
)
NOT_KNOWN = Rule("scope_of_practice.not_known", Kind.SCOPE_OF_PRACTICE, Severity.WARN, "domain.6")
NOT_PERMITTED = Rule(
    "scope_of_practice.not_permitted", Kind.SCOPE_OF_PRACTICE, Severity.BLOCK, "domain.6"
)
CERTIFICATION_REQUIRED = Rule(
    "scope_of_practice.certification_required", Kind.SCOPE_OF_PRACTICE, Severity.BLOCK, "domain.6"
)

# One finding per verdict (outcome and the table rule behind it), region and depth.
Group = tuple[Verdict, str, Depth]


def _groups(plan: Plan, ctx: Context) -> dict[Group, list[int]]:
    """The injections of the plan, grouped by the table's verdict, region and depth."""
    groups: dict[Group, list[int]] = {}
    for index, injection in enumerate(plan.injections):
        verdict = ctx.scope.decide(
            jurisdiction=plan.jurisdiction,
            profession=plan.practitioner.profession,
            certifications=plan.practitioner.certifications,
            region=injection.region,
            depth=injection.depth,
            site=injection.site,
        )
        groups.setdefault((verdict, injection.region, injection.depth), []).append(index)
    return groups


def _who(plan: Plan) -> str:
    profession = plan.practitioner.profession.label
    article = "an" if profession[0] in "aeiou" else "a"
    return f"{article} {profession}"


def _injections(ctx: Context, region: str, depth: Depth) -> str:
    place = ctx.catalog.regions[region].name.lower()
    return f"{depth.label.lower()} injections in the {place}"


def _certification_names(verdict: Verdict, ctx: Context) -> str:
    required = verdict.rule.certifications if verdict.rule else ()
    return " or ".join(ctx.scope.certifications[c].name for c in required)


def _finding(plan: Plan, ctx: Context, group: Group, at: list[int]) -> Finding | None:
    verdict, region, depth = group
    outcome = verdict.outcome
    where, who, what = plan.jurisdiction, _who(plan), _injections(ctx, region, depth)
    note = f" {verdict.rule.note}" if verdict.rule else ""
    if outcome is Outcome.NOT_ALLOWED:
        return NOT_PERMITTED.finding(
            f"Refer to a physician for {label(at)}: in {where}, {who} may not give {what}.{note}",
            at,
        )
    if outcome is Outcome.CERTIFICATION_REQUIRED:
        return CERTIFICATION_REQUIRED.finding(
            f"Refer to a physician for {label(at)}, or record the certification: in {where}, "
            f"{who} needs {_certification_names(verdict, ctx)} to give {what}.",
            at,
        )
    if outcome is Outcome.NOT_KNOWN:
        return NOT_KNOWN.finding(
            f"Confirm with the regulator before giving {label(at)}: the scope rules do not say "
            f"whether {who} may give {what} in {where}.{note}",
            at,
        )
    return None


def scope_of_practice(plan: Plan, ctx: Context) -> Iterator[Finding]:
    if plan.injections and not ctx.scope.knows(plan.jurisdiction):
        yield UNKNOWN_JURISDICTION.finding(
            f"Confirm the scope of practice with the regulator before injecting: there are no "
            f"scope rules for {plan.jurisdiction}.",
            range(len(plan.injections)),
        )
        return
    for group, indexes in _groups(plan, ctx).items():
        finding = _finding(plan, ctx, group, indexes)
        if finding is not None:
            yield finding


RULES = (UNKNOWN_JURISDICTION, NOT_KNOWN, NOT_PERMITTED, CERTIFICATION_REQUIRED)
CHECKS: tuple[Check, ...] = (scope_of_practice,)
