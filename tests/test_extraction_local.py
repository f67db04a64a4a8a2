"""The local extractor on real conversational text: statements, dates, hedges, negations, kinds,
instructions, choices, references, facets, people and pets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from selfmodel.domain import BeliefKind, BeliefOrigin, Facet, Observation, Related, Role
from selfmodel.extraction.base import CandidateBelief, ExtractionRequest
from selfmodel.extraction.dates import find_relative_dates, rewrite_relative_dates
from selfmodel.extraction.frames import MILD_HEDGE_STRENGTH, STRONG_HEDGE_STRENGTH
from selfmodel.extraction.local import LocalExtractor, split_sentences
from selfmodel.extraction.wording import core

MONDAY_3_JULY = datetime(2023, 7, 3, 14, 30, tzinfo=UTC)
EXTRACTOR = LocalExtractor()


def observe(
    text: str,
    *,
    at: datetime = MONDAY_3_JULY,
    role: Role = Role.USER,
    obs_id: str = "obs_1",
    speaker: str | None = None,
) -> Observation:
    return Observation(
        id=obs_id,
        workspace_id="ws_1",
        user_id="usr_1",
        content=text,
        occurred_at=at,
        recorded_at=at,
        role=role,
        speaker=speaker,
    )


def extract(
    text: str, *, subject: str = "Melanie", before: tuple[Observation, ...] = (), **kwargs: object
) -> list[CandidateBelief]:
    observation = observe(text, **kwargs)  # type: ignore[arg-type]
    request = ExtractionRequest(observation=observation, subject=subject, preceding=before)
    return EXTRACTOR.extract([request])


def only(text: str, **kwargs: object) -> CandidateBelief:
    candidates = extract(text, **kwargs)
    assert len(candidates) == 1, candidates
    return candidates[0]


def conversation(*turns: tuple[Role, str]) -> tuple[Observation, ...]:
    return tuple(
        observe(text, role=role, obs_id=f"obs_prev_{n}") for n, (role, text) in enumerate(turns)
    )


# --- statements about the named subject ----------------------------------------------------------


def test_first_person_statement_is_rewritten_about_the_speaker_with_the_resolved_week() -> None:
    belief = only("I started pottery last week")
    assert belief.statement == "Melanie started pottery in the week of 26 June 2023"
    assert belief.kind is BeliefKind.EXPERIENCE
    assert belief.valid_from == datetime(2023, 6, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("said", "statement"),
    [
        ("I love hiking with my husband.", "Melanie loves hiking with their husband"),
        ("I am a nurse.", "Melanie is a nurse"),
        ("I'm training for a marathon.", "Melanie is training for a marathon"),
        ("I have two kids and a dog.", "Melanie has two kids and a dog"),
        ("I don't eat gluten.", "Melanie doesn't eat gluten"),
        ("I usually go for a run every morning.", "Melanie usually goes for a run every morning"),
        ("I've been to Japan twice.", "Melanie has been to Japan twice"),
        ("I'll finish my thesis soon.", "Melanie will finish their thesis soon"),
        ("I'd love to learn the cello.", "Melanie would love to learn the cello"),
        ("My husband and I love camping.", "Melanie's husband and Melanie love camping"),
        ("That book changed my life.", "That book changed Melanie's life"),
        ("i live in Berlin with my partner", "Melanie lives in Berlin with their partner"),
        ("I no longer drink coffee.", "Melanie no longer drinks coffee"),
        (
            "I study chemistry and I teach on weekends.",
            "Melanie studies chemistry and they teach on weekends",
        ),
    ],
)
def test_verbs_agree_with_the_named_subject_who_is_named_once(said: str, statement: str) -> None:
    assert only(said).statement == statement


def test_we_becomes_the_speaker_and_family_when_family_is_mentioned() -> None:
    belief = only("We took the kids to the zoo.")
    assert belief.statement == "Melanie and their family took the kids to the zoo"


def test_we_becomes_the_speaker_and_others_otherwise() -> None:
    belief = only("We launched the new product at work.")
    assert belief.statement == "Melanie and others launched the new product at work"


@pytest.mark.parametrize(
    ("said", "statement"),
    [
        (
            "Went camping with the kids last weekend",
            "Melanie went camping with the kids on the weekend of 1 July 2023",
        ),
        (
            "Gonna start a pottery class in September.",
            "Melanie is going to start a pottery class in September 2023",
        ),
        ("Just got back from a charity race!", "Melanie got back from a charity race"),
    ],
)
def test_subjectless_sentences_that_describe_the_speaker_get_the_speaker_as_subject(
    said: str, statement: str
) -> None:
    assert only(said).statement == statement


def test_each_candidate_cites_the_observation_and_the_exact_sentence_span() -> None:
    text = "Hey Caroline! I'm swamped with the kids & work. What's up with you?"
    belief = only(text)
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


def test_statements_are_compared_without_the_persons_name() -> None:
    assert core("Melanie's husband and Melanie love camping", ["Melanie"]) == (
        "husband and love camping"
    )
    assert core("Melanie would love to learn the cello", ["melanie"]) == (
        "would love to learn the cello"
    )


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


def test_a_hedged_plan_has_lower_strength_and_keeps_its_hedge_in_the_wording() -> None:
    belief = only("I think I'll start running next month.")
    assert belief.statement == "Melanie thinks they will start running in August 2023"
    assert belief.strength == MILD_HEDGE_STRENGTH
    assert belief.origin is BeliefOrigin.INFERRED


def test_maybe_is_a_stronger_hedge_than_i_think_and_stays_in_the_statement() -> None:
    maybe = only("Maybe I'll try pottery.")
    assert maybe.statement == "Maybe Melanie will try pottery"
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
            "Melanie stopped running after their knee surgery",
            "Melanie runs",
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
    assert belief.frame.negated


def test_a_reported_change_is_marked_as_one_and_a_plain_denial_is_not() -> None:
    assert only("I don't drink coffee anymore.").frame.change
    assert only("I quit smoking.").frame.change
    assert not only("I don't eat gluten.").frame.change


@pytest.mark.parametrize(
    "said",
    [
        "I won't give up on my pottery classes.",
        "I can't wait to see the new dance studio in Leeds.",
        "I never quit my violin lessons.",
    ],
)
def test_persisting_and_eagerness_deny_nothing(said: str) -> None:
    candidates = extract(said)
    assert candidates and all(not c.frame.negated for c in candidates)


def test_plain_statements_contradict_nothing() -> None:
    assert only("I eat meat most days.").contradicts is None


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
        "Haha yeah, totally.",
        "I love it!",
        "I'm so glad to hear that.",
        "I know, right?",
        "You'd be a great counselor!",
        "Wow, love that painting! So cool you found such a helpful group.",
        "Let's keep going!",
        "Keep it up, you got this!",
        "Take a look at this.",
        "Talk to you soon!",
        "Haha 😂",
        "I don't know.",
        "",
    ],
)
def test_questions_greetings_thanks_backchannels_and_pep_talk_produce_nothing(said: str) -> None:
    assert extract(said) == []


def test_assistant_and_system_messages_are_not_evidence_about_the_user() -> None:
    assert extract("I love hiking.", role=Role.ASSISTANT) == []
    assert extract("I love hiking.", role=Role.SYSTEM) == []


def test_a_question_after_a_statement_keeps_only_the_statement() -> None:
    candidates = extract("I adopted a puppy yesterday! Do you have any pets?")
    assert [c.statement for c in candidates] == ["Melanie adopted a puppy on 2 July 2023"]


# --- instructions to the assistant ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "statement"),
    [
        (
            "Please keep your answers short.",
            "Melanie wants the assistant to keep its answers short",
        ),
        ("Can you stop using emojis?", "Melanie wants the assistant to stop using emojis"),
        ("Don't use jargon.", "Melanie wants the assistant not to use jargon"),
        (
            "I'd like you to explain things step by step.",
            "Melanie wants the assistant to explain things step by step",
        ),
        ("Keep it concise, please.", "Melanie wants the assistant to keep it concise"),
    ],
)
def test_instructions_to_the_assistant_are_communication_preferences(
    said: str, statement: str
) -> None:
    belief = only(said)
    assert belief.statement == statement
    assert belief.kind is BeliefKind.PREFERENCE
    assert belief.frame.domain == "communication"
    assert belief.origin is BeliefOrigin.STATED


# --- choices among offered options ----------------------------------------------------------------


OFFER = (
    Role.ASSISTANT,
    "Here are three options: 1) a lively hostel downtown 2) a quiet lakeside hotel "
    "3) a budget motel by the highway.",
)


@pytest.mark.parametrize(
    "reply",
    [
        "The second one, the quieter hotel sounds right.",
        "Option 2 please",
        "Let's go with the lakeside one.",
    ],
)
def test_choosing_among_offered_options_is_a_preference(reply: str) -> None:
    belief = only(reply, before=conversation(OFFER))
    assert belief.statement.startswith("Melanie chose a quiet lakeside hotel over")
    assert "lively hostel downtown" in belief.statement
    assert belief.kind is BeliefKind.PREFERENCE


def test_options_offered_as_a_question_can_be_chosen_by_their_words() -> None:
    offer = (Role.ASSISTANT, "Would you prefer a window seat or an aisle seat?")
    belief = only("Aisle please.", before=conversation(offer))
    assert belief.statement == "Melanie chose an aisle seat over a window seat"


def test_a_rejection_of_an_option_is_no_choice() -> None:
    assert extract("Not the second one.", before=conversation(OFFER)) == []


# --- references ------------------------------------------------------------------------------


def test_a_reference_to_an_earlier_sentence_keeps_the_sentences_together() -> None:
    belief = only("I painted that lake sunrise last year! It's special to me.")
    assert belief.statement == "Melanie painted that lake sunrise in 2022; it's special to them"


def test_a_reference_to_an_earlier_turn_is_resolved_in_the_statement() -> None:
    before = conversation((Role.OTHER, "Is this your own painting of the lake?"))
    belief = only("Yes! I finished it last month.", before=before)
    assert belief.statement == "Melanie finished the painting in June 2023"


def test_it_after_an_activity_in_the_same_sentence_is_that_activity() -> None:
    before = conversation((Role.USER, "Went for a long run by the river this morning."))
    belief = only("I love running, it clears my head.", before=before)
    assert belief.statement == "Melanie loves running, it clears their head"


def test_a_statement_that_cannot_stand_on_its_own_is_no_belief() -> None:
    assert extract("It was so special to me.") == []


# --- facets, people, pets, interests ----------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "facet", "value"),
    [
        ("I'm based in London.", Facet.RESIDENCE, "London"),
        ("I relocated to Manchester last month.", Facet.RESIDENCE, "Manchester"),
        ("Home is now Edinburgh.", Facet.RESIDENCE, "Edinburgh"),
        ("I live in Porto.", Facet.RESIDENCE, "Porto"),
        ("I work at Google.", Facet.EMPLOYER, "Google"),
        ("I'm a nurse.", Facet.OCCUPATION, "nurse"),
        ("I work as a data engineer at a bank.", Facet.OCCUPATION, "data engineer"),
        ("I just joined Stripe as a product manager.", Facet.OCCUPATION, "product manager"),
        ("I just joined Stripe as a product manager.", Facet.EMPLOYER, "Stripe"),
        ("I quit the night shifts, I work days at the clinic now.", Facet.EMPLOYER, "the clinic"),
        ("I'm vegetarian now.", Facet.DIET, "vegetarian"),
        ("I got married last year.", Facet.RELATIONSHIP_STATUS, "married"),
        ("My name is Priya.", Facet.NAME, "Priya"),
    ],
)
def test_single_valued_facets_are_recognised_whatever_the_wording(
    said: str, facet: Facet, value: str
) -> None:
    frames = [c.frame for c in extract(said)]
    assert (facet, value) in [(f.facet, f.value) for f in frames]


def test_a_wish_to_move_moves_nothing_yet() -> None:
    assert only("I want to move to Lisbon one day.").frame.facet is None


def test_people_and_pets_are_named_with_their_relation_and_species() -> None:
    assert only("My dog Max and my cat Luna are the best.").frame.related == (
        Related(relation="pet", name="Max", species="dog"),
        Related(relation="pet", name="Luna", species="cat"),
    )
    assert only("My husband John loves hiking.").frame.related == (
        Related(relation="husband", name="John"),
    )
    assert only("We got a new puppy named Oscar!").frame.related == (
        Related(relation="pet", name="Oscar", species="dog"),
    )


@pytest.mark.parametrize(
    ("said", "interests"),
    [
        ("I love pottery.", ("pottery",)),
        ("I'm really into jazz.", ("jazz",)),
        ("We went camping with the kids.", ("camping",)),
        ("I play tennis every Sunday.", ("tennis",)),
        ("I run every morning.", ("running",)),
    ],
)
def test_what_a_person_likes_or_does_for_its_own_sake_is_an_interest(
    said: str, interests: tuple[str, ...]
) -> None:
    assert only(said).frame.interests == interests


# --- kinds and origin ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("I love Thai food.", BeliefKind.PREFERENCE),
        ("I want to run a marathon one day.", BeliefKind.GOAL),
        ("I'm planning to repaint the kitchen.", BeliefKind.PLAN),
        ("I visited my grandmother in Lyon.", BeliefKind.EXPERIENCE),
        ("I work as a data engineer.", BeliefKind.IDENTITY),
        ("Honesty is really important to me.", BeliefKind.VALUE),
        ("I believe that public transport should be free.", BeliefKind.OPINION),
        ("I identify as nonbinary.", BeliefKind.IDENTITY),
        ("My husband is a firefighter.", BeliefKind.RELATIONSHIP),
        ("I meditate every morning.", BeliefKind.HABIT),
        ("I smoke a pack a day.", BeliefKind.HABIT),
        ("I'm exhausted after this week.", BeliefKind.STATE),
        ("I live in Porto.", BeliefKind.FACT),
        ("I finally booked my flight to Oslo.", BeliefKind.EXPERIENCE),
    ],
)
def test_kind_is_read_from_the_sentence(said: str, kind: BeliefKind) -> None:
    assert only(said).kind is kind


def test_explicit_self_descriptions_are_stated_and_events_are_inferred() -> None:
    assert only("I love Thai food.").origin is BeliefOrigin.STATED
    assert only("I am a single mom.").origin is BeliefOrigin.STATED
    assert only("I went to a concert on Friday.").origin is BeliefOrigin.INFERRED
    assert only("The support group made me feel accepted.").origin is BeliefOrigin.INFERRED


# --- the listener ----------------------------------------------------------------------------


def test_a_remark_to_the_listener_does_not_hide_the_speakers_own_clause() -> None:
    belief = only("You worked so hard on it, and I finally booked my flight to Oslo.")
    assert belief.statement == "Melanie finally booked their flight to Oslo"


def test_thanks_before_news_keeps_the_news() -> None:
    belief = only("Thanks, I started a new job last week!")
    assert belief.statement == "Melanie started a new job in the week of 26 June 2023"


@pytest.mark.parametrize(
    ("said", "statement"),
    [
        (
            "I'm feeling inspired by autumn so I'm planning a few paintings.",
            "Melanie is feeling inspired by autumn so they are planning a few paintings",
        ),
        (
            "Lost my job as a banker yesterday, so I'm gonna start my own business.",
            "Melanie lost their job as a banker on 2 July 2023, so they are going to start "
            "their own business",
        ),
        (
            "Been doing some promotion for my business.",
            "Melanie has been doing some promotion for their business",
        ),
    ],
)
def test_a_dropped_or_buried_i_is_put_back_and_the_verb_agrees(said: str, statement: str) -> None:
    assert only(said).statement == statement


@pytest.mark.parametrize(
    ("said", "statement"),
    [
        (
            "A lot's happened since we last chatted - I just joined a choir.",
            "Melanie just joined a choir",
        ),
        ("Since we last spoke, I took my kids to a park.", "Melanie took their kids to a park"),
        (
            "We haven't talked in a while. I've been rehearsing for the dance show.",
            "Melanie has been rehearsing for the dance show",
        ),
        (
            "Been running longer since our last chat - a great way to clear my mind.",
            "Melanie has been running longer - a great way to clear their mind",
        ),
        ("I didn't talk to my sister for years.", "Melanie didn't talk to their sister for years"),
    ],
)
def test_talk_about_the_conversation_itself_is_left_out(said: str, statement: str) -> None:
    assert only(said).statement == statement


def test_you_becomes_the_listener_when_the_message_names_them() -> None:
    belief = only("Thanks, Priya! I'm so proud of you for finishing the course.")
    assert belief.statement == "Melanie is so proud of Priya for finishing the course"


@pytest.mark.parametrize(
    ("said", "statement"),
    [
        ("Keep going for your dreams and don't quit, Jon!", "Melanie encourages Jon"),
        ("You got this, Jon! I'm rooting for you!", "Melanie encourages Jon"),
        ("Never give up, Jon!", "Melanie encourages Jon"),
        ("Don't let anything stop you, Jon.", "Melanie encourages Jon"),
        ("Thanks, Jon! Your support means a lot.", "Melanie values Jon's support"),
        ("Thanks for having my back, Jon.", "Melanie values Jon's support"),
        ("Thanks, Jon! Your success really inspires me.", "Melanie is inspired by Jon"),
        ("You're so strong and inspiring, Jon.", "Melanie is inspired by Jon"),
        ("I'm in awe of your courage, Jon.", "Melanie admires Jon"),
        ("Jon, I'm impressed by your willingness to take risks.", "Melanie admires Jon"),
        ("I appreciate our friendship, Jon.", "Melanie values their friendship with Jon"),
        ("Thanks for being a great friend, Jon.", "Melanie values their friendship with Jon"),
    ],
)
def test_a_stance_toward_a_named_listener_is_one_statement_however_it_is_worded(
    said: str, statement: str
) -> None:
    belief = only(said)
    assert belief.statement == statement
    assert belief.kind is BeliefKind.RELATIONSHIP
    assert belief.origin is BeliefOrigin.INFERRED
    assert belief.frame.stance is not None and belief.frame.stance.endswith(":Jon")


@pytest.mark.parametrize(
    "said",
    [
        "Keep me posted, Jon!",
        "Thanks, Jon! Let me know how it goes.",
        "Don't worry about it, Jon.",
        "Are you proud of it, Jon?",
        "I hurt my back yesterday.",
        "I hope my story inspires you, Jon.",
        "My friend Jon is a great cook.",
        "I respect my parents a lot.",
    ],
)
def test_requests_worries_questions_and_other_peoples_words_are_no_stance(said: str) -> None:
    assert all(c.frame.stance is None for c in extract(said))


def test_the_listener_of_a_stance_is_the_other_speaker_or_a_name_addressed_earlier_that_day() -> (
    None
):
    earlier_today = observe("Hey Jon! I finally finished the mural.", obs_id="obs_0")
    belief = only("Keep going, don't quit!", before=(earlier_today,))
    assert belief.statement == "Melanie encourages Jon"
    partner = observe("I'm opening my studio!", obs_id="obs_0", speaker="Jonathan")
    assert only("Hey Jon! Keep going!", before=(partner,)).statement == (
        "Melanie encourages Jonathan"
    )


def test_cheering_on_the_assistant_or_nobody_we_can_name_is_no_stance() -> None:
    assistant = conversation((Role.ASSISTANT, "Here is your workout plan."))
    assert extract("Keep going, don't quit!", before=assistant) == []
    assert extract("Keep going, don't quit!") == []


def test_an_imperative_to_a_friend_is_no_instruction_to_the_assistant() -> None:
    # A liking verb with its "I" dropped is a compliment on what the friend shared.
    assert (
        extract("Wow, Mel! Love all the details and how you got the grace.", subject="Caroline")
        == []
    )
    assert extract("Thanks, Caroline! Appreciate your kind words.", subject="Melanie") == []
    # Anything else asked of the friend is what the speaker wants of them.
    friend = observe("How is the fair going?", obs_id="obs_0", speaker="Gina")
    belief = only("Please give me some advice on your pitch.", before=(friend,))
    assert belief.statement == "Melanie wants Gina to give Melanie some advice on Gina's pitch"
    assert belief.kind is BeliefKind.GOAL
    assert belief.frame.domain is None  # not how the assistant should answer
    # Said to the assistant, the same words are still a communication preference.
    assistant = conversation((Role.ASSISTANT, "Here is a summary of the fair."))
    instruction = only("Please keep answers short.", before=assistant)
    assert instruction.frame.domain == "communication"


@pytest.mark.parametrize(
    "said",
    [
        "I bet they bring lots of joy.",
        "I can picture waking up to nature.",
        "I can imagine how proud the kids were.",
    ],
)
def test_guessing_or_imagining_something_of_others_says_nothing_of_the_speaker(said: str) -> None:
    assert extract(said) == []


def test_a_guess_about_oneself_is_still_about_the_speaker() -> None:
    assert only("I guess I'll go hiking on Sunday.").statement.startswith("Melanie")


def test_a_wish_about_one_thing_is_no_interest() -> None:
    wished = extract("I'd love to check out your paintings sometime.")
    assert all(not c.frame.interests for c in wished)
    assert only("I love checking out galleries.").frame.interests


def test_an_opinion_keeps_its_punctuation_and_the_names_it_starts_with() -> None:
    belief = only(
        "Jon, I went to the pride parade. The posters were amazing, so much pride and strength!"
    )
    assert "the posters were amazing, so much pride and strength" in belief.statement
    praised = only(
        "Thanks, Jon! I went to the dance show. You're incredibly talented and passionate."
    )
    assert praised.statement.endswith("; Melanie thinks Jon is incredibly talented and passionate")


def test_the_thing_the_speaker_just_called_theirs_is_theirs_again() -> None:
    launched = observe("I just launched an ad campaign for my clothing store.", obs_id="obs_0")
    belief = only("The store is booming since the launch.", before=(launched,))
    assert belief.statement == "Melanie's store is booming since the launch"
    # Without "my store" before, "the store" is anyone's: nothing about the speaker.
    assert extract("The store is booming since the launch.") == []


@pytest.mark.parametrize(
    ("said", "statement"),
    [
        (
            "Thanks, Jon! Glad my journey is inspiring others.",
            "Melanie is glad their journey is inspiring others",
        ),
        (
            "So happy my pottery sold at the fair!",
            "Melanie is happy their pottery sold at the fair",
        ),
    ],
)
def test_a_feeling_said_without_im_gets_its_subject_back(said: str, statement: str) -> None:
    assert only(said).statement == statement


@pytest.mark.parametrize(
    ("said", "statement"),
    [
        ("Family time matters to me.", "Melanie values family time"),
        ("Being honest is so important to me.", "Melanie values being honest"),
        ("My kids mean the world to me.", "Melanie values their kids"),
        ("I value family time.", "Melanie values family time"),
    ],
)
def test_what_matters_to_the_speaker_is_what_they_value_however_it_is_said(
    said: str, statement: str
) -> None:
    belief = only(said)
    assert belief.statement == statement
    assert belief.kind is BeliefKind.VALUE


def test_mattering_with_more_said_or_to_someone_else_is_kept_as_said() -> None:
    assert only("Mental health is important to me, and running helped a lot.").statement == (
        "Mental health is important to Melanie, and running helped a lot"
    )
    # Thanks said to a friend: not something the speaker values (a verdict alone, so nothing).
    assert all("values" not in c.statement for c in extract("Thanks, Jon! Your words mean a lot."))


def test_a_vocative_the_parser_took_for_a_subject_does_not_hide_the_opinion() -> None:
    belief = only("I opened my store in May. Yep Jon, staying focused is key for any entrepreneur.")
    assert belief.statement.endswith("; Melanie thinks staying focused is key for any entrepreneur")


def test_a_clause_with_an_unnamed_you_produces_nothing() -> None:
    assert extract("I'm so proud of you for finishing the course.") == []


def test_the_listeners_name_is_not_left_in_the_statement_as_a_vocative() -> None:
    belief = only("Yep Priya, I finished my first half marathon.")
    assert belief.statement == "Melanie finished their first half marathon"


def test_one_message_gives_one_belief_of_its_most_informative_sentences() -> None:
    candidates = extract(
        "Hey Caroline! I went to a pottery workshop in Leeds on Saturday. It was fun. "
        "I made a blue bowl with my daughter. What did you do?"
    )
    assert len(candidates) == 1
    assert "pottery workshop in Leeds" in candidates[0].statement
    assert "blue bowl" in candidates[0].statement


# --- the parts ---------------------------------------------------------------------------------


def test_sentence_spans_skip_abbreviations_and_whitespace() -> None:
    text = "  I saw Dr. Smith today.\nIt went well!  "
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == ["I saw Dr. Smith today.", "It went well!"]
    assert all(text[s.start : s.end] == s.text for s in sentences)
