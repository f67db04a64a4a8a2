"""Rendering a profile for ``selfmodel show USER``: what an operator reads before the beliefs."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from selfmodel.domain import Facet
from selfmodel.domain.profile import CurrentFacet, Profile, ProfileItem

# Each facet as the start of a sentence about the person: "Lives in Edinburgh".
FACET_PHRASES: dict[Facet, str] = {
    Facet.RESIDENCE: "Lives in",
    Facet.OCCUPATION: "Works as",
    Facet.EMPLOYER: "Works at",
    Facet.RELATIONSHIP_STATUS: "Relationship",
    Facet.DIET: "Diet",
}


def day(value: datetime) -> str:
    """``12 Jun 2024``."""
    return f"{value.day} {value:%b %Y}"


def facet_line(facet: CurrentFacet) -> str:
    """``Edinburgh · since 12 Jun 2024 · before: Manchester, London`` (rich markup)."""
    parts = [f"[bold]{escape(facet.value)}[/bold]"]
    if facet.since is not None:
        parts.append(f"since {day(facet.since)}")
    seen = {facet.value.lower()}
    before: list[str] = []
    for old in facet.replaced:  # a value held twice (Leeds, Oslo, Leeds) is named once
        if old.value.lower() not in seen:
            seen.add(old.value.lower())
            before.append(old.value)
    if before:
        parts.append("before: " + escape(", ".join(before)))
    return " · ".join(parts)


def _statements(items: list[ProfileItem]) -> str:
    return "\n".join(escape(i.statement) for i in items)


def print_profile(console: Console, profile: Profile, user: str) -> None:
    """A compact panel: name, facets, people, pets, interests, how to answer, conflicts."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(ratio=1)
    for facet, phrase in FACET_PHRASES.items():
        if facet in profile.facets:
            grid.add_row(phrase, facet_line(profile.facets[facet]))
    for title, items in (
        ("People", profile.people),
        ("Pets", profile.pets),
        ("Interests", profile.interests),
        ("How to answer", profile.communication),
    ):
        if items:
            grid.add_row(title, _statements(items))
    for conflict in profile.conflicts:
        grid.add_row(
            "[yellow]Conflict[/yellow]",
            f"{escape(conflict.belief.statement)} [yellow]⟷[/yellow] "
            f"{escape(conflict.against.statement)}\n"
            f"[dim]{conflict.belief.id} · {conflict.against.id}[/dim]",
        )
    if not grid.rows:
        grid.add_row("", "[dim]nothing aggregated yet[/dim]")
    name = escape(profile.name) if profile.name else "[dim]no display name[/dim]"
    console.print(Panel(grid, title=f"{name} · {escape(user)}", title_align="left", expand=False))
