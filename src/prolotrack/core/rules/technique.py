"""Each injection's technique: solution, volume, needle, depth and site (DOMAIN 1, 2.4).

All soft: they warn when an injection leaves the modality's or the site's usual range, since
these defaults come from trials and course material, not from safety limits.
"""

from __future__ import annotations

from collections.abc import Iterator

from prolotrack.core.catalog import Depth, Modality, Site
from prolotrack.core.rules.base import Check, Context, Finding, Kind, Rule, Severity, number
from prolotrack.core.rules.plan import Injection, Plan

CLASSIC_DEXTROSE = Rule("solution.classic_dextrose", Kind.SOLUTION, Severity.WARN, "domain.1.1")
NEURAL_AGENT = Rule("solution.neural_agent", Kind.SOLUTION, Severity.WARN, "domain.1.2")
NEURAL_VOLUME = Rule("site.neural_volume", Kind.SITE, Severity.WARN, "domain.1.2")
SITE_VOLUME = Rule("site.site_volume", Kind.SITE, Severity.WARN, "domain.1.3")
NEURAL_NEEDLE = Rule("site.neural_needle", Kind.SITE, Severity.WARN, "domain.1.2")
DEPTH_DIFFERS = Rule("site.depth_differs", Kind.SITE, Severity.WARN, "domain.1.3")
OTHER_MODALITY = Rule("site.other_modality", Kind.SITE, Severity.WARN, "domain.1.3")
NEEDS_REVIEW = Rule("site.needs_review", Kind.SITE, Severity.INFO, "domain.1.3")
PNEUMOTHORAX = Rule("site.pneumothorax", Kind.SITE, Severity.WARN, "domain.2.4")


def _name(site: Site) -> str:
    """The site's name inside a sentence: "the supraorbital nerve", but "the ACL"."""
    name = site.name
    return name if name[1:2].isupper() else name[:1].lower() + name[1:]


def _site(inj: Injection, ctx: Context) -> Site | None:
    return ctx.catalog.sites[inj.site] if inj.site else None


def _neural(plan: Plan) -> bool:
    return plan.series.modality is Modality.NEURAL


def classic_dextrose(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 1.1 rule suggestion: range-check classic dextrose 5-25%, warn outside it.
    allowed = ctx.limits.classic_dextrose_pct

    def problem(inj: Injection) -> str | None:
        pct = inj.solution.dextrose_pct
        if pct in allowed:
            return None
        return (
            f"Check the mix: {number(pct)}% dextrose is outside the {allowed.describe('%')} "
            "used in classic prolotherapy."
        )

    if not _neural(plan):
        yield from CLASSIC_DEXTROSE.each(plan.injections, problem)


def neural_agent(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 1.2: 5% dextrose (D5W) or 5% mannitol; Lyftogt's early work used 20% glucose.
    allowed = ctx.limits.neural_dextrose_pct

    def problem(inj: Injection) -> str | None:
        dextrose, mannitol = inj.solution.dextrose_pct, inj.solution.mannitol_pct
        if dextrose == 0 and mannitol == 0:
            return "Check the mix: it has neither dextrose nor mannitol; neural uses 5% of either."
        if dextrose > 0 and dextrose not in allowed:
            return (
                f"Check the mix: {number(dextrose)}% dextrose is outside the "
                f"{allowed.describe('%')} used in neural prolotherapy (usually 5%)."
            )
        return None

    if _neural(plan):
        yield from NEURAL_AGENT.each(plan.injections, problem)


def neural_volume(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 1.2: 0.1-1.0 mL per subcutaneous point; deep perineural trials used up to 5 mL.
    # A catalog site has its own range, which site_volume checks instead.
    ranges = {
        Depth.SUBCUTANEOUS: ctx.limits.neural_subcutaneous_volume_ml,
        Depth.DEEP: ctx.limits.neural_deep_volume_ml,
    }

    def problem(inj: Injection) -> str | None:
        allowed = ranges.get(inj.depth)
        if inj.site is not None or allowed is None or inj.volume_ml in allowed:
            return None
        return (
            f"Check the volume: {number(inj.volume_ml, 2)} mL is outside the "
            f"{allowed.describe(' mL')} per point for {inj.depth.label.lower()} neural "
            "prolotherapy."
        )

    if _neural(plan):
        yield from NEURAL_VOLUME.each(plan.injections, problem)


def site_volume(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 1.3 and SITES.md: each catalog site carries its usual volume range.
    def problem(inj: Injection) -> str | None:
        site = _site(inj, ctx)
        if site is None or site.volume_ml_min <= inj.volume_ml <= site.volume_ml_max:
            return None
        return (
            f"Check the volume: {number(inj.volume_ml, 2)} mL is outside the "
            f"{site.volume_ml_min:g}-{site.volume_ml_max:g} mL usual at the {_name(site)}."
        )

    yield from SITE_VOLUME.each(plan.injections, problem)


def neural_needle(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 1.2: 27-30 G for subcutaneous PIT; warn for 25 G or larger.
    allowed = ctx.limits.neural_needle_gauge

    def problem(inj: Injection) -> str | None:
        if inj.depth is not Depth.SUBCUTANEOUS or inj.needle_gauge in allowed:
            return None
        return (
            f"Check the needle: {inj.needle_gauge} G is outside the {allowed.describe(' G')} "
            "used for subcutaneous neural prolotherapy."
        )

    if _neural(plan):
        yield from NEURAL_NEEDLE.each(plan.injections, problem)


def depth_differs(plan: Plan, ctx: Context) -> Iterator[Finding]:
    def problem(inj: Injection) -> str | None:
        site = _site(inj, ctx)
        if site is None or site.depth is inj.depth:
            return None
        return (
            f"Check the depth: the {_name(site)} is a {site.depth.label.lower()} site, not "
            f"{inj.depth.label.lower()}."
        )

    yield from DEPTH_DIFFERS.each(plan.injections, problem)


def other_modality(plan: Plan, ctx: Context) -> Iterator[Finding]:
    modality = plan.series.modality
    name = modality.label.lower()

    def problem(inj: Injection) -> str | None:
        site = _site(inj, ctx)
        if site is not None and site.modality is not modality:
            return f"Check the plan: the {_name(site)} is not a {name} site."
        region = ctx.catalog.regions[inj.region]
        if modality not in region.modalities:
            return f"Check the plan: the catalog has no {name} sites in the {region.name.lower()}."
        # DOMAIN 0: neural prolotherapy injects next to nerves; joint spaces belong to classic.
        if modality is Modality.NEURAL and inj.depth is Depth.INTRA_ARTICULAR:
            return "Check the plan: intra-articular injection is classic, not neural, prolotherapy."
        return None

    yield from OTHER_MODALITY.each(plan.injections, problem)


def needs_review(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 1.3: sites not confirmed in the sources need a PIT-trained clinician's review.
    def problem(inj: Injection) -> str | None:
        site = _site(inj, ctx)
        if site is None or not site.needs_review:
            return None
        return (
            f"Check the landmark against your training: the {_name(site)} is not yet "
            "confirmed by a trained clinician."
        )

    yield from NEEDS_REVIEW.each(plan.injections, problem)


def pneumothorax(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 2.4: thoracic, chest-wall, intercostal and rib sites; pneumothorax was the second
    # most reported serious event in spinal prolotherapy (123 of 472, Dagenais 2006).
    def problem(inj: Injection) -> str | None:
        site = _site(inj, ctx)
        at_risk = ctx.catalog.regions[inj.region].pneumothorax_risk or (
            site is not None and site.pneumothorax_risk
        )
        if not at_risk:
            return None
        return (
            "Put the pneumothorax risk in the consent and the aftercare instructions for "
            "injections over the chest wall or thoracic spine."
        )

    yield from PNEUMOTHORAX.each(plan.injections, problem)


RULES = (
    CLASSIC_DEXTROSE, NEURAL_AGENT, NEURAL_VOLUME, SITE_VOLUME, NEURAL_NEEDLE, DEPTH_DIFFERS,
    OTHER_MODALITY, NEEDS_REVIEW, PNEUMOTHORAX,
)  # fmt: skip
CHECKS: tuple[Check, ...] = (
    classic_dextrose, neural_agent, neural_volume, site_volume, neural_needle, depth_differs,
    other_modality, needs_review, pneumothorax,
)  # fmt: skip
