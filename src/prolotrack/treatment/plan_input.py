"""The one place that turns stored records into a core ``Plan`` for the safety rules.

The session form, its live findings, the patient chart and the intake screening (and later the
API) build their plans here, so that the rules read the same facts whoever asks:

- the clinic's jurisdiction and limits;
- the practitioner's profession and certifications (their PractitionerProfile);
- the patient's record (age on the session's date, sex, weight, diabetes, anticoagulant,
  bleeding disorder, pregnancy, allergies) and their latest screening (symptoms, history,
  infection at the site);
- the series' modality, the session's number and date, the date of the session before, and the
  pain before each earlier session (``pain_history``);
- the injections being charted.

Dates are the clinic's local dates: a session at 23:30 in Vancouver is on that day there.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from prolotrack.accounts.models import Clinic, User
from prolotrack.core.catalog import Catalog, Depth, Modality, Side, load_catalog
from prolotrack.core.charting import InjectionInput
from prolotrack.core.doses import Solution as DoseSolution
from prolotrack.core.rules import (
    Allergy,
    ClinicLimits,
    Plan,
    Practitioner,
    Profession,
    Sex,
)
from prolotrack.core.rules import Injection as PlanInjection
from prolotrack.core.rules import Patient as PlanPatient
from prolotrack.core.rules import Series as PlanSeries
from prolotrack.patients.models import Patient, Screening
from prolotrack.treatment.models import Session, TreatmentSeries


def clinic_limits(clinic: Clinic) -> ClinicLimits:
    """The thresholds the rules use for ``clinic``.

    Every clinic uses the cited defaults for now (the label's lidocaine limits, DOMAIN 2.1);
    per-clinic settings, which may only tighten the label's limits, will be read here.
    """
    return ClinicLimits()


def clinic_zone(clinic: Clinic) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(clinic.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def practitioner_input(user: User) -> Practitioner:
    """The practitioner as the scope rules see them: their profile's profession and
    certifications, or, without a profile, the profession of their role and no certification."""
    try:
        profile = user.practitioner  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        profile = None
    if profile is not None:
        profession, certifications = profile.profession, profile.certifications or []
    else:
        profession, certifications = user.role, []
    known = {p.value for p in Profession}
    return Practitioner(
        profession=Profession(profession) if profession in known else Profession.OTHER,
        certifications=frozenset(str(c) for c in certifications),
    )


def patient_input(patient: Patient, *, on: dt.date, screening: Screening | None) -> PlanPatient:
    """The patient's record and screening answers; no screening means no answer recorded yet
    (the pages say so and ask for one)."""
    allergies = {a.value for a in Allergy}
    return PlanPatient(
        age=max(0, patient.age_on(on)),
        sex=Sex(patient.sex) if patient.sex in {s.value for s in Sex} else Sex.UNKNOWN,
        weight_kg=None if patient.weight_kg is None else float(patient.weight_kg),
        diabetes=patient.diabetes,
        anticoagulant=patient.anticoagulant,
        bleeding_disorder=patient.bleeding_disorder,
        pregnant=patient.pregnant,
        allergies=frozenset(Allergy(a) for a in patient.allergies or [] if a in allergies),
        symptoms=frozenset(screening.symptom_codes) if screening else frozenset(),
        history=frozenset(screening.history_codes) if screening else frozenset(),
        infection_at_site=screening.infection_at_site if screening else False,
    )


def injection_input(item: InjectionInput, catalog: Catalog) -> PlanInjection:
    """A charted injection as the rules see it; ValueError for a site or side the catalog does
    not know (the charting checks report those first)."""
    site = catalog.sites.get(item.site)
    if site is None:
        raise ValueError(f"{item.site!r} is not a site of the catalog")
    return PlanInjection(
        region=site.region,
        side=Side(item.side),
        depth=Depth(item.depth),
        volume_ml=float(item.volume_ml),
        needle_gauge=item.needle_gauge,
        solution=DoseSolution(
            dextrose_pct=float(item.solution.dextrose_pct),
            lidocaine_pct=float(item.solution.lidocaine_pct),
            mannitol_pct=float(item.solution.mannitol_pct),
            epinephrine=item.solution.epinephrine,
        ),
        site=item.site,
    )


def series_input(
    series: TreatmentSeries, *, performed_at: dt.datetime, session: Session | None = None
) -> PlanSeries:
    """Where a session at ``performed_at`` sits in ``series``: its number, the date of the one
    before, and the pain before each earlier session (the first being the baseline)."""
    zone = clinic_zone(series.clinic)
    earlier_qs = Session.objects.filter(series=series, performed_at__lte=performed_at)
    if session is not None and session.pk is not None:
        earlier_qs = earlier_qs.exclude(pk=session.pk)
    earlier = list(earlier_qs.order_by("performed_at", "id").only("performed_at", "pain_before"))
    return PlanSeries(
        modality=Modality(series.modality),
        session_number=min(len(earlier) + 1, 100),
        date=timezone.localdate(performed_at, zone),
        previous_session_date=(
            timezone.localdate(earlier[-1].performed_at, zone) if earlier else None
        ),
        pain_history=tuple(float(s.pain_before) for s in earlier if s.pain_before is not None),
    )


def session_plan(
    *,
    series: TreatmentSeries,
    practitioner: User,
    performed_at: dt.datetime,
    injections: Sequence[InjectionInput],
    session: Session | None = None,
    catalog: Catalog | None = None,
) -> Plan:
    """The plan of one session being charted: what the session form checks before saving."""
    catalog = catalog or load_catalog()
    patient = series.patient
    plan_series = series_input(series, performed_at=performed_at, session=session)
    return Plan(
        jurisdiction=series.clinic.jurisdiction,
        practitioner=practitioner_input(practitioner),
        patient=patient_input(
            patient, on=plan_series.date, screening=Screening.objects.latest_for(patient)
        ),
        series=plan_series,
        injections=tuple(injection_input(item, catalog) for item in injections),
    )


def patient_plan(
    *,
    patient: Patient,
    practitioner: User,
    on: dt.datetime,
    series: TreatmentSeries | None = None,
    screening: Screening | None = None,
) -> Plan:
    """A plan with no injection yet, for what stands before any session: the red flags, the
    contraindications and, given a series, its review (the chart and the intake screen).

    Without a series it is a first neural session, which no series rule has anything to say
    about.
    """
    if screening is None:
        screening = Screening.objects.latest_for(patient)
    if series is not None:
        plan_series = series_input(series, performed_at=on)
    else:
        plan_series = PlanSeries(
            modality=Modality.NEURAL,
            session_number=1,
            date=timezone.localdate(on, clinic_zone(patient.clinic)),
        )
    return Plan(
        jurisdiction=patient.clinic.jurisdiction,
        practitioner=practitioner_input(practitioner),
        patient=patient_input(patient, on=plan_series.date, screening=screening),
        series=plan_series,
        injections=(),
    )
