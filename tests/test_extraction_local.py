"""The local extractor on real conversational text: statements, dates, hedges, negations, kinds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from selfmodel.domain import BeliefKind, BeliefOrigin, Observation, Role
from selfmodel.extraction.base import CandidateBelief, ExtractionRequest
from selfmodel.extraction.clauses import addressee
from selfmodel.extraction.dates import find_relative_dates, rewrite_relative_dates
from selfmodel.extraction.grammar import (
    address_by_name,
    third_person_singular,
    to_third_person,
    verb_from_gerund,
)
from selfmodel.extraction.local import LocalExtractor, split_sentences
from selfmodel.extraction.rules import MILD_HEDGE_STRENGTH, STRONG_HEDGE_STRENGTH

MONDAY_3_JULY = datetime(2023, 7, 3, 14, 30, tzinfo=UTC)


def observe(
    text: str, *, at: datetime = MONDAY_3_JULY, role: Role = Role.USER, obs_id: str = "obs_1"
) -> Observation:
    return Observation(
        id=obs_id,
        workspace_id="ws_1",
        user_id="usr_1",
        content=text,
        occurred_at=at,
        recorded_at=at,
        role=role,
    )


def extract(text: str, *, subject: str = "Melanie", **kwargs: object) -> list[CandidateBelief]:
    observation = observe(text, **kwargs)  # type: ignore[arg-type]
    return LocalExtractor().extract([ExtractionRequest(observation=observation, subject=subject)])


def only(text: str, **kwargs: object) -> CandidateBelief:
    candidates = extract(text, **kwargs)
    assert len(candidates) == 1, candidates
    return candidates[0]


# --- statements about the named subject ----------------------------------------------------------


def test_first_person_statement_is_rewritten_about_the_speaker_with_the_resolved_week() -> None:
    belief = only("I started pottery last week")
    assert belief.statement == "Melanie started pottery in the week of 26 June 2023"
    assert belief.kind is BeliefKind.EXPERIENCE
    assert belief.valid_from == datetime(2023, 6, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("said", "statement"),
    [
        ("I love hiking with my husband.", "Melanie loves hiking with Melanie's husband"),
        ("I am a nurse.", "Melanie is a nurse"),
        ("I'm training for a marathon.", "Melanie is training for a marathon"),
        ("I have two kids and a dog.", "Melanie has two kids and a dog"),
        ("I don't eat gluten.", "Melanie doesn't eat gluten"),
        ("I usually go for a run every morning.", "Melanie usually goes for a run every morning"),
        ("I've been to Japan twice.", "Melanie has been to Japan twice"),
        ("I'll finish my thesis soon.", "Melanie will finish Melanie's thesis soon"),
        ("I'd love to learn the cello.", "Melanie would love to learn the cello"),
        ("My husband and I love camping.", "Melanie's husband and Melanie love camping"),
        ("That book changed my life.", "That book changed Melanie's life"),
        ("i live in Berlin with my partner", "Melanie lives in Berlin with Melanie's partner"),
    ],
)
def test_verbs_agree_with_the_named_subject(said: str, statement: str) -> None:
    assert only(said).statement == statement


def test_we_becomes_the_speaker_and_family_when_family_is_mentioned() -> None:
    belief = only("We took the kids to the zoo.")
    assert belief.statement == "Melanie and family took the kids to the zoo"


def test_we_becomes_the_speaker_and_others_otherwise() -> None:
    belief = only("We launched the new product at work.")
    assert belief.statement == "Melanie and others launched the new product at work"


def test_subjectless_sentences_that_describe_the_speaker_get_the_speaker_as_subject() -> None:
    assert only("Just got back from a charity race!").statement == (
        "Melanie just got back from a charity race"
    )
    assert only("Went camping with the kids last weekend").statement == (
        "Melanie went camping with the kids on the weekend of 1 July 2023"
    )
    assert only("Gonna start a pottery class in September.").statement == (
        "Melanie is going to start a pottery class in September 2023"
    )


def test_each_candidate_cites_the_observation_and_the_exact_sentence_span() -> None:
    text = "Hey Caroline! I'm swamped with the kids & work. What's up with you?"
    candidates = extract(text)
    assert len(candidates) == 1
    belief = candidates[0]
    assert belief.observation_id == "obs_1"
    assert belief.span_start is not None and belief.span_end is not None
    assert text[belief.span_start : belief.span_end] == belief.quote
    assert belief.quote == "I'm swamped with the kids & work."
    assert belief.statement == "Melanie is swamped with the kids & work"
    assert belief.kind is BeliefKind.STATE


def test_curly_apostrophes_are_understood_and_the_quote_keeps_the_original_text() -> None:
    belief = only("I\u2019m a vegetarian.")
    assert belief.statement == "Melanie is a vegetarian"
    assert belief.quote == "I\u2019m a vegetarian."


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("I went to a support group yesterday.", "on 2 July 2023"),
        ("I ran a charity race last Saturday.", "on 1 July 2023"),
        ("I moved here two weeks ago.", "in the week of 19 June 2023"),
        ("I painted that lake last year.", "in 2022"),
        ("We went to Spain last summer.", "in summer 2022"),
        ("I got my license in May.", "in May 2023"),
        ("I adopted a cat a few days ago.", "around 30 June 2023"),
        ("I have been vegan since last year.", "since 2022"),
    ],
)
def test_relative_dates_in_the_past_become_absolute(said: str, expected: str) -> None:
    belief = only(said)
    assert expected in belief.statement
    assert belief.valid_from is not None and belief.valid_from <= MONDAY_3_JULY


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("I'm going camping next month.", "in August 2023"),
        ("I'll visit my parents this weekend.", "on the weekend of 8 July 2023"),
        ("I'm flying to Lisbon on Friday.", "on 7 July 2023"),
        ("I'm starting a new job tomorrow.", "on 4 July 2023"),
        ("We're going to Paris in May.", "in May 2024"),
    ],
)
def test_relative_dates_in_plans_resolve_to_the_future(said: str, expected: str) -> None:
    belief = only(said)
    assert expected in belief.statement
    assert belief.kind is BeliefKind.PLAN
    assert belief.valid_from is None  # a plan is not yet true


def test_last_weekday_said_on_that_weekday_means_a_week_earlier() -> None:
    friday = datetime(2023, 7, 7, 9, tzinfo=UTC)
    mentions = find_relative_dates("I called her last Friday", friday, prefer_future=False)
    assert [m.period_start.isoformat() for m in mentions] == ["2023-06-30"]


def test_winter_spans_the_new_year() -> None:
    january = datetime(2024, 1, 15, tzinfo=UTC)
    text = "we went skiing this winter"
    mentions = find_relative_dates(text, january, prefer_future=False)
    assert rewrite_relative_dates(text, mentions) == "we went skiing in winter 2023/24"


def test_a_modal_may_is_not_a_month() -> None:
    assert find_relative_dates("I may join a choir", MONDAY_3_JULY, prefer_future=False) == []


# --- hedges, negations, changes ----------------------------------------------------------------


def test_hedged_plan_has_lower_strength_and_a_clean_statement() -> None:
    belief = only("I think I'll start running next month.")
    assert belief.statement == "Melanie will start running in August 2023"
    assert belief.strength == MILD_HEDGE_STRENGTH
    assert belief.origin is BeliefOrigin.INFERRED


def test_maybe_is_a_stronger_hedge_than_i_think() -> None:
    maybe = only("Maybe I'll try pottery.")
    assert maybe.statement == "Melanie will try pottery"
    assert maybe.strength == STRONG_HEDGE_STRENGTH < MILD_HEDGE_STRENGTH


def test_an_opinion_introduced_by_i_think_is_not_a_hedge() -> None:
    belief = only("I think remote work is overrated.")
    assert belief.statement == "Melanie thinks remote work is overrated"
    assert belief.kind is BeliefKind.OPINION
    assert belief.strength == 1.0


@pytest.mark.parametrize(
    ("said", "statement", "contradicts"),
    [
        ("I quit smoking.", "Melanie quit smoking", "Melanie smokes"),
        ("I no longer eat meat.", "Melanie no longer eats meat", "Melanie eats meat"),
        (
            "I don't drink coffee anymore.",
            "Melanie doesn't drink coffee anymore",
            "Melanie drinks coffee",
        ),
        (
            "I'm not into hiking any more.",
            "Melanie is not into hiking any more",
            "Melanie is into hiking",
        ),
        (
            "I stopped running after my knee surgery.",
            "Melanie stopped running after Melanie's knee surgery",
            "Melanie runs after Melanie's knee surgery",
        ),
        (
            "I used to play the violin.",
            "Melanie used to play the violin",
            "Melanie plays the violin",
        ),
        ("I gave up dancing, sadly.", "Melanie gave up dancing, sadly", "Melanie dances"),
    ],
)
def test_negations_and_changes_name_the_affirmative_claim_they_contradict(
    said: str, statement: str, contradicts: str
) -> None:
    belief = only(said)
    assert belief.statement == statement
    assert belief.contradicts == contradicts


def test_plain_statements_contradict_nothing() -> None:
    assert only("I eat meat most days.").contradicts is None


def test_i_dont_know_is_not_a_contradiction_signal() -> None:
    assert extract("I don't know.") == []


# --- what produces nothing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "said",
    [
        "Hey!",
        "Hey Mel! Good to see you!",
        "How are you?",
        "What are you up to this weekend?",
        "That's awesome!",
        "Thanks so much!",
        "Thank you, Caroline!",
        "I love it!",
        "I'm so glad to hear that.",
        "You'd be a great counselor!",
        "Wow, love that painting! So cool you found such a helpful group.",
        "Let's keep going!",
        "Haha 😂",
        "",
    ],
)
def test_questions_greetings_thanks_and_small_talk_produce_nothing(said: str) -> None:
    assert extract(said) == []


def test_assistant_and_system_messages_are_not_evidence_about_the_user() -> None:
    assert extract("I love hiking.", role=Role.ASSISTANT) == []
    assert extract("I love hiking.", role=Role.SYSTEM) == []


def test_a_question_after_a_statement_keeps_only_the_statement() -> None:
    candidates = extract("I adopted a puppy yesterday! Do you have any pets?")
    assert [c.statement for c in candidates] == ["Melanie adopted a puppy on 2 July 2023"]


# --- kinds and origin ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("I love Thai food.", BeliefKind.PREFERENCE),
        ("I want to run a marathon one day.", BeliefKind.GOAL),
        ("I'm planning to repaint the kitchen.", BeliefKind.PLAN),
        ("I visited my grandmother in Lyon.", BeliefKind.EXPERIENCE),
        ("I work as a data engineer at a bank.", BeliefKind.EXPERTISE),
        ("Honesty is really important to me.", BeliefKind.VALUE),
        ("I believe that public transport should be free.", BeliefKind.OPINION),
        ("I identify as nonbinary.", BeliefKind.IDENTITY),
        ("My husband is a firefighter.", BeliefKind.RELATIONSHIP),
        ("I meditate every morning.", BeliefKind.HABIT),
        ("I'm exhausted after this week.", BeliefKind.STATE),
        ("I live in Porto.", BeliefKind.FACT),
    ],
)
def test_kind_is_assigned_from_cue_words(said: str, kind: BeliefKind) -> None:
    assert only(said).kind is kind


def test_explicit_self_descriptions_are_stated_and_events_are_inferred() -> None:
    assert only("I love Thai food.").origin is BeliefOrigin.STATED
    assert only("I am a single mom.").origin is BeliefOrigin.STATED
    assert only("I went to a concert on Friday.").origin is BeliefOrigin.INFERRED
    assert only("The support group made me feel accepted.").origin is BeliefOrigin.INFERRED


# --- the parts ---------------------------------------------------------------------------------


def test_sentence_spans_skip_abbreviations_and_whitespace() -> None:
    text = "  I saw Dr. Smith today.\nIt went well!  "
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == ["I saw Dr. Smith today.", "It went well!"]
    assert all(text[s.start : s.end] == s.text for s in sentences)


@pytest.mark.parametrize(
    ("verb", "third"),
    [("go", "goes"), ("watch", "watches"), ("study", "studies"), ("play", "plays"),
     ("have", "has"), ("don't", "doesn't"), ("went", "went"), ("can", "can"), ("quit", "quit")],
)  # fmt: skip
def test_third_person_singular(verb: str, third: str) -> None:
    assert third_person_singular(verb) == third


@pytest.mark.parametrize(
    ("gerund", "verb"),
    [("smoking", "smoke"), ("running", "run"), ("eating", "eat"), ("dancing", "dance"),
     ("writing", "write"), ("visiting", "visit"), ("calling", "call"), ("hiking", "hike"),
     ("drinking", "drink"), ("meditating", "meditate"), ("driving", "drive")],
)  # fmt: skip
def test_verb_from_gerund(gerund: str, verb: str) -> None:
    assert verb_from_gerund(gerund) == verb


def test_me_inside_a_compound_word_is_left_alone() -> None:
    assert to_third_person("I need some me-time", "Jon") == "Jon needs some me-time"


def test_a_named_companion_takes_a_plural_verb_but_a_second_clause_does_not() -> None:
    assert to_third_person("Jon and I love salsa", "Gina") == "Jon and Gina love salsa"
    assert to_third_person("I moved in June and I love it", "Gina") == (
        "Gina moved in June and Gina loves it"
    )


def test_adverbs_between_subject_and_verb_do_not_hide_the_past_tense() -> None:
    belief = only("I just signed up for a pottery class yesterday.")
    assert belief.statement == "Melanie just signed up for a pottery class on 2 July 2023"
    assert belief.kind is BeliefKind.EXPERIENCE


# --- clauses, the listener, gerund subjects ----------------------------------------------------


def test_coordinated_first_person_clauses_become_separate_candidates_with_their_own_spans() -> None:
    text = "I study chemistry and I teach on weekends."
    candidates = extract(text)
    assert [c.statement for c in candidates] == [
        "Melanie studies chemistry",
        "Melanie teaches on weekends",
    ]
    assert [c.quote for c in candidates] == ["I study chemistry", "I teach on weekends."]
    assert all(text[c.span_start : c.span_end] == c.quote for c in candidates)  # type: ignore[misc]


def test_a_clause_with_nothing_to_say_on_its_own_stays_with_its_sentence() -> None:
    assert only("I joined a choir last week and I love it.").statement == (
        "Melanie joined a choir in the week of 26 June 2023 and Melanie loves it"
    )


def test_a_shared_subject_is_not_split_into_clauses() -> None:
    assert only("My sister and I opened a bakery.").statement == (
        "Melanie's sister and Melanie opened a bakery"
    )


def test_a_remark_to_the_listener_does_not_hide_the_speakers_own_clause() -> None:
    text = "You worked so hard on it, and I finally booked my flight to Oslo."
    belief = only(text)
    assert belief.statement == "Melanie finally booked Melanie's flight to Oslo"
    assert belief.quote == "I finally booked my flight to Oslo."


def test_thanks_before_news_keeps_the_news() -> None:
    belief = only("Thanks, I started a new job last week!")
    assert belief.statement == "Melanie started a new job in the week of 26 June 2023"


def test_you_becomes_the_listener_when_the_message_names_them() -> None:
    belief = only("Thanks, Priya! I'm so proud of you for finishing the course.")
    assert belief.statement == "Melanie is so proud of Priya for finishing the course"


def test_a_clause_with_an_unnamed_you_produces_nothing() -> None:
    assert extract("I'm so proud of you for finishing the course.") == []


def test_the_listeners_name_is_not_left_in_the_statement_as_a_vocative() -> None:
    belief = only("Yep Priya, I finished my first half marathon.")
    assert belief.statement == "Melanie finished Melanie's first half marathon"


def test_addressee_is_found_after_greetings_and_at_the_end_of_a_sentence() -> None:
    assert addressee("Hey Tom! Long time no see.", "Melanie") == "Tom"
    assert addressee("That looks great, Tom!", "Melanie") == "Tom"
    assert addressee("I went to Paris, Friday was lovely.", "Melanie") is None
    assert addressee("Thanks, Melanie!", "Melanie") is None  # the speaker is not the listener


def test_second_person_is_rewritten_with_verbs_agreeing() -> None:
    assert address_by_name("I know you're busy and your dog was ill", "Tom") == (
        "I know Tom is busy and Tom's dog was ill"
    )
    assert address_by_name("I hope you are well", "Tom") == "I hope Tom is well"


@pytest.mark.parametrize(
    ("said", "statement"),
    [
        (
            "Cycling sounds like a fine way to see the coast, and I love it.",
            "Cycling sounds like a fine way to see the coast, and Melanie loves it",
        ),
        (
            "Moving house, with all I had to pack, wasn't easy.",
            "Moving house, with all Melanie had to pack, wasn't easy",
        ),
    ],
)
def test_a_gerund_that_is_the_subject_does_not_get_the_speaker_as_subject(
    said: str, statement: str
) -> None:
    assert only(said).statement == statement


def test_a_clause_whose_object_is_the_other_clause_stays_with_its_sentence() -> None:
    candidates = extract("I started a choir last month and I really enjoy it.")
    statements = [c.statement for c in candidates]
    assert len(statements) == 1
    assert "choir" in statements[0] and "enjoy" in statements[0]
