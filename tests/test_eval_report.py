"""`selfmodel eval report` (issue 12): one self-contained HTML page — no script, no request for
anything outside the file — opened in a real Chromium at 1280 px: its plots are drawn (trend with
the change point, both windows' queries, the before/after shares, the users who changed most),
nothing overflows the width, and a screenshot is saved to test-artifacts/eval/."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.bench.drift import CHECK_AT, build
from selfmodel.cli import app
from tests.support.browser import DESKTOP, chromium
from tests.test_eval_quality import record

runner = CliRunner()
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "eval"


def test_the_report_is_one_self_contained_page_with_its_plots_in_chromium(
    sm: SelfModel, db_path: Path, tmp_path: Path
) -> None:
    build(sm, shifted=True, seed=0)
    runs = record(sm.store, sm.workspace.id, "golden", [0.81, 0.8, 0.82, 0.8, 0.79] + [0.6] * 5)
    sm.check_drift(now=CHECK_AT)  # open alerts, listed by the report
    out = tmp_path / "report.html"
    result = runner.invoke(
        app,
        ["eval", "report", "--out", str(out), "--db", str(db_path), "--now", CHECK_AT.isoformat()],
    )
    assert result.exit_code == 0, result.output
    page = out.read_text()
    # Self-contained: nothing to fetch (the only URL is SVG's namespace), no script.
    assert "<script" not in page
    assert re.findall(r"https?://[^'\" ]+", page) == ["http://www.w3.org/2000/svg"] * page.count(
        "xmlns='http://www.w3.org/2000/svg'"
    )
    assert runs[5].id in page  # the run the level fell at, named under the trend

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    with chromium() as browser:
        view = browser.new_page(viewport=DESKTOP)
        view.on("request", lambda r: requests.append(r.url))
        view.goto(out.as_uri())
        assert view.title() == "selfmodel evaluation — default"
        assert view.locator("figure.trend svg polyline").count() == 1
        assert view.locator("figure.trend line.change-point").count() == 1
        assert view.locator("circle.reference").count() == 40
        assert view.locator("circle.current").count() == 40
        assert view.locator("svg rect[fill='#ff7f0e']").count() >= 2  # current-window bars
        users = view.locator("#self-models ~ table tr").count() - 1
        assert users == 6, "the six users whose beliefs flipped"
        assert view.locator("li.alert").count() >= 2  # input and self-model drift at least
        # Every plot was laid out with a size, and nothing is wider than the window.
        for box in (view.locator("svg").nth(i).bounding_box() for i in range(4)):
            assert box is not None and box["width"] > 100 and box["height"] > 50
        assert view.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
        shot = ARTIFACTS / "report-1280.png"
        view.screenshot(path=str(shot), full_page=True)
    assert requests == [out.as_uri()]  # the page asked for nothing but itself
    assert shot.stat().st_size > 20_000
    print(f"screenshot: {shot}")


def test_a_workspace_with_nothing_recorded_still_gets_a_page(
    sm: SelfModel, db_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "empty.html"
    now = (CHECK_AT + timedelta(days=1)).isoformat()
    result = runner.invoke(
        app, ["eval", "report", "--out", str(out), "--db", str(db_path), "--now", now]
    )
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "No eval run recorded" in page and "not enough data" in page
    # Text from the store is escaped: a suite named like markup stays text.
    record(sm.store, sm.workspace.id, "<script>alert(1)</script>", [0.5])
    assert (
        runner.invoke(app, ["eval", "report", "--out", str(out), "--db", str(db_path)]).exit_code
        == 0
    )
    page = out.read_text()
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    missing = runner.invoke(
        app, ["eval", "report", "--out", str(out), "--db", str(db_path), "--workspace", "nope"]
    )
    assert missing.exit_code == 2
