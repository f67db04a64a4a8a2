"""The Done-when of recorded evals, on a LoCoMo-format file this test writes itself: two runs of
one configuration are "no detectable change" (exit 0), a much smaller budget is flagged worse
(exit 1), and `eval history` and the HTTP API list every run."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli import app
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.server import create_app
from selfmodel.storage import open_store
from selfmodel.tenancy import Scope
from tests.support.evaluation import record_run
from tests.support.server import asgi_client, new_workspace_key

runner = CliRunner()
WORKSPACE = "evals"
# Room for the block's header and one or two short lines: the degraded configuration.
STARVED_BUDGET = 40

# (speaker, text) per session; each question below names the turn that answers it.
SESSIONS = [
    (
        "9:00 am on 3 March, 2023",
        [
            ("Ana", "I adopted a grey cat called Miso from the shelter on Friday."),
            ("Ben", "Lovely! I started pottery classes at the community studio downtown."),
            ("Ana", "I work night shifts as a nurse at the children's hospital."),
            ("Ben", "My dog Rex is obsessed with chasing seagulls at the beach."),
            ("Ana", "My brother Luis is getting married in Seville this summer."),
            ("Ben", "I'm saving up for a secondhand kiln so I can fire bowls at home."),
        ],
    ),
    (
        "6:30 pm on 14 April, 2023",
        [
            ("Ana", "I ran my first half marathon in Porto and finished in two hours."),
            ("Ben", "I finally glazed a blue vase and gave it to my grandmother."),
            ("Ana", "I'm learning Portuguese with an app every morning before work."),
            ("Ben", "I switched jobs and now I design bike lanes for the city council."),
            ("Ana", "Miso knocked my coffee over my laptop, I had to buy a new one."),
            ("Ben", "Rex hurt his paw so we skip the beach for a few weeks."),
        ],
    ),
    (
        "11:15 am on 2 June, 2023",
        [
            ("Ana", "I booked flights to Seville for Luis's wedding in July."),
            ("Ben", "I sold three mugs at the Saturday craft market, my first sale!"),
            ("Ana", "I'm thinking about studying pediatric intensive care next year."),
            ("Ben", "My sister Clara is visiting from Montreal next weekend."),
            ("Ana", "I keep tomatoes and basil on my balcony, they love the sun."),
            ("Ben", "I bike to work every day now, even when it rains."),
        ],
    ),
]
QUESTIONS = [
    ("What pet did Ana adopt?", "D1:1", 4),
    ("Where does Ben take pottery classes?", "D1:2", 4),
    ("What is Ana's job?", "D1:3", 1),
    ("What does Rex like to chase?", "D1:4", 4),
    ("Where is Luis getting married?", "D1:5", 1),
    ("What is Ben saving up for?", "D1:6", 4),
    ("Where did Ana run a half marathon?", "D2:1", 4),
    ("Who got Ben's blue vase?", "D2:2", 4),
    ("Which language is Ana learning?", "D2:3", 1),
    ("What does Ben design in his new job?", "D2:4", 1),
    ("Why did Ana buy a new laptop?", "D2:5", 4),
    ("How many mugs did Ben sell at the craft market?", "D3:2", 4),
    ("Where is Ben's sister Clara visiting from?", "D3:4", 1),
    ("What does Ana grow on her balcony?", "D3:5", 4),
    ("How does Ben get to work?", "D3:6", 4),
]


def locomo_data() -> dict[str, object]:
    data: dict[str, object] = {"speaker_a": "Ana", "speaker_b": "Ben"}
    for number, (when, turns) in enumerate(SESSIONS, start=1):
        data[f"session_{number}_date_time"] = when
        data[f"session_{number}"] = [
            {"speaker": speaker, "dia_id": f"D{number}:{position}", "text": text}
            for position, (speaker, text) in enumerate(turns, start=1)
        ]
    data["qa"] = [
        {"question": q, "answer": "-", "evidence": [dia], "category": category}
        for q, dia, category in QUESTIONS
    ]
    return data


@dataclass
class Runs:
    db: Path
    default: dict[str, object]
    again: dict[str, object]
    starved: dict[str, object]


def eval_run(db: Path, suite: Path, out: Path, *extra: str) -> dict[str, object]:
    result = runner.invoke(
        app,
        [
            *("eval", "run", "--locomo", str(suite), "--db", str(db), "-w", WORKSPACE),
            *("--json", str(out), *extra),
        ],
    )
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(out.read_text())
    return report


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Three recorded runs of one LoCoMo file: default twice, then a starved budget."""
    folder = tmp_path_factory.mktemp("eval")
    suite = folder / "conv-ab.json"
    suite.write_text(json.dumps(locomo_data()), encoding="utf-8")
    db = folder / "eval.db"
    return Runs(
        db,
        eval_run(db, suite, folder / "a.json"),
        eval_run(db, suite, folder / "a2.json"),
        eval_run(db, suite, folder / "b.json", "--budget", str(STARVED_BUDGET)),
    )


def run_id(report: dict[str, object]) -> str:
    run = report["run"]
    assert isinstance(run, dict)
    return str(run["id"])


def compare(runs: Runs, a: str, b: str, *extra: str) -> Result:
    return runner.invoke(
        app, ["eval", "compare", a, b, "--db", str(runs.db), "-w", WORKSPACE, *extra]
    )


def test_two_runs_of_one_configuration_show_no_detectable_change(runs: Runs) -> None:
    a, again = runs.default["run"], runs.again["run"]
    assert isinstance(a, dict) and isinstance(again, dict)
    assert a["config_sha256"] == again["config_sha256"]
    assert a["dataset_sha256"] == again["dataset_sha256"]
    assert a["item_count"] == len(QUESTIONS)
    result = compare(runs, run_id(runs.default), run_id(runs.again))
    assert result.exit_code == 0, result.output
    assert "no detectable change" in result.output


def test_a_much_smaller_budget_is_flagged_worse_and_fails_the_command(
    runs: Runs, tmp_path: Path
) -> None:
    out = tmp_path / "compare.json"
    result = compare(runs, run_id(runs.default), run_id(runs.starved), "--json", str(out))
    assert result.exit_code == 1, result.output
    verdict = json.loads(out.read_text())
    assert verdict["verdict"] == "worse"
    assert verdict["p_value"] < 0.05 and verdict["ci95"][1] < 0
    assert verdict["changed_most"] and verdict["changed_most"][0]["difference"] < 0
    starved = runs.starved["run"]
    assert isinstance(starved, dict) and starved["config"]["budget_tokens"] == STARVED_BUDGET
    # The other way round the starved run is the baseline: better, and no failure.
    reverse = compare(runs, run_id(runs.starved), run_id(runs.default))
    assert reverse.exit_code == 0 and "better" in reverse.output


def test_runs_of_different_suites_are_refused_unless_allowed(runs: Runs) -> None:
    store = open_store(str(runs.db))
    try:
        ws = store.get_workspace(WORKSPACE)
        assert ws is not None
        golden = record_run(store, ws)
    finally:
        store.close()
    refused = compare(runs, run_id(runs.default), golden.id)
    assert refused.exit_code == 2
    assert "--allow-different-data" in refused.output
    allowed = compare(runs, run_id(runs.default), golden.id, "--allow-different-data")
    assert allowed.exit_code == 2 and "no item id in common" in allowed.output


def test_an_unknown_run_is_a_clear_error(runs: Runs) -> None:
    result = compare(runs, run_id(runs.default), "evr_missing")
    assert result.exit_code == 2 and "no eval run 'evr_missing'" in result.output


def test_history_lists_every_run_newest_first(runs: Runs) -> None:
    result = runner.invoke(app, ["eval", "history", "--db", str(runs.db), "-w", WORKSPACE])
    assert result.exit_code == 0, result.output
    listed = re.findall(r"evr_[0-9a-f]{24}", result.output)
    expected = [run_id(r) for r in (runs.starved, runs.again, runs.default)]
    assert [i for i in listed if i in expected] == expected


@pytest.fixture
def engine(runs: Runs, embedder: SentenceTransformerEmbedder) -> Iterator[SelfModel]:
    with SelfModel.open(str(runs.db), embedder=embedder, workspace=WORKSPACE) as sm:
        yield sm


@pytest.mark.anyio
async def test_the_api_lists_and_reads_the_recorded_runs(runs: Runs, engine: SelfModel) -> None:
    key = new_workspace_key(engine.store, WORKSPACE, Scope.READ)
    async with asgi_client(create_app(engine), key) as api:
        listed = (await api.get("/v1/eval/runs", params={"suite": "conv-ab"})).json()
        one = await api.get(f"/v1/eval/runs/{run_id(runs.starved)}")
    ids = [r["id"] for r in listed["items"]]
    assert ids == [run_id(r) for r in (runs.starved, runs.again, runs.default)]
    assert one.status_code == 200
    detail = one.json()
    assert detail["config"]["budget_tokens"] == STARVED_BUDGET
    assert [i["item_id"] for i in detail["items"]] == [
        f"conv-ab:q{n}" for n in range(len(QUESTIONS))
    ]
    assert detail["mean_recall"] == pytest.approx(
        sum(i["recall"] for i in detail["items"]) / len(QUESTIONS)
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
