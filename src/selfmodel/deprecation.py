"""Old names kept for one release after a rename: each still works and says what replaced it.

A renamed keyword maps to the new one with a ``DeprecationWarning`` (both at once is an
``InvalidInputError``: there is no sensible winner); a renamed class or function stays
importable through its module's ``__getattr__``, which warns on first use. Every old name goes in
the next minor release (CHANGELOG.md, "Renamed").

Loads nothing but the standard library, so the SDK can use it too.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")

REMOVAL = "it goes in the next minor release"


def warn_renamed(old: str, new: str, *, stacklevel: int = 2) -> None:
    """Warn that ``old`` is deprecated in favour of ``new``.

    ``stacklevel`` counts frames from the caller of this function (1): the default, 2, points
    the warning at whoever called the deprecated function that calls this.
    """
    warnings.warn(
        f"{old} is deprecated: use {new} ({REMOVAL})",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )


def either(new_value: T | None, old_value: T | None, *, new: str, old: str) -> T | None:
    """The value of a renamed argument from whichever of its names was given (no warning).

    Raises ``InvalidInputError`` when both are given. The HTTP server maps its deprecated fields
    and parameters with this (OpenAPI marks them deprecated; a server warning would reach no one).
    """
    if old_value is None:
        return new_value
    if new_value is not None:
        from selfmodel.errors import InvalidInputError  # errors.py imports this module lazily

        raise InvalidInputError(f"pass {new} ({old} is its deprecated name), not both", field=old)
    return old_value


def renamed_keyword(
    new_value: T | None, old_value: T | None, *, new: str, old: str, stacklevel: int = 2
) -> T | None:
    """``either`` for a keyword of the library or the SDK, warning when the old name is used.

    ``stacklevel`` counts from the caller of this function: 2 points at whoever called the
    method that takes the keyword.
    """
    value = either(new_value, old_value, new=f"{new}=", old=f"{old}=")
    if old_value is not None:
        warn_renamed(f"{old}=", f"{new}=", stacklevel=stacklevel + 1)
    return value


def renamed_attribute(
    module: str, name: str, renamed: Mapping[str, str], namespace: Mapping[str, Any]
) -> Any:
    """For a module's ``__getattr__``: the object an old ``name`` now has another name for."""
    new = renamed.get(name)
    if new is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    # 3: this function, the module's __getattr__, then the line that imported or read the name.
    warn_renamed(f"{module}.{name}", f"{module}.{new}", stacklevel=3)
    return namespace[new]


__all__ = ["REMOVAL", "either", "renamed_attribute", "renamed_keyword", "warn_renamed"]
