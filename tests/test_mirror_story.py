"""What the Mirror says about one belief and what it asks: confidence in words, the history as
a story dated by when things happened, origin labels, stale plans and check-ins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from selfmodel import SelfModel
from selfmodel.mirror import questions, story, views

NOW = datetime.now(UTC)


def observe(sm: SelfModel, user: str, text: str, days_ago: int) -> None:
    at = NOW - timedelta(days=days_ago)
    sm.observe(user, {"content": text, "occurred_at": at, "speaker": "Ada"})


def detail_of(sm: SelfModel, user: str, ending: str):
    (belief,) = [b for b in sm.beliefs(user, status=None) if b.statement.endswith(ending)]
    return sm.belief(belief.id)


def test_confidence_is_explained_from_the_occasions_and_the_origin(sm: SelfModel) -> None:
    for days in (90, 60, 30, 10):
        observe(sm, "ada", "I love pottery.", days)
    detail = detail_of(sm, "ada", "loves pottery")
    first = (NOW - timedelta(days=90)).strftime("%B %Y")
    lines = story.explained(detail)
    assert lines[0] == (
        f"We've heard this on 4 occasions since {first};"
        " you said it about yourself but haven't confirmed it."
    )
    assert lines[1].startswith(f"{round(detail.belief.confidence * 100)}% sure.")
    assert "half as much after a year" in lines[2]
    sm.confirm(detail.belief.id)
    confirmed = story.explained(sm.belief(detail.belief.id))
    assert confirmed[0].endswith(f"you confirmed it on {NOW:%-d %B %Y}.")
    assert confirmed[1].startswith("98% sure")


def test_one_statement_is_heard_once_on_its_day(sm: SelfModel) -> None:
    observe(sm, "ada", "I collect old maps.", 12)
    detail = detail_of(sm, "ada", "old maps")
    said = NOW - timedelta(days=12)
    assert story.heard(detail) == f"We've heard this once, on {said:%-d %B %Y}"


def test_the_story_is_dated_by_when_it_was_said_and_names_the_person_once(sm: SelfModel) -> None:
    observe(sm, "ada", "I love pottery.", 40)
    observe(sm, "ada", "I love pottery.", 20)
    detail = detail_of(sm, "ada", "loves pottery")
    sm.confirm(detail.belief.id)
    chapters = story.chapters(sm.belief(detail.belief.id), ("Ada",))
    assert [c.happened.date() for c in chapters] == [
        (NOW - timedelta(days=40)).date(),
        (NOW - timedelta(days=20)).date(),
        NOW.date(),
    ]
    assert chapters[0].sentence.startswith("You said it in a conversation, and we started")
    assert chapters[0].quote == "I love pottery."
    assert chapters[0].late  # recorded today, said forty days ago
    assert chapters[1].sentence.startswith("You said it again in a conversation")
    assert chapters[2].sentence == "You confirmed it."
    # The timeline says who acted once: never "You confirmed … by you".
    events = views.timeline([sm.belief(detail.belief.id)], ("Ada",))
    confirmed = next(e for e in events if e.verb == "You confirmed")
    assert "by you" not in confirmed.cause
    assert events[0].at >= events[-1].at  # newest first, by when it happened


def test_origin_labels_say_who_stands_behind_a_belief(sm: SelfModel) -> None:
    observe(sm, "ada", "I love pottery.", 5)
    stated = detail_of(sm, "ada", "loves pottery")
    assert views.origin_label(stated) == "You said so"
    card = sm.push_cards("ada", ["Ada feels most creative at night"])[0]
    sm.answer_cards("ada", {card.id: True})
    picked = detail_of(sm, "ada", "most creative at night")
    assert views.origin_label(picked) == "You picked this"
    sm.confirm(stated.belief.id)
    assert views.origin_label(sm.belief(stated.belief.id)) == "You confirmed this"


def test_a_plan_whose_date_has_passed_is_asked_about(sm: SelfModel) -> None:
    observe(sm, "ada", "I'm running a half marathon next week.", 40)
    observe(sm, "ada", "I'm going to Japan next month.", 2)
    details = [sm.belief(b.id) for b in sm.beliefs("ada")]
    (stale,) = questions.stale_plans(details, ("Ada",), NOW)
    assert "half marathon" in stale.statement
    assert stale.text.endswith("— that date has passed. Did it happen, or is it still on?")


def test_plan_dates_are_read_to_the_end_of_the_period_they_name() -> None:
    assert questions.plan_ends("Ada is going to Japan in June 2026") == date(2026, 6, 30)
    assert questions.plan_ends("Ada runs on 3 May 2026") == date(2026, 5, 3)
    assert questions.plan_ends("Ada moves in the week of 26 June 2023") == date(2023, 7, 2)
    assert questions.plan_ends("Ada hikes in summer 2025") == date(2025, 8, 31)
    assert questions.plan_ends("Ada retires in 2031") == date(2031, 12, 31)
    assert questions.plan_ends("Ada wants to learn Portuguese") is None


def test_check_ins_ask_about_what_the_model_is_unsure_of_and_not_the_persons_own_word(
    sm: SelfModel,
) -> None:
    for days in (90, 70, 50, 30, 20, 10):
        observe(sm, "ada", "I love pottery.", days)
    observe(sm, "ada", "I collect old maps.", 12)
    observe(sm, "ada", "I speak a bit of Spanish.", 8)
    details = [sm.belief(b.id) for b in sm.beliefs("ada")]
    asked = questions.check_ins(details, ("Ada",), NOW, asked=set())
    statements = [c.statement for c in asked]
    assert "You collect old maps" in statements
    assert not any("pottery" in s for s in statements)  # heard on six days: settled
    maps = next(c for c in asked if c.statement == "You collect old maps")
    assert maps.reason == "We've heard it on only 1 occasion."
    # Answered once, or confirmed, it is not asked again.
    sm.check_in("ada", maps.belief_id, holds=True)
    spanish = next(d for d in details if "Spanish" in d.belief.statement)
    sm.confirm(spanish.belief.id)
    again = questions.check_ins(
        [sm.belief(b.id) for b in sm.beliefs("ada")], ("Ada",), NOW, asked=set()
    )
    assert {c.belief_id for c in again}.isdisjoint({maps.belief_id, spanish.belief.id})


def test_a_belief_said_on_many_days_tells_its_repeats_once(sm: SelfModel) -> None:
    days = (90, 80, 70, 60, 50, 40)
    for d in days:
        observe(sm, "ada", "I collect old maps.", d)
    detail = detail_of(sm, "ada", "old maps")
    told = story.chapters(detail, ("Ada",))
    assert [c.type.value for c in told] == ["created", "reinforced"]
    again = told[1]
    first_repeat = NOW - timedelta(days=80)
    assert again.sentence == (
        f"It came up again on 5 more days, from {first_repeat:%-d %B %Y}"
        f" ({round(detail.belief.confidence * 100)}%)."
    )
    assert again.happened.date() == (NOW - timedelta(days=40)).date()
    # Two repeats are still told one by one.
    observe(sm, "bo", "I collect old maps.", 30)
    observe(sm, "bo", "I collect old maps.", 20)
    observe(sm, "bo", "I collect old maps.", 10)
    few = story.chapters(detail_of(sm, "bo", "old maps"), ("Bo",))
    assert [c.sentence.split(" ")[0] for c in few] == ["You", "You", "You"]
