"""`selfmodel audit` (issue 16): on a workspace populated through the real pipeline with evals,
traces, outcomes, an experiment and one injected drift (tests/support/audit.py), the audit marks
the injected problem failing with the right evidence, the healthy areas healthy, and what it
cannot measure "not measured" with its command — read from the JSON the command writes. The
page it writes opens in Chromium at 1280 and 375 px (screenshots in test-artifacts/audit/); the
HTTP API and the SDK give the same audit to an admin key, and the Inspector shows it to the
workspace's operator (and another workspace's operator their own).

One workspace is built for the module (it takes a few seconds) and audited once by the CLI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from selfmodel import InvalidInputError, SelfModel
from selfmodel.audit.grading import graded
from selfmodel.cli import app
from selfmodel.client import Client
from selfmodel.config import AuditSettings
from selfmodel.domain import AlertKind, AlertStatus
from selfmodel.domain.audit import SEVERITY, AuditReport, AuditStatus
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.errors import PermissionDeniedError
from selfmodel.server import create_app
from selfmodel.storage import is_postgres_url
from selfmodel.tenancy import Scope
from tests.support.audit import PEOPLE, Built, build
from tests.support.browser import DESKTOP, PHONE, chromium
from tests.support.inspector import TIMEOUT_S, signed_in
from tests.support.markdown import DOCS, checked_tables
from tests.support.server import new_workspace_key, running_server

runner = CliRunner()
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "audit"
PROBLEMS = [
    "evaluation_drift",
    "context_decay",
    "debug_loops",
    "metric_misalignment",
    "personalization_gaps",
]


@dataclass(frozen=True)
class Audited:
    sm: SelfModel
    built: Built
    db: Path
    page: Path
    report: dict[str, Any]  # the JSON the command wrote

    def section(self, key: str) -> dict[str, Any]:
        found = [s for s in [*self.report["problems"], self.report["readiness"]] if s["key"] == key]
        assert found, key
        return found[0]

    def check(self, section: str, key: str) -> dict[str, Any]:
        found = [c for c in self.section(section)["checks"] if c["key"] == key]
        assert found, f"{section}.{key}"
        return found[0]


@pytest.fixture(scope="module")
def audited(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[Audited]:
    folder = tmp_path_factory.mktemp("audit")
    db = folder / "selfmodel.db"
    with SelfModel.open(str(db), embedder=embedder) as sm:
        built = build(sm)
        page, data = folder / "audit.html", folder / "audit.json"
        # The window ends now (the default): the alerts the build raised are dated by the clock.
        result = runner.invoke(
            app,
            ["audit", "--db", str(db), "--out", str(page), "--json", str(data)],
            env={"COLUMNS": "200"},
        )
        assert result.exit_code == 0, result.output
        print(result.output)
        assert "act first on: Evaluation drift" in result.output
        yield Audited(sm, built, db, page, json.loads(data.read_text()))


def test_the_injected_drift_fails_evaluation_drift_with_its_evidence(audited: Audited) -> None:
    section = audited.section("evaluation_drift")
    assert section["status"] == "failing"
    assert audited.report["costliest"] == "evaluation_drift"
    drift = audited.check("evaluation_drift", "input_drift")
    assert drift["status"] == "failing"
    figures = {f["name"]: f["value"] for f in drift["figures"]}
    assert figures["p-value"] < 0.01 and figures["MMD²"] > 0
    assert figures["reference queries"] == 40  # the cooking questions
    assert figures["current queries"] >= 40  # the travel and finance questions, and others
    assert "differ from" in drift["finding"]
    # The alerts the worker raised are what the check points at, by id.
    raised = {a.id for a in audited.sm.alerts(status=AlertStatus.OPEN)}
    input_alert = next(a for a in audited.sm.alerts() if a.kind is AlertKind.INPUT_DRIFT)
    named = {r["id"] for r in drift["references"] if r["kind"] == "alert"}
    assert input_alert.id in named and named <= raised
    (lengths, *_) = drift["plots"]
    assert [s["name"] for s in lengths["series"]] == ["reference window", "current window"]
    assert section["next_action"] == drift["next_action"]
    # The rest of evaluation holds: runs are fresh, cover production, and did not fall.
    for key in ("eval_age", "eval_coverage", "regressions", "self_model_drift"):
        assert audited.check("evaluation_drift", key)["status"] == "healthy", key
    age = audited.check("evaluation_drift", "eval_age")
    assert age["references"][0]["id"] == audited.built.eval_runs[-1]


def test_the_areas_nothing_was_injected_in_are_healthy(audited: Audited) -> None:
    for key in PROBLEMS[1:]:
        assert audited.section(key)["status"] == "healthy", audited.section(key)
    assert audited.section("readiness")["status"] == "healthy"
    # Healthy from evidence, not from silence: each names what it read.
    replay = audited.check("debug_loops", "replay")
    assert replay["finding"].startswith("20 of 20 traces replayed")
    bad = audited.check("debug_loops", "bad_outcomes")
    assert {f["name"]: f["value"] for f in bad["figures"]}["bad outcomes"] == 3
    assert len([r for r in bad["references"] if r["kind"] == "trace"]) == 3
    rejected = audited.sm.store.get_belief(audited.sm.workspace.id, audited.built.rejected)
    assert rejected is not None
    who = audited.sm.user_by_id(rejected.user_id).external_id
    corrections = audited.check("personalization_gaps", "corrections")
    assert [r["id"] for r in corrections["references"]] == [who] and who in PEOPLE
    assert corrections["finding"].startswith("1 of 11 verdicts")
    experiments = audited.check("metric_misalignment", "experiments")
    assert experiments["references"][0]["id"] == audited.built.experiment
    scale = audited.check("context_decay", "history_scale")
    assert {p["title"] for p in scale["plots"]} >= {
        "p95 latency of context calls by history length",
        "Tokens per block by history length",
    }
    recall = audited.check("context_decay", "recall_by_history")
    assert recall["status"] == "healthy"  # the golden set's histories of 2 and 5 messages
    assert recall["plots"][0]["x"] == ["2", "5"]


def test_what_cannot_be_measured_says_so_and_names_its_command(audited: Audited) -> None:
    # All calls were recorded today: no three days to correlate metrics with outcomes over.
    correlation = audited.check("metric_misalignment", "correlation")
    assert correlation["status"] == "not_measured"
    assert correlation["command"] == "selfmodel report --days 28"
    backup = audited.check("readiness", "backup")
    assert backup["status"] == "not_measured"
    assert backup["command"] == "selfmodel backup BACKUP.db"
    unmeasured = [
        c for s in [*audited.report["problems"], audited.report["readiness"]] for c in s["checks"]
    ]
    assert all(c["command"] for c in unmeasured if c["status"] == "not_measured")
    assert audited.section("metric_misalignment")["next_action"] == (
        "Measure what is not measured yet: `selfmodel report --days 28`."
    )


def test_the_page_is_self_contained_and_readable_at_1280_and_375_px(audited: Audited) -> None:
    page = audited.page.read_text()
    assert "<script" not in page
    assert re.findall(r"https?://[^'\" <]+", page) == []  # nothing to fetch, not even a font
    assert audited.page.stat().st_mode & 0o077 == 0  # it names users and traces
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    with chromium() as browser:
        for name, viewport in (("1280", DESKTOP), ("375", PHONE)):
            view = browser.new_page(viewport=viewport)
            view.on("request", lambda r: requests.append(r.url))
            view.goto(audited.page.as_uri())
            assert view.title() == "selfmodel audit — default"
            assert view.locator("section.problem").count() == 6
            assert view.locator("section.check").count() >= 25
            assert (
                view.locator(".verdict")
                .inner_text()
                .startswith("Act first on evaluation drift (failing)")
            )
            assert view.locator("#input_drift .badge.failing").count() == 1
            assert view.locator("#backup .badge.not_measured").count() == 1
            boxes = [view.locator("svg").nth(i).bounding_box() for i in range(6)]
            assert all(b is not None and b["width"] > 100 and b["height"] > 50 for b in boxes)
            # Nothing is wider than the window: no sideways scrolling, on a phone either.
            assert view.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            shot = ARTIFACTS / f"audit-{name}.png"
            view.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
            print(f"screenshot: {shot}")
            # The pictures docs/audit.md shows: the verdict, three checks, a phone's first screen.
            if viewport is DESKTOP:
                cards = view.locator(".overview").bounding_box()
                assert cards is not None
                top = {
                    "x": 0,
                    "y": 0,
                    "width": DESKTOP["width"],
                    "height": cards["y"] + cards["height"] + 16,
                }
                view.screenshot(path=str(ARTIFACTS / "docs-verdict.png"), clip=top)
                for check in ("input_drift", "history_scale", "storage"):
                    view.locator(f"#{check}").screenshot(path=str(ARTIFACTS / f"docs-{check}.png"))
            else:
                view.screenshot(path=str(ARTIFACTS / "docs-phone.png"))
    assert set(requests) == {audited.page.as_uri()}


def test_the_api_and_the_sdk_give_the_audit_to_an_admin_key(audited: Audited) -> None:
    sm = audited.sm
    admin = new_workspace_key(sm.store, sm.workspace.name, Scope.ADMIN)
    reader = new_workspace_key(sm.store, sm.workspace.name, Scope.READ)
    with running_server(create_app(sm)) as url:
        with Client(url, admin) as client:
            report = client.audit(since=audited.report["start"])
        with Client(url, reader) as client, pytest.raises(PermissionDeniedError):
            client.audit()
    assert isinstance(report, AuditReport)
    assert [s.status.value for s in report.problems] == [
        audited.section(key)["status"] for key in PROBLEMS
    ]
    assert report.section("evaluation_drift").check("input_drift").status is AuditStatus.FAILING


# A section of the audit page as it renders: its key and its status's badge.
SECTION_STATUS = re.compile(
    r"<section class='problem' id='(\w+)'><h2>[^<]*<span class='badge (\w+)'>"
)


def test_the_inspector_shows_the_operator_their_own_workspace_audit(audited: Audited) -> None:
    sm = audited.sm
    admin = new_workspace_key(sm.store, sm.workspace.name, Scope.ADMIN)
    other_admin = new_workspace_key(sm.store, "other", Scope.ADMIN)
    expected = {key: audited.section(key)["status"] for key in [*PROBLEMS, "readiness"]}
    bad = audited.check("debug_loops", "bad_outcomes")
    traces = [r["id"] for r in bad["references"] if r["kind"] == "trace"]
    (who,) = [r["id"] for r in audited.check("personalization_gaps", "corrections")["references"]]
    with running_server(create_app(sm)) as url:
        with httpx.Client(base_url=url, timeout=TIMEOUT_S) as anonymous:
            asked = anonymous.get("/inspector/audit", params={"since": "2024-01-01"})
        assert asked.status_code == 303
        target = urlsplit(asked.headers["location"])
        assert target.path == "/inspector/sign-in"
        assert parse_qs(target.query)["next"] == ["/inspector/audit?since=2024-01-01"]

        client, _ = signed_in(url, admin)
        with closing(client):
            assert '/inspector/audit"' in client.get("/inspector/").text  # in the navigation
            page = client.get("/inspector/audit").text
            since = (audited.built.now - timedelta(days=10)).date().isoformat()
            windowed = client.get("/inspector/audit", params={"since": since})
            style = client.get("/inspector/static/audit.css")
            linked = client.get(f"/inspector/traces/{traces[0]}")
            refused = {
                value: client.get("/inspector/audit", params={"since": value})
                for value in ("yesterday", "2999-01-01", "1999-01-01", "2" * 5_000)
            }
        other, _ = signed_in(url, other_admin)
        with closing(other):
            theirs = other.get("/inspector/audit").text
    assert "<h1>Audit of workspace default</h1>" in page
    assert 'aria-current="page">Audit</a>' in page and "several seconds" in page
    assert dict(SECTION_STATUS.findall(page)) == expected
    assert "<p class='verdict'><b>Act first on evaluation drift</b> (failing)" in page
    assert page.count("<section class='check'") >= 25
    # The ids behind a check open on the Inspector's own pages (and still name their command).
    for trace in traces:
        assert f"<a href='/inspector/traces/{trace}'><code>{trace}</code></a>" in page
    assert f"<a href='/inspector/users/{who}'><code>{who}</code></a>" in page
    assert "<code>selfmodel trace " in page
    assert linked.status_code == 200
    assert windowed.status_code == 200 and f"{since} 00:00 –" in windowed.text
    # The audit's own stylesheet, served as a file: the Inspector's pages allow no inline style.
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert ".badge" in style.text and "<style" not in page
    # A bad window is the page's form again with what is wrong, never a server error.
    for value, answer in refused.items():
        assert answer.status_code == 422, value[:20]
        assert 'role="alert"' in answer.text and 'name="since"' in answer.text
        assert "<section class='problem'" not in answer.text
    assert "not a valid ISO 8601" in refused["yesterday"].text
    assert "before the end of the window" in refused["2999-01-01"].text
    assert "longer than" in refused["1999-01-01"].text
    assert "2" * 100 not in refused["2" * 5_000].text
    # Another workspace's operator sees that workspace's audit, nothing of this one.
    assert "<h1>Audit of workspace other</h1>" in theirs
    assert set(SECTION_STATUS.findall(theirs)) >= {(key, "not_measured") for key in PROBLEMS}
    assert not any(trace in theirs for trace in traces) and who not in theirs


def test_a_workspace_with_nothing_recorded_is_not_measured_with_commands(
    audited: Audited,
) -> None:
    report = audited.sm.in_workspace("empty").audit()
    for section in report.problems:
        assert section.status is AuditStatus.NOT_MEASURED, section
        assert all(c.command for c in section.checks)
        assert section.next_action.startswith("Nothing here is measured yet: start with `")
    assert report.readiness.check("population").command == "selfmodel ingest FILE"
    assert report.readiness.check("retention").status is AuditStatus.AT_RISK  # keeps everything
    assert report.costliest is None
    with pytest.raises(InvalidInputError, match="since"):
        audited.sm.audit(since=audited.built.now, now=audited.built.now - timedelta(days=1))
    missing = runner.invoke(
        app, ["audit", "--db", str(audited.db), "--out", "x.html", "--workspace", "nope"]
    )
    assert missing.exit_code == 1


def test_the_audit_reads_the_same_on_both_backends(any_sm: SelfModel, db_location: str) -> None:
    any_sm.observe("ada", ["I love hiking.", "I live in Leeds.", "I work as a nurse."])
    trace = any_sm.context("ada", "plan my weekend").trace_id
    any_sm.record_outcome("ada", "thumbs_up", trace_id=trace)
    report = any_sm.audit()
    backend = report.backend
    assert backend == ("postgresql" if is_postgres_url(db_location) else "sqlite")
    replay = report.section("debug_loops").check("replay")
    assert replay.status is AuditStatus.HEALTHY and replay.finding.startswith("1 of 1")
    assert report.section("debug_loops").check("traced_answers").status is AuditStatus.HEALTHY
    storage = report.readiness.check("storage")
    assert storage.figures[0].value and storage.figures[0].value > 0  # the database's bytes
    backup = report.readiness.check("backup")
    assert backup.command == (
        "pg_dump -Fc" if backend == "postgresql" else "selfmodel backup BACKUP.db"
    )
    sqlite = report.readiness.check("sqlite")
    assert sqlite.status is AuditStatus.HEALTHY
    assert (backend == "postgresql") == sqlite.finding.startswith(
        "The deployment runs on postgresql"
    )


def test_the_thresholds_the_docs_tabulate_are_the_settings_defaults() -> None:
    rows = checked_tables(DOCS / "audit.md")["audit-thresholds"]
    documented: dict[str, float] = {}
    for row in rows:
        base, *suffix = re.findall(r"`(\w+)`", row["setting"])
        numbers = re.findall(r"\d+(?:\.\d+)?", re.sub(r"(?<=\d) (?=\d{3})", "", row["default"]))
        names = [base] + [re.sub(r"_(MS|S)$", "", base) + s for s in suffix]
        fields = [f"audit_{n.removeprefix('AUDIT_').lower()}" for n in names]
        documented.update(zip(fields, map(float, numbers), strict=True))
    defaults = {name: float(f.default) for name, f in AuditSettings.model_fields.items()}
    assert documented == defaults


FLOOR = st.floats(0, 1)


@given(FLOOR, FLOOR, FLOOR, FLOOR)
def test_a_better_figure_is_never_graded_worse(a: float, b: float, x: float, y: float) -> None:
    at_risk, failing = max(a, b), min(a, b)
    low, high = sorted((x, y))
    worse = graded(low, at_risk, failing, higher_is_better=True)
    better = graded(high, at_risk, failing, higher_is_better=True)
    assert SEVERITY[better] <= SEVERITY[worse]
    # The same figure read the other way round (a latency, a share of stale items).
    assert (
        SEVERITY[graded(low, failing, at_risk, higher_is_better=False)]
        <= SEVERITY[graded(high, failing, at_risk, higher_is_better=False)]
    )
