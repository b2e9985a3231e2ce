"""The clinical catalog: the shipped data, and every validation rule of its loader."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pytest

from prolotrack.core.catalog import (
    Catalog,
    CatalogError,
    Depth,
    Laterality,
    Modality,
    Side,
    View,
    load_catalog,
)
from prolotrack.core.catalog_loader import build

FILES = ("sources.json", "regions.json", "sites.json", "conditions.json", "adverse_events.json")
REGIONS = {
    "face": "Face and head",
    "neck_shoulder": "Neck and shoulder",
    "arm_hand": "Arm and hand",
    "hip_low_back": "Hip and lower back",
    "knee": "Knee",
    "hamstring_heel": "Hamstring and heel",
    "lower_leg_foot": "Lower leg and foot",
    "cervical_spine": "Cervical spine",
    "thoracic_spine": "Thoracic spine",
    "lumbar_spine": "Lumbar spine",
    "sacroiliac_pelvis": "Sacroiliac joint and pelvis",
}
# The seven regions of the clinics' nerve diagrams (DOMAIN, "Indications and regions").
NERVE_DIAGRAM_REGIONS = list(REGIONS)[:7]

Data = dict[str, Any]


@cache
def _text(name: str) -> str:
    return resources.files("prolotrack.core.data").joinpath(name).read_text(encoding="utf-8")


def shipped_data() -> Data:
    """A fresh, freely editable copy of every catalog file."""
    return {name: json.loads(_text(name)) for name in FILES}


def entry(data: Data, file: str, code: str) -> dict[str, Any]:
    key = "key" if file == "sources.json" else "code"
    return next(e for e in data[file] if e[key] == code)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# --- The shipped catalog ---------------------------------------------------------------------


def test_it_loads_the_shipped_catalog(catalog: Catalog) -> None:
    assert catalog is load_catalog()
    assert catalog.sites and catalog.conditions and catalog.adverse_events and catalog.sources


def test_it_has_exactly_the_eleven_regions_with_their_names(catalog: Catalog) -> None:
    assert {code: r.name for code, r in catalog.regions.items()} == REGIONS


def test_it_offers_both_modalities_in_the_nerve_diagram_regions(catalog: Catalog) -> None:
    for code in NERVE_DIAGRAM_REGIONS:
        assert set(catalog.regions[code].modalities) == {Modality.NEURAL, Modality.CLASSIC}
    for code in ("cervical_spine", "thoracic_spine", "lumbar_spine"):
        assert catalog.regions[code].modalities == (Modality.CLASSIC,)


def test_it_warns_of_pneumothorax_in_the_thoracic_region_only(catalog: Catalog) -> None:
    flagged = {code for code, r in catalog.regions.items() if r.pneumothorax_risk}
    assert flagged == {"thoracic_spine"}


def test_it_gives_every_region_at_least_one_site(catalog: Catalog) -> None:
    for code in REGIONS:
        assert catalog.sites_in_region(code), code


def test_it_has_sites_for_every_modality_a_region_offers(catalog: Catalog) -> None:
    for code, region in catalog.regions.items():
        used = {s.modality for s in catalog.sites_in_region(code)}
        assert used == set(region.modalities), code


def test_it_carries_every_row_of_the_site_draft(catalog: Catalog) -> None:
    # SITES.md has 127 table rows plus the recalled caudal epidural row.
    neural = [s for s in catalog.sites.values() if s.modality is Modality.NEURAL]
    classic = [s for s in catalog.sites.values() if s.modality is Modality.CLASSIC]
    assert (len(catalog.sites), len(neural), len(classic)) == (128, 62, 66)
    assert all(s.code.startswith("n_") for s in neural)
    assert all(s.code.startswith("c_") for s in classic)


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("n_supraorbital", "face"),
        ("n_greater_occipital", "face"),
        ("n_supraclavicular", "neck_shoulder"),
        ("c_lateral_epicondyle", "arm_hand"),
        ("n_superior_cluneal", "hip_low_back"),
        ("n_middle_cluneal", "sacroiliac_pelvis"),
        ("c_posterior_sacroiliac_ligaments", "sacroiliac_pelvis"),
        ("n_infrapatellar_saphenous", "knee"),
        ("n_medial_calcaneal", "hamstring_heel"),
        ("n_superficial_peroneal", "lower_leg_foot"),
        ("c_cervical_facet_capsules", "cervical_spine"),
        ("c_costochondral_joints", "thoracic_spine"),
        ("c_lumbar_facet_capsules", "lumbar_spine"),
        ("n_caudal_epidural", "sacroiliac_pelvis"),
    ],
)
def test_it_places_sites_in_their_sites_md_regions(
    catalog: Catalog, code: str, region: str
) -> None:
    assert catalog.site(code).region == region


def test_it_raises_a_clear_key_error_for_an_unknown_site(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match="n_nowhere"):
        catalog.site("n_nowhere")


def test_it_offers_paired_sites_on_either_side_and_midline_sites_on_the_midline(
    catalog: Catalog,
) -> None:
    for site in catalog.sites.values():
        if site.laterality is Laterality.MIDLINE:
            assert site.sides() == (Side.MIDLINE,)
            assert not site.allows_side("left") and site.allows_side(Side.MIDLINE)
        else:
            assert site.sides() == (Side.LEFT, Side.RIGHT)
            assert site.allows_side("left") and not site.allows_side("midline")
    midline = {s.code for s in catalog.sites.values() if s.laterality is Laterality.MIDLINE}
    assert {"c_coccyx", "c_lumbar_interspinous_ligaments", "n_caudal_epidural"} <= midline


def test_it_draws_paired_sites_on_the_patients_right(catalog: Catalog) -> None:
    for site in catalog.sites.values():
        if site.laterality is Laterality.BILATERAL:
            # Front view: the patient's right is on the viewer's left; back view: the reverse.
            assert (site.map.x < 0.5) == (site.map.view is View.FRONT), site.code


def test_it_mirrors_the_left_side_across_the_midline(catalog: Catalog) -> None:
    supraorbital = catalog.site("n_supraorbital").map
    left = supraorbital.for_side(Side.LEFT)
    assert (left.view, left.x, left.y) == (View.FRONT, 0.53, supraorbital.y)
    for site in catalog.sites.values():
        point = site.map
        mirrored = point.for_side(Side.LEFT)
        assert mirrored.view is point.view and mirrored.y == point.y
        assert mirrored.x == pytest.approx(1.0 - point.x)
        assert point.for_side(Side.RIGHT) == point
        assert point.for_side(Side.MIDLINE) == point


def test_it_keeps_volumes_and_needles_within_the_charting_bounds(catalog: Catalog) -> None:
    for site in catalog.sites.values():
        assert 0 < site.volume_ml_min <= site.volume_ml <= site.volume_ml_max <= 20, site.code
        assert 18 <= site.needle_gauge <= 33, site.code


def test_it_defaults_subcutaneous_neural_sites_to_pit_doses(catalog: Catalog) -> None:
    # DOMAIN 1.2: 27 G, 0.5 mL a point, at most 1 mL subcutaneously.
    for site in catalog.sites.values():
        if site.modality is Modality.NEURAL and site.depth is Depth.SUBCUTANEOUS:
            assert site.needle_gauge == 27, site.code
            assert site.volume_ml == 0.5, site.code
            assert site.volume_ml_max <= 1.0, site.code


def test_it_honours_the_intra_articular_volumes_of_the_sources(catalog: Catalog) -> None:
    assert catalog.site("c_glenohumeral_joint").volume_ml == 6.0
    assert catalog.site("c_knee_joint").volume_ml_max == 10.0
    assert catalog.site("c_knee_joint").depth is Depth.INTRA_ARTICULAR
    assert catalog.site("c_knee_joint").needle_gauge == 22
    assert catalog.site("c_finger_collateral_ligaments").needle_gauge == 27


@pytest.mark.parametrize(
    "code",
    [
        "c_thoracic_facet_capsules",
        "c_costotransverse_ligaments",
        "c_thoracic_interspinous_ligaments",
        "c_costochondral_joints",
        "n_intercostobrachial",
        "n_upper_thoracic_dorsal_rami",
    ],
)
def test_it_warns_of_pneumothorax_at_chest_wall_sites(catalog: Catalog, code: str) -> None:
    assert catalog.site(code).pneumothorax_risk


def test_it_does_not_warn_of_pneumothorax_away_from_the_chest(catalog: Catalog) -> None:
    for code in ("n_supraorbital", "c_knee_joint", "c_lumbar_facet_capsules"):
        assert not catalog.site(code).pneumothorax_risk


def test_it_flags_unconfirmed_sites_for_clinical_review(catalog: Catalog) -> None:
    assert catalog.site("n_auriculotemporal").needs_review  # [U] only
    assert catalog.site("n_mental").needs_review  # [V] foramen, [U] premolar level
    assert catalog.site("n_caudal_epidural").needs_review  # recalled, not confirmed
    assert not catalog.site("n_greater_occipital").needs_review  # [V] throughout


def test_it_cites_the_domain_section_of_each_modality(catalog: Catalog) -> None:
    for site in catalog.sites.values():
        section = "domain.1.3" if site.modality is Modality.NEURAL else "domain.1.1"
        assert section in site.sources, site.code


def test_it_maps_every_condition_to_existing_regions(catalog: Catalog) -> None:
    for condition in catalog.conditions.values():
        assert condition.regions, condition.code
        assert set(condition.regions) <= set(catalog.regions), condition.code
        assert "domain.clinics" in condition.sources


@pytest.mark.parametrize(
    ("code", "modalities", "regions"),
    [
        ("migraine_headache", {"neural"}, {"face", "neck_shoulder"}),
        ("low_back_pain", {"neural", "classic"}, {"hip_low_back", "lumbar_spine"}),
        ("plantar_fasciitis", {"neural", "classic"}, {"hamstring_heel"}),
        ("osteoarthritis", {"neural", "classic"}, {"knee", "hip_low_back"}),
        ("temporomandibular_disorder", {"neural", "classic"}, {"face"}),
        ("carpal_tunnel_syndrome", {"neural"}, {"arm_hand"}),
        ("mortons_neuroma", {"neural"}, {"lower_leg_foot"}),
        ("vulvodynia_dyspareunia", {"neural"}, {"hip_low_back"}),
        ("complex_regional_pain_syndrome", {"neural"}, {"arm_hand"}),
        ("cervicogenic_headache", {"classic"}, {"cervical_spine"}),
        ("spinal_stenosis_ligament_laxity", {"classic"}, {"lumbar_spine"}),
    ],
)
def test_it_lists_the_indications_clinics_name(
    catalog: Catalog, code: str, modalities: set[str], regions: set[str]
) -> None:
    condition = catalog.conditions[code]
    assert set(condition.modalities) == modalities
    assert regions <= set(condition.regions)


def test_it_lists_the_adverse_event_form_categories(catalog: Catalog) -> None:
    events = catalog.adverse_events
    assert len(events) == 10 and "other" in events
    serious = {code for code, e in events.items() if e.serious_by_default}
    assert serious == {"pneumothorax", "dural_puncture_headache", "la_systemic_toxicity"}
    assert all(e.sources == ("domain.2.4",) for e in events.values())


def test_it_cannot_be_changed_after_loading(catalog: Catalog) -> None:
    with pytest.raises(TypeError):
        catalog.sites["n_new"] = catalog.site("n_supraorbital")  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.site("n_supraorbital").volume_ml = 5.0  # type: ignore[misc]


def test_it_builds_the_same_catalog_from_the_files_as_load_catalog(catalog: Catalog) -> None:
    data = shipped_data()
    assert build(data.__getitem__) == catalog


# --- Validation: each rule refuses a deliberately broken copy --------------------------------


@dataclass(frozen=True)
class Broken:
    """One deliberate fault: the message must start with ``file: 'label': field:``."""

    file: str
    label: str
    field: str
    change: Callable[[Data], None]


def set_field(
    file: str, code: str, field: str, value: Any, *, named: str = "", label: str = ""
) -> Broken:
    def change(data: Data) -> None:
        entry(data, file, code)[field] = value

    return Broken(file, label or code, named or field, change)


def set_map(code: str, key: str, value: Any) -> Broken:
    def change(data: Data) -> None:
        entry(data, "sites.json", code)["map"][key] = value

    return Broken("sites.json", code, f"map.{key}", change)


def drop(file: str, code: str, field: str) -> Broken:
    def change(data: Data) -> None:
        del entry(data, file, code)[field]

    return Broken(file, code, field, change)


def duplicate(file: str, code: str) -> Broken:
    def change(data: Data) -> None:
        data[file].append(dict(entry(data, file, code)))

    return Broken(file, code, "key" if file == "sources.json" else "code", change)


SITES, CONDITIONS = "sites.json", "conditions.json"
BROKEN = {
    # Shape: unknown, missing and duplicate fields and entries.
    "unknown-field": set_field(SITES, "n_supraorbital", "colour", "red"),
    "missing-field": drop("regions.json", "knee", "name"),
    "missing-landmark": drop(SITES, "c_coccyx", "landmark"),
    "duplicate-site": duplicate(SITES, "n_mental"),
    "duplicate-region": duplicate("regions.json", "knee"),
    "duplicate-source": duplicate("sources.json", "domain.5"),
    "duplicate-condition": duplicate(CONDITIONS, "sinusitis"),
    "duplicate-event": duplicate("adverse_events.json", "other"),
    "bad-code": set_field(SITES, "n_mental", "code", "N Mental", label="N Mental"),
    "bad-source-key": set_field("sources.json", "domain.5", "key", "Domain 5", label="Domain 5"),
    "empty-name": set_field(CONDITIONS, "sinusitis", "name", "  "),
    "empty-citation": set_field("sources.json", "domain.5", "citation", ""),
    # Enumerations.
    "bad-depth": set_field(SITES, "n_mental", "depth", "intramuscular"),
    "bad-laterality": set_field(SITES, "n_mental", "laterality", "left"),
    "bad-modality": set_field(SITES, "n_mental", "modality", "laser"),
    "bad-region-modality": set_field("regions.json", "face", "modalities", ["neural", "laser"]),
    "duplicate-modality": set_field(CONDITIONS, "sinusitis", "modalities", ["neural"] * 2),
    "no-modality": set_field(CONDITIONS, "sinusitis", "modalities", []),
    "bad-view": set_map("n_mental", "view", "side"),
    # References between files.
    "unknown-region": set_field(SITES, "n_mental", "region", "chin"),
    "unknown-condition-region": set_field(CONDITIONS, "sciatica", "regions", ["leg"]),
    "condition-without-region": set_field(CONDITIONS, "sinusitis", "regions", []),
    "unknown-site-source": set_field(SITES, "n_mental", "sources", ["sites.S999"]),
    "unknown-region-source": set_field("regions.json", "knee", "sources", ["domain.9"]),
    "unknown-condition-source": set_field(CONDITIONS, "sinusitis", "sources", ["x.y"]),
    "unknown-event-source": set_field("adverse_events.json", "other", "sources", ["domain.2"]),
    "site-without-source": set_field(SITES, "n_mental", "sources", []),
    # Body-map coordinates.
    "map-not-object": set_field(SITES, "n_mental", "map", [0.4, 0.1]),
    "map-extra-key": set_field(
        SITES, "n_mental", "map", {"view": "front", "x": 0.4, "y": 0.1, "z": 0}, named="map"
    ),
    "x-above-1": set_map("c_knee_joint", "x", 1.2),
    "y-below-0": set_map("c_knee_joint", "y", -0.1),
    "x-not-number": set_map("c_knee_joint", "x", "0.3"),
    "paired-site-front-left": set_map("n_mental", "x", 0.53),
    "paired-site-back-left": set_map("n_greater_occipital", "x", 0.47),
    "midline-off-centre": set_map("c_coccyx", "x", 0.52),
    # Volumes and needles.
    "volume-above-max": set_field(SITES, "n_mental", "volume_ml", 0.9),
    "volume-below-min": set_field(SITES, "c_knee_joint", "volume_ml", 2.0),
    "max-above-20": set_field(SITES, "c_hip_joint", "volume_ml_max", 25),
    "min-zero": set_field(SITES, "n_mental", "volume_ml_min", 0),
    "max-below-min": set_field(SITES, "n_mental", "volume_ml_max", 0.1),
    "volume-bool": set_field(SITES, "n_mental", "volume_ml", True),
    "volume-nan": set_field(SITES, "n_mental", "volume_ml", float("nan")),
    "gauge-17": set_field(SITES, "n_mental", "needle_gauge", 17),
    "gauge-34": set_field(SITES, "n_mental", "needle_gauge", 34),
    "gauge-float": set_field(SITES, "n_mental", "needle_gauge", 27.0),
    # Flags.
    "serious-not-bool": set_field(
        "adverse_events.json", "pneumothorax", "serious_by_default", "yes"
    ),
    "review-not-bool": set_field(SITES, "n_mental", "needs_review", 1),
    "region-risk-not-bool": set_field("regions.json", "knee", "pneumothorax_risk", None),
    # Consistency between fields.
    "prefix-mismatch": set_field(SITES, "n_mental", "modality", "classic", named="code"),
    "modality-not-in-region": set_field(
        SITES, "n_mental", "region", "cervical_spine", named="modality"
    ),
    "thoracic-without-warning": set_field(
        SITES, "c_costochondral_joints", "pneumothorax_risk", False
    ),
}


@pytest.mark.parametrize("broken", BROKEN.values(), ids=BROKEN.keys())
def test_it_refuses_a_broken_entry_naming_file_entry_and_field(broken: Broken) -> None:
    data = shipped_data()
    broken.change(data)
    with pytest.raises(CatalogError) as raised:
        build(data.__getitem__)
    message = str(raised.value)
    assert message.startswith(f"{broken.file}: {broken.label!r}: {broken.field}: "), message


def test_it_refuses_a_file_that_is_not_a_list() -> None:
    data = shipped_data()
    data["conditions.json"] = {"sinusitis": {}}
    with pytest.raises(CatalogError, match=r"^conditions\.json: must be a JSON list"):
        build(data.__getitem__)


def test_it_names_an_entry_that_is_not_an_object_by_its_position() -> None:
    data = shipped_data()
    data["adverse_events.json"].insert(3, "pneumothorax")
    with pytest.raises(CatalogError, match=r"^adverse_events\.json: entry #3: must be"):
        build(data.__getitem__)


def test_it_names_an_entry_without_a_code_by_its_position() -> None:
    data = shipped_data()
    del data["regions.json"][2]["code"]
    with pytest.raises(CatalogError, match=r"^regions\.json: entry #2: code: is missing"):
        build(data.__getitem__)


def test_it_names_an_entry_whose_code_is_not_text_by_its_position() -> None:
    data = shipped_data()
    data["conditions.json"][0]["code"] = ["sinusitis"]
    with pytest.raises(CatalogError, match=r"^conditions\.json: entry #0: code: must be a non-"):
        build(data.__getitem__)


def test_it_accepts_every_shipped_entry_unchanged() -> None:
    # The negative tests above are only meaningful if the untouched data passes.
    assert isinstance(build(shipped_data().__getitem__), Catalog)
