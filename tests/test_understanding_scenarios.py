"""Understanding, scenario by scenario, as a user of the product would meet it (issue 9).

Each test tells a short story through the public library — ``observe`` what a person says, read
``beliefs``, ``profile`` and ``context`` — with several wordings each: only things about the
person become beliefs; instructions are preferences; facets change by meaning; dropped likes and
habits are retired; paraphrases reinforce; confidence counts occasions; decay needs no job;
corrections hold everywhere; people and pets have names; the block leads with the profile and a
request surfaces what bears on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from selfmodel import BeliefStatus, SelfModel
from selfmodel.domain import Belief, BeliefKind, Facet, Role
from selfmodel.errors import InvalidInputError
from selfmodel.extraction.language import Language
from selfmodel.retrieval.intent import asks_about_disposition

DAY_ONE = datetime(2024, 3, 4, 9, tzinfo=UTC)


def day(n: int, hour: int = 9) -> str:
    return (DAY_ONE + timedelta(days=n)).replace(hour=hour).isoformat()


def minute(n: int) -> str:
    return (DAY_ONE + timedelta(minutes=n)).isoformat()


def read_at(n: int) -> datetime:
    return DAY_ONE + timedelta(days=n, hours=12)


def say(sm: SelfModel, user: str, *lines: str | tuple[int, str]) -> None:
    """Observe each line on its own day (or on the day given), as a chat would arrive."""
    for position, line in enumerate(lines):
        when, text = line if isinstance(line, tuple) else (position, line)
        sm.observe(user, {"content": text, "occurred_at": day(when)})


def active(sm: SelfModel, user: str, at: int = 400) -> list[Belief]:
    return sm.beliefs(user, now=read_at(at))


def statements(beliefs: Sequence[Belief]) -> list[str]:
    return [b.statement for b in beliefs]


def with_word(beliefs: Sequence[Belief], word: str) -> list[Belief]:
    return [b for b in beliefs if word.lower() in b.statement.lower()]


# -- 1. only things about the person become beliefs -----------------------------------------------


def test_greetings_thanks_backchannels_and_questions_stay_observations(sm: SelfModel) -> None:
    say(
        sm,
        "ana",
        "Hey there!",
        "Thanks so much, that helps.",
        "haha yeah totally",
        "What's the capital of Peru?",
        "Can you tell me more about it?",
        "Ok cool.",
    )
    assert sm.beliefs("ana", status=None) == []
    assert len(sm.store.list_observations(sm.workspace.id, [sm.user("ana").id])) == 6


@pytest.mark.parametrize(
    ("said", "wanted"),
    [
        ("Please keep your answers short.", "keep its answers short"),
        ("Stop using emojis, please.", "stop using emojis"),
        ("Don't use jargon with me.", "not to use jargon"),
        ("Can you explain things step by step?", "explain things step by step"),
        ("I'd prefer if you were more direct.", "wants the assistant to be more direct"),
        ("I like it when you give examples.", "wants the assistant to give examples"),
        ("Talk to me like a friend.", "to talk to the user like a friend"),
        ("No need to be so formal.", "not to be so formal"),
        ("Could you use metric units from now on?", "to use metric units from now on"),
        ("Less jargon please.", "to use less jargon"),
        ("No emojis please.", "not to use emojis"),
        ("Stop apologizing so much.", "to stop apologizing so much"),
        ("Answer in Spanish, please.", "to answer in Spanish"),
    ],
)
def test_instructions_to_the_assistant_become_communication_preferences(
    sm: SelfModel, said: str, wanted: str
) -> None:
    say(sm, "ana", said)
    (belief,) = active(sm, "ana", 1)
    assert wanted in belief.statement
    assert belief.kind is BeliefKind.PREFERENCE and belief.frame.domain == "communication"


@pytest.mark.parametrize("said", ["Talk to you soon!", "No worries!", "No problem at all."])
def test_closings_that_look_like_instructions_make_nothing(sm: SelfModel, said: str) -> None:
    say(sm, "ana", said)
    assert sm.beliefs("ana", status=None) == []


def test_what_the_assistant_says_is_never_evidence_about_the_user(sm: SelfModel) -> None:
    sm.observe(
        "ana",
        [
            {"role": "assistant", "content": "I love hiking and I live in Oslo."},
            {"role": "user", "content": "Nice."},
        ],
    )
    assert sm.beliefs("ana", status=None) == []


def test_small_talk_never_tops_the_list(sm: SelfModel) -> None:
    say(sm, "ana", "I'm so glad!", "I love it!", "I'm a pediatric nurse in Leeds.", "Yay!!")
    assert statements(active(sm, "ana", 5)) == ["The user is a pediatric nurse in Leeds"]


# -- 2. the language pipeline: references, hedges, negation, tense --------------------------------


def test_a_reference_to_an_earlier_turn_is_resolved_or_the_sentence_is_left_out(
    sm: SelfModel,
) -> None:
    sm.observe(
        "ana",
        [
            {"role": "assistant", "content": "Did you end up buying the electric bike?"},
            {"role": "user", "content": "Yes, I bought it last week and I ride it to work."},
        ],
        at=day(0),
    )
    sm.observe("ana", {"content": "It is so special to me.", "occurred_at": day(5)})
    found = statements(active(sm, "ana", 6))
    assert any("electric bike" in s for s in found), found
    assert not any(s.startswith("It ") or " it is so special" in s for s in found), found


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        ("Maybe I'll learn the cello next year.", "Maybe"),
        ("I might move to Lisbon.", "might"),
        ("I think I'll switch to night shifts.", "thinks"),
    ],
)
def test_hedges_stay_hedges_in_the_wording_and_weigh_less(
    sm: SelfModel, said: str, kept: str
) -> None:
    say(sm, "ana", said, (1, "I play the piano every evening."))
    hedged, plain = _split(active(sm, "ana", 2), kept)
    assert kept in hedged.statement
    assert hedged.confidence < plain.confidence


def _split(beliefs: Sequence[Belief], word: str) -> tuple[Belief, Belief]:
    hedged = next(b for b in beliefs if word in b.statement)
    plain = next(b for b in beliefs if b is not hedged)
    return hedged, plain


# -- 3. traits and profile ------------------------------------------------------------------------


def test_people_and_pets_are_known_by_name_and_species(sm: SelfModel) -> None:
    say(
        sm,
        "ana",
        "My husband Tom and I went to the coast.",
        "We adopted a puppy named Biscuit!",
        "My cat Luna hates the new puppy.",
    )
    found = statements(active(sm, "ana", 4))
    assert "The user's husband is Tom" in found
    assert "The user has a dog named Biscuit" in found
    assert "The user has a cat named Luna" in found


def test_cheering_a_friend_on_over_many_days_is_one_relationship_belief(sm: SelfModel) -> None:
    say(
        sm,
        "gina",
        "You got this, Jon! I'm rooting for you!",
        (4, "Hang in there, Jon, you'll find the right spot soon."),
        (11, "Don't give up, Jon!"),
        (20, "Keep going after your dreams, Jon!"),
    )
    (belief,) = with_word(active(sm, "gina", 21), "encourages")
    assert belief.statement == "The user encourages Jon"
    assert belief.kind is BeliefKind.RELATIONSHIP
    assert len(sm.belief(belief.id).evidence) == 4
    say(sm, "once", "You got this, Jon!")
    (single,) = active(sm, "once", 1)
    assert belief.confidence > single.confidence  # four days say more than one


def test_a_stance_is_one_belief_whatever_nickname_the_friend_is_called_by(sm: SelfModel) -> None:
    say(
        sm,
        "caro",
        "Thanks, Melanie! Your support means a lot.",
        (5, "Thanks for having my back, Mel."),
    )
    (belief,) = with_word(active(sm, "caro", 6), "support")
    assert belief.statement == "The user values Melanie's support"
    assert len(sm.belief(belief.id).evidence) == 2


def test_whom_a_message_is_said_to_names_the_friend_in_full_even_when_unnamed(
    sm: SelfModel,
) -> None:
    # A conversation between two people says whom each message is for (metadata "addressee",
    # as LoCoMo files are ingested): "Mel" is Melanie, and "Don't quit!" cheers her on.
    to_melanie = {"addressee": "Melanie"}
    for when, text in [
        (0, "Thanks, Mel! Your support means a lot."),
        (3, "Keep going for your dreams and don't quit!"),
    ]:
        sm.observe("caro", {"content": text, "occurred_at": day(when), "metadata": to_melanie})
    found = statements(active(sm, "caro", 4))
    assert "The user values Melanie's support" in found
    assert "The user encourages Melanie" in found
    say(sm, "alone", (3, "Keep going for your dreams and don't quit!"))
    assert active(sm, "alone", 4) == []  # said to nobody we can name: pep talk, nothing more
    with pytest.raises(InvalidInputError, match=r"metadata\.addressee"):
        sm.observe("caro", {"content": "Don't quit!", "metadata": {"addressee": 42}})


@pytest.mark.parametrize(
    "pep",
    [
        "I'm gonna make it happen!",
        "I'm determined to make it work.",
        "It'll be worth it!",
        "I'm excited to see where it takes me!",
        "Crazy ride so far, but I'm hanging in there.",
    ],
)
def test_pep_beside_news_stays_out_of_the_belief(sm: SelfModel, pep: str) -> None:
    say(sm, "jon", f"I'm putting in a lot of work on my dance studio. {pep}")
    (belief,) = active(sm, "jon", 1)
    assert belief.statement == "The user is putting in a lot of work on their dance studio"


def test_a_verdict_on_ones_own_pastime_or_family_says_something_about_them(sm: SelfModel) -> None:
    say(sm, "mel", "Painting's a fun way to express my feelings.", "My family is so important.")
    assert len(active(sm, "mel", 2)) == 2


@pytest.mark.parametrize("said", ["I'm going to start running.", "I want to learn to swim."])
def test_taking_something_up_is_a_plan_without_a_noun(sm: SelfModel, said: str) -> None:
    say(sm, "mel", said)
    assert len(active(sm, "mel", 1)) == 1


def test_making_it_work_with_something_named_keeps_the_thing(sm: SelfModel) -> None:
    say(sm, "jon", "My laptop is ancient. I'll make it work with a new battery.")
    (belief,) = active(sm, "jon", 1)
    assert "battery" in belief.statement


def test_a_stance_does_not_stand_in_for_the_rest_of_its_message(sm: SelfModel) -> None:
    # A trait or a stance sums many moments up: the moment keeps what else it said.
    say(sm, "gina", "You got this, Jon! The old mill by the river reopened as a bakery.")
    assert with_word(active(sm, "gina", 1), "encourages")
    block = sm.context("gina", "What did the old mill become?", now=read_at(1))
    assert "bakery" in block.text


def test_an_interest_seen_on_several_days_becomes_a_trait_citing_every_occasion(
    sm: SelfModel,
) -> None:
    say(
        sm,
        "ana",
        "I love pottery, it calms me down.",
        (3, "Went to a pottery class in the evening, made a mug."),
        (9, "I spent Sunday doing pottery with my niece."),
    )
    trait = next(b for b in active(sm, "ana", 10) if b.frame.trait == "interest:pottery")
    assert trait.statement == "The user is into pottery"
    assert trait.support_count >= 2
    assert len(sm.belief(trait.id).evidence) >= 2


def test_a_trait_of_several_words_cites_only_what_is_about_all_of_them(sm: SelfModel) -> None:
    say(
        sm,
        "ana",
        "I love spicy food.",
        (4, "I volunteer at the food bank on Saturdays."),
        (8, "Cooked some spicy food for friends last night."),
    )
    trait = next(b for b in active(sm, "ana", 9) if b.frame.trait == "interest:spicy food")
    quotes = [e.said for e in sm.belief(trait.id).evidence]
    assert quotes and not any("food bank" in q for q in quotes), quotes
    cooked = next(
        b for b in active(sm, "ana", 9) if "Cooked" in b.statement or "cooked" in b.statement
    )
    assert cooked.statement.startswith("The user cooked some spicy food"), cooked.statement


def test_the_profile_holds_current_facets_with_what_they_replaced(sm: SelfModel) -> None:
    say(
        sm,
        "ana",
        "My name is Ana.",
        "I'm based in London.",
        (30, "I relocated to Manchester last month."),
        (90, "Home is now Edinburgh."),
        (91, "I work as a data analyst at Monzo."),
    )
    profile = sm.profile("ana", now=read_at(92))
    assert profile.name == "Ana"
    residence = profile.facets[Facet.RESIDENCE]
    assert residence.value == "Edinburgh"
    assert [p.value for p in residence.replaced] == ["Manchester", "London"]
    assert profile.facets[Facet.OCCUPATION].value == "data analyst"
    assert profile.facets[Facet.EMPLOYER].value == "Monzo"


# -- 4. change by meaning -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "then", "now"),
    [
        ("I'm based in London.", "I relocated to Manchester.", "Manchester"),
        ("I live in Berlin.", "Home is now Leipzig.", "Leipzig"),
        ("I work at Google.", "I just joined Stripe as an engineer.", "Stripe"),
        ("I work as a nurse.", "I'm a teacher now.", "teacher"),
        ("I'm vegetarian.", "I went vegan last month.", "vegan"),
        ("I work at Google.", "I got a new job at Stripe.", "Stripe"),
        ("I work for Monzo.", "I took a role with Stripe.", "Stripe"),
        ("I'm vegetarian.", "I eat meat again.", "omnivore"),
        ("I live in London.", "Just moved into a flat in Bath.", "Bath"),
        ("I live in London.", "I moved back to Leeds last spring.", "Leeds"),
        ("I live in London.", "My partner and I moved to Leeds.", "Leeds"),
        ("I'm married.", "My husband and I split up.", "single"),
        ("I'm single.", "I'm seeing someone now.", "dating"),
        ("I work as a nurse.", "I retired last year.", "retired"),
    ],
)
def test_any_wording_that_moves_a_facet_supersedes_the_old_value(
    sm: SelfModel, first: str, then: str, now: str
) -> None:
    say(sm, "ana", first, (20, then))
    current = active(sm, "ana", 21)
    facet_beliefs = [b for b in current if b.frame.facet is not None]
    assert [b.frame.value for b in facet_beliefs if b.frame.value] == [now] or all(
        now in b.statement for b in facet_beliefs
    ), statements(current)
    old = [b for b in sm.beliefs("ana", status=BeliefStatus.SUPERSEDED)]
    assert old and old[0].valid_to is not None and old[0].superseded_by


@pytest.mark.parametrize("left", ["I left Google last month.", "I quit Google to freelance."])
def test_leaving_an_employer_ends_it_without_naming_a_successor(sm: SelfModel, left: str) -> None:
    say(sm, "ana", "I work at Google.", (30, left))
    assert Facet.EMPLOYER not in sm.profile("ana").facets
    (ended,) = sm.beliefs("ana", status=BeliefStatus.SUPERSEDED)
    assert ended.statement == "The user works at Google" and ended.valid_to is not None
    (now,) = active(sm, "ana", 31)
    assert "Google" in now.statement and now.kind is not BeliefKind.HABIT


@pytest.mark.parametrize(
    "reversal",
    [
        "I don't like running anymore.",
        "I went off running after the injury.",
        "I'm not into running any more.",
        "I used to love running.",
        "I hate running now.",
        "I can't stand running these days.",
        "Running bores me now.",
        "I'm done with running.",
        "I don't run anymore.",
        "I no longer run.",
        "I lost interest in running.",
    ],
)
def test_a_dropped_like_retires_the_belief_whatever_its_wording(
    sm: SelfModel, reversal: str
) -> None:
    say(sm, "ana", "I love running.", "I love running.", "I love running.", (10, reversal))
    current = statements(active(sm, "ana", 11))
    assert not any(s.endswith("loves running") for s in current), current
    assert sm.beliefs("ana", status=BeliefStatus.SUPERSEDED)


@pytest.mark.parametrize(
    "instead",
    [
        "I'm more into cycling now.",
        "These days I prefer cycling.",
        "I've switched to cycling.",
        "I like swimming more these days.",
    ],
)
def test_a_pastime_taken_up_instead_ends_the_one_of_its_kind_it_replaced(
    sm: SelfModel, instead: str
) -> None:
    say(
        sm,
        "ana",
        "I love running.",
        (3, "Went for a long run by the river this morning."),
        (6, "I love running, it clears my head."),
    )
    before = [b for b in active(sm, "ana", 19) if "run" in b.statement]
    assert any(b.frame.trait == "interest:running" for b in before), statements(before)
    say(sm, "ana", (20, instead))
    now = statements(active(sm, "ana", 21))
    assert not any(s.endswith("loves running") or s.endswith("into running") for s in now), now
    assert any("cycling" in s or "swimming" in s for s in now), now


def test_a_pastime_of_another_kind_leaves_the_old_liking_alone(sm: SelfModel) -> None:
    say(sm, "ana", "I love running.", (5, "I'm more into piano now."))
    assert any(s.endswith("loves running") for s in statements(active(sm, "ana", 6)))


@pytest.mark.parametrize(
    "kicked", ["I finally kicked the habit.", "I broke the habit last month.", "I quit the habit."]
)
def test_kicking_the_habit_ends_the_habit_spoken_of_last(sm: SelfModel, kicked: str) -> None:
    say(sm, "ana", "I go to the gym every morning.", (2, "I smoke a pack a day."), (40, kicked))
    ended = statements(sm.beliefs("ana", status=BeliefStatus.SUPERSEDED))
    assert ended == ["The user smokes a pack a day"], ended
    assert any("gym" in s for s in statements(active(sm, "ana", 41)))


@pytest.mark.parametrize(
    "dislike", ["I hate running.", "I can't stand running.", "I'm sick of running."]
)
def test_a_dislike_never_counts_as_evidence_for_the_liking(sm: SelfModel, dislike: str) -> None:
    say(sm, "ana", "I love running.", "I love running.", (5, dislike))
    likes = [b for b in sm.beliefs("ana", status=None) if b.statement.endswith("loves running")]
    assert len(likes) == 1 and likes[0].support_count == 2, likes
    assert likes[0].contradict_count == 1
    assert any("running" in s and s != likes[0].statement for s in statements(active(sm, "ana")))


@pytest.mark.parametrize(
    ("habit", "quit"),
    [
        ("I drink coffee every morning.", "I no longer drink coffee."),
        ("I smoke a pack a day.", "I quit smoking last month."),
        ("I bite my nails.", "I stopped biting my nails."),
    ],
)
def test_a_dropped_habit_is_superseded(sm: SelfModel, habit: str, quit: str) -> None:
    say(sm, "ana", habit, (30, quit))
    old = sm.beliefs("ana", status=BeliefStatus.SUPERSEDED)
    assert len(old) == 1 and old[0].valid_to is not None


def test_agreeing_with_an_earlier_denial_reinforces_it_instead_of_contradicting(
    sm: SelfModel,
) -> None:
    say(sm, "ana", "I no longer drink coffee.", (3, "I stopped drinking coffee."))
    (belief,) = [b for b in active(sm, "ana", 4) if "coffee" in b.statement]
    assert belief.support_count == 2 and belief.contradict_count == 0


@pytest.mark.parametrize(
    "paraphrase",
    [
        "I really enjoy running.",
        "Running is one of my favourite things.",
        "I'm really into running.",
    ],
)
def test_paraphrases_of_one_preference_reinforce_it(sm: SelfModel, paraphrase: str) -> None:
    say(sm, "ana", "I love running.", (5, paraphrase))
    running = with_word(active(sm, "ana", 6), "run")
    assert len(running) == 1, statements(running)
    assert running[0].support_count == 2


# -- 5. confidence that means something -----------------------------------------------------------


def test_repeating_a_sentence_in_one_conversation_is_one_occasion(sm: SelfModel) -> None:
    sm.observe("ana", ["I love sushi."] * 5, at=day(0))
    (belief,) = active(sm, "ana", 0)
    assert belief.support_count == 1 and belief.confidence == pytest.approx(0.60, abs=0.01)


def test_fourteen_occasions_give_about_0_87_and_inference_never_reaches_certainty(
    sm: SelfModel,
) -> None:
    say(sm, "ana", *[(n, "I love sushi.") for n in range(14)])
    (belief,) = with_word(active(sm, "ana", 14), "sushi")
    assert belief.confidence == pytest.approx(0.87, abs=0.02)
    say(sm, "ana", *[(n, "I love sushi.") for n in range(14, 120)])
    (belief,) = with_word(active(sm, "ana", 120), "sushi")
    assert belief.confidence < 0.95


def test_a_contradiction_visibly_lowers_confidence(sm: SelfModel) -> None:
    say(sm, "ana", *[(n, "I like jazz.") for n in range(14)], (15, "I don't like jazz."))
    held = sm.beliefs("ana", status=None, now=read_at(15))
    liked = next(b for b in held if b.statement.endswith("likes jazz"))
    assert liked.confidence < 0.6


def test_decay_happens_at_read_time_without_anyone_calling_it(sm: SelfModel) -> None:
    say(sm, "ana", "I'm exhausted this week.", "I'm a physiotherapist.")
    assert len(sm.beliefs("ana", now=read_at(1))) == 2
    later = sm.beliefs("ana", now=read_at(60))
    assert statements(later) == ["The user is a physiotherapist"]
    faded = sm.beliefs("ana", status=BeliefStatus.DECAYED, now=read_at(60))
    assert [b.kind for b in faded] == [BeliefKind.STATE]


# -- 6. corrections hold everywhere ---------------------------------------------------------------


def test_a_rejected_beliefs_evidence_never_enters_a_context_block(sm: SelfModel) -> None:
    say(sm, "ana", "I'm a huge fan of heavy metal concerts.")
    (belief,) = active(sm, "ana", 1)
    assert "heavy metal" in sm.context("ana", "What music does she like?", now=read_at(1)).text
    sm.reject(belief.id)
    block = sm.context("ana", "What music does she like?", now=read_at(1))
    assert "heavy metal" not in block.text


def test_the_same_claim_on_a_later_day_is_only_a_question_for_the_user(sm: SelfModel) -> None:
    say(sm, "ana", "I'm a huge fan of heavy metal.")
    (belief,) = active(sm, "ana", 1)
    sm.reject(belief.id)
    say(sm, "ana", (10, "Heavy metal is my favourite music."))
    raised = [b for b in sm.beliefs("ana", now=read_at(11)) if "after_rejection" in b.metadata]
    assert raised and raised[0].confidence <= 0.3
    (question,) = sm.profile("ana", now=read_at(11)).questions
    assert question.belief_id == raised[0].id
    assert "metal" not in sm.context("ana", "What music?", now=read_at(11)).text
    sm.confirm(raised[0].id)  # the user answers: yes, that is me now
    assert sm.profile("ana", now=read_at(11)).questions == []
    assert "metal" in sm.context("ana", "What music?", now=read_at(11)).text


def test_a_statement_against_what_the_user_confirmed_is_a_conflict_not_an_override(
    sm: SelfModel,
) -> None:
    say(sm, "ana", "I like jazz.")
    (liked,) = active(sm, "ana", 1)
    sm.confirm(liked.id)
    say(sm, "ana", (8, "I don't like jazz."))
    held = sm.belief(liked.id).belief
    assert held.status is BeliefStatus.ACTIVE and held.confidence == 0.98
    (conflict,) = sm.conflicts("ana", now=read_at(9))
    assert conflict.belief.id == liked.id
    assert conflict.against.statement == "The user doesn't like jazz"
    assert sm.profile("ana", now=read_at(9)).conflicts == [conflict]


# -- 7. how beliefs name the person ---------------------------------------------------------------


def test_without_a_name_statements_say_the_user_never_the_raw_id(sm: SelfModel) -> None:
    say(sm, "u_8c1f", "I work night shifts at the hospital.")
    (belief,) = active(sm, "u_8c1f", 1)
    assert belief.statement.startswith("The user ")
    assert "u_8c1f" not in belief.statement


def test_a_name_is_learnt_from_a_self_introduction_or_set_by_the_product(sm: SelfModel) -> None:
    say(sm, "u_1", "Hi! I'm Priya.", "I work night shifts at the hospital.")
    assert sm.user("u_1").display_name == "Priya"
    assert active(sm, "u_1", 2)[0].statement.startswith("Priya ")
    say(sm, "u_2", "Hello.")
    sm.set_display_name("u_2", "Sam")
    say(sm, "u_2", (3, "I love board games."))
    assert active(sm, "u_2", 4)[0].statement == "Sam loves board games"


# -- 8. a belief-first block that personalises ----------------------------------------------------


def test_the_block_leads_with_the_profile_and_says_how_to_answer(sm: SelfModel) -> None:
    say(
        sm,
        "ana",
        "I'm a nurse.",
        "Please keep your answers short.",
        (2, "I live in Porto."),
        (3, "The weather was awful today."),
    )
    block = sm.context("ana", "How do vaccines work?", now=read_at(4))
    head = block.text.split("Beliefs")[0]
    assert "Profile:" in head and "nurse" in head and "answers short" in head
    assert block.budget_tokens == 300


@pytest.mark.parametrize(
    ("constraint", "asked", "key"),
    [
        ("I'm lactose intolerant.", "What should I bake for my niece's birthday?", "lactose"),
        ("I get motion sick on boats.", "Plan me a weekend trip.", "motion sick"),
        ("I had knee surgery, so no running for me.", "Put together a workout routine.", "knee"),
    ],
)
def test_a_request_surfaces_the_constraint_that_bears_on_it_without_shared_words(
    sm: SelfModel, constraint: str, asked: str, key: str
) -> None:
    chatter = [
        "Why is the sky blue?",
        "The football was great last night.",
        "I watched a documentary about octopuses.",
        "It's raining again here.",
        "I bought new running socks.",
    ]
    say(sm, "ana", *chatter, (7, constraint), *[(8 + i, c) for i, c in enumerate(chatter)])
    block = sm.context("ana", asked, limit=5, now=read_at(20))
    assert any(key in i.text for i in block.items), [i.text for i in block.items]
    assert sm.trace(block.trace_id).payload["request"] is True


def test_a_choice_among_offered_options_is_a_preference_that_requests_find(
    sm: SelfModel,
) -> None:
    sm.observe(
        "ana",
        [
            {"role": "user", "content": "I need somewhere to stay in Annecy."},
            {
                "role": "assistant",
                "content": "Here are three options: 1) a lively hostel downtown, 2) a quiet "
                "lakeside hotel, 3) a party boat with cabins.",
            },
            {"role": "user", "content": "The second one, the quieter hotel sounds right."},
        ],
        at=day(0),
    )
    chose = [b for b in active(sm, "ana", 1) if "chose" in b.statement]
    assert chose and "quiet lakeside hotel" in chose[0].statement
    block = sm.context("ana", "Book somewhere for my trip to Berlin.", limit=5, now=read_at(3))
    assert any("quiet lakeside hotel" in i.text for i in block.items)


OFFER = (
    "Here are three options: 1) a lively hostel downtown, 2) a quiet lakeside hotel, 3) a "
    "party boat with cabins."
)
CHOICE = "The second one, the quieter hotel sounds right."


def test_a_choice_sent_in_its_own_call_reads_the_offer_said_before_it(sm: SelfModel) -> None:
    """A chat sends each turn as it comes: what was said before the new message is read with
    the user and handed to the extractor."""
    sm.observe("ana", {"role": "assistant", "content": OFFER, "occurred_at": minute(0)})
    sm.observe("ana", {"content": CHOICE, "occurred_at": minute(1)})
    chose = [b for b in active(sm, "ana", 1) if "chose" in b.statement]
    assert chose and "quiet lakeside hotel" in chose[0].statement


def test_turns_before_a_resent_message_are_not_taken_for_those_before_the_new_one(
    sm: SelfModel,
) -> None:
    """A batch that resends a message already stored (same id) before a new one: the turns
    read with the user were those before the resent one, so the new one's are read again."""
    offer = {"id": "t1", "role": "assistant", "content": OFFER, "occurred_at": minute(0)}
    sm.observe("ana", [offer])
    again = sm.observe("ana", [offer, {"id": "t2", "content": CHOICE, "occurred_at": minute(1)}])
    assert again.duplicates == 1
    chose = [b for b in active(sm, "ana", 1) if "chose" in b.statement]
    assert chose and "quiet lakeside hotel" in chose[0].statement


def test_a_question_about_a_fact_is_not_read_as_a_request(sm: SelfModel) -> None:
    say(sm, "ana", "I moved to Porto in 2019.")
    block = sm.context("ana", "When did she move to Porto?", now=read_at(1))
    assert sm.trace(block.trace_id).payload["request"] is False


def test_relative_dates_are_written_absolutely(sm: SelfModel) -> None:
    sm.observe("ana", "I adopted a cat two weeks ago.", at="2024-05-15T09:00:00Z")
    (belief, *_) = sm.beliefs("ana", now=datetime(2024, 5, 16, tzinfo=UTC))
    assert "in the week of 29 April 2024" in belief.statement


def test_assistant_turns_are_context_only(sm: SelfModel) -> None:
    sm.observe(
        "ana",
        [
            {"role": Role.ASSISTANT.value, "content": "You could try the red wine braise."},
            {"role": "user", "content": "I love braised dishes."},
        ],
        at=day(0),
    )
    assert statements(active(sm, "ana", 1)) == ["The user loves braised dishes"]


def test_interests_are_pastimes_or_likings_and_the_profile_sums_them_up(sm: SelfModel) -> None:
    say(
        sm,
        "ana",
        "I love pottery.",
        (2, "Went to my pottery class again."),
        (4, "We went camping by the lake."),
        (6, "Went camping with my sister last weekend."),
        (8, "I went hiking in the Alps."),
        (10, "I went hiking again, such views."),
        (12, "I went checking the prices at the market."),
    )
    current = active(sm, "ana", 13)
    traits = {b.frame.trait: b.statement for b in current if b.frame.trait}
    assert {"interest:pottery", "interest:camping", "interest:hiking"} <= set(traits)
    assert not any("checking" in s for s in traits.values())
    summary = traits["interests"]
    assert all(word in summary for word in ("pottery", "camping", "hiking"))
    assert sm.profile("ana", now=read_at(13)).interests[0].statement == summary


def test_an_account_carried_on_in_the_next_message_extends_one_belief(sm: SelfModel) -> None:
    sm.observe(
        "ana",
        [
            {"content": "I went to a pottery workshop in Leeds.", "occurred_at": minute(0)},
            {"content": "Then I visited the pottery museum there.", "occurred_at": minute(4)},
            {"content": "I love pottery.", "occurred_at": minute(9)},
        ],
    )
    narrative = [b for b in active(sm, "ana", 1) if "workshop" in b.statement]
    assert len(narrative) == 1 and "pottery museum" in narrative[0].statement
    assert len(sm.belief(narrative[0].id).evidence) == 2
    assert any(b.statement == "The user loves pottery" for b in active(sm, "ana", 1))


def test_a_replaced_value_never_ends_before_it_began(sm: SelfModel) -> None:
    say(sm, "ana", (20, "I live in London."), (35, "I relocated to Manchester last month."))
    (london,) = sm.beliefs("ana", status=BeliefStatus.SUPERSEDED)
    assert london.valid_from is not None and london.valid_to is not None
    assert london.valid_to >= london.valid_from


def test_what_a_pet_or_partner_likes_is_about_them_not_the_person(sm: SelfModel) -> None:
    say(sm, "ana", "My dog Biscuit loves the beach.")
    (belief, *_) = active(sm, "ana", 1)
    assert belief.kind is BeliefKind.RELATIONSHIP
    assert sm.profile("ana", now=read_at(1)).likes == []


def test_settling_a_conflict_keeps_one_side_and_ends_the_other(sm: SelfModel) -> None:
    say(sm, "ana", "I like jazz.")
    (liked,) = active(sm, "ana", 1)
    sm.confirm(liked.id)
    say(sm, "ana", (8, "I don't like jazz."))
    (conflict,) = sm.conflicts("ana", now=read_at(9))
    kept, ended = sm.settle(conflict.against.id, conflict.belief.id)
    assert kept.statement == "The user doesn't like jazz" and kept.confidence == 0.98
    assert ended.status is BeliefStatus.SUPERSEDED and ended.superseded_by == kept.id
    assert sm.conflicts("ana", now=read_at(9)) == []


def test_every_change_says_which_extractor_read_it(sm: SelfModel) -> None:
    say(sm, "ana", "I love pottery.", (3, "I really love pottery."))
    (belief, *_) = [b for b in active(sm, "ana", 4) if b.frame.trait is None]
    created, reinforced = sm.history(belief.id)[:2]
    assert created.details["extractor"] == reinforced.details["extractor"] == "local:local-3"


# -- casual speech: dropped subjects, "wanna"/"gotta", idioms, promises to write back ------------


@pytest.mark.parametrize(
    "said",
    [
        "Been a busy week since we talked.",
        "Gonna be a big change.",
        "Been a wild ride!",
        "I'll keep ya posted.",
        "I'll let you know how it goes.",
        "I'm gonna make it!",
        "I'm gonna keep pushing and working hard.",
        "I'll keep chasing my dreams.",
        "I won't give up!",
        # An intention that names nothing is no plan.
        "I'll start thinking about what I can do.",
        "We'll make some awesome memories!",
        # A verdict on a moment, alone, is conversation.
        "Having my fam around helps a lot.",
        "Seeing the kids so happy at the beach was the best.",
        "Taking care of ourselves is so important.",
        "It's awesome to see the difference we can make.",
    ],
)
def test_chat_about_the_moment_or_the_conversation_makes_nothing(sm: SelfModel, said: str) -> None:
    say(sm, "ana", said)
    assert sm.beliefs("ana", status=None) == []


@pytest.mark.parametrize(
    ("said", "wording", "kind"),
    [
        ("I wanna help make a difference.", "The user wants to help make a difference", "goal"),
        ("We wanna adopt a dog.", "The user and others want to adopt a dog", "goal"),
        ("I gotta finish my thesis by June.", "The user has to finish their thesis", "plan"),
        ("I have to finish my thesis by June.", "The user has to finish their thesis", "plan"),
        ("Been painting a lot lately.", "The user has been painting a lot lately", "habit"),
        ("I've been cooking a lot these days.", "The user has been cooking a lot", "habit"),
    ],
)
def test_casual_wordings_are_spelled_out_and_kept_in_their_tense(
    sm: SelfModel, said: str, wording: str, kind: str
) -> None:
    say(sm, "ana", said)
    (belief,) = active(sm, "ana", 1)
    assert belief.statement.startswith(wording), belief.statement
    assert belief.kind.value == kind


def test_a_deadline_in_a_month_is_the_coming_one(sm: SelfModel) -> None:
    say(sm, "ana", "I gotta finish my thesis by June.")  # said on 4 March 2024
    (belief,) = active(sm, "ana", 1)
    assert belief.statement.endswith("by June 2024")


def test_a_day_that_is_the_subject_is_not_an_event_on_that_day(sm: SelfModel) -> None:
    say(sm, "ana", "Tomorrow's gonna be an awesome night and I'm not gonna forget a second of it.")
    assert not any("gon" in b.statement for b in sm.beliefs("ana", status=None))


@pytest.mark.parametrize(
    ("said", "interest"),
    [
        ("I love playing tennis.", "tennis"),
        ("I love running marathons.", "running"),
        ("I'm passionate about fashion trends.", "fashion trends"),
        ("I love dance.", "dancing"),
        ("I love checking out galleries.", "checking out galleries"),
    ],
)
def test_an_interest_is_named_as_people_name_it(sm: SelfModel, said: str, interest: str) -> None:
    say(sm, "ana", said)
    (belief,) = active(sm, "ana", 1)
    assert belief.frame.interests == (interest,)


def test_running_a_business_is_not_a_love_of_running(sm: SelfModel) -> None:
    say(
        sm,
        "jon",
        "I love running my own studio.",
        (3, "Running a business isn't easy, but I'm determined to make it work."),
        (6, "I love dance."),
        (9, "Went dancing with my crew all weekend."),
    )
    traits = {b.frame.trait for b in active(sm, "jon", 10) if b.frame.trait}
    assert "interest:running" not in traits
    assert "interest:dancing" in traits and "interest:dance" not in traits


@pytest.mark.parametrize(
    ("asked", "disposition"),
    [
        ("Would Mel rather go to a national park or a theme park?", True),
        ("What career would Caroline likely pursue?", True),
        ("Is Jon likely to open a second studio?", True),
        ("Would Caroline want to move back home soon?", True),
        ("What did Caroline say she would do next?", False),  # reported: a fact to look up
        ("What would you recommend for dinner?", False),  # a request to the assistant
        ("When did Mel go camping?", False),
    ],
)
def test_a_question_about_what_someone_would_do_is_read_as_one(
    asked: str, disposition: bool
) -> None:
    doc = Language().parse([asked])[0]
    assert asks_about_disposition(doc) is disposition


def test_what_someone_would_like_is_answered_by_their_traits(sm: SelfModel) -> None:
    say(
        sm,
        "mel",
        "We went camping by the lake.",
        (3, "Went camping in the mountains with the kids."),
        (6, "I love camping, we always roast marshmallows."),
        (8, "The park near my office got new benches."),
        (9, "We took the kids to the park on Sunday."),
        (10, "My sister works at a theme park ticket office."),
    )
    asked = "Would Mel rather go to a national park or a theme park?"
    block = sm.context("mel", asked, limit=4, now=read_at(12))
    payload = sm.trace(block.trace_id).payload
    assert payload["disposition"] is True
    # The trait shares no word with the question, yet ranks above every single camping moment.
    camping = [i.text for i in block.items if "camping" in i.text]
    assert camping == ["The user is into camping"], [i.text for i in block.items]
    (trait,) = [c for c in payload["candidates"] if c["text"] == "The user is into camping"]
    assert trait["signals"]["intent_factor"] == 1.5


def test_a_question_about_one_person_lifts_only_their_traits(sm: SelfModel) -> None:
    for user in ("mel", "caro"):
        say(
            sm,
            user,
            "We went camping by the lake.",
            (3, "Went camping in the mountains with the kids."),
            (6, "I love camping, we always roast marshmallows."),
        )
    traits = {
        u: next(b.id for b in active(sm, u, 12) if b.frame.trait == "interest:camping")
        for u in ("mel", "caro")
    }
    block = sm.context(["mel", "caro"], "Would Mel rather go camping or to a spa?", now=read_at(12))
    factors = {
        c["id"]: c["signals"]["intent_factor"]
        for c in sm.trace(block.trace_id).payload["candidates"]
    }
    assert factors[traits["mel"]] == 1.5
    assert factors[traits["caro"]] == 1.0  # Caro's liking says nothing of what Mel would do


def test_losing_a_job_is_something_that_happened_not_a_habit_ended(sm: SelfModel) -> None:
    say(
        sm,
        "gina",
        "I love my job.",
        (5, "Since I lost my job at Door Dash, things have been tough."),
    )
    current = active(sm, "gina", 6)
    lost = with_word(current, "Door Dash")
    assert lost and not lost[0].frame.negated, statements(current)


def test_a_friend_of_mine_is_a_friend_of_the_person(sm: SelfModel) -> None:
    say(sm, "mel", "Yeah, a buddy of mine adopted a dog last year.")
    (belief,) = active(sm, "mel", 1)
    assert "of the user's" in belief.statement and "mine" not in belief.statement


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        ("I'll keep working on my pottery.", "keep working on their pottery"),
        ("I will never give up on my dance studio.", "never give up on their dance studio"),
        ("I love being around friends.", "loves being around friends"),
    ],
)
def test_resolve_with_something_to_keep_at_is_a_plan(sm: SelfModel, said: str, kept: str) -> None:
    say(sm, "ana", said)
    (belief,) = active(sm, "ana", 1)
    assert kept in belief.statement


def test_an_interest_shown_in_any_sentence_of_a_message_counts_for_the_trait(
    sm: SelfModel,
) -> None:
    say(
        sm,
        "caro",
        "Painting's great for expressing myself. I love creating art.",
        (4, "I went to an art class with my sister and made a portrait."),
        (8, "I finished a new piece of art for the gallery."),
    )
    traits = {b.frame.trait: b for b in active(sm, "caro", 9) if b.frame.trait}
    assert "interest:art" in traits
    assert len(traits["interest:art"].occasions) >= 2
