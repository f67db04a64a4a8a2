"""The Mirror's "About you": the profile said to the person; conflicts, and claims raised again
after a rejection, asked back as questions."""

from __future__ import annotations

from datetime import UTC, datetime

from selfmodel.domain import Belief, BeliefKind, BeliefOrigin, BeliefStatus, Facet
from selfmodel.domain.profile import Conflict, CurrentFacet, FacetValue, Profile, ProfileItem
from selfmodel.mirror import views

NAMES = ("Maya", "The user", "the user")
MOVED_IN = datetime(2024, 6, 12, 9, tzinfo=UTC)


def belief(belief_id: str, statement: str, day: int) -> Belief:
    at = datetime(2024, 3, day, 9, tzinfo=UTC)
    return Belief(
        id=belief_id,
        workspace_id="wsp_1",
        user_id="usr_1",
        statement=statement,
        kind=BeliefKind.PREFERENCE,
        confidence=0.6,
        origin=BeliefOrigin.INFERRED,
        status=BeliefStatus.ACTIVE,
        created_at=at,
        updated_at=at,
        valid_from=at,
    )


def item(belief_id: str, statement: str) -> ProfileItem:
    return ProfileItem(
        statement=statement,
        belief_id=belief_id,
        kind=BeliefKind.PREFERENCE,
        confidence=0.6,
        occasions=1,
    )


def residence() -> CurrentFacet:
    def old(value: str, belief_id: str) -> FacetValue:
        return FacetValue(
            value=value, statement=f"Maya lives in {value}", belief_id=belief_id, confidence=0.5
        )

    return CurrentFacet(
        facet=Facet.RESIDENCE,
        value="Edinburgh",
        statement="Maya's home is now Edinburgh",
        belief_id="bel_home",
        confidence=0.6,
        since=MOVED_IN,
        replaced=[old("Manchester", "bel_man"), old("London", "bel_lon"), old("london", "bel_x")],
    )


def profile(**parts: object) -> Profile:
    return Profile(user_id="usr_1", name="Maya", as_of=MOVED_IN, **parts)  # type: ignore[arg-type]


def test_facets_show_their_value_since_when_and_what_they_replaced() -> None:
    occupation = CurrentFacet(
        facet=Facet.OCCUPATION,
        value="nurse",
        statement="Maya works as a nurse",
        belief_id="bel_job",
        confidence=0.6,
    )
    about = views.about(
        profile(facets={Facet.OCCUPATION: occupation, Facet.RESIDENCE: residence()}), NAMES
    )
    where, what = about.facts
    assert (where.label, where.value, where.since) == ("Where you live", "Edinburgh", MOVED_IN)
    assert where.before == ["Manchester", "London"]
    assert (what.label, what.value, what.since, what.before) == ("What you do", "Nurse", None, [])


def test_people_pets_interests_and_how_to_answer_are_said_to_the_person() -> None:
    about = views.about(
        profile(
            people=[item("bel_tom", "Maya's husband is Tom")],
            pets=[item("bel_dog", "Maya has a dog named Biscuit")],
            interests=[item("bel_pot", "Maya is into pottery")],
            likes=[
                item("bel_pot", "Maya is into pottery"),
                item("bel_tea", "Maya loves tea"),
                item("bel_beach", "Maya's dog Biscuit loves the beach"),  # the dog's, not hers
            ],
            communication=[item("bel_short", "Maya wants the assistant to keep answers short")],
        ),
        NAMES,
    )
    shown = {lst.title: [i.statement for i in lst.items] for lst in about.lists}
    assert shown == {
        "People in your life": ["Your husband is Tom"],
        "Your pets": ["You have a dog named Biscuit"],
        "What you're into": ["You are into pottery", "You love tea"],
        "How you like to be answered": ["You want the assistant to keep answers short"],
    }
    assert not about.questions and not about.empty


def test_a_conflict_is_a_question_with_the_earlier_statement_first() -> None:
    liked = belief("bel_like", "Maya likes jazz", 1)
    denied = belief("bel_deny", "Maya doesn't like jazz", 9)
    about = views.about(
        profile(
            likes=[item("bel_like", "Maya likes jazz"), item("bel_tea", "Maya loves tea")],
            conflicts=[Conflict(belief=denied, against=liked)],
        ),
        NAMES,
    )
    (question,) = about.questions
    assert question.text == "You said you like jazz, and later that you don't — which is true now?"
    assert [(s.statement, s.belief_id) for s in question.sides] == [
        ("You like jazz", "bel_like"),
        ("You don't like jazz", "bel_deny"),
    ]
    # What is in question is asked, not listed as known.
    (into,) = about.lists
    assert [i.statement for i in into.items] == ["You love tea"]


def test_a_question_repeats_what_differs_between_the_two_statements() -> None:
    before = belief("bel_a", "The user's partner is Sam", 1)
    after = belief("bel_b", "The user's partner is Alex", 2)
    question = views.question(Conflict(belief=before, against=after), NAMES)
    assert question.text == (
        "You said your partner is Sam, and later that your partner is Alex — which is true now?"
    )


def test_an_empty_profile_shows_no_section() -> None:
    assert views.about(profile(), NAMES).empty


def test_each_side_of_a_question_settles_it_against_the_other() -> None:
    liked = belief("bel_like", "Maya likes jazz", 1)
    denied = belief("bel_deny", "Maya doesn't like jazz", 9)
    question = views.question(Conflict(belief=denied, against=liked), NAMES)
    assert [(true.belief_id, over.belief_id) for true, over in question.answers] == [
        ("bel_like", "bel_deny"),
        ("bel_deny", "bel_like"),
    ]


def raised(belief_id: str, statement: str, rejected_id: str) -> Belief:
    return belief(belief_id, statement, 20).model_copy(
        update={"metadata": {"after_rejection": rejected_id}, "confidence": 0.3}
    )


def test_a_claim_raised_again_after_a_rejection_is_asked_back() -> None:
    rejected = belief("bel_old", "Maya is a huge fan of heavy metal", 2).model_copy(
        update={"status": BeliefStatus.REJECTED, "origin": BeliefOrigin.REJECTED}
    )
    again = raised("bel_new", "Maya loves heavy metal", "bel_old")
    about = views.about(
        profile(questions=[item("bel_new", again.statement)]),
        NAMES,
        {b.id: b for b in (rejected, again)},
    )
    (asked,) = about.raised_again
    assert asked.text == (
        "You told us “You are a huge fan of heavy metal” wasn't you."
        " Recently you said you love heavy metal — is it you now?"
    )
    assert (asked.statement, asked.belief_id) == ("You love heavy metal", "bel_new")
    assert not about.questions and not about.empty


def test_a_claim_raised_again_not_about_you_first_is_quoted() -> None:
    rejected = belief("bel_old", "Maya is a huge fan of heavy metal", 2)
    again = raised("bel_new", "Heavy metal is Maya's favourite music", "bel_old")
    asked = views.raised_again(
        item("bel_new", again.statement), {b.id: b for b in (rejected, again)}, NAMES
    )
    assert asked.text.endswith(
        "Recently you said “Heavy metal is your favourite music” — is it you now?"
    )


def test_a_claim_raised_again_is_asked_even_when_the_rejected_one_is_not_known() -> None:
    asked = views.raised_again(item("bel_new", "Maya loves heavy metal"), {}, NAMES)
    assert asked.text == (
        "You told us something like this wasn't you."
        " Recently you said you love heavy metal — is it you now?"
    )
