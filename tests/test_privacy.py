"""PII detection and the redact / keep / reject policy, on realistic messy text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfmodel.errors import PolicyViolationError
from selfmodel.privacy import PiiKind, PiiPolicy, apply_policy, find_pii
from selfmodel.privacy.pii import iban_valid, luhn_valid


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind.value, text[f.start : f.end]) for f in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("ping me at jane.doe+work@example.co.uk!!", "email", "jane.doe+work@example.co.uk"),
        ("MY EMAIL: JANE@EXAMPLE.COM", "email", "JANE@EXAMPLE.COM"),
        ("card is 4111 1111 1111 1111, exp 12/25", "card", "4111 1111 1111 1111"),
        ("amex 3782-822463-10005 pls", "card", "3782-822463-10005"),
        ("num 5555555555554444.", "card", "5555555555554444"),
        ("IBAN: DE89 3704 0044 0532 0130 00 thanks", "iban", "DE89 3704 0044 0532 0130 00"),
        ("send it to GB82WEST12345698765432 asap", "iban", "GB82WEST12345698765432"),
        ("my SSN is 123-45-6789", "national_id", "123-45-6789"),
        ("NI number AB 12 34 56 C", "national_id", "AB 12 34 56 C"),
        ("passport number: X1234567 expires soon", "national_id", "X1234567"),
        ("ID: 84736251", "national_id", "84736251"),
        ("the box is at 192.168.1.20 now", "ip", "192.168.1.20"),
        ("ipv6 2001:db8::8a2e:370:7334 is up", "ip", "2001:db8::8a2e:370:7334"),
        ("or ::ffff:192.0.2.1", "ip", "::ffff:192.0.2.1"),
        ("call me at +44 20 7946 0958 after 6", "phone", "+44 20 7946 0958"),
        ("my cell is (555) 123-4567", "phone", "(555) 123-4567"),
        ("ring 555.123.4567 tmrw", "phone", "555.123.4567"),
        ("landline 020 7946 0958", "phone", "020 7946 0958"),
        ("mon portable 06 12 34 56 78", "phone", "06 12 34 56 78"),
        ("from abroad dial 0049 30 1234567", "phone", "0049 30 1234567"),
        ("text me on 5551234", "phone", "5551234"),
    ],
)
def test_personal_data_is_found_with_its_kind_and_exact_span(
    text: str, kind: str, value: str
) -> None:
    assert found(text) == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "I ran 10 km in 45 minutes",
        "we met on 2023-05-08 at 10:30",
        "it was 08.05.2023 I think",
        "dinner for two cost $1,200 lol",
        "upgraded to python 3.11.7 and v1.2.3.4 of the lib",
        "version 10.0.19041.1 broke my laptop",
        "scores were 100 200 300 4000",
        "in 2019, 2020 and 2021 we moved",
        "order #123456789 arrived",
        "call at 14:30:00 tomorrow",
        "I have 1 000 000 reasons",
        "ISBN 978-3-16-148410-0",
        "my id expired in 2019",
        "pi is 3.14159 and e is 2.71828",
        "card 4111-1111-1111-1112 (fails Luhn)",
        "IBAN GB82 WEST 1234 5698 7654 33 (bad check digits)",
    ],
)
def test_ordinary_numbers_are_not_personal_data(text: str) -> None:
    assert found(text) == []


def test_messy_message_with_many_kinds_is_fully_redacted() -> None:
    text = (
        "hey!! new contact info: jon.b@mail.com / +1 415-555-2671 (mobile), "
        "card 4012 8888 8888 1881 for the deposit, iban NL91ABNA0417164300. "
        "Met at 10:30 on 2023-05-08, paid $1,200."
    )
    result = apply_policy(text, PiiPolicy.REDACT)
    assert result.text == (
        "hey!! new contact info: [email] / [phone] (mobile), "
        "card [card] for the deposit, iban [iban]. "
        "Met at 10:30 on 2023-05-08, paid $1,200."
    )
    assert result.kinds == [PiiKind.CARD, PiiKind.EMAIL, PiiKind.IBAN, PiiKind.PHONE]


def test_keep_policy_leaves_text_but_reports_findings() -> None:
    text = "write to ana@example.org"
    result = apply_policy(text, PiiPolicy.KEEP)
    assert result.text == text
    assert [f.kind for f in result.findings] == [PiiKind.EMAIL]


def test_reject_policy_names_the_kinds_but_never_the_values() -> None:
    text = "my SSN is 123-45-6789 and mail is ana@example.org"
    with pytest.raises(PolicyViolationError) as raised:
        apply_policy(text, "reject")
    message = raised.value.message
    assert "email" in message and "national_id" in message
    assert "123-45-6789" not in message and "ana@example.org" not in message
    assert raised.value.details == {"kinds": ["email", "national_id"]}


def test_reject_policy_accepts_text_without_personal_data() -> None:
    assert apply_policy("I ran 10 km today", PiiPolicy.REJECT).text == "I ran 10 km today"


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError):
        apply_policy("hi", "shred")


def test_checksums() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid(
        "GB82 WEST 1234 5698 7654 33"
    )


# --- properties -------------------------------------------------------------------------------

_filler = st.text(alphabet="abcdefghij klmnop,!?", max_size=30)


def _with_luhn_check_digit(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always works")


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    length = draw(st.integers(min_value=13, max_value=19))
    body = draw(st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1))
    number = _with_luhn_check_digit(draw(st.sampled_from("23456")) + body[1:])
    separator = draw(st.sampled_from(["", " ", "-"]))
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


@given(before=_filler, number=card_numbers(), after=_filler)
def test_luhn_valid_card_numbers_are_always_caught(before: str, number: str, after: str) -> None:
    text = f"{before} {number} {after}"
    result = apply_policy(text, PiiPolicy.REDACT)
    assert number not in result.text
    assert any(f.kind is PiiKind.CARD for f in result.findings)


@given(
    before=_filler,
    local=st.from_regex(r"[a-z][a-z0-9._]{0,15}[a-z0-9]", fullmatch=True),
    domain=st.from_regex(r"[a-z]{2,12}\.(com|org|de|co\.uk)", fullmatch=True),
    after=_filler,
)
def test_redacted_text_never_contains_the_email(
    before: str, local: str, domain: str, after: str
) -> None:
    email = f"{local}@{domain}"
    result = apply_policy(f"{before} {email} {after}", PiiPolicy.REDACT)
    assert email not in result.text
    assert "[email]" in result.text


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz .,!?'", max_size=200))
def test_text_without_digits_or_at_signs_is_left_unchanged(text: str) -> None:
    assert apply_policy(text, PiiPolicy.REDACT).text == text


@given(
    year=st.integers(min_value=1900, max_value=2099),
    month=st.integers(min_value=1, max_value=12),
    day=st.integers(min_value=1, max_value=28),
    hour=st.integers(min_value=0, max_value=23),
    minute=st.integers(min_value=0, max_value=59),
    amount=st.integers(min_value=0, max_value=99_999),
)
def test_dates_times_and_prices_are_never_personal_data(
    year: int, month: int, day: int, hour: int, minute: int, amount: int
) -> None:
    text = (
        f"On {year}-{month:02d}-{day:02d} ({day:02d}.{month:02d}.{year}, {month}/{day}/{year}) "
        f"at {hour:02d}:{minute:02d} I paid ${amount:,} for {amount % 100} km."
    )
    assert find_pii(text) == []
