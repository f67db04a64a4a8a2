"""What callers may pass to ``observe``, validated before anything is stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from selfmodel.domain.messages import MAX_EXTERNAL_ID_CHARS, Message, MessagesInput
from selfmodel.errors import InvalidInputError, PayloadTooLargeError, validation_message

__all__ = ["MAX_EXTERNAL_ID_CHARS", "Message", "MessagesInput", "parse_messages"]


def first_problem(exc: ValidationError, *, whole: str) -> tuple[str, str]:
    """The field (dotted, or ``whole`` when it is the item itself) and message of the first
    thing pydantic refused: what an error naming one line or one message should say."""
    error = exc.errors()[0]
    return ".".join(str(part) for part in error["loc"]) or whole, validation_message(error)


def parse_messages(messages: MessagesInput, *, max_chars: int, max_batch: int) -> list[Message]:
    """Validate ``messages`` into ``Message`` objects, or raise a clear ``InvalidInputError``."""
    if isinstance(messages, (str, Message, Mapping)):
        raw: Sequence[Any] = [messages]
    elif isinstance(messages, Sequence):
        raw = messages
    else:
        raise InvalidInputError(
            f"messages must be a string, a mapping or a list of them, not {type(messages).__name__}"
        )
    if not raw:
        raise InvalidInputError("no messages given")
    if len(raw) > max_batch:
        raise PayloadTooLargeError(
            f"{len(raw)} messages in one call; the limit is {max_batch}", limit=max_batch
        )
    parsed: list[Message] = []
    for position, item in enumerate(raw):
        parsed.append(_parse_one(item, position, max_chars))
    return parsed


def _parse_one(item: Any, position: int, max_chars: int) -> Message:
    where = f"message {position}"
    if isinstance(item, Message):
        message = item
    elif isinstance(item, (str, Mapping)):
        message = _validated(item, where, position)
    else:
        raise InvalidInputError(f"{where} is a {type(item).__name__}, not a message")
    if not message.content.strip():
        raise InvalidInputError(f"{where} is empty", position=position)
    if len(message.content) > max_chars:
        raise PayloadTooLargeError(
            f"{where} has {len(message.content)} characters; the limit is {max_chars}",
            position=position,
            limit=max_chars,
        )
    return message


def _validated(item: str | Mapping[str, Any], where: str, position: int) -> Message:
    data = {"content": item} if isinstance(item, str) else dict(item)
    if "content" not in data and "text" in data:
        data["content"] = data.pop("text")
    try:
        return Message.model_validate(data)
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"{where}: {exc.message}", position=position, **exc.details
        ) from exc
    except ValidationError as exc:
        loc, problem = first_problem(exc, whole="message")
        raise InvalidInputError(f"{where}: {loc}: {problem}", position=position, field=loc) from exc
