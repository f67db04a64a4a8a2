"""``pip install selfmodel`` (no extras) is a working SDK: importing it loads no engine, and it
talks to a real server from a process in which every extra's packages cannot be imported."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from selfmodel import SelfModel
from selfmodel.extras import EXTRA_OF_MODULE
from selfmodel.server import create_app
from tests.support.processes import subprocess_env
from tests.support.server import new_workspace_key, running_server

ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT_S = 120.0
# What the SDK must never load: the engine, its numeric and language libraries, the web server.
HEAVY = (
    "bm25s",
    "fastapi",
    "numpy",
    "psycopg",
    "scipy",
    "selfmodel.engine",
    "selfmodel.retrieval",
    "selfmodel.storage",
    "sentence_transformers",
    "spacy",
    "torch",
)
# Every extra's packages, and what they pull in, made unimportable in the child process.
BLOCKED = sorted({*EXTRA_OF_MODULE, "scipy", "sklearn", "starlette", "transformers"})


def blocker(modules: list[str]) -> str:
    """Code that makes ``modules`` (and their submodules) unimportable, as if not installed."""
    return f"""
import importlib.abc, sys

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {modules!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
"""


def run_child(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )


def test_importing_the_sdk_loads_neither_the_engine_nor_its_libraries() -> None:
    child = run_child("import json, sys, selfmodel.client; print(json.dumps(sorted(sys.modules)))")
    assert child.returncode == 0, child.stderr
    loaded = set(json.loads(child.stdout))
    assert "selfmodel.client" in loaded and "httpx" in loaded
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY)}


SDK_SESSION = (
    blocker(BLOCKED)
    + """
import json, sys
from selfmodel.client import Client
from selfmodel import Belief, InvalidInputError
try:
    from selfmodel import SelfModel
except ImportError as exc:
    engine_error = str(exc)
url, key = sys.argv[1:3]
with Client(url, key) as sm:
    result = sm.observe("ada", "I'm training for the Berlin marathon in April.")
    beliefs = sm.beliefs("ada")
    block = sm.context("ada", "what is she training for?")
    link = sm.create_mirror_link("ada")
    try:
        sm.add_belief("ada", "")
    except InvalidInputError as exc:
        refused = exc.details["status"]
print(json.dumps({
    "created": result.created,
    "beliefs": [b.id for b in beliefs if isinstance(b, Belief)],
    "block": block.text,
    "link": link.url,
    "refused": refused,
    "engine_error": engine_error,
    "numpy_loaded": "numpy" in sys.modules,
}))
"""
)


def test_the_sdk_works_against_a_real_server_without_any_extra(sm: SelfModel) -> None:
    with running_server(create_app(sm)) as url:
        child = run_child(SDK_SESSION, url, new_workspace_key(sm.store, "acme"))
    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout)
    assert seen["created"] and seen["beliefs"] == seen["created"]
    assert "marathon" in seen["block"].lower()
    assert seen["link"].startswith(url + "/mirror/open/")
    assert seen["refused"] == 422
    assert "pip install 'selfmodel[local]'" in seen["engine_error"]
    assert seen["numpy_loaded"] is False


@pytest.mark.parametrize(
    ("extras_missing", "command", "needed"),
    [
        (("local", "server", "postgres"), ["users"], "local"),
        (("server",), ["serve", "--port", "9"], "server"),
    ],
)
def test_the_command_says_which_extra_it_needs(
    extras_missing: tuple[str, ...], command: list[str], needed: str, tmp_path: Path
) -> None:
    missing = sorted(m for m, extra in EXTRA_OF_MODULE.items() if extra in extras_missing)
    script = blocker(missing) + (
        f"import sys; sys.argv = ['selfmodel', *{command!r}, '--db', {str(tmp_path / 'x.db')!r}]\n"
        "from selfmodel.__main__ import main; main()"
    )
    child = run_child(script)
    assert child.returncode == 1, child.stderr
    assert f"pip install 'selfmodel[{needed}]'" in child.stderr
    assert "Traceback" not in child.stderr


def requirement_names(requirements: list[str]) -> set[str]:
    return {
        re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower().replace("_", "-")
        for r in requirements
        if not r.startswith("selfmodel[")
    }


def test_the_extras_table_and_pyproject_name_the_same_packages() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert requirement_names(project["dependencies"]) == {"httpx", "pydantic"}
    # `make test` installs `.[dev]`: everything, as before the split.
    assert "selfmodel[local,server,postgres]" in extras["dev"]
    distributions = packages_distributions()
    listed: dict[str, set[str]] = {}
    for module, extra in EXTRA_OF_MODULE.items():
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
        assert names & requirement_names(extras[extra]), f"{module} is not in [{extra}]"
        listed.setdefault(extra, set()).update(names)
    for extra in ("local", "server", "postgres"):
        unknown = requirement_names(extras[extra]) - listed[extra]
        assert not unknown, f"add the modules of {unknown} to EXTRA_OF_MODULE"
