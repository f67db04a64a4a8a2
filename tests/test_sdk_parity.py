"""The library and the SDK offer the same methods: what mypy checks (``SelfModelAPI``), plus what
it cannot — that nothing public is left out of the Protocol unexplained, and that defaults match.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from selfmodel import SelfModel
from selfmodel.client import AsyncClient, Client
from selfmodel.interface import (
    DEPRECATED_KEYWORDS,
    DEPRECATED_METHODS,
    LIBRARY_ONLY,
    SelfModelAPI,
)

# Parameters one side has and the Protocol leaves out, and why.
LIBRARY_ONLY_PARAMETERS = {
    ("wait_for", "poll_seconds"),  # the server polls, not the client
    ("run_retention", "now"),  # the server runs its policy as of its own clock
    ("audit", "on_progress"),  # a progress bar is the caller's, in its own process
}
SDK_ONLY_PARAMETERS = {("profile", "as_of"), ("conflicts", "as_of")}  # deprecated name of now
# Members of the clients that are about the connection, not the self-model.
CONNECTION_MEMBERS = {"run", "max_retries", "aclose"}


def public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def protocol_methods() -> set[str]:
    return public(SelfModelAPI)


def test_every_public_library_member_is_in_the_protocol_or_explained() -> None:
    library = public(SelfModel) | {"workspace"}  # workspace: an attribute set in __init__
    unexplained = library - protocol_methods() - set(LIBRARY_ONLY)
    assert not unexplained, f"add to SelfModelAPI or explain in LIBRARY_ONLY: {unexplained}"
    assert set(LIBRARY_ONLY) <= library, "LIBRARY_ONLY names something SelfModel lacks"
    assert not set(LIBRARY_ONLY) & protocol_methods()


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
def test_the_clients_offer_the_protocol_and_nothing_unexplained(client_class: type) -> None:
    methods = public(client_class)
    assert protocol_methods() - {"close"} <= methods
    assert methods - protocol_methods() <= CONNECTION_MEMBERS


def test_async_client_methods_are_coroutine_functions_with_the_clients_signatures() -> None:
    sync, asynchronous = Client("http://x", "k"), AsyncClient("http://x", "k")
    for name in sorted(protocol_methods() - {"close"}):
        assert inspect.iscoroutinefunction(getattr(asynchronous, name)), name
        assert not inspect.iscoroutinefunction(getattr(sync, name)), name
        assert inspect.signature(getattr(sync, name)) == inspect.signature(
            getattr(asynchronous, name)
        ), name
    sync.close()


def parameters(function: Any) -> dict[str, inspect.Parameter]:
    return {name: p for name, p in inspect.signature(function).parameters.items() if name != "self"}


@pytest.mark.parametrize("name", sorted(protocol_methods()))
def test_library_and_sdk_agree_on_parameter_names_kinds_and_defaults(name: str) -> None:
    library = parameters(getattr(SelfModel, name))
    sdk = parameters(getattr(Client("http://x", "k"), name))
    declared = parameters(getattr(SelfModelAPI, name))
    for param in declared:
        assert param in library and param in sdk, f"{name}({param}) missing on one side"
        assert library[param].kind == sdk[param].kind, f"{name}({param}): kinds differ"
        assert library[param].default == sdk[param].default, f"{name}({param}): defaults differ"
    assert {(name, p) for p in library.keys() - declared.keys()} <= LIBRARY_ONLY_PARAMETERS
    assert {(name, p) for p in sdk.keys() - declared.keys()} <= SDK_ONLY_PARAMETERS


def test_deprecated_names_are_in_the_protocol_and_take_what_their_new_names_take() -> None:
    """An old method name stays in step with its new name on every side until it goes."""
    sdk = Client("http://x", "k")
    for old, new in DEPRECATED_METHODS.items():
        assert {old, new} <= protocol_methods(), (old, new)
        for side in (SelfModelAPI, SelfModel, sdk):
            assert parameters(getattr(side, old)) == parameters(getattr(side, new)), (side, old)
    sdk.close()


@pytest.mark.parametrize("name", sorted(protocol_methods()))
def test_a_renamed_keyword_sits_beside_its_new_name_defaulting_to_none(name: str) -> None:
    declared = parameters(getattr(SelfModelAPI, name))
    library = parameters(getattr(SelfModel, name))
    for old, new in DEPRECATED_KEYWORDS.items():
        assert new not in declared or old in declared, f"{name}: {new}= without {old}="
        if old in declared:
            assert new in declared, f"{name}: {old}= without {new}="
            assert library[old].default is None and library[new].default is None
            assert library[old].kind is inspect.Parameter.KEYWORD_ONLY
