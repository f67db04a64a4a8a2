"""Getting conversations in: message validation and file formats (JSON, JSONL, LoCoMo)."""

from selfmodel.ingest.messages import Message, MessagesInput, parse_messages

__all__ = ["Message", "MessagesInput", "parse_messages"]
