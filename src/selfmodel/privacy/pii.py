"""Personal data found in text, and the workspace policy applied to it before anything is stored.

Detection favours checksums and shapes over keywords, so that ordinary numbers in conversation
(dates, times, prices, distances, version numbers) are left alone:

- e-mail addresses: ``local@domain.tld``.
- payment cards: 13–19 digits, optionally grouped by spaces or dashes, that pass the Luhn check.
- IBANs: a country code, two check digits and 11–30 letters/digits that pass the ISO 13616
  mod-97 check.
- national ids: the US SSN shape ``123-45-6789`` (with the SSA's never-issued ranges excluded), the
  UK National Insurance shape ``QQ 12 34 56 C``, and — generically — any 5–20 character code
  with at least 4 digits that follows an id keyword ("passport number", "SSN", "tax id", "ID:", …).
- IP addresses: IPv4 and IPv6, validated by ``ipaddress`` (``1.2.3.4`` after "version" or "v" is
  a version number, not an address).
- phone numbers: international (``+`` or ``00`` prefix, 8–15 digits), North American
  (``(555) 123-4567``, ``555-123-4567``, ``555.123.4567``), national numbers with a trunk ``0``
  (``020 7946 0958``, ``06 12 34 56 78``; at least 9 digits so ``08.05.2023`` stays a date), and
  any 7–15 digit number right after a phone keyword ("call me at", "mobile:", "tel").
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from selfmodel.errors import PolicyViolationError


class PiiPolicy(StrEnum):
    """What a workspace does with personal data in incoming text."""

    REDACT = "redact"  # replace each value by a placeholder such as "[email]" (the default)
    KEEP = "keep"  # store as is (the findings are still reported)
    REJECT = "reject"  # refuse the input with PolicyViolationError


class PiiKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    IBAN = "iban"
    NATIONAL_ID = "national_id"
    IP = "ip"


@dataclass(frozen=True, slots=True)
class PiiFinding:
    """One piece of personal data: its kind and character span (never the value itself)."""

    kind: PiiKind
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """The text after the policy was applied, and what was found in the original."""

    text: str
    findings: list[PiiFinding]

    @property
    def kinds(self) -> list[PiiKind]:
        return sorted({finding.kind for finding in self.findings})


# When two findings overlap the more specific one wins: a card number also looks like a phone
# number, an e-mail may contain digits. Lower number = higher priority.
_PRIORITY = {
    PiiKind.EMAIL: 0,
    PiiKind.IBAN: 1,
    PiiKind.CARD: 2,
    PiiKind.NATIONAL_ID: 3,
    PiiKind.IP: 4,
    PiiKind.PHONE: 5,
}
CARD_MIN_DIGITS = 13
CARD_MAX_DIGITS = 19
IBAN_MIN_CHARS = 15  # Norway, the shortest
IBAN_MAX_CHARS = 34
PHONE_MIN_DIGITS = 8  # international: country code plus the shortest national numbers
PHONE_MAX_DIGITS = 15  # ITU-T E.164
NATIONAL_PHONE_MIN_DIGITS = 9
KEYWORD_PHONE_MIN_DIGITS = 7
NATIONAL_ID_MIN_DIGITS = 4

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
_UK_NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
_ID_KEYWORD = re.compile(
    r"\b(?:ssn|social security(?: number| no\.?)?|national (?:id|identity|insurance)(?: card)?"
    r"(?: number| no\.?)?|id (?:number|no\.?|card)|passport(?: number| no\.?)?|"
    r"driver'?s licen[cs]e(?: number| no\.?)?|tax (?:id|number)|nino|personal (?:id|number)|"
    r"social insurance number|personnummer|aadhaar|bsn|dni|nie|nif|cpf|id)\b\s*(?:is|was|:|#|=)?"
    r"\s*(?:number\s*)?"
    # One or more groups, each with a digit: "X1234567", "123 45 6789" (not the words after).
    r"(?P<value>[A-Z0-9]*\d[A-Z0-9]*(?:[ -][A-Z0-9]*\d[A-Z0-9]*)*)",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:.])"
)
_VERSION_PREFIX = re.compile(
    r"(?:\bv|\bversion\s*|\bver\.?\s*|\brelease\s*|\bbuild\s*)$", re.IGNORECASE
)
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+])(?:\+|00)\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{1,4}){1,4}(?!\d)"
)
_PHONE_NORTH_AMERICAN = re.compile(r"(?<![\w(])(?:\(\d{3}\)\s?|\d{3}[.-])\d{3}[.-]\d{4}(?![\d-])")
_PHONE_NATIONAL = re.compile(r"(?<![\w.,/-])0\d{1,4}(?:[\s.-]?\d{2,4}){1,4}(?![\w/-]|[.,]\d)")
_PHONE_KEYWORD = re.compile(
    r"\b(?:call(?: me)?(?: at| on)?|phone(?: number)?|tel(?:ephone)?|mobile|cell(?: phone)?|"
    r"text me(?: at| on)?|whatsapp|reach me(?: at| on)?|my number(?: is)?|number is)\b"
    r"[\s:.#]*(?P<value>\(?\d[\d\s().-]{5,20}\d)",
    re.IGNORECASE,
)
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


def find_pii(text: str) -> list[PiiFinding]:
    """Every piece of personal data in ``text``, in order, without overlaps."""
    candidates: list[PiiFinding] = []
    candidates += _spans(PiiKind.EMAIL, _EMAIL, text)
    candidates += _iban_findings(text)
    candidates += [f for f in _spans(PiiKind.CARD, _CARD, text) if _is_card(text[f.start : f.end])]
    candidates += _spans(PiiKind.NATIONAL_ID, _SSN, text)
    candidates += _spans(PiiKind.NATIONAL_ID, _UK_NINO, text)
    candidates += _keyword_values(PiiKind.NATIONAL_ID, _ID_KEYWORD, text, _is_national_id)
    candidates += [f for f in _spans(PiiKind.IP, _IPV4, text) if _is_ipv4(text, f)]
    candidates += [f for f in _spans(PiiKind.IP, _IPV6, text) if _is_ipv6(text[f.start : f.end])]
    candidates += [
        f
        for f in _spans(PiiKind.PHONE, _PHONE_INTERNATIONAL, text)
        if PHONE_MIN_DIGITS <= _digit_count(text[f.start : f.end]) <= PHONE_MAX_DIGITS
    ]
    candidates += _spans(PiiKind.PHONE, _PHONE_NORTH_AMERICAN, text)
    candidates += [
        f
        for f in _spans(PiiKind.PHONE, _PHONE_NATIONAL, text)
        if NATIONAL_PHONE_MIN_DIGITS <= _digit_count(text[f.start : f.end]) <= PHONE_MAX_DIGITS
        and not _DATE_LIKE.match(text[f.start : f.end])
    ]
    candidates += _keyword_values(PiiKind.PHONE, _PHONE_KEYWORD, text, _is_keyword_phone)
    return _without_overlaps(candidates)


def apply_policy(text: str, policy: PiiPolicy | str) -> RedactionResult:
    """Apply ``policy`` to ``text``.

    Raises:
        PolicyViolationError: the policy is ``reject`` and the text contains personal data. The
            message names the kinds found, never the values.
    """
    policy = PiiPolicy(policy)
    findings = find_pii(text)
    if not findings or policy is PiiPolicy.KEEP:
        return RedactionResult(text=text, findings=findings)
    if policy is PiiPolicy.REJECT:
        kinds = sorted({finding.kind.value for finding in findings})
        raise PolicyViolationError(
            f"the text contains personal data ({', '.join(kinds)}) and the workspace policy "
            "is 'reject'",
            kinds=kinds,
        )
    return RedactionResult(text=redact(text, findings), findings=findings)


def redact(text: str, findings: list[PiiFinding]) -> str:
    """``text`` with each finding replaced by its placeholder, e.g. ``[email]``."""
    pieces: list[str] = []
    cursor = 0
    for finding in sorted(findings, key=lambda f: f.start):
        pieces.append(text[cursor : finding.start])
        pieces.append(f"[{finding.kind.value}]")
        cursor = finding.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by payment card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """The ISO 13616 mod-97 check: move the first four characters to the end, letters to
    numbers (A=10 … Z=35), and the remainder by 97 must be 1."""
    compact = candidate.replace(" ", "").upper()
    if not IBAN_MIN_CHARS <= len(compact) <= IBAN_MAX_CHARS or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(char, 36)) for char in rearranged)
    return int(numeric) % 97 == 1


def _spans(kind: PiiKind, pattern: re.Pattern[str], text: str) -> list[PiiFinding]:
    return [PiiFinding(kind, m.start(), m.end()) for m in pattern.finditer(text)]


def _keyword_values(
    kind: PiiKind, pattern: re.Pattern[str], text: str, accept: Callable[[str], bool]
) -> list[PiiFinding]:
    findings = []
    for match in pattern.finditer(text):
        value = match.group("value").rstrip(" -.")
        if accept(value):
            start = match.start("value")
            findings.append(PiiFinding(kind, start, start + len(value)))
    return findings


def _digit_count(value: str) -> int:
    return sum(char.isdigit() for char in value)


def _is_card(value: str) -> bool:
    digits = re.sub(r"[ -]", "", value)
    if not CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS or len(set(digits)) == 1:
        return False
    return luhn_valid(digits)


def _iban_findings(text: str) -> list[PiiFinding]:
    findings = []
    for match in _IBAN.finditer(text):
        # The pattern may run into the next word group ("... 0130 00 ABC"): try the longest
        # prefix ending at a group boundary that passes the checksum.
        value = match.group(0)
        ends = [len(value)] + [i for i in range(len(value) - 1, 0, -1) if value[i] == " "]
        for end in ends:
            if iban_valid(value[:end]):
                findings.append(PiiFinding(PiiKind.IBAN, match.start(), match.start() + end))
                break
    return findings


def _is_national_id(value: str) -> bool:
    digits = _digit_count(value)
    is_year = digits == len(value) == 4  # "passport renewed in 2019"
    return digits >= NATIONAL_ID_MIN_DIGITS and not is_year and not _DATE_LIKE.match(value)


def _is_keyword_phone(value: str) -> bool:
    return KEYWORD_PHONE_MIN_DIGITS <= _digit_count(value) <= PHONE_MAX_DIGITS


def _is_ipv4(text: str, finding: PiiFinding) -> bool:
    value = text[finding.start : finding.end]
    if _VERSION_PREFIX.search(text[max(0, finding.start - 10) : finding.start]):
        return False
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _is_ipv6(value: str) -> bool:
    if value.count(":") < 2 or sum(char.isalnum() for char in value) < 2:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _without_overlaps(candidates: list[PiiFinding]) -> list[PiiFinding]:
    chosen: list[PiiFinding] = []
    ranked = sorted(candidates, key=lambda f: (_PRIORITY[f.kind], -(f.end - f.start), f.start))
    for finding in ranked:
        if all(finding.end <= kept.start or finding.start >= kept.end for kept in chosen):
            chosen.append(finding)
    return sorted(chosen, key=lambda f: f.start)
