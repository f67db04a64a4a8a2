"""A person with a real history, made by the test itself: a few hundred messages over months.

Small talk, questions and the assistant's replies around what a person tells a coaching app
about themselves: a home that moved, a job, people and a pet by name, interests said again and
again on different days, how they like to be answered, a plan whose date has passed, a liking
confirmed and later denied (an open conflict), and one-off remarks that leave the model unsure.
Dates are relative to today, so what is recent and what has passed stays so.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from selfmodel.engine import SelfModel

# Day offsets count back from today.
START_DAYS_AGO = 210
DENIAL_DAYS_AGO = 20
# Said on many days: interests and habits a perceptive friend would name.
RECURRING = [
    "I love climbing.",
    "I went climbing again.",
    "I love pottery.",
    "I made a bowl at pottery tonight.",
    "I enjoy gardening.",
    "I spent the afternoon gardening.",
    "I love jazz.",
    "I had jazz on all evening.",
    "I play chess online most nights.",
    "I love reading science fiction.",
    "I run along the river every morning.",
]
# Said once or twice: single remarks the model holds with middling confidence.
ONE_OFF = [
    "I think I might enjoy sailing.",
    "I probably prefer mountains to beaches.",
    "I guess I'm more of a night owl these days.",
    "I sometimes bake bread on Sundays.",
    "I'm not sure but I think I like opera.",
    "I know Python quite well.",
    "I value honesty above almost everything.",
    "I want to learn Portuguese.",
    "I believe remote work is better for focus.",
    "I visited Kyoto a few years ago.",
    "I speak a bit of Spanish.",
    "I collect old maps.",
    "I volunteer at the food bank.",
    "I like board games with friends.",
    "I prefer trains to planes.",
    "I hate loud restaurants.",
    "I'm allergic to cats, sadly not to my own.",
    "I write poems in a notebook.",
    "I like watching documentaries about the ocean.",
    "I am saving for a new bike.",
    "I prefer tea in the afternoon.",
    "I love the smell of rain.",
    "I'm learning to play the ukulele.",
    "I like painting watercolours.",
    "I enjoy long walks in the evening.",
    "I grew up by the sea.",
    "I care a lot about the environment.",
    "I like spicy food.",
    "I usually cycle to work.",
    "I'm a morning person at heart.",
]
SMALL_TALK = [
    "Hi!",
    "Thanks, that helps.",
    "Good morning.",
    "What's a good stretch after a run?",
    "Can you suggest a recipe for dinner?",
    "How long should I rest between climbing sessions?",
    "ok",
    "Great, thank you!",
    "What's the difference between stoneware and porcelain?",
    "Any tips for sleeping better?",
]
REPLIES = [
    "Happy to help!",
    "Here are a few ideas you could try.",
    "That sounds lovely.",
    "Good question — it depends on a few things.",
]


def volume_messages(user: str, name: str, *, seed: int = 15) -> list[dict[str, Any]]:
    """About three hundred messages from ``name`` and the assistant, oldest first."""
    rng = random.Random(seed)
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    out: list[dict[str, Any]] = []

    def say(text: str, days_ago: int, *, role: str = "user", minute: int = 0) -> None:
        at = today - timedelta(days=days_ago) + timedelta(minutes=minute)
        out.append(
            {
                "content": text,
                "occurred_at": at,
                "role": role,
                "speaker": name if role == "user" else "assistant",
                "id": f"{user}-{len(out)}",
            }
        )

    # Who they are, said early on; the home moves later.
    say(f"Hi, I'm {name}.", START_DAYS_AGO)
    say("I live in Lisbon.", START_DAYS_AGO, minute=1)
    say("I work as a product designer at Fieldnote.", START_DAYS_AGO, minute=2)
    say("Please keep your answers short.", START_DAYS_AGO, minute=3)
    say("I love coffee.", START_DAYS_AGO, minute=4)
    say("My husband Sam is a chef.", START_DAYS_AGO - 2)
    say("I called my sister Ines.", START_DAYS_AGO - 5)
    say("My cat Miso is twelve.", START_DAYS_AGO - 6)
    say("I'm planning a trip to Japan next month.", START_DAYS_AGO - 10)
    say("I prefer bullet points to long paragraphs.", START_DAYS_AGO - 12)
    say("We moved to Porto.", 60)
    # A plan whose date has passed by now ("next week" said 40 days ago).
    say("I'm running a half marathon next week.", 40)
    # Said against a liking the person confirmed (seed_volume): an open conflict.
    say("I don't like coffee.", DENIAL_DAYS_AGO)
    # The days in between: a few messages each, with replies and small talk.
    one_off = list(ONE_OFF)
    rng.shuffle(one_off)
    day = START_DAYS_AGO - 14
    while day > 4:
        minute = 0
        for _ in range(rng.randint(1, 3)):
            pick = rng.random()
            if pick < 0.45:
                text = rng.choice(RECURRING)
            elif pick < 0.65 and one_off:
                text = one_off.pop()
            else:
                text = rng.choice(SMALL_TALK)
            say(text, day, minute=minute)
            say(rng.choice(REPLIES), day, role="assistant", minute=minute + 1)
            minute += 2
        day -= rng.randint(2, 3)
    return out


def seed_volume(engine: SelfModel, user: str, name: str) -> int:
    """Observe ``volume_messages`` for ``user``; the person confirms "loves coffee" (as they
    might in the Mirror) before saying they don't like it. Returns how many messages."""
    messages = volume_messages(user, name)
    cut = datetime.now(UTC) - timedelta(days=DENIAL_DAYS_AGO + 1)
    engine.observe(user, [m for m in messages if m["occurred_at"] < cut])
    coffee = next(b for b in engine.beliefs(user) if b.statement.endswith("loves coffee"))
    engine.confirm(coffee.id)
    engine.observe(user, [m for m in messages if m["occurred_at"] >= cut])
    return len(messages)


__all__ = ["seed_volume", "volume_messages"]
