"""The Mirror says statements to the person: their name, its verb and the later "they" change."""

from __future__ import annotations

import pytest

from selfmodel.mirror.voice import first_person, second_person

NAMES = ("Maya", "The user", "the user")


@pytest.mark.parametrize(
    ("statement", "said"),
    [
        # the subject and the verb that agrees with it
        ("Maya loves hiking", "You love hiking"),
        ("The user prefers short, direct answers", "You prefer short, direct answers"),
        ("Maya is into pottery", "You are into pottery"),
        ("Maya has been vegan since 2022", "You have been vegan since 2022"),
        ("Maya was born in Leeds", "You were born in Leeds"),
        ("Maya goes climbing on Fridays", "You go climbing on Fridays"),
        ("Maya studies law", "You study law"),
        ("Maya watches films with Tom", "You watch films with Tom"),
        ("Maya relocated to Manchester in March 2024", "You relocated to Manchester in March 2024"),
        ("Maya will start a new job", "You will start a new job"),
        ("Maya has a dog named Biscuit", "You have a dog named Biscuit"),
        # negation stays with its verb
        ("Maya doesn't like jazz", "You don't like jazz"),
        ("Maya isn't a morning person", "You aren't a morning person"),
        ("The user wasn't sure about the move", "You weren't sure about the move"),
        ("Maya does not eat meat", "You do not eat meat"),
        # adverbs between the subject and its verb
        ("Maya no longer drinks coffee", "You no longer drink coffee"),
        ("Maya still lives in Leeds", "You still live in Leeds"),
        ("Maya often works late", "You often work late"),
        ("Maya really enjoys baking", "You really enjoy baking"),
        # possessives
        ("The user's husband is Tom", "Your husband is Tom"),
        ("Maya's home is now Edinburgh", "Your home is now Edinburgh"),
        ("Maya’s sister is Ella", "Your sister is Ella"),
        ("Maya's dog Biscuit loves the beach", "Your dog Biscuit loves the beach"),
        # the later "they", "them", "their", "themselves"
        ("Maya is a nurse and they work nights", "You are a nurse and you work nights"),
        ("Maya started pottery; they really enjoy it", "You started pottery; you really enjoy it"),
        ("Maya loves pottery, it calms them down", "You love pottery, it calms you down"),
        ("Maya lives in Leeds with their partner", "You live in Leeds with your partner"),
        ("Maya taught themselves Spanish", "You taught yourself Spanish"),
        ("Maya and their family go camping", "You and your family go camping"),
        ("Maya moved to Oslo. They love it there", "You moved to Oslo. You love it there"),
        ("Maya said the flat is theirs", "You said the flat is yours"),
        # the person as an object, or as the subject of a clause inside the sentence
        ("Tom calls Maya every Sunday", "Tom calls you every Sunday"),
        ("Tom met Maya last week", "Tom met you last week"),
        ("Tom thinks Maya is right", "Tom thinks you are right"),
        ("Maya's husband Tom and Maya went hiking", "Your husband Tom and you went hiking"),
        ("Maya and Tom live in Leeds", "You and Tom live in Leeds"),
        # what the person wrote in their own words
        ("I am learning Portuguese", "You are learning Portuguese"),
        ("I'm learning Portuguese", "You're learning Portuguese"),
        ("I was a teacher before", "You were a teacher before"),
        ("My sister lives in Leeds", "Your sister lives in Leeds"),
        ("Tom calls me on Sundays", "Tom calls you on Sundays"),
    ],
)
def test_statements_about_the_person_are_said_to_them(statement: str, said: str) -> None:
    assert second_person(statement, NAMES) == said


@pytest.mark.parametrize(
    "statement",
    [
        "Tom is a nurse",  # someone else
        "Ella's husband works nights",
        "Mayan temples fascinate Tom",  # a name inside another word
        "The username is taken",
        "Their team won the cup",  # "they" before the person is named is someone else
        "They moved to Leeds",
        "You love hiking",  # already said to the person
        "The mine closed in 1990",  # "mine" the pit, in a statement without "I"
        "",
    ],
)
def test_statements_that_are_not_about_the_person_are_left_alone(statement: str) -> None:
    assert second_person(statement, NAMES) == statement


def test_first_person_words_in_a_statement_about_the_person_are_not_theirs() -> None:
    assert second_person("Maya works in a coal mine", NAMES) == "You work in a coal mine"
    said = second_person("Maya's favourite song is My Way", NAMES)
    assert said == "Your favourite song is My Way"


def test_a_they_after_only_a_possessive_is_someone_else() -> None:
    said = second_person("Maya's parents say they are proud of them", NAMES)
    assert said == "Your parents say they are proud of them"


def test_names_are_the_ones_given_longest_first() -> None:
    names = ("Maya Lopez", "Maya")
    assert second_person("Maya Lopez runs marathons", names) == "You run marathons"
    assert second_person("Lopez runs marathons", names) == "Lopez runs marathons"
    assert second_person("Maya loves hiking", ()) == "Maya loves hiking"


@pytest.mark.parametrize(
    ("statement", "wording"),
    [
        ("Maya loves hiking", "I love hiking"),
        ("The user's husband is Tom", "My husband is Tom"),
        ("Maya is a nurse and they work nights", "I am a nurse and I work nights"),
        ("Maya isn't a morning person", "I am not a morning person"),
        ("Maya was born in Leeds", "I was born in Leeds"),
        ("Maya started pottery; they were hooked", "I started pottery; I was hooked"),
        ("Tom calls Maya every Sunday", "Tom calls me every Sunday"),
        ("Maya's husband Tom and Maya went hiking", "My husband Tom and I went hiking"),
        ("Maya taught themselves Spanish", "I taught myself Spanish"),
        ("I work as a nurse, mostly day shifts now", "I work as a nurse, mostly day shifts now"),
    ],
)
def test_the_edit_form_offers_the_persons_own_voice(statement: str, wording: str) -> None:
    assert first_person(statement, NAMES) == wording
