"""What a run records it ran under: a stable configuration hash, ranking overrides checked like
settings, and a code version that is the checkout's commit or null, never an error."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import selfmodel
from selfmodel.config import RetrievalSettings, Settings
from selfmodel.errors import InvalidInputError
from selfmodel.evaluation import EvalConfiguration, ranking_with
from selfmodel.evaluation.configuration import code_version
from selfmodel.retrieval import RankingConfig


def test_the_same_configuration_hashes_the_same_and_any_change_moves_it() -> None:
    settings = Settings(retrieval=RetrievalSettings(default_budget_tokens=300))
    base = EvalConfiguration(settings=settings)
    assert base.sha256 == EvalConfiguration(settings=settings).sha256
    changed = [
        EvalConfiguration(settings=settings, k=5),
        EvalConfiguration(settings=settings, budget_tokens=299),
        EvalConfiguration(settings=settings, ranking=ranking_with(["keyword_weight=0"])),
    ]
    assert len({base.sha256, *(c.sha256 for c in changed)}) == 4
    # The budget the settings give is the budget named: the same block, the same hash.
    assert EvalConfiguration(settings=settings, budget_tokens=300).sha256 == base.sha256
    assert base.as_dict()["ranking"] == RankingConfig().as_dict()


def test_ranking_overrides_are_typed_like_the_fields() -> None:
    ranking = ranking_with(["keyword_weight=0", "candidate_pool=30", "strip_names=false"])
    assert (ranking.keyword_weight, ranking.candidate_pool, ranking.strip_names) == (0.0, 30, False)


@pytest.mark.parametrize(
    "override", ["keyword_weigth=0", "keyword_weight", "candidate_pool=1.5", "dense_weight=-1"]
)
def test_a_bad_ranking_override_is_refused_by_name(override: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        ranking_with([override])
    assert raised.value.details["field"] == "ranking"


@pytest.mark.parametrize(("k", "budget"), [(0, None), (501, None), (10, 0), (10, 32_001)])
def test_k_and_budget_have_bounds(k: int, budget: int | None) -> None:
    with pytest.raises(InvalidInputError):
        EvalConfiguration(k=k, budget_tokens=budget)


def test_the_code_version_is_this_checkouts_commit() -> None:
    source = Path(selfmodel.__file__).resolve().parent
    head = subprocess.run(
        ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    version = code_version()
    assert version["package"] == selfmodel.__version__
    assert version["commit"] == (head.stdout.strip() if head.returncode == 0 else None)


def test_without_git_the_commit_is_null_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")  # no git to be found: as on a machine without it
    assert code_version() == {"package": selfmodel.__version__, "commit": None}
