"""Reading conversations from files: JSON / JSONL messages, and the LoCoMo benchmark format.

A file becomes a list of ``Batch``es: one user's messages. Messages keep or get stable external
ids, so ingesting the same file twice changes nothing.

Accepted shapes:
- JSONL: one message per line, each with ``user`` and ``content`` (plus optional ``role``,
  ``speaker``, ``occurred_at``, ``id``, ``kind``, ``source``, ``metadata``).
- JSON: a list of such messages; or ``{"user": ..., "messages": [...]}``; or a list of those.
- LoCoMo: ``{"speaker_a", "speaker_b", "session_N", "session_N_date_time", ...}``. Each speaker
  becomes a user named after the speaker; each turn an observation dated by its session, with
  ``metadata`` ``dia_id``, ``session`` and ``addressee`` (the other speaker: whom it is said to).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from selfmodel.domain.messages import ADDRESSEE
from selfmodel.errors import InvalidFileError

LOCOMO_DATE_FORMAT = "%I:%M %p on %d %B, %Y"


@dataclass
class Batch:
    """Messages of one user from one file (observed together)."""

    user: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    source: str | None = None


@dataclass(frozen=True)
class LocomoTurn:
    """One LoCoMo turn: who said it, when (the session's date), its id and text."""

    speaker: str
    dia_id: str
    session: int
    occurred_at: datetime
    text: str


def read_conversation_file(path: str | Path) -> list[Batch]:
    """Parse ``path`` into batches, or raise ``InvalidFileError`` saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise InvalidFileError(f"{path} does not exist or is not a file")
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidFileError(f"{path} is not UTF-8 text ({exc.reason})") from exc
    if not raw.strip():
        raise InvalidFileError(f"{path} is empty")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return _from_jsonl(path, raw)
    if isinstance(data, dict) and is_locomo(data):
        return locomo_batches(data, source=f"locomo:{path.stem}")
    return _from_json(path, data)


def read_locomo_file(path: str | Path) -> dict[str, Any]:
    """A LoCoMo conversation file's data, or ``InvalidFileError`` saying why it is not one."""
    path = Path(path)
    if not path.is_file():
        raise InvalidFileError(f"{path} does not exist or is not a file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidFileError(f"{path} is not a JSON LoCoMo conversation: {exc}") from exc
    if not isinstance(data, dict) or not is_locomo(data):
        raise InvalidFileError(f"{path} lacks speaker_a, speaker_b and session_1: not LoCoMo")
    return data


def is_locomo(data: dict[str, Any]) -> bool:
    return "speaker_a" in data and "speaker_b" in data and "session_1" in data


def locomo_turns(data: dict[str, Any]) -> Iterator[LocomoTurn]:
    """Every turn of a LoCoMo conversation, in order, dated by its session (plus its position)."""
    session = 1
    while f"session_{session}" in data:
        stamp = data.get(f"session_{session}_date_time")
        try:
            when = datetime.strptime(str(stamp), LOCOMO_DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError as exc:
            raise InvalidFileError(
                f"session_{session}_date_time {stamp!r} is not like '1:56 pm on 8 May, 2023'"
            ) from exc
        turns = data[f"session_{session}"]
        if not isinstance(turns, list):
            raise InvalidFileError(f"session_{session} is not a list of turns")
        for position, turn in enumerate(turns):
            try:
                text = str(turn["text"])
                if turn.get("blip_caption"):
                    text = f"{text} [shares a photo: {turn['blip_caption']}]"
                # LoCoMo dates sessions, not turns: a second per turn keeps their order.
                at = when + timedelta(seconds=position)
                yield LocomoTurn(str(turn["speaker"]), str(turn["dia_id"]), session, at, text)
            except (KeyError, TypeError) as exc:
                raise InvalidFileError(
                    f"a turn in session_{session} lacks speaker, dia_id or text"
                ) from exc
        session += 1


def locomo_batches(data: dict[str, Any], *, source: str) -> list[Batch]:
    by_speaker: dict[str, Batch] = {}
    # A LoCoMo dialogue has two speakers: each turn is said to the other one.
    a, b = str(data["speaker_a"]), str(data["speaker_b"])
    other = {a: b, b: a}
    for turn in locomo_turns(data):
        if turn.speaker not in other:
            raise InvalidFileError(
                f"turn {turn.dia_id} is by {turn.speaker!r}, who is neither speaker_a ({a!r}) "
                f"nor speaker_b ({b!r})"
            )
        batch = by_speaker.setdefault(turn.speaker, Batch(user=turn.speaker, source=source))
        batch.messages.append(
            {
                "id": f"{source}:{turn.dia_id}",
                "content": turn.text,
                "speaker": turn.speaker,
                "occurred_at": turn.occurred_at,
                "metadata": {
                    "dia_id": turn.dia_id,
                    "session": turn.session,
                    ADDRESSEE: other[turn.speaker],
                },
            }
        )
    return list(by_speaker.values())


def json_lines(
    path: Path, text: str, *, not_json: str = "is not JSON"
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each non-blank line of a JSONL text; a line that is not a JSON
    object is an ``InvalidFileError`` naming ``path:line`` (``not_json`` says what it is not)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidFileError(f"{path}:{number} {not_json} ({exc.msg})", line=number) from exc
        if not isinstance(item, dict):
            raise InvalidFileError(f"{path}:{number} is not a JSON object", line=number)
        yield number, item


def _from_jsonl(path: Path, raw: str) -> list[Batch]:
    # Reached when the whole file was not JSON either: say so of the bad line.
    messages = [item for _, item in json_lines(path, raw, not_json="is neither JSON nor JSONL")]
    return _group(path, messages)


def _from_json(path: Path, data: Any) -> list[Batch]:
    if isinstance(data, dict) and "messages" in data:
        data = [data]
    if not isinstance(data, list):
        raise InvalidFileError(
            f"{path} is JSON but not a list of messages, a conversation, or LoCoMo data"
        )
    if all(isinstance(d, dict) and "messages" in d for d in data):
        batches = []
        for conversation in data:
            user = conversation.get("user")
            if not isinstance(user, str) or not user:
                raise InvalidFileError(f"{path}: a conversation has no 'user'")
            if not isinstance(conversation["messages"], list):
                raise InvalidFileError(f"{path}: 'messages' of {user!r} is not a list")
            batches.append(Batch(user=user, messages=list(conversation["messages"])))
        return batches
    if not all(isinstance(d, dict) for d in data):
        raise InvalidFileError(f"{path}: every message must be a JSON object")
    return _group(path, data)


def _group(path: Path, messages: list[dict[str, Any]]) -> list[Batch]:
    batches: dict[str, Batch] = {}
    for position, message in enumerate(messages):
        item = dict(message)
        user = item.pop("user", None)
        if not isinstance(user, str) or not user:
            raise InvalidFileError(f"{path}: message {position} has no 'user'", position=position)
        batches.setdefault(user, Batch(user=user)).messages.append(item)
    if not batches:
        raise InvalidFileError(f"{path} holds no messages")
    return list(batches.values())
