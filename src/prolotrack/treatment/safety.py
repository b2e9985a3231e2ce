"""The safety findings on the pages: what they look like, and when a session may be saved.

A finding that blocks stops the save unless a physician records an override with a reason; a
caution needs the practitioner to tick "I have read the cautions" (DOMAIN 3.2, "Software rule":
hard stop until a clinician documents the referral or override; soft stop with
acknowledgement). Notes need nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from prolotrack.accounts.models import Role, User
from prolotrack.core.catalog import load_catalog
from prolotrack.core.doses import session_doses
from prolotrack.core.rules import ClinicLimits, Finding, Kind, Plan, PlanResult, Severity
from prolotrack.core.rules import check_plan as core_check_plan
from prolotrack.core.rules.base import Context, number
from prolotrack.core.rules.contraindications import CORN, LOCAL_ANAESTHETIC
from prolotrack.core.rules.dose_limits import applicable_limit
from prolotrack.core.rules.scope_table import load_scope_table
from prolotrack.core.rules.vocabulary import Allergy
from prolotrack.patients.models import Patient, Screening
from prolotrack.treatment.models import SeriesStatus, TreatmentSeries
from prolotrack.treatment.plan_input import clinic_limits, patient_plan

# Words beside the colour, so that no finding rests on colour alone (WCAG 1.4.1).
SEVERITY_LABELS = {Severity.BLOCK: "Stop", Severity.WARN: "Caution", Severity.INFO: "Note"}
MIN_OVERRIDE_REASON = 10


@dataclass(frozen=True)
class FindingItem:
    """A finding as a page shows it."""

    finding: Finding

    @property
    def severity(self) -> str:
        return self.finding.severity.value

    @property
    def label(self) -> str:
        return SEVERITY_LABELS[self.finding.severity]

    @property
    def message(self) -> str:
        return self.finding.message

    @property
    def code(self) -> str:
        return self.finding.code

    @property
    def source(self) -> str:
        return self.finding.source

    @property
    def kind(self) -> str:
        return self.finding.kind.value.replace("_", " ")

    @property
    def citation(self) -> str:
        """What the source key points at, in words (core/data/sources.json)."""
        source = load_catalog().sources.get(self.finding.source)
        return source.citation if source else self.finding.source


def items(findings: Iterable[Finding]) -> list[FindingItem]:
    return [FindingItem(f) for f in findings]


@dataclass(frozen=True)
class SessionCheck:
    """A session plan's findings, its totals against the lidocaine limit, and what was left out."""

    result: PlanResult
    lidocaine_limit_mg: float
    weight_known: bool
    screening: Screening | None
    # Rows with a value to correct, which the rules could not read ("Saphenous nerve, left").
    unchecked: tuple[str, ...] = ()

    @property
    def findings(self) -> list[FindingItem]:
        return items(self.result.findings)

    @property
    def blocked(self) -> bool:
        return self.result.blocked

    @property
    def blocks(self) -> tuple[Finding, ...]:
        return self.result.by_severity(Severity.BLOCK)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return self.result.by_severity(Severity.WARN)

    @property
    def block_codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.code for f in self.blocks))

    @property
    def warnings_key(self) -> str:
        """Names the cautions shown: ticking "I have read the cautions" acknowledges these, and
        a caution that appears or changes afterwards needs a new tick."""
        if not self.warnings:
            return ""
        text = "\n".join(sorted(f"{f.code} {f.message}" for f in self.warnings))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def lidocaine_mg(self) -> str:
        return number(self.result.totals.lidocaine_mg)

    @property
    def lidocaine_limit(self) -> str:
        return number(self.lidocaine_limit_mg)

    @property
    def lidocaine_over(self) -> bool:
        return any(f.code == "dose_limit.lidocaine_max" for f in self.result.findings)

    @property
    def dextrose_g(self) -> str:
        return number(self.result.totals.dextrose_g, 2)

    @property
    def volume_ml(self) -> str:
        return number(self.result.totals.volume_ml, 2)


def check_session_plan(
    plan: Plan,
    *,
    limits: ClinicLimits,
    screening: Screening | None,
    unchecked: Sequence[str] = (),
) -> SessionCheck:
    result = core_check_plan(plan, clinic_limits=limits)
    doses = session_doses(plan.injections)
    context = Context(limits=limits, doses=doses, catalog=load_catalog(), scope=load_scope_table())
    limit, _ = applicable_limit(doses, context)
    return SessionCheck(
        result=result,
        lidocaine_limit_mg=limit.limit_mg(plan.patient.weight_kg),
        weight_known=plan.patient.weight_kg is not None,
        screening=screening,
        unchecked=tuple(unchecked),
    )


# Saving ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    """A physician's documented decision to go ahead despite the findings that block."""

    by: User
    reason: str
    codes: tuple[str, ...]
    at: dt.datetime


class SafetyRefused(Exception):
    """The session may not be saved as it is; ``errors`` maps a field to what to do."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(" ".join(errors.values()))


def may_override(user: User) -> bool:
    return user.role == Role.PHYSICIAN


def session_safety_gate(
    *,
    check: SessionCheck,
    user: User,
    override_reason: str,
    acknowledged: str,
    now: dt.datetime,
) -> Override | None:
    """The override to store with the session, or None when nothing blocks.

    ``acknowledged`` is the ``warnings_key`` the practitioner ticked. Raises SafetyRefused when
    something blocks and ``user`` is not a physician or gave no reason, or when cautions were
    not acknowledged.
    """
    errors: dict[str, str] = {}
    override = None
    if check.blocked:
        count = len(check.blocks)
        what = f"{count} finding{'s' if count != 1 else ''} that stop{'s' if count == 1 else ''}"
        reason = override_reason.strip()
        if not may_override(user):
            errors["override_reason"] = (
                f"Nothing was saved: this session has {what} it. Change the plan as each "
                "finding says, or ask a physician to review it and record an override."
            )
        elif len(reason) < MIN_OVERRIDE_REASON:
            errors["override_reason"] = (
                f"Nothing was saved: this session has {what} it. Change the plan, or write why "
                f"you are going ahead in Override reason (at least {MIN_OVERRIDE_REASON} "
                "characters), for example the referral made or the patient's informed choice."
            )
        else:
            override = Override(by=user, reason=reason, codes=check.block_codes, at=now)
    if check.warnings and acknowledged != check.warnings_key:
        errors["acknowledge"] = (
            "Nothing was saved: read the cautions and tick “I have read the cautions”, or "
            "change the plan."
        )
    if errors:
        raise SafetyRefused(errors)
    return override


# The chart --------------------------------------------------------------------------------------

# What stands before any session: the injections' own rules (doses, scope, sites, solutions)
# and the booking interval wait for a session being charted.
_STANDING_KINDS = frozenset({Kind.RED_FLAG, Kind.CONTRAINDICATION, Kind.ALLERGY, Kind.SERIES})


def _allergy_reminders(patient: Patient) -> list[Finding]:
    """The allergies that change every plan, before any injection is charted."""
    allergies = set(patient.allergies or [])
    reminders = []
    if Allergy.LOCAL_ANAESTHETIC.value in allergies:
        reminders.append(
            Finding(
                LOCAL_ANAESTHETIC.code,
                LOCAL_ANAESTHETIC.kind,
                Severity.WARN,
                "Use solutions without lidocaine: the patient is allergic to local "
                "anaesthetics (plain 5% dextrose needs none). A session with lidocaine is "
                "stopped.",
                LOCAL_ANAESTHETIC.source,
            )
        )
    if Allergy.CORN.value in allergies:
        reminders.append(
            Finding(
                CORN.code,
                CORN.kind,
                Severity.WARN,
                "Warn the patient and watch for an allergic reaction when injecting dextrose: "
                "it is usually made from corn and the patient reports a corn allergy.",
                CORN.source,
            )
        )
    return reminders


@dataclass(frozen=True)
class ActiveFindings:
    screening: Screening | None
    findings: list[FindingItem] = field(default_factory=list)


def active_findings(patient: Patient, *, user: User, now: dt.datetime) -> ActiveFindings:
    """The findings that stand for ``patient`` today: red flags of the latest screening,
    contraindications and allergies of the record, and the review of each active series."""
    screening = Screening.objects.latest_for(patient)
    active = list(
        TreatmentSeries.objects.filter(
            patient=patient, status__in=[SeriesStatus.ACTIVE, SeriesStatus.PLANNED]
        ).select_related("clinic")
    )
    limits = clinic_limits(patient.clinic)
    plans = [
        patient_plan(patient=patient, practitioner=user, on=now, series=s, screening=screening)
        for s in active
    ] or [patient_plan(patient=patient, practitioner=user, on=now, screening=screening)]
    seen: dict[tuple[str, str], Finding] = {}
    for plan in plans:
        for finding in core_check_plan(plan, clinic_limits=limits).findings:
            if finding.kind in _STANDING_KINDS:
                seen.setdefault((finding.code, finding.message), finding)
    for finding in _allergy_reminders(patient):
        seen.setdefault((finding.code, finding.message), finding)
    ordered = sorted(seen.values(), key=lambda f: f.severity.rank)
    return ActiveFindings(screening=screening, findings=items(ordered))


def screening_findings(patient: Patient, *, user: User, screening: Screening) -> list[FindingItem]:
    """What the answers of ``screening`` call for: the red flags and infection at the site."""
    plan = patient_plan(
        patient=patient, practitioner=user, on=screening.recorded_at, screening=screening
    )
    result = core_check_plan(plan, clinic_limits=clinic_limits(patient.clinic))
    return items(
        f
        for f in result.findings
        if f.kind is Kind.RED_FLAG or f.code == "contraindication.infection_at_site"
    )
