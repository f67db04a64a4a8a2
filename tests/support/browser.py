"""A real browser for Mirror tests: Playwright driving Debian's Chromium (installed by `make`).

``playwright install`` cannot download browsers here, so we point Playwright at the system's
``/usr/bin/chromium``. Screenshots go to ``test-artifacts/mirror/`` (gitignored), or to another
folder of ``test-artifacts/`` (the Inspector's: ``inspector``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("SELFMODEL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "mirror"
INSPECTOR_ARTIFACTS = ARTIFACTS.parent / "inspector"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def chromium_path() -> str:
    """The system Chromium; a clear error (not a skip) when it is missing."""
    found = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if not found:
        raise RuntimeError(
            f"Chromium not found at {CHROMIUM}: run `make test` (it installs it) or "
            "`apt-get install -y chromium`"
        )
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for one test module; closed afterwards."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Page, name: str, folder: Path = ARTIFACTS, *, full_page: bool = True) -> Path:
    """Save a screenshot of the whole page (or of the window: ``full_page=False``) as
    ``<folder>/<name>.png`` (``test-artifacts/mirror/``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


# What axe-core reports that we hold as failures: the two top impacts of its four.
BLOCKING_IMPACTS = ("serious", "critical")


def accessibility_problems(page: Page) -> list[dict[str, object]]:
    """axe-core's serious and critical violations on the page as it is now (axe.js ships in
    the axe-playwright-python wheel: nothing is fetched)."""
    results = Axe().run(page)
    violations: list[dict[str, object]] = results.response["violations"]
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]],  # type: ignore[index, union-attr]
        }
        for v in violations
        if v.get("impact") in BLOCKING_IMPACTS
    ]


__all__ = [
    "ARTIFACTS",
    "BLOCKING_IMPACTS",
    "DESKTOP",
    "INSPECTOR_ARTIFACTS",
    "PHONE",
    "accessibility_problems",
    "chromium",
    "chromium_path",
    "screenshot",
]
