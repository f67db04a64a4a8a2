"""The joined report: outcomes attributed to the calls they judge, per variant, per segment and
per day; correlations across days; the page in a real Chromium with its plots."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli import app
from selfmodel.client import Client
from selfmodel.domain import Outcome, OutcomeKind, TraceRecord, new_id
from selfmodel.domain.time import utcnow
from selfmodel.evaluation.joined_report import COVERED, OVERALL, UNCOVERED
from selfmodel.server import create_app
from tests.support.browser import chromium, screenshot
from tests.support.evaluation import record_run
from tests.support.server import new_workspace_key, running_server

OFF, ON = {"name": "off", "config": {"personalized": False}}, {"name": "on"}
DAYS = 10


def outcome(sm: SelfModel, user_id: str, trace_id: str, kind: OutcomeKind, **fields: Any) -> None:
    at = fields.pop("at", utcnow())
    sm.store.insert_outcome(
        Outcome(
            id=new_id("out"),
            workspace_id=sm.workspace.id,
            user_id=user_id,
            kind=kind,
            trace_id=trace_id,
            occurred_at=at,
            recorded_at=at,
            **fields,
        )
    )


@pytest.fixture
def served(sm: SelfModel) -> dict[str, str]:
    """Users under both variants of an experiment, rated by variant; a user too little is known
    about; a call about two users at once (nobody's in particular)."""
    lives = [
        ("I keep bees on my roof.", "I work as a nurse.", "I love fado music."),
        ("I restore old motorbikes.", "I teach chemistry.", "I'm vegetarian."),
        ("I play the cello in a quartet.", "I'm saving up for a sailboat.", "I hate mornings."),
        ("I grow chillies on my balcony.", "I'm training for a marathon.", "I have twins."),
        ("I collect vintage maps.", "I work night shifts as a baker.", "I adore cats."),
        ("I'm learning Japanese.", "I volunteer at an animal shelter.", "I love jazz."),
        ("I build furniture from old wood.", "I write crime novels.", "I drink green tea."),
        ("I coach a girls' football team.", "I'm allergic to peanuts.", "I love chess."),
    ]
    users = [f"user-{n}" for n in range(len(lives))]
    for user, life in zip(users, lives, strict=True):
        sm.observe(user, list(life))
    sm.observe("quiet", "Hello.")
    sm.create_experiment("pers", [OFF, ON])
    variants = {}

    def serve(user: str) -> None:
        answer = sm.context(user, "What should we talk about today?")
        variant = answer.config["experiments"][0]["variant"]
        variants[user] = variant
        uid = sm.user(user).id
        outcome(sm, uid, answer.trace_id, OutcomeKind.RATING, value=5.0 if variant == "on" else 2.0)
        if variant == "on":
            outcome(sm, uid, answer.trace_id, OutcomeKind.THUMBS_UP)

    for user in [*users, "quiet"]:
        serve(user)
    # The experiment's salt is random: one time in 256 nine users all draw one variant. More
    # users until both are served (one more, usually).
    while len(set(variants.values())) < 2:
        extra = f"extra-{len(variants)}"
        sm.observe(extra, "I like tea.")
        serve(extra)
    sm.context(users[:2], "What do they share?")
    return variants


def test_outcomes_are_joined_to_the_calls_they_judge(sm: SelfModel, served: dict) -> None:
    report = sm.report()
    assert report.overall.name == OVERALL and report.overall.traces == len(served)
    by_variant = {g.name: g for g in report.variants}
    on, off = by_variant["pers:on"], by_variant["pers:off"]
    n_on = sum(v == "on" for v in served.values())
    assert (on.traces, off.traces) == (n_on, len(served) - n_on)
    rating = {g.name: next(o for o in g.outcomes if o.metric == "rating") for g in (on, off)}
    assert rating["pers:on"].value == 5.0 and rating["pers:off"].value == 2.0
    assert not rating["pers:on"].per_call
    thumbs = {g.name: next(o for o in g.outcomes if o.metric == "thumbs_up") for g in (on, off)}
    assert thumbs["pers:on"].per_call and thumbs["pers:on"].value == 1.0
    assert thumbs["pers:off"].value == 0.0 and thumbs["pers:off"].events == 0
    assert off.specificity == 0.0 and on.specificity is not None and on.specificity > 0
    assert on.tokens is not None and off.tokens == 0
    segments = {g.name: g for g in report.segments}
    assert segments[UNCOVERED].users == 1 and segments[COVERED].users == len(served) - 1
    assert report.notes == []


def past_days(sm: SelfModel, user: str = "ada") -> None:
    """Ten days of calls about ``user`` whose latency rises while their ratings fall."""
    if user not in {u.external_id for u in sm.users()}:
        sm.observe(user, "I like tea.")
    uid = sm.user(user).id
    # Noon of each of the last ten days: the last is yesterday's, never the day of an eval run
    # recorded now (an hour past "now minus ten days" was today's after 23:00 UTC).
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight - timedelta(days=DAYS)
    for day in range(DAYS):
        at = start + timedelta(days=day, hours=12)
        trace = TraceRecord(
            id=new_id("trc"),
            workspace_id=sm.workspace.id,
            user_ids=(uid,),
            query="anything?",
            created_at=at,
            latency_ms=20.0 + 5 * day,
            config={},
            payload={"chosen": [], "tokens": 100},
        )
        sm.store.insert_trace(trace)
        outcome(sm, uid, trace.id, OutcomeKind.RATING, value=5.0 - 0.3 * day, at=at)


def test_daily_series_and_their_correlations(sm: SelfModel) -> None:
    """Ten days of calls whose latency rises while ratings fall, tokens steady."""
    past_days(sm)
    record_run(sm.store, sm.workspace)
    report = sm.report(days=DAYS + 1)
    assert len(report.daily) == DAYS + 2  # both ends of the window are days of their own
    assert [d.traces for d in report.daily if d.traces] == [1] * DAYS
    pairs = {(c.engineering, c.outcome): c for c in report.correlations}
    latency = pairs[("latency_ms", "rating")]
    assert latency.days == DAYS and latency.r == pytest.approx(-1.0)
    assert latency.p_value is not None and latency.p_value < 0.001
    assert pairs[("tokens", "rating")].r is None  # no spread, no correlation
    assert pairs[("recall", "rating")].days == 0 and report.recall == pytest.approx(0.5)
    empty = sm.report(now=utcnow() - timedelta(days=30), days=1)
    assert empty.overall.traces == 0 and empty.notes


def test_the_api_the_sdk_and_the_cli_give_the_librarys_report(
    sm: SelfModel, served: dict, db_path: Path, tmp_path: Path
) -> None:
    now = utcnow()
    library = sm.report(now=now)
    key = new_workspace_key(sm.store, sm.workspace.name)
    with running_server(create_app(sm)) as url:
        with Client(url, key) as client:
            assert client.report(now=now) == library
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
            assert http.get("/v1/report", params={"days": "0"}).status_code == 422
            page = http.get("/v1/report.html", params={"now": now.isoformat()})
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "pers:on" in page.text and "<svg" in page.text
            assert "http://" not in page.text and "https://" not in page.text  # nothing fetched
            assert http.get("/v1/report.html", headers={"Authorization": ""}).status_code == 401
    out, html = tmp_path / "r.json", tmp_path / "r.html"
    result = CliRunner().invoke(
        app,
        ["report", "--db", str(db_path), "-w", sm.workspace.name, "--json", str(out),
         "--html", str(html)],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "pers:on" in result.output and "Pearson" in result.output
    assert json.loads(out.read_text())["overall"]["traces"] == len(served)
    assert html.read_text().count("<svg") >= 6


@pytest.mark.slow
def test_the_page_renders_in_chromium_with_its_plots(sm: SelfModel, served: dict) -> None:
    past_days(sm)
    key = new_workspace_key(sm.store, sm.workspace.name)
    with running_server(create_app(sm)) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_extra_http_headers({"Authorization": f"Bearer {key}"})
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(f"{url}/v1/report.html")
        assert page.locator("h1").inner_text().startswith("What the self-model does")
        plots = page.locator("figure svg")
        assert plots.count() >= 6  # four engineering metrics and the two outcomes
        box = plots.first.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 80
        assert page.locator("polyline").count() >= 2  # latency and rating over the ten days
        # Ten days and today: every engineering metric but recall has an r with each outcome.
        assert page.locator("td span.pos, td span.neg").count() == 3 * 2
        assert page.get_by_role("cell", name="pers:on").count() == 1
        screenshot(page, "report")
        assert all(r.startswith(url) for r in requested)
