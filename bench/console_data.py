"""Synthetic conversations in Rasa's own `events` row format, fast enough for a million rows.

Each event is made once by Rasa's event classes (`as_dict()`, as `SQLTrackerStore.save`
stores it), then copied with new text, intent and time, so the rows are the real format.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import random
import time
from typing import Any, Dict, Iterator, List, Sequence, Tuple

from sqlalchemy.engine import Engine

from practice.console.db import events

TOPICS = {
    "ask_what_is_leaky_gut": ["what is leaky gut", "is leaky gut real?", "explain leaky gut"],
    "ask_symptoms": ["what are the symptoms", "bloating and tiredness, is that it?"],
    "ask_foods_to_eat": ["what should I eat", "which foods help the gut lining"],
    "ask_foods_to_avoid": ["what foods should I avoid", "is sugar bad for my gut"],
    "ask_probiotics": ["do probiotics help", "should I take kombucha or kefir"],
    "ask_fiber_amount": ["how much fibre per day", "how many grams of fiber"],
    "ask_gluten": ["should I stop gluten", "is bread causing this"],
    "ask_diagnosis": ["how is it diagnosed", "can a test show leaky gut"],
    "ask_causes": ["what causes it", "can stress cause a leaky gut"],
    "ask_coaching": ["tell me about coaching", "how does the coaching work"],
    "ask_apply": ["how do I apply", "where is the application"],
    "ask_exercise": ["does exercise help", "is running good for the gut"],
}
OTHER = {
    "greet": ["hi", "hello there"],
    "thank": ["thanks", "thank you!"],
    "goodbye": ["bye", "see you"],
}
FALLBACK = ["asdf qwerty", "my cat ate the remote", "zxcv", "what about crypto"]
SAFETY = {
    "report_red_flag_symptoms": ["there is blood in my stool"],
    "mention_disordered_eating": ["I make myself throw up after eating"],
}
# What makes real messages distinct: most visitors add something of their own, so the NLU
# inbox (one row per distinct text) holds tens of thousands of rows, as it would in use.
ASIDES = [
    "for my {who}",
    "i have had {symptom} for {n} weeks",
    "im {n} and always {symptom}",
    "my {who} says its {food}",
    "after eating {food} i get {symptom}",
    "been {n} days of {symptom}",
]
WORDS = {
    "who": ["mum", "dad", "wife", "husband", "son", "daughter", "friend", "doctor", "coach"],
    "symptom": ["bloating", "gas", "cramps", "tiredness", "brain fog", "heartburn", "rashes"],
    "food": ["bread", "milk", "cheese", "sugar", "coffee", "beans", "onions", "pasta"],
}
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "**bold** [x](javascript:alert(1))",
]


def _templates() -> Dict[str, Dict[str, Any]]:
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        SlotSet,
        UserUttered,
    )

    parse = {
        "intent": {"name": "greet", "confidence": 0.9},
        "entities": [],
        "text": "hi",
        "message_id": None,
        "metadata": {},
        "intent_ranking": [{"name": "greet", "confidence": 0.9}],
    }
    return {
        "action": ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0).as_dict(),
        "session_started": SessionStarted().as_dict(),
        "user": UserUttered("hi", intent=parse["intent"], parse_data=parse, input_channel="website").as_dict(),
        "bot": BotUttered(
            "Hello!",
            data={"buttons": [{"title": "Apply for coaching", "payload": "/ask_apply"}]},
            metadata={"utter_action": "utter_greet"},
        ).as_dict(),
        "slot": SlotSet("application_link_clicked", True).as_dict(),
    }


Row = Tuple[str, str, float, Any, Any, str]


class ConversationFactory:
    """Makes one synthetic conversation's `events` rows at a time."""

    def __init__(self, seed: int = 7) -> None:
        """Fix the random seed so every run seeds the same data."""
        self.random = random.Random(seed)
        self.templates = _templates()

    def _event(self, kind: str, timestamp: float, **fields: Any) -> Dict[str, Any]:
        event = copy.deepcopy(self.templates[kind])
        event["timestamp"] = timestamp
        event.update(fields)
        return event

    def _aside(self, text: str) -> str:
        """Often the visitor's own words around the question (a distinct text)."""
        r = self.random
        if r.random() < 0.4:
            return text
        aside = r.choice(ASIDES).format(n=r.randint(2, 90), **{k: r.choice(v) for k, v in WORDS.items()})
        return f"{text} {aside}" if r.random() < 0.5 else f"{aside}, {text}"

    def _ranking(self, intent: str, confidence: float) -> List[Dict[str, Any]]:
        """The model's top three: the chosen intent, then two others sharing the rest."""
        others = self.random.sample([name for name in TOPICS if name != intent], 2)
        second = round((1 - confidence) * 0.6, 4)
        third = round((1 - confidence) * 0.3, 4)
        return [
            {"name": intent, "confidence": confidence},
            {"name": others[0], "confidence": second},
            {"name": others[1], "confidence": third},
        ]

    def _user(self, sender: str, timestamp: float, text: str, intent: str, confidence: float) -> Row:
        event = self._event("user", timestamp, text=text)
        event["parse_data"]["text"] = text
        event["parse_data"]["intent"] = {"name": intent, "confidence": confidence}
        event["parse_data"]["intent_ranking"] = self._ranking(intent, confidence)
        return (sender, "user", timestamp, intent, None, json.dumps(event))

    def _action(self, sender: str, timestamp: float, name: str) -> Row:
        event = self._event("action", timestamp, name=name)
        return (sender, "action", timestamp, None, name, json.dumps(event))

    def _bot(self, sender: str, timestamp: float, text: str, utter: str) -> Row:
        event = self._event("bot", timestamp, text=text)
        event["metadata"] = {"utter_action": utter}
        return (sender, "bot", timestamp, None, None, json.dumps(event))

    def conversation(self, sender: str, started_at: float) -> List[Row]:
        """The rows of one conversation: session start, 1-3 turns, often the closing offer."""
        r = self.random
        t = started_at
        rows: List[Row] = [
            self._action(sender, t, "action_session_start"),
            (
                sender,
                "session_started",
                t,
                None,
                None,
                json.dumps(self._event("session_started", t)),
            ),
            self._action(sender, t, "action_listen"),
        ]
        turns = r.choices((1, 2, 3), weights=(55, 30, 15))[0]
        for _ in range(turns):
            t += r.uniform(5, 60)
            roll = r.random()
            if roll < 0.08:
                intent, text, conf = "nlu_fallback", self._aside(r.choice(FALLBACK)), r.uniform(0.05, 0.3)
            elif roll < 0.10:
                intent = r.choice(sorted(SAFETY))
                text, conf = r.choice(SAFETY[intent]), 1.0
            elif roll < 0.1005:
                intent, text, conf = "ask_what_is_leaky_gut", r.choice(HOSTILE), 0.4
            elif roll < 0.25:
                intent = r.choice(sorted(OTHER))
                text, conf = r.choice(OTHER[intent]), r.uniform(0.6, 0.99)
            else:
                intent = r.choice(sorted(TOPICS))
                text, conf = self._aside(r.choice(TOPICS[intent])), r.uniform(0.3, 0.99)
            rows.append(self._user(sender, t, text, intent, round(conf, 4)))
            utter = "action_two_strike_fallback" if intent == "nlu_fallback" else f"utter_{intent}"
            rows.append(self._action(sender, t + 0.2, utter))
            rows.append(self._bot(sender, t + 0.2, f"An answer for {intent}.", utter))
            rows.append(self._action(sender, t + 0.3, "action_listen"))
        if r.random() < 0.6:
            t += 1
            rows.append(self._action(sender, t, "utter_offer_coaching"))
            rows.append(self._bot(sender, t, "Would 1:1 coaching help? Apply here.", "utter_offer_coaching"))
            if r.random() < 0.15:
                slot = self._event("slot", t + 20)
                rows.append((sender, "slot", t + 20, None, "application_link_clicked", json.dumps(slot)))
        return rows


def generate(conversations: int, days: int = 90, seed: int = 7, now: float | None = None) -> Iterator[List[Row]]:
    """Rows of `conversations` conversations started over the last `days`, in chunks."""
    factory = ConversationFactory(seed)
    now = time.time() if now is None else now
    starts = sorted(now - factory.random.uniform(0, days * 86400) for _ in range(conversations))
    chunk: List[Row] = []
    for number, started_at in enumerate(starts):
        chunk.extend(factory.conversation(f"bench-{number:06d}-{seed}", started_at))
        if len(chunk) >= 50_000:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def insert(engine: Engine, chunks: Iterator[Sequence[Row]]) -> int:
    """Bulk-insert rows into `events` (COPY on PostgreSQL); return how many."""
    total = 0
    keys = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
    for chunk in chunks:
        if engine.dialect.name == "postgresql":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for row in chunk:
                writer.writerow(["" if v is None else v for v in row])
            buffer.seek(0)
            raw = engine.raw_connection()
            try:
                with raw.cursor() as cursor:
                    cursor.copy_expert(
                        "COPY events (sender_id, type_name, timestamp, intent_name, "
                        "action_name, data) FROM STDIN WITH (FORMAT csv, NULL '')",
                        buffer,
                    )
                raw.commit()
            finally:
                raw.close()
        else:
            with engine.begin() as connection:
                rows = [dict(zip(keys, row, strict=True)) for row in chunk]
                connection.execute(events.insert(), rows)
        total += len(chunk)
    return total


def reset(engine: Engine) -> None:
    """Drop every table the console, the NLU inbox and Rasa made, for a clean seed."""
    from practice.console.db import metadata
    from practice.retrain import store
    from practice.store import migrations

    store.metadata.drop_all(engine)
    metadata.drop_all(engine)
    migrations.forget(engine)
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("VACUUM")
