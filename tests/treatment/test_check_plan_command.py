"""`prolotrack check-plan FILE`: findings as JSON; exit 0 (clear), 1 (blocked), 2 (invalid)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.core.rules.plan_helpers import injection, plan_data


def plan(**patient: Any) -> dict[str, Any]:
    """A classic knee session: 20 ml intra-articular of 15% dextrose with 0.2% lidocaine."""
    knee = injection(
        depth="intra_articular",
        volume_ml=20,
        needle_gauge=22,
        solution={"dextrose_pct": 15, "lidocaine_pct": 0.2},
    )
    return plan_data(
        injections=[knee],
        patient=patient,
        series={"modality": "classic", "previous_session_date": "2026-10-08"},
    )


def run(data: object, tmp_path: Path) -> tuple[int, str]:
    """Run the command on a file; the exit status and standard output."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = io.StringIO()
    try:
        call_command("check_plan", str(path), stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_it_prints_the_findings_and_totals_and_exits_0_when_nothing_blocks(
    tmp_path: Path,
) -> None:
    status, output = run(plan(), tmp_path)
    assert status == 0
    body = json.loads(output)
    assert set(body) == {"findings", "totals"}
    # 20 mL of 15% dextrose / 0.2% lidocaine: 40 mg lidocaine, 3 g glucose.
    assert body["totals"] == {"lidocaine_mg": 40.0, "dextrose_g": 3.0, "volume_ml": 20.0}
    assert [f["code"] for f in body["findings"]] == ["dose_limit.lidocaine_total"]
    assert set(body["findings"][0]) == {"code", "kind", "severity", "message", "source"}


def test_it_exits_1_when_something_blocks(tmp_path: Path) -> None:
    status, output = run(plan(symptoms=["saddle_anaesthesia"]), tmp_path)
    assert status == 1
    first = json.loads(output)["findings"][0]
    assert first == {
        "code": "red_flag.cauda_equina",
        "kind": "red_flag",
        "severity": "block",
        "message": (
            "Refer same day to emergency: suspected cauda equina syndrome (saddle "
            "anaesthesia). Do not inject."
        ),
        "source": "domain.3.1",
    }


def test_it_exits_0_when_there_are_only_warnings(tmp_path: Path) -> None:
    status, output = run(plan(pregnant=True), tmp_path)
    assert status == 0
    assert [f["severity"] for f in json.loads(output)["findings"]] == ["warn", "info"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weight_kg": True}, "patient.weight_kg: must be a number, not a boolean"),
        ({"weight_kg": "70"}, "patient.weight_kg: must be a number, not a string"),
        ({"symptoms": ["fever", "night_pain", "headache"]}, "patient.symptoms[2]: unknown symptom"),
        ({"smoker": True}, "patient.smoker: unknown field"),
    ],
)
def test_it_exits_2_naming_the_invalid_field(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan(**change)), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("check_plan", str(path), stdout=io.StringIO())
    assert caught.value.returncode == 2
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "plan: not valid JSON"),
        ("", "plan: not valid JSON"),
        ('{"jurisdiction": "CA-BC", "jurisdiction": "US-ND"}', "plan: the key 'jurisdiction'"),
    ],
)
def test_it_exits_2_on_text_that_is_not_json(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("check_plan", str(path), stdout=io.StringIO())
    assert caught.value.returncode == 2
    assert str(caught.value).startswith(message)


def test_it_exits_2_when_the_file_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(CommandError) as caught:
        call_command("check_plan", str(missing), stdout=io.StringIO())
    assert caught.value.returncode == 2
    assert str(caught.value).startswith(f"{missing}: cannot read the plan")


def test_it_reads_standard_input_for_a_dash() -> None:
    out = io.StringIO()
    stdin = io.StringIO(json.dumps(plan(infection_at_site=True)))
    with pytest.raises(SystemExit) as caught:
        call_command("check_plan", "-", stdin=stdin, stdout=out)
    assert caught.value.code == 1
    codes = [f["code"] for f in json.loads(out.getvalue())["findings"]]
    assert codes[0] == "contraindication.infection_at_site"


def _prolotrack(*args: str, stdin: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROLOTRACK_DATA_DIR": str(data_dir), "DATABASE_URL": ""}
    return subprocess.run(
        [sys.executable, "-m", "prolotrack", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_it_answers_to_the_dashed_name_on_the_command_line(tmp_path: Path) -> None:
    blocked = _prolotrack(
        "check-plan", "-", stdin=json.dumps(plan(symptoms=["fever"])), data_dir=tmp_path
    )
    assert blocked.returncode == 1, blocked.stderr
    assert json.loads(blocked.stdout)["findings"][0]["code"] == "red_flag.fever"
    invalid = _prolotrack("check-plan", "-", stdin=json.dumps(plan(age=True)), data_dir=tmp_path)
    assert invalid.returncode == 2
    assert "patient.age: must be a whole number, not a boolean" in invalid.stderr
    assert invalid.stdout == ""
