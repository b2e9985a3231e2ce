"""The body map geometry: mirrored sides, dots kept apart, the region zoom, injected state."""

from __future__ import annotations

import itertools
import math

import pytest

from prolotrack.core.catalog import Side, View, load_catalog
from prolotrack.treatment import bodymap


@pytest.fixture
def catalog():
    return load_catalog()


def dots_by_key(bm):
    return {(d.site, d.side.value): d for d in bm.dots}


def test_it_puts_one_dot_per_allowed_side(catalog):
    bm = bodymap.series_map(catalog, region="knee", modality="neural")
    primary = [d for d in bm.dots if d.primary]
    knee = [s for s in catalog.sites_in_region("knee") if s.modality == "neural"]
    assert len(primary) == sum(len(s.sides()) for s in knee)
    midline = next(s for s in catalog.sites.values() if s.laterality == "midline")
    assert [d.side for d in bm.dots if d.site == midline.code] == [Side.MIDLINE]


def test_it_mirrors_the_left_side(catalog):
    site = catalog.site("n_supraorbital")
    bm = bodymap.body_map([site])
    left, right = dots_by_key(bm)[(site.code, "left")], dots_by_key(bm)[(site.code, "right")]
    assert right.anchor_x == pytest.approx(site.map.x * bodymap.VIEW_WIDTH)
    assert left.anchor_x == pytest.approx((1 - site.map.x) * bodymap.VIEW_WIDTH)
    assert left.anchor_y == right.anchor_y
    # On the front view the patient's right is on the viewer's left.
    assert site.map.view is View.FRONT and float(right.x) < float(left.x)


def test_it_keeps_the_series_dots_apart_enough_to_aim_at(catalog):
    for region in catalog.regions:
        for modality in ("neural", "classic"):
            bm = bodymap.series_map(catalog, region=region, modality=modality)
            primary = [d for d in bm.dots if d.primary]
            for a, b in itertools.combinations(primary, 2):
                if a.view is b.view:
                    gap = math.hypot(a.cx - b.cx, a.cy - b.cy)
                    assert gap >= bodymap.MIN_GAP - 0.5, (region, a.label, b.label)


def test_it_does_not_move_the_series_dots_when_all_regions_are_shown(catalog):
    alone = bodymap.body_map(bodymap.primary_sites(catalog, "face", "neural"))
    with_all = bodymap.series_map(catalog, region="face", modality="neural")
    for key, dot in dots_by_key(alone).items():
        assert (dot.cx, dot.cy) == (dots_by_key(with_all)[key].cx, dots_by_key(with_all)[key].cy)


def test_it_joins_a_nudged_dot_to_its_catalog_position(catalog):
    # The TMJ capsule and its disc attachments share one catalog position.
    bm = bodymap.series_map(catalog, region="face", modality="classic")
    a = dots_by_key(bm)[("c_tmj_capsule", "right")]
    b = dots_by_key(bm)[("c_tmj_disc_attachments", "right")]
    assert (a.anchor_x, a.anchor_y) == (b.anchor_x, b.anchor_y)
    assert (a.cx, a.cy) != (b.cx, b.cy)
    assert a.has_leader or b.has_leader


def test_it_marks_the_injected_dots(catalog):
    bm = bodymap.series_map(
        catalog, region="knee", modality="neural", injected={("n_saphenous_medial_knee", "left")}
    )
    injected = [d.label for d in bm.dots if d.injected]
    assert injected == ["Saphenous nerve at the medial knee, left"]
    only = bodymap.series_map(
        catalog,
        region="knee",
        modality="neural",
        injected={("n_saphenous_medial_knee", "left"), ("c_knee_joint", "right")},
        injected_only=True,
        interactive=False,
    )
    assert {d.site for d in only.dots} == {"n_saphenous_medial_knee", "c_knee_joint"}
    assert only.summary.startswith("Body map, sites injected:")


def test_it_draws_an_injected_dot_where_the_form_drew_it(catalog):
    key = ("n_saphenous_medial_knee", "left")
    form = bodymap.series_map(catalog, region="knee", modality="neural")
    view = bodymap.series_map(
        catalog, region="knee", modality="neural", injected={key}, injected_only=True
    )
    assert (dots_by_key(form)[key].x, dots_by_key(form)[key].y) == (view.dots[0].x, view.dots[0].y)


def test_it_zooms_the_form_to_the_series_region(catalog):
    bm = bodymap.crop_to_primary(bodymap.series_map(catalog, region="knee", modality="neural"))
    assert bm.is_cropped
    assert bm.bottom - bm.top >= bodymap.MIN_CROP_HEIGHT
    for dot in bm.dots:
        if dot.primary:
            assert bm.top < float(dot.y) < bm.bottom
    whole = bodymap.series_map(catalog, region="knee", modality="neural")
    assert not whole.is_cropped and whole.viewbox == whole.full_viewbox


def test_it_falls_back_to_the_whole_region_when_the_modality_has_no_site_there(catalog):
    empty = [
        (r, m)
        for r in catalog.regions
        for m in ("neural", "classic")
        if not [s for s in catalog.sites_in_region(r) if s.modality == m]
    ]
    for region, modality in empty:
        assert bodymap.primary_sites(catalog, region, modality) == list(
            catalog.sites_in_region(region)
        )


def test_it_orders_dots_for_the_tab_key_front_first_then_top_to_bottom(catalog):
    bm = bodymap.series_map(catalog, region="knee", modality="neural")
    primary = [d for d in bm.dots if d.primary]
    views = [d.view for d in primary]
    assert views == sorted(views, key=lambda v: v is View.BACK)
    front = [d.anchor_y for d in primary if d.view is View.FRONT]
    assert front == sorted(front, key=round)


def test_it_draws_a_closed_outline():
    path = bodymap.outline_path()
    assert path.startswith("M") and path.endswith("Z")
    assert "nan" not in path.lower()
