"""Every question and every sentence of a message, classified on its own.

`QuestionSplitter` (first in the pipeline) appends one extra message per question it finds
(two or three questions in one message) and one per sentence of a message with several
sentences, so every later component (tokens, features, classifier, gates, context)
processes each exactly as it processes a whole message. `QuestionMerger` (last) folds the
results back into the visitor's message and returns that message alone:
- the questions' intents become `parts`, answered in the order asked;
- a sentence the classifier reads as a safety intent (with at least `safety_confidence`)
  adds that safety signal, so a warning sign in the middle of a long message is not
  outvoted by the rest of it.
A message with one sentence passes through untouched.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from practice.nlu.safety_guard import (
    CLASSIFIER_INTENT_KEY,
    KIND_ORDER,
    PART_OF_KEY,
    SAFETY_KEY,
    SAFETY_KINDS,
    SENTENCE_OF_KEY,
    keep_classifier_intent,
    load_sentence_support,
    normalise,
    strip_accents,
)

PARTS_KEY = "parts"
MAX_SENTENCES = 24
_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\s*\n+\s*")
# Figures of speech that borrow the words of a crisis or a symptom ("to die for", "this
# deadline is killing me"): masked in the copies the safety reading classifies, never in
# the message itself, so "the food was to die for" reads as what it means.
_FIGURES_OF_SPEECH = re.compile(
    r"\b(?:(?:to|i'?d|would) die for|dying (?:to|for|of (?:laughter|embarrassment|suspense|boredom))|"
    r"(?:thought|felt like) i was dying(?: lol| haha)?|(?:is|are|was|were) (?:literally )?(?:killing|murdering) me"
    r"|(?:i'?d|i would|could) kill for|killing (?:it|time|my vibe)|(?:the )?death of me|"
    r"(?:scared|bored|worried|tired) to death|dead (?:tired|beat|serious|on)|starving|famished|"
    r"(?:could|would) eat a horse|early grave|(?:heart attack|death) on a plate|to die for|"
    r"gut[- ]wrenching|bleeding (?:money|cash|me dry)|(?:wallet|bank account) is bleeding|"
    r"throw(?:ing)? up (?:my|our) hands|"
    r"bang(?:ing|ed)? (?:my|our) heads? (?:against|on) (?:a|the) (?:wall|desk|table)|"
    r"sick (?:of|and tired)|lifesaver|life[- ]saver|"
    r"(?:nearly|almost) burst|blood (?:orange|type|pressure|sugar|test|work|draw|donor|donation)s?|"
    r"black (?:pudding|beans?|garlic|coffee|tea|rice|pepper|olives?|friday)|"
    r"fasting (?:glucose|blood|test|labs?)|cutting board|binge[- ]?watch\w*|purg\w* (?:my|the|our) "
    r"(?:closet|wardrobe|inbox|emails?|files|pantry|cupboards?|office|junk))\b",
    re.IGNORECASE,
)


def mask_figures_of_speech(text: str) -> str:
    """The text with figures of speech replaced by a neutral word."""
    return _FIGURES_OF_SPEECH.sub("something", text)


MAX_PARTS = 3
MIN_PART_WORDS = 2
# Where one question ends and the next begins: a sentence end, or a joining word followed by
# a question word ("what causes it and how do I fix it?").
_QUESTION_START = (
    r"(?:what|what's|whats|wat|wats|wut|how|how's|hows|why|when|where|where's|wheres|which|who|who's|whos|whose|"
    r"is|are|can|could|should|do|does|did|will|would|any|tell me|also|and|then)"
)
# "I'd also like to know who wrote it", "and I also want to know the price": a question
# said as a wish to know.
_WANTS_TO_KNOW = (
    r"(?:(?:and |also |plus )?i(?:'d| would)? (?:also )?(?:want|like|need|'d like|would like) to "
    r"(?:know|understand|ask)|tell me|explain)"
)
_QUESTION_START_ES_FR = (
    r"(?:qu[eé]|qu.est-ce|c[oó]mo|cu[aá]l(?:es)?|cu[aá]nt[oa]s?|d[oó]nde|por qu[eé]|quel(?:le)?s?|comment|combien|"
    r"pourquoi|est-ce|o[uù] (?:trouver|acheter))"
)
# Words a question may open with before its question word ("so what triggers it", "hey are
# u a bot", "honestly is it legit").
_OPENERS = (
    r"(?:(?:so|ok|okay|and|but|well|hey|hi|honestly|btw|also|plus|\+|&|oh|hmm|um|lol|and also|last thing|"
    r"please|pls|plz)[,!.:]*\s+)*"
)
_SENTENCE_END = re.compile(r"(?<=[?!.])\s+(?=\S)|\s*\n+\s*")
_JOIN = re.compile(
    rf"(?:,\s*|\s+)(?:and also|and then|and if so,?|and|also|plus|oh and|but also|as well as|then|&|n|\+|btw)\s+"
    rf"(?:(?:roughly|honestly|realistically|approximately|generally|basically|actually|secondly|lastly|finally)\s+)?"
    rf"(?=(?:{_QUESTION_START}|{_WANTS_TO_KNOW})\b)"
    rf"|,\s*(?=(?:(?:from|for|in|at|by|with) )?"
    rf"(?:what|what's|whats|how|how's|hows|why|where|which|when|is|are|can|could|does|do|should|will)\b)"
    rf"|\s*;\s*"
    # "is it legit, and if so how do I ...", "can you test it, and if not how do I know":
    # the condition opens the next question.
    rf"|(?:,\s*(?:and |but )?|\s+(?:and|but)\s+)(?=if (?:so|not|it is|it's|its|that's|thats)\b)"
    # Spanish and French: "¿qué causa ... y qué alimentos debo evitar?", "... et comment ...".
    rf"|,?\s+(?:y|et)\s+(?={_QUESTION_START_ES_FR}\b)",
    re.IGNORECASE,
)
# Numbered questions ("two questions: 1) ... 2) ..."): split where the numbers start, when
# the message numbers at least two.
_NUMBERED = re.compile(
    r"(?:^|(?<=[\s:?.!]))[1-5][.)]\s+"
    # "first off is it real, second what is it linked to, third who wrote it"
    r"|(?:^|(?<=[\s:?.!,]))(?:first(?:ly)?(?: off)?|second(?:ly)?|third(?:ly)?|lastly)[,:]?\s+(?!of\b|time\b)",
    re.IGNORECASE,
)
# A bullet before a line of a list ("- how much fiber per day").
_BULLET = re.compile(r"^\s*[-*\u2022]\s+")
_WORD = re.compile(r"[A-Za-z']+")


# A sentence of thanks on its own ("thanks!", "ok that's really helpful, thank you.",
# "Thanks so much, this is more helpful than 3 doctors!").
_COURTESY = re.compile(
    r"\W*(?:(?:ok|okay|oh|wow|great|awesome|perfect|cool|amazing)\W+)*"
    r"(?:(?:thanks|thank you|thank u|thx|ty|many thanks|much appreciated|(?:really |much )?appreciate(?:d)? it)\b|"
    r"(?:that'?s|this is|that was|this was|you'?re|you have been) (?:\w+ ){0,3}(?:helpful|great|useful)\W+"
    r"(?:thanks|thank you|thank u|thx|ty)\b)"
    r"(?:\W+\w+){0,12}\W*",
    re.IGNORECASE,
)


# A greeting on its own ("Hi there! 👋", "Hello, good morning.", "hey hope you're well").
_GREETING = re.compile(
    r"\W*(?:(?:hi+|hello+|hey+|hiya|howdy|greetings|good (?:morning|afternoon|evening|day)|buenas|bonjour|salut|hola)"
    r"(?:\W+(?:there|all|everyone|team|guys|folks|friend|again))*\W*)+"
    r"(?:(?:i )?hope (?:you(?:'re| are)|ur|u r|all is) (?:well|good|doing well)\W*)?",
    re.IGNORECASE,
)


# "hello, how are you": a greeting and small talk, one message.
_SMALL_TALK = re.compile(
    r"\W*(?:and |so )?(?:how are you|how r u|how are u|how's it going|hows it going|how are things|what'?s up|sup|"
    r"how do you do|how have you been|you ok|u ok)(?: doing| today| tho)*\W*",
    re.IGNORECASE,
)


def said_for_itself(piece: str) -> bool:
    """A greeting or a thanks, said for itself beside a question."""
    return (_COURTESY.fullmatch(piece) is not None or _GREETING.fullmatch(piece) is not None) and not _asks(piece)


def split_questions(text: str) -> List[str]:
    """The questions of a message in order; one item when it asks one thing."""
    # Each piece, whether a sentence ends with it, and whether it is a subject asked about.
    pieces: List[Tuple[str, bool, bool]] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        sentence = _BULLET.sub("", sentence)
        numbered = len(_NUMBERED.findall(sentence)) >= 2
        for item in _NUMBERED.split(sentence) if numbered else [sentence]:
            parts = [p.strip(" ,") for p in _JOIN.split(item) if p and p.strip(" ,")]
            pieces.extend(_subjects_listed(parts, item))
    # Each piece long enough to ask something, a question, a subject asked about, or a
    # greeting or thanks said for itself (read once here: `courtesy`).
    marked = [(p, end, subject, said_for_itself(p)) for p, end, subject in pieces]
    questions = [
        (p, end, subject, courtesy)
        for p, end, subject, courtesy in marked
        if courtesy or subject or len(_WORD.findall(p)) >= MIN_PART_WORDS or p.endswith("?")
    ]
    if len(questions) < 2:
        return [text]
    # Statements before a question are its context ("I have IBS. Is fiber ok for me?", "I
    # have IBS btw, does that change anything"): they go with the question that follows.
    # A sentence of statements after a question says more about that question ("Do I have
    # it?? I've got eczema and sore joints. Also what causes it"): it goes with it.
    asked: List[str] = []
    context: List[str] = []
    courtesies: List[int] = []  # the indexes in `asked` of greetings and thanks said for themselves
    for piece, ends_sentence, subject, courtesy in questions:
        if courtesy:
            # "Thanks so much, this helped! How do I apply?", "Hi there! 👋 What is leaky
            # gut?": said for itself, not context of the question (read with it, a thanks
            # or a greeting outweighs a short question).
            if courtesies and courtesies[-1] == len(asked) - 1:
                asked[-1] = f"{asked[-1]} {piece}"
            else:
                courtesies.append(len(asked))
                asked.append(piece)
        elif subject or _asks(piece):
            asked.append(" ".join(context + [piece]))
            context = []
        elif asked and ends_sentence and not context and len(asked) - 1 not in courtesies:
            asked[-1] = f"{asked[-1]} {piece}"
        else:
            context.append(piece)
    if len(asked) < 2 or all(i in courtesies or _SMALL_TALK.fullmatch(q) for i, q in enumerate(asked)):
        return [text]
    if context:
        asked[-1] = " ".join([asked[-1]] + context)
    # At most MAX_PARTS questions; greetings and thanks beside them do not count.
    kept = [i for i in range(len(asked)) if i not in courtesies][:MAX_PARTS]
    return [q for i, q in enumerate(asked) if i in courtesies or i in kept]


# Subjects named in a list before a question ("symptoms, causes, and what can I do about
# it?", "typical symptoms, and what is it linked to?"): each is asked about. A subject is
# a few words that name something: no verb or person of a statement ("I have IBS"), no
# word about the message itself ("quick question", "sorry").
MAX_SUBJECT_WORDS = 4
_QUESTION_OPENING = re.compile(rf"{_OPENERS}{_QUESTION_START}\b")
_AND_NEXT = re.compile(r",?\s+and\s")
# Words that make a listed piece say something of the piece before it ("zinc, worth it?",
# "and the other ones, outside the gut?", "et l'alcool, aussi ?"), not a subject of its own.
_SAYS_OF_THE_FIRST = re.compile(
    r"(?:^|\s)(?:and|et|y|also|aussi|too|worth|good|bad|ok|okay|safe|better|best|healthy|real|true|right|again|then"
    r"|other|instead|connected|linked|related|legit|proven)\b",
    re.IGNORECASE,
)
# The separators of a list of subjects: commas, and "and" or "or" before the last one.
_LAST_OF_LIST = re.compile(r",\s*(?:(?:and|or|&)\s+)?|\s+(?:and|or|&)\s+(?=[^,]*$)")
_NOT_A_SUBJECT = re.compile(
    r"\b(?:i|i'?m|im|i'?ve|my|me|we|our|us|you|your|u|he|she|his|her|they|their|it|its|this|that|"
    r"is|are|was|were|am|be|been|have|has|had|do|does|did|can|could|will|would|should|"
    r"q|qs|question|questions|thing|things|query|sorry|ok|okay|so|hey|hi|hello|lol|haha|well|"
    r"honestly|also|btw|pls|please|thanks|thank|hola|bonjour|quick|real|first|go|here|general|anyway|wait|"
    r"nvm|not|if|besides|beyond|apart|sounds|actually|unrelated|vs|or|mom|mum|dad|patient|an|article|"
    r"what)\b",
    re.IGNORECASE,
)


def _names_subject(piece: str) -> bool:
    words = _WORD.findall(piece)
    named = re.sub(r"\bof (?:it|them)\b", "", piece, flags=re.IGNORECASE)
    return 1 <= len(words) <= MAX_SUBJECT_WORDS and _NOT_A_SUBJECT.search(named) is None


def _joined_by_and(piece: str, item: str) -> bool:
    """The piece stands before an "and" in its sentence ("typical symptoms, and ...")."""
    start = item.find(piece)
    while start != -1:
        if _AND_NEXT.match(item, start + len(piece)):
            return True
        start = item.find(piece, start + 1)
    return False


def _subjects_listed(parts: List[str], item: str) -> List[Tuple[str, bool, bool]]:
    """The pieces of one sentence, each with whether it ends the sentence and whether it is
    a subject asked about: a piece that lists subjects before the question that follows
    it, with "and" ("symptoms, causes, and what can I do?") or as a list of several,
    becomes one question per subject."""
    out: List[Tuple[str, bool, bool]] = []
    for index, piece in enumerate(parts):
        following = parts[index + 1] if index + 1 < len(parts) else ""
        heading, _, listed = piece.rpartition(":")
        # "fiber: grams per day" asks about fiber's grams; "writing notes: symptoms" about
        # the symptoms.
        if heading and _names_subject(heading):
            listed, heading = f"{heading} {listed}", ""
        subjects = [s.strip() for s in listed.split(",") if s.strip()]
        named = bool(subjects) and all(_names_subject(s) for s in subjects)
        # "symptoms, causes, treatment?": a sentence that is only a list of subjects, asked.
        only_a_list = len(parts) == 1 and piece.endswith("?") and len(subjects) > 1 and not heading
        listed_subjects = (
            [s.strip() for s in _LAST_OF_LIST.split(listed.rstrip("?")) if s.strip()] if only_a_list else []
        )
        if named and only_a_list and not any(_SAYS_OF_THE_FIRST.search(s) for s in listed_subjects):
            out.extend((f"{s}?", False, True) for s in listed_subjects)
        elif (
            _QUESTION_OPENING.match(following.lower())
            and not _asks(piece)
            and named
            and (len(subjects) > 1 or _joined_by_and(piece, item))
        ):
            if heading:
                # "I'm pregnant: fiber per day, and ...": the statement goes with the first.
                subjects[0] = f"{heading}: {subjects[0]}"
            out.extend((s, False, True) for s in subjects)
        else:
            out.append((piece, index == len(parts) - 1, False))
    return out


def _asks(piece: str) -> bool:
    # "Quick q's: what is leaky gut" and "I'm 68 - does age matter" ask what follows.
    lowered = re.split(r": | [-\u2013\u2014] ", piece.lower(), maxsplit=1)[-1]
    lowered = _NUMBERED.sub("", lowered, count=1)
    return (
        lowered.startswith("\u00bf")
        or re.match(rf"{_QUESTION_START_ES_FR}\b", lowered) is not None
        or lowered.endswith("?")
        or re.search(r"\b(?:y/n|yes or no|true or false|or not)\W*$", lowered) is not None
        # "symptoms pls", "apply link pls": a subject asked for in a word or two.
        or re.fullmatch(r"\W*(?:\w+\W+){1,2}(?:pls|plz|please)\W*", lowered) is not None
        or re.match(rf"{_OPENERS}(?:(?:from|for|in|at|by|with) )?{_QUESTION_START}\b", lowered) is not None
        # "if I have it, what then", "after I apply what happens": a clause, then the question
        or re.match(r"(?:if|after|once|before)\b.{0,60}\b(?:how|what|should|can|do|does|is|which|where)\b", lowered)
        is not None
        or re.match(rf"{_WANTS_TO_KNOW}\b", lowered) is not None
        or re.search(r"\b(?:wondering|curious|not sure) (?:if|whether|about|what|how|why)\b", lowered) is not None
    )


def split_sentences(text: str) -> List[str]:
    """The sentences of a message (one item when it has one)."""
    sentences = [s.strip() for s in _SENTENCES.split(text.strip()) if s and s.strip()]
    return sentences[:MAX_SENTENCES] if len(sentences) > 1 else [text]


def _own_reading(message: Message) -> Message:
    """A stand-in for the message as the classifier alone left it, before the safety readers.

    QuestionMerger applies its rules (the sentence reading, an unsure safety guess giving
    way) to it as to the message itself; its intent becomes the message's
    `classifier_intent` whenever something replaced the intent, so the retraining gate reads
    the classifier's own judgement from the same parse as the served intent.
    """
    own = message.get(CLASSIFIER_INTENT_KEY) or message.get(INTENT) or {}
    return Message(data={INTENT: dict(own), INTENT_RANKING_KEY: list(message.get(INTENT_RANKING_KEY) or [])})


class _Stateless(GraphComponent):
    def __init__(self, config: Dict[Text, Any] | None = None) -> None:
        self._config = {**self.get_default_config(), **(config or {})}

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The classifier's confidence a sentence needs to count as a safety signal."""
        return {"safety_confidence": 0.9, "fallback_threshold": 0.35, "second_guess_confidence": 0.3}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        """Nothing to load."""
        return cls(config)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class QuestionSplitter(_Stateless):
    """Appends a message for each question of a message that asks two or three things."""

    def process(self, messages: List[Message]) -> List[Message]:
        """The messages, each followed by its questions when it has more than one."""
        out: List[Message] = []
        for index, message in enumerate(messages):
            out.append(message)
            if message.get(PART_OF_KEY) is not None:
                continue
            text = message.get(TEXT) or ""
            questions = split_questions(text)
            if len(questions) > 1:
                out.extend(Message(data={TEXT: q, PART_OF_KEY: index}) for q in questions)
            sentences = split_sentences(text)
            masked = [mask_figures_of_speech(s) for s in sentences]
            if len(sentences) > 1 or masked != sentences:
                out.extend(Message(data={TEXT: s, SENTENCE_OF_KEY: index}) for s in masked)
        return out

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples are single questions: unchanged."""
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class QuestionMerger(_Stateless):
    """Folds each question's intent (and context) into its message as `parts`."""

    def __init__(self, config: Dict[Text, Any] | None = None) -> None:
        """Keep the config and each safety kind's supporting words."""
        super().__init__(config)
        self._support = load_sentence_support()

    def process(self, messages: List[Message]) -> List[Message]:
        """The original messages, with `parts` where they asked several things."""
        originals = [m for m in messages if m.get(PART_OF_KEY) is None and m.get(SENTENCE_OF_KEY) is None]
        own_readings = [_own_reading(m) for m in originals]
        for message in messages:
            sentence_owner = message.get(SENTENCE_OF_KEY)
            if sentence_owner is not None and sentence_owner < len(originals):
                self._add_sentence_signal(originals[sentence_owner], message)
                self._add_sentence_signal(own_readings[sentence_owner], message)
                continue
            owner = message.get(PART_OF_KEY)
            if owner is None or owner >= len(originals):
                continue
            parts = originals[owner].get(PARTS_KEY) or []
            intent = self._distinct_intent(message, [p["intent"] for p in parts])
            confidence = (message.get(INTENT) or {}).get("confidence")
            part: Dict[str, Any] = {"text": message.get(TEXT), "intent": intent, "confidence": confidence}
            for key in ("not_covered", "safety"):
                if message.get(key):
                    part[key] = message.get(key)
            originals[owner].set(PARTS_KEY, parts + [part], add_to_output=True)
        for original, own in zip(originals, own_readings, strict=True):
            self._demote_unsure_safety_guess(original)
            self._demote_unsure_safety_guess(own)
            if original.get(CLASSIFIER_INTENT_KEY) is not None:
                kept = own.get(INTENT) or {}
                guess = {"name": kept.get("name"), "confidence": kept.get("confidence")}
                original.set(CLASSIFIER_INTENT_KEY, guess, add_to_output=True)
        return originals

    def _distinct_intent(self, question: Message, earlier: List[Any]) -> Any:
        """The question's intent, or its next guess when an earlier question has that intent.

        "does age weaken the gut lining, and what can people my age do about it?": both
        questions read as the ageing question, the second one's next guess is what it asks.
        A visitor who asks twice asks two things; the next guess stands in when it is an
        article or coaching question the classifier gives at least `second_guess_confidence`.
        """
        intent = (question.get(INTENT) or {}).get("name")
        if intent not in earlier:
            return intent
        for guess in (question.get(INTENT_RANKING_KEY) or [])[1:2]:
            name = str(guess.get("name") or "")
            if (
                name.startswith("ask_")
                and not name.startswith("ask_followup")
                and name not in earlier
                and (guess.get("confidence") or 0.0) >= self._config["second_guess_confidence"]
            ):
                return name
        return intent

    def _demote_unsure_safety_guess(self, message: Message) -> None:
        """A safety intent the classifier alone guessed, unsure, gives way to its next guess.

        The patterns and the sentence reading report signals in `safety`; a whole-message
        guess below `safety_confidence` with no such evidence is a food question that
        sounds alarming ("ate till I nearly burst"), not a signal.
        """
        intent = message.get(INTENT) or {}
        if intent.get("name") not in SAFETY_KINDS or message.get(SAFETY_KEY):
            return
        if (intent.get("confidence") or 0.0) >= self._config["safety_confidence"]:
            return
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") not in SAFETY_KINDS]
        fallback = {"name": "nlu_fallback", "confidence": intent.get("confidence") or 0.0}
        following = (
            ranking[0]
            if ranking and (ranking[0].get("confidence") or 0) >= self._config["fallback_threshold"]
            else fallback
        )
        keep_classifier_intent(message)
        message.set(INTENT, dict(following), add_to_output=True)

    def _add_sentence_signal(self, original: Message, sentence: Message) -> None:
        """A sentence the classifier reads as a safety intent adds that signal."""
        ranking = sentence.get(INTENT_RANKING_KEY) or [sentence.get(INTENT) or {}]
        top = ranking[0] if ranking else {}
        kind = SAFETY_KINDS.get(top.get("name") or "")
        if kind is None or (top.get("confidence") or 0.0) < self._config["safety_confidence"]:
            return
        if not self._support[kind].search(strip_accents(normalise(sentence.get(TEXT) or ""))):
            return
        signals = list(original.get(SAFETY_KEY) or [])
        if any(s.get("kind") == kind for s in signals):
            return
        signals.append(
            {"kind": kind, "intent": top["name"], "confidence": top.get("confidence"), "sentence": sentence.get(TEXT)}
        )
        signals.sort(key=lambda s: KIND_ORDER.index(s["kind"]))
        original.set(SAFETY_KEY, signals, add_to_output=True)
        first = signals[0]["intent"]
        if (original.get(INTENT) or {}).get("name") != first:
            keep_classifier_intent(original)
            original.set(INTENT, {"name": first, "confidence": 1.0}, add_to_output=True)
