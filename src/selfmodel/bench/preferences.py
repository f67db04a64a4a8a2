"""The preference benchmark: does ``context`` bring up what a user asked for, when it matters?

A product's users say what they want once ("I'm lactose intolerant", "keep answers short") or
show it by picking among options the assistant offered ("the quieter hotel"), and then, weeks and
many unrelated chats later, ask for something the preference bears on without naming it ("What
should I bake for my niece's birthday?"). Keyword search cannot connect the two, and a transcript
search sees a pile of small talk. This benchmark measures whether the self-model can.

Synthetic users are generated deterministically (``seed``) from templates in
``preference_templates.json``: each user states ``per_user`` preferences — half plainly, half by
choosing — each in its own session on its own day, shuffled among ``FILLER_PER_PREFERENCE`` as
many sessions of unrelated chat (both roles). Everything is observed as one user of a chatbot
(user turns ``role=user``, assistant turns ``role=assistant``, ``occurred_at`` per session)
through the real pipeline. Then each template's requests are asked of ``context`` with ``now`` the
day after the last session.

- **recall@k** (1, 5, 10): share of requests whose top-k items hold the preference's evidence — the
  user turn where it was stated or chosen, or a belief citing that turn. ``context`` runs with a
  budget so large no item is cut (as in the LoCoMo bench), so it measures ranking.
- **Baselines, same run**, over the same user's stored turns (both roles, the text as stored):
  dense only (MiniLM cosine), BM25 only, and their RRF fusion — the same code as LoCoMo's.
- Every recall has a bootstrap 95 % interval over requests; the system's lead over the best
  baseline at recall@10 a paired one. Everything is also broken down by style (plain, chosen).
- **Overlap**: mean Jaccard similarity of each request's content words with its preference
  statement's (stemmed, stop words out), to show the requests share few words with it.

Templates are tagged ``dev`` or ``test`` half and half: tune on dev, report test.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import Stemmer

from selfmodel.bench.baselines import RawTurnBaselines
from selfmodel.bench.locomo import UNCUT_BUDGET
from selfmodel.bench.report import bootstrap_ci, bootstrap_note, lead_over_best, mean
from selfmodel.embedding import Embedder
from selfmodel.errors import InvalidFileError, InvalidInputError
from selfmodel.ingest.files import Batch

DEV, TEST, ALL = "dev", "test", "all"
SPLITS = (DEV, TEST, ALL)
PLAIN, CHOSEN = "plain", "chosen"
STYLES = (PLAIN, CHOSEN)
DEFAULT_USERS = 20
DEFAULT_SEED = 20240501
DEFAULT_SPLIT = DEV  # the test split is held out: run it on purpose, not by default
DEFAULT_PREFERENCES_PER_USER = 8
# Unrelated sessions per preference session: a preference is one sitting in three, so a request
# has to find it among chat that is mostly about something else.
FILLER_PER_PREFERENCE = 2
MAX_REQUESTS_PER_TEMPLATE = 2
KS = (1, 5, 10)
LEAD_K = 10
SYSTEM = "system"
BASELINES = ("dense", "bm25", "hybrid")
USER_PREFIX = "pref-user-"
SOURCE = "bench:preferences"
# The synthetic calendar: session n of every user is on START + n days, at a random hour
# between FIRST_HOUR and LAST_HOUR; turns of one session are a minute apart.
START = datetime(2024, 3, 4, tzinfo=UTC)
FIRST_HOUR, LAST_HOUR = 8, 21
TURN_GAP = timedelta(minutes=1)

TEMPLATES_FILE = "preference_templates.json"
_stemmer = Stemmer.Stemmer("english")

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Template:
    """A preference, how it is expressed, and requests it bears on."""

    id: str
    split: str
    domain: str
    style: str  # PLAIN: stated; CHOSEN: picked among the assistant's options
    says: tuple[str, ...]  # ways the user states it (plain) or makes the choice (chosen)
    requests: tuple[str, ...]
    asks: str | None = None  # chosen: what the user asked for that prompted the options
    offer: str | None = None  # chosen: the assistant's options


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    text: str


@dataclass(frozen=True)
class TemplateBank:
    """Everything in the templates file."""

    templates: tuple[Template, ...]
    filler: tuple[tuple[Turn, ...], ...]
    acknowledgements: tuple[str, ...]
    confirmations: tuple[str, ...]
    stop_words: frozenset[str]

    def for_split(self, split: str) -> list[Template]:
        check_split(split)
        return [t for t in self.templates if split == ALL or t.split == split]

    def content_words(self, text: str) -> set[str]:
        """Lower-cased, stemmed words of ``text`` that are not stop words."""
        words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in self.stop_words]
        return set(_stemmer.stemWords(words))

    def overlap(self, a: str, b: str) -> float:
        """Jaccard similarity of the content words of ``a`` and ``b`` (0 when both have none)."""
        left, right = self.content_words(a), self.content_words(b)
        union = left | right
        return len(left & right) / len(union) if union else 0.0


@dataclass(frozen=True)
class Session:
    """One sitting on one day: a preference (``template`` set) or unrelated chat."""

    turns: tuple[Turn, ...]
    template: Template | None = None
    evidence_turn: int | None = None  # the user turn that states or makes the choice


@dataclass(frozen=True)
class Request:
    """A request the preference bears on, with the message id of the preference's evidence."""

    text: str
    template: Template
    evidence_id: str
    statement: str  # the evidence turn's text
    session_text: str  # the whole preference session (for chosen: the options too)


@dataclass
class SyntheticUser:
    name: str
    sessions: list[tuple[datetime, Session]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        """When the requests are asked: the day after the last session."""
        last = max(at for at, _ in self.sessions)
        return last.replace(hour=0, minute=0) + timedelta(days=1, hours=FIRST_HOUR)

    def batch(self) -> Batch:
        """Every turn of every session as messages of one chatbot user, oldest first."""
        messages: list[dict[str, Any]] = []
        for number, (at, session) in enumerate(self.sessions):
            for position, turn in enumerate(session.turns):
                messages.append(
                    {
                        "id": message_id(self.name, number, position),
                        "content": turn.text,
                        "role": turn.role,
                        "occurred_at": at + position * TURN_GAP,
                    }
                )
        return Batch(user=self.name, messages=messages, source=SOURCE)


def message_id(user: str, session: int, turn: int) -> str:
    return f"{user}:s{session:03d}:t{turn}"


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise InvalidInputError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")


def load_templates(path: str | Path | None = None) -> TemplateBank:
    """The templates file (the bundled one by default), or ``InvalidFileError`` saying why not."""
    source = resources.files("selfmodel.bench") / TEMPLATES_FILE if path is None else Path(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
        templates = tuple(_template(item) for item in data["templates"])
        filler = tuple(
            tuple(Turn(str(t["role"]), str(t["text"])) for t in session)
            for session in data["filler"]
        )
        bank = TemplateBank(
            templates=templates,
            filler=filler,
            acknowledgements=tuple(map(str, data["acknowledgements"])),
            confirmations=tuple(map(str, data["confirmations"])),
            stop_words=frozenset(map(str, data["stop_words"])),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidFileError(f"{source} is not a preference templates file: {exc}") from exc
    if not (bank.filler and bank.acknowledgements and bank.confirmations):
        raise InvalidFileError(f"{source} needs filler, acknowledgements and confirmations")
    if any(turn.role not in ("user", "assistant") for s in bank.filler for turn in s):
        raise InvalidFileError(f"{source}: a filler turn's role is neither user nor assistant")
    if len({t.id for t in templates}) != len(templates):
        raise InvalidFileError(f"{source}: template ids must be unique")
    return bank


def _template(item: dict[str, Any]) -> Template:
    template = Template(
        id=str(item["id"]),
        split=str(item["split"]),
        domain=str(item["domain"]),
        style=str(item["style"]),
        says=tuple(map(str, item["says"])),
        requests=tuple(map(str, item["requests"])),
        asks=item.get("asks"),
        offer=item.get("offer"),
    )
    problems = []
    if template.split not in (DEV, TEST):
        problems.append(f"split must be {DEV} or {TEST}")
    if template.style not in STYLES:
        problems.append(f"style must be {PLAIN} or {CHOSEN}")
    if not template.says:
        problems.append("says is empty")
    if not 1 <= len(template.requests) <= MAX_REQUESTS_PER_TEMPLATE:
        problems.append(f"needs 1 to {MAX_REQUESTS_PER_TEMPLATE} requests")
    if template.style == CHOSEN and not (template.asks and template.offer):
        problems.append("a chosen preference needs asks and offer")
    if problems:
        raise ValueError(f"template {template.id!r}: {'; '.join(problems)}")
    return template


def generate_users(
    bank: TemplateBank,
    *,
    users: int = DEFAULT_USERS,
    per_user: int = DEFAULT_PREFERENCES_PER_USER,
    split: str = DEFAULT_SPLIT,
    seed: int = DEFAULT_SEED,
) -> list[SyntheticUser]:
    """Synthetic chatbot users, the same for the same arguments.

    Each user has its own random stream (seeded by ``seed`` and its number), so user 3 is the
    same whether 5 or 50 users are generated.
    """
    if users <= 0:
        raise InvalidInputError("users must be positive")
    if per_user < len(STYLES):
        raise InvalidInputError(f"at least {len(STYLES)} preferences per user are needed")
    pool = bank.for_split(split)
    by_style = {style: [t for t in pool if t.style == style] for style in STYLES}
    wanted = {PLAIN: per_user // 2, CHOSEN: per_user - per_user // 2}
    for style, count in wanted.items():
        if count > len(by_style[style]):
            raise InvalidInputError(
                f"{per_user} preferences per user need {count} {style} templates in split "
                f"{split!r}; it has {len(by_style[style])}"
            )
    return [_user(bank, by_style, wanted, number, seed) for number in range(users)]


def _user(
    bank: TemplateBank,
    by_style: dict[str, list[Template]],
    wanted: dict[str, int],
    number: int,
    seed: int,
) -> SyntheticUser:
    rng = random.Random(f"{seed}:{number}")
    picked = [t for style in STYLES for t in rng.sample(by_style[style], wanted[style])]
    sessions = [_preference_session(bank, template, rng) for template in picked]
    filler_count = FILLER_PER_PREFERENCE * len(picked)
    if filler_count <= len(bank.filler):
        fillers = rng.sample(bank.filler, filler_count)
    else:
        fillers = rng.choices(bank.filler, k=filler_count)
    sessions.extend(Session(turns) for turns in fillers)
    rng.shuffle(sessions)
    user = SyntheticUser(f"{USER_PREFIX}{number:03d}")
    for day, session in enumerate(sessions):
        minute = rng.randrange((LAST_HOUR - FIRST_HOUR) * 60)
        at = START + timedelta(days=day, hours=FIRST_HOUR, minutes=minute)
        user.sessions.append((at, session))
        if session.template is None or session.evidence_turn is None:
            continue
        statement = session.turns[session.evidence_turn].text
        session_text = " ".join(turn.text for turn in session.turns)
        user.requests.extend(
            Request(
                text=request,
                template=session.template,
                evidence_id=message_id(user.name, day, session.evidence_turn),
                statement=statement,
                session_text=session_text,
            )
            for request in session.template.requests
        )
    return user


def _preference_session(bank: TemplateBank, template: Template, rng: random.Random) -> Session:
    says = rng.choice(template.says)
    if template.style == PLAIN:
        stated = (Turn("user", says), Turn("assistant", rng.choice(bank.acknowledgements)))
        return Session(stated, template, evidence_turn=0)
    assert template.asks is not None and template.offer is not None  # checked on loading
    chosen = (
        Turn("user", template.asks),
        Turn("assistant", template.offer),
        Turn("user", says),
        Turn("assistant", rng.choice(bank.confirmations)),
    )
    return Session(chosen, template, evidence_turn=2)


@dataclass
class _Hits:
    """Per request, in the order asked: its style and whether each system found it at each k."""

    styles: list[str] = field(default_factory=list)
    found: dict[str, dict[int, list[float]]] = field(default_factory=dict)

    def add(self, style: str, by_system: dict[str, dict[int, bool]]) -> None:
        self.styles.append(style)
        for name, by_k in by_system.items():
            for k, hit in by_k.items():
                self.found.setdefault(name, {}).setdefault(k, []).append(float(hit))

    def values(self, name: str, k: int, style: str | None = None) -> list[float]:
        return [
            v
            for v, s in zip(self.found[name][k], self.styles, strict=True)
            if style is None or s == style
        ]

    def summary(self, name: str, style: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {f"recall@{k}": mean(self.values(name, k, style)) for k in KS}
        out["ci95"] = {f"recall@{k}": list(bootstrap_ci(self.values(name, k, style))) for k in KS}
        out["requests"] = len(self.values(name, KS[0], style))
        return out

    def report(self, name: str) -> dict[str, Any]:
        return {
            "overall": self.summary(name),
            "by_style": {style: self.summary(name, style) for style in STYLES},
        }

    def lead(self) -> dict[str, Any]:
        def one(style: str | None) -> dict[str, Any]:
            return lead_over_best(
                self.values(SYSTEM, LEAD_K, style),
                {name: self.values(name, LEAD_K, style) for name in BASELINES},
            )

        return {
            "metric": f"recall@{LEAD_K}",
            "overall": one(None),
            "by_style": {style: one(style) for style in STYLES},
            "bootstrap": bootstrap_note("request"),
        }


def run_preferences(
    embedder: Embedder,
    *,
    users: int = DEFAULT_USERS,
    seed: int = DEFAULT_SEED,
    split: str = DEFAULT_SPLIT,
    per_user: int = DEFAULT_PREFERENCES_PER_USER,
    on_total: Callable[[int], None] | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Generate users, ingest them, ask every request of the system and the baselines."""
    from selfmodel.engine import SelfModel  # the bench is an outer shell around the engine

    check_split(split)
    bank = load_templates()
    people = generate_users(bank, users=users, per_user=per_user, split=split, seed=seed)
    batches = [person.batch() for person in people]
    turns = sum(len(b.messages) for b in batches)
    requests = [r for person in people for r in person.requests]
    advance = on_progress or (lambda n: None)
    if on_total:
        on_total(turns + len(requests))

    hits = _Hits()
    with (
        tempfile.TemporaryDirectory(prefix="selfmodel-preferences-") as tmp,
        SelfModel.open(str(Path(tmp) / "preferences.db"), embedder=embedder) as sm,
    ):
        started = time.perf_counter()
        sm.ingest(batches, on_progress=advance)
        ingest_s = time.perf_counter() - started
        for person in people:
            _ask(sm, embedder, person, hits, advance)

    overlap = {
        "request_vs_statement": _overlap(requests, lambda r: bank.overlap(r.text, r.statement)),
        "request_vs_session": _overlap(requests, lambda r: bank.overlap(r.text, r.session_text)),
    }
    return {
        "split": split,
        "seed": seed,
        "users": users,
        "preferences_per_user": per_user,
        "filler_sessions_per_preference": FILLER_PER_PREFERENCE,
        "templates": len(bank.for_split(split)),
        "requests": len(requests),
        "turns": turns,
        "ks": list(KS),
        SYSTEM: hits.report(SYSTEM),
        "baselines": {name: hits.report(name) for name in BASELINES},
        "lead": hits.lead(),
        "overlap": overlap,
        "ingest_turns_per_s": turns / ingest_s if ingest_s else float("nan"),
    }


def _overlap(requests: Sequence[Request], measure: Callable[[Request], float]) -> dict[str, Any]:
    """Mean and max of ``measure`` over the requests, and its mean per style."""
    values = [measure(r) for r in requests]
    return {
        "mean": mean(values),
        "max": max(values),
        "by_style": {
            style: mean(
                [v for v, r in zip(values, requests, strict=True) if r.template.style == style]
            )
            for style in STYLES
        },
    }


def _ask(
    sm: Any, embedder: Embedder, person: SyntheticUser, hits: _Hits, advance: Progress
) -> None:
    """Every request of one user, of the system and of the baselines over their stored turns."""
    user = sm.user(person.name)
    observations = sm.store.list_observations(sm.workspace.id, [user.id])
    position_of = {o.external_id: i for i, o in enumerate(observations)}
    texts = [o.content for o in observations]
    baselines = RawTurnBaselines(texts, embedder.embed(texts), [person.name] * len(texts))
    now = person.now
    for request in person.requests:
        target = position_of.get(request.evidence_id)
        if target is None:  # the generator and the store disagree: a bug, not a miss
            raise RuntimeError(f"evidence turn {request.evidence_id} was not stored")
        evidence = observations[target].id
        found: dict[str, dict[int, bool]] = {SYSTEM: {}}
        for k in KS:
            result = sm.context(
                person.name, request.text, limit=k, budget_tokens=UNCUT_BUDGET, now=now
            )
            found[SYSTEM][k] = any(evidence in item.evidence_ids for item in result.items)
        rankings = baselines.rankings(request.text, embedder.embed_one)
        for name in BASELINES:
            top = rankings[name]
            found[name] = {k: target in top[:k] for k in KS}
        hits.add(request.template.style, found)
        advance(1)


__all__ = [
    "BASELINES",
    "DEFAULT_PREFERENCES_PER_USER",
    "DEFAULT_SEED",
    "DEFAULT_SPLIT",
    "DEFAULT_USERS",
    "KS",
    "SPLITS",
    "STYLES",
    "Request",
    "SyntheticUser",
    "Template",
    "TemplateBank",
    "generate_users",
    "load_templates",
    "run_preferences",
]
