"""Starting values the charting forms offer; the practitioner changes any of them.

Sources (DOMAIN.md): neural prolotherapy 1.2 (5% dextrose, 27-30 G, subcutaneous, weekly, 4-8
sessions); classic prolotherapy 1.1 (15% extra-articular dextrose with local anaesthetic, every
2-6 weeks, 3-6 sessions; Yelland 2004 used 0.2% lignocaine). Volumes and needles come from each
site of the catalog.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from prolotrack.core.catalog import Depth, Modality, Site


@dataclass(frozen=True, slots=True)
class SeriesDefaults:
    planned_sessions: int
    planned_interval_days: int


SERIES_DEFAULTS = {
    Modality.NEURAL: SeriesDefaults(planned_sessions=6, planned_interval_days=7),
    Modality.CLASSIC: SeriesDefaults(planned_sessions=4, planned_interval_days=28),
}

# A neural point is 0.5-1 ml (Lyftogt 2005); used when a classic site is charted in a neural series.
NEURAL_POINT_ML = 0.5
NEURAL_GAUGE = 27


@dataclass(frozen=True, slots=True)
class InjectionDefaults:
    depth: str
    dextrose_pct: Decimal
    lidocaine_pct: Decimal
    mannitol_pct: Decimal
    epinephrine: bool
    volume_ml: Decimal
    needle_gauge: int

    def as_strings(self) -> dict[str, str]:
        """The values as the form fields show them (for new rows added in the browser)."""
        return {
            key: ("on" if value else "") if isinstance(value, bool) else str(value)
            for key, value in asdict(self).items()
        }


def injection_defaults(site: Site, modality: Modality | str) -> InjectionDefaults:
    """What a new injection row at ``site`` starts with in a series of ``modality``."""
    if Modality(modality) is Modality.NEURAL:
        volume = site.volume_ml if site.modality is Modality.NEURAL else NEURAL_POINT_ML
        return InjectionDefaults(
            depth=Depth.SUBCUTANEOUS.value,
            dextrose_pct=Decimal("5"),
            lidocaine_pct=Decimal("0"),
            mannitol_pct=Decimal("0"),
            epinephrine=False,
            volume_ml=Decimal(str(volume)),
            needle_gauge=NEURAL_GAUGE,
        )
    return InjectionDefaults(
        depth=site.depth.value,
        dextrose_pct=Decimal("15"),
        lidocaine_pct=Decimal("0.2"),
        mannitol_pct=Decimal("0"),
        epinephrine=False,
        volume_ml=Decimal(str(site.volume_ml)),
        needle_gauge=site.needle_gauge,
    )
