"""Plans one turn: safety first, each question answered in order, the offer at its moments.

Pure functions over what NLU made of the message (`Understanding`) and what happened
earlier in the conversation (`History`), so every rule here is unit-tested without a model.

The order of a turn:
1. safety replies for every signal of the message (crisis, red flag, disordered eating);
2. a notice when the message is not in English (the assistant answers in English);
3. acknowledgements of the visitor's own situation (allergy, pregnancy, a child ...);
4. an answer for each question asked, in the order asked; follow-ups resolved against the
   conversation's current topic; near-domain subjects the article lacks named as such;
5. at most one application offer (docs/WIDGET.md, "The offer policy"): with the first
   answer of a conversation, on coaching intent, on thanks and goodbye, and after every
   third answer since the last offer; never on a "didn't get that", never in or after a
   safety turn (care mode), never twice in a turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Dict, FrozenSet, List, Optional, Pattern, Sequence, Tuple

# --- intents and the responses that answer them ---------------------------------------------
SAFETY_INTENT_OF_KIND: Dict[str, str] = {
    "crisis": "express_self_harm",
    "red_flag": "report_red_flag_symptoms",
    "eating_disorder": "mention_disordered_eating",
}
KIND_ORDER = ("crisis", "red_flag", "eating_disorder")
KIND_OF_SAFETY_INTENT = {intent: kind for kind, intent in SAFETY_INTENT_OF_KIND.items()}

ARTICLE_TOPICS = (
    "what_is_leaky_gut",
    "immune_reaction",
    "symptoms",
    "linked_conditions",
    "medical_recognition",
    "diagnosis",
    "am_i_affected",
    "causes",
    "what_to_do",
    "foods_to_eat",
    "foods_to_avoid",
    "probiotics",
    "fiber_amount",
    "fiber_increase",
    "fiber_ibs",
    "gluten",
    "exercise",
    "lifestyle",
    "journal",
    "ageing",
    "sources",
    "author",
)
COACHING_TOPICS = ("coaching", "apply", "after_applying")
FOLLOW_UPS = ("amount", "source", "children", "concern", "how", "why", "more")
FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
NOT_COVERED_INTENT = "ask_beyond_article"
CLOSING_INTENTS = ("goodbye", "thank", "deny")
WELCOME = "utter_welcome"  # thanks said beside a question: a short "you're welcome", no close

OFFER = "utter_offer_coaching"
CLOSING = "utter_closing"
CLOSING_CARE = "utter_closing_care"
REQUEST_COACH = "utter_request_coach"
REQUEST_COACH_CARE = "utter_request_coach_care"
NOT_COVERED = "utter_not_covered"
LANGUAGE_NOTICE = "utter_language_notice"  # with the crisis line, in the visitor's language
LANGUAGE_NOTICE_CARE = "utter_language_notice_care"  # after the guidance: the notice alone
LANGUAGE_ANSWER_NOTICE = "utter_language_answer_notice"  # "here is the article's answer, in English"
# Languages whose questions a classifier learnt (practice/nlu/foreign_questions.py), and how
# sure it must be to answer one in English rather than ask for the question in English.
ANSWERED_LANGUAGES = ("es", "fr")
ABROAD_CONFIDENCE = 0.6
FALLBACK_ACTION = "action_two_strike_fallback"
FALLBACK_HANDOVER = "utter_fallback_to_application"
# Responses that carry the application link themselves: no separate offer in their turn.
LINK_RESPONSES = frozenset({CLOSING, REQUEST_COACH, "utter_ask_apply", OFFER})
OFFER_EVERY_ANSWERS = 3

PREMISE = "utter_premise"  # "Rather than a quick yes or no, here is what the article says:"
PRICE = "price"  # a follow-up target: the coaching's price, answered by REQUEST_COACH
# A follow-up asked about the current topic -> the topic that answers it (None: not covered).
_FOLLOW_UP_TARGETS: Dict[str, Dict[str, Optional[str]]] = {
    "amount": {
        # "how much?" after the coaching: its price, which a person answers.
        "coaching": PRICE,
        "apply": PRICE,
        "after_applying": PRICE,
        "fiber_amount": "fiber_amount",
        "fiber_increase": "fiber_amount",
        "fiber_ibs": "fiber_amount",
        "foods_to_eat": "fiber_amount",
        "causes": "fiber_amount",
        "what_to_do": "fiber_amount",
        "exercise": "exercise",
        "lifestyle": "exercise",
        "probiotics": None,
        "foods_to_avoid": None,
        "gluten": None,
    },
    "source": {
        # The probiotics answer names its foods (yogurt, kefir, kimchi ...).
        "probiotics": "probiotics",
        "fiber_amount": "foods_to_eat",
        "fiber_increase": "foods_to_eat",
        "fiber_ibs": "foods_to_eat",
        "foods_to_eat": "foods_to_eat",
        "what_to_do": "foods_to_eat",
        "sources": "sources",
        "author": "sources",
        "medical_recognition": "sources",
        "linked_conditions": "sources",
        "coaching": "apply",
        "apply": "apply",
    },
    "how": {
        "fiber_amount": "fiber_increase",
        "fiber_increase": "fiber_increase",
        "fiber_ibs": "fiber_ibs",
        "foods_to_eat": "fiber_increase",
        "probiotics": "foods_to_eat",
        "foods_to_avoid": "foods_to_avoid",
        "exercise": "exercise",
        "lifestyle": "lifestyle",
        "journal": "journal",
        "coaching": "apply",
        "apply": "apply",
        "after_applying": "after_applying",
        "diagnosis": "am_i_affected",
        "am_i_affected": "am_i_affected",
        "causes": "what_to_do",
        "symptoms": "what_to_do",
        "what_is_leaky_gut": "what_to_do",
        "immune_reaction": "what_to_do",
        "linked_conditions": "what_to_do",
        "ageing": "what_to_do",
    },
    "why": {
        "fiber_increase": "fiber_increase",
        "fiber_amount": "causes",
        # The list says why: "processed foods, which tend to be high in fat, sugar ...".
        "foods_to_avoid": "foods_to_avoid",
        "foods_to_eat": "probiotics",
        "what_is_leaky_gut": "immune_reaction",
        "immune_reaction": "immune_reaction",
        "symptoms": "immune_reaction",
        "linked_conditions": "immune_reaction",
        "gluten": "gluten",
        "ageing": "ageing",
        "diagnosis": "diagnosis",
        "medical_recognition": "medical_recognition",
    },
    "concern": {
        "what_is_leaky_gut": "immune_reaction",
        "immune_reaction": "immune_reaction",
        "symptoms": "am_i_affected",
        "linked_conditions": "am_i_affected",
        "causes": "what_to_do",
        "diagnosis": "am_i_affected",
        "ageing": "ageing",
        "fiber_increase": "fiber_increase",
        # "I'm at 10 g, is that bad?", "is that a lot?": the amount, measured against it.
        "fiber_amount": "fiber_amount",
    },
    "more": {
        "coaching": "apply",
        "apply": "after_applying",
        "what_is_leaky_gut": "immune_reaction",
        "immune_reaction": "linked_conditions",
        "symptoms": "linked_conditions",
        "causes": "what_to_do",
        "foods_to_eat": "foods_to_avoid",
        "foods_to_avoid": "foods_to_eat",
        "fiber_amount": "fiber_increase",
        "what_to_do": "lifestyle",
        "lifestyle": "exercise",
    },
}
# What a follow-up with no covered answer is about, for "the article doesn't cover ...".
_FOLLOW_UP_SUBJECTS = {"amount": "amounts or doses", "children": "children", "source": "that"}


# A short message that leans on what came before ("which ones?", "skin stuff too?", "and
# after that?"): read as a follow-up of the current topic when the classifier is unsure.
_ELLIPTIC = re.compile(
    r"^(?:and|so|but|ok|okay|then|also|what about|how about|which|what kind|what sort|is that|"
    r"are those|are they|is it|does that|do they|why|how come|like what|such as|any (?:other|more)|"
    r"more|the other|over how long|for how long|how long|how often|now what|what now|what next)\b"
    r"|\b(?:that|those|these|them|they|ones|too|either|then|it)\b[^a-z]*$"
    # "days or weeks?", "before or after eating?": a choice about what was just said.
    r"|\bor\b[^.?!]{0,40}\?\W*$",
    re.IGNORECASE,
)
MAX_ELLIPTIC_WORDS = 8
UNSURE_CONFIDENCE = 0.6
# "thx", "ok bye" read as another language by the detector are still understood.
DIALOGUE_ACTS = ("greet", "goodbye", "thank", "affirm", "deny", "bot_challenge")
SURE_CONFIDENCE = 0.9


_FOLLOW_UP_KIND = (
    ("amount", re.compile(r"\bhow (much|many|often|long)\b|\bdose\b", re.IGNORECASE)),
    ("source", re.compile(r"\bwhere\b|\bwhich foods\b|\bwhat foods\b", re.IGNORECASE)),
    ("why", re.compile(r"^\W*(and |but |so )?(why|how come)\b", re.IGNORECASE)),
    ("how", re.compile(r"\bhow (do|can|should|would) (i|you|we)\b|\bhow to\b", re.IGNORECASE)),
    ("concern", re.compile(r"\b(bad|normal|serious|dangerous|worried|worry|harmful)\b", re.IGNORECASE)),
)


def follow_up_kind(text: str) -> Optional[str]:
    """What a short follow-up asks of the previous answer, by its question words."""
    for kind, pattern in _FOLLOW_UP_KIND:
        if pattern.search(text):
            return kind
    return None


_QUESTION = re.compile(r"\?|^\W*(?:and |so |but )?(?:which|what|why|how|where|when|who|any)\b", re.IGNORECASE)


# A leading or negated question ("fiber doesn't matter, right?", "it isn't linked to anything
# serious, is it?"): a tag at the end, or a negated verb or "surely" first.
_LEADING = re.compile(
    r"(?:,|\s)\s*(?:right|correct|true|yeah|yes|no|isn'?t (?:it|that|there|she)|is (?:it|that|there|she)|"
    r"aren'?t (?:they|there|you)|are (?:they|there|you)|doesn'?t (?:it|that|she)|does (?:it|that|she)|"
    r"don'?t (?:they|i|you|we)|do (?:they|i|you|we)|won'?t (?:it|they|i)|will (?:it|they|i)|"
    r"can'?t (?:it|they|you|i)|can (?:it|they|you|i)|wasn'?t (?:it|that)|was (?:it|that)|"
    r"shouldn'?t (?:i|it|they)|should (?:i|it|they)|or not)\s*[?!.]*\s*$"
    r"|^\W*(?:so\s+)?(?:isn'?t|doesn'?t|don'?t|aren'?t|can'?t|won'?t|shouldn'?t|surely)\b",
    re.IGNORECASE,
)


# How likely an article question must be, among the classifier's three best readings, to
# stand for a leading question it read as a dialogue act (0.1, 0.2, 0.3 measured on the
# development set: the lowest kept most and lost nothing; docs/PIPELINES.md).
LEADING_TOPIC_SCORE = 0.1


def is_leading(text: str) -> bool:
    """A leading or negated question, whose premise the answer should settle, not echo."""
    return _LEADING.search(text.strip()) is not None


# A question that points back at what the one before it named ("... and does it make the gut
# leaky?", "where can I get one done?", "would that fix it?").
_REFERS_BACK = re.compile(r"\b(?:it|that|this|they|them|those|these|one)\b", re.IGNORECASE)


def refers_back(text: str) -> bool:
    """The question names its subject only by a pronoun."""
    return _REFERS_BACK.search(text) is not None


# "and how much fiber is that supposed to add up to?": the amount, not how to get there.
_FIBER_AMOUNT = re.compile(
    r"^(?!.*\b(?:increase|increasing|build|building|slowly|gradual\w*|without|ramp|bloat\w*|gas)\b)"
    r".*\bhow (?:much|many)\b.*\b(?:fib(?:er|re)s?|grams?)\b",
    re.IGNORECASE,
)


def asks_fiber_amount(text: str) -> bool:
    """The message asks how much fiber, not how to eat more of it."""
    return _FIBER_AMOUNT.search(text) is not None


# "and does it cost anything?", "how much is the coaching?": the price, whichever coaching
# answer the words lean to (the coaching answer does not give a price).
_PRICE = re.compile(
    r"\b(?:cost|costs|costing|price[sd]?|pricing|fees?|pay|paying|afford\w*|expensive|cheap|charge[sd]?)\b"
    r"|\bhow much (?:is|are|does|do|would|will|for)\b(?!.*\b(?:fib(?:er|re)|grams?|water|sleep|exercise)\b)"
    r"|\b(?:is|it's|its) (?:it |that |the (?:\w+ ){0,2})?free\b|\bfor free\b|\bfree of charge\b",
    re.IGNORECASE,
)
# The classifier's coaching answers that a question about the price is read as.
PRICE_READINGS = frozenset({"ask_coaching", "ask_apply", "ask_after_applying", "request_coach"})


def asks_price(text: str) -> bool:
    """The question asks what the coaching or its call costs."""
    return _PRICE.search(text) is not None


# "who wrote Pride and Prejudice?": the author answer is about this article only. What a
# "who wrote ..." question names, when it is not the article (this, it, the piece, the
# post, her, leaky gut ...), is another work: out of scope.
_WHO_WROTE = re.compile(
    r"\bwho(?:'s| is)? (?:wrote|writes|authored|the author of|the writer of)\s+(?P<work>.+)", re.IGNORECASE
)
_THIS_ARTICLE = re.compile(
    r"^(?:this|that|it|these|those|all (?:this|that)|you|your|her|leaky gut|(?:about|on) leaky gut|"
    r"the (?:\w+ ){0,2}(?:article|piece|post|blog|page|text|site|website|stuff|info|information|content|"
    r"stud(?:y|ies)|research|references|sources|papers?)s?)\b",
    re.IGNORECASE,
)


def names_other_work(text: str) -> bool:
    """A "who wrote ...?" question about another work than the article."""
    match = _WHO_WROTE.search(text)
    return match is not None and _THIS_ARTICLE.match(match.group("work").strip(" '\"")) is None


# "what else?", "what else can?", "anything else?": more of the list just given (another
# cause after the causes, another food after the foods), asked with no word of its own.
_MORE_OF_THE_SAME = re.compile(
    r"^\W*(?:and |so |ok |okay |hmm |alright )?(?:what|anything|any|which) ?(?:else|others?|more)\b"
    r"(?: (?:is|are|can|could|should|does|do|would|will|goes|go|is there|are there|then|too))*\W*$",
    re.IGNORECASE,
)
# The list a "what else?" asks more of, when the answer given is a part of a longer one.
_LIST_OF = {"probiotics": "foods_to_eat", "gluten": "foods_to_avoid"}


def asks_more_of_the_same(text: str) -> bool:
    """ "what else?" and the like: more of what the previous answer listed."""
    return _MORE_OF_THE_SAME.match(text.strip()) is not None


# "what is it, what causes it, and how do I fix it?": the first of several questions asks
# what the message is about, the article's subject (read alone, "what is it" is a
# follow-up of whatever was said before).
_WHAT_IS_IT = re.compile(
    r"(?:^|:\s*)\W*(?:so |ok |okay |and |first,? |1\W+)?(?:what|wat|wht)(?:'s|s| is) (?:it|this|that)"
    r"(?: exactly| actually| even| anyway)?\W*$",
    re.IGNORECASE,
)


def asks_what_it_is(text: str) -> bool:
    """ "what is it": the first of several questions, asking about the article's subject."""
    return _WHAT_IS_IT.search(text) is not None


# What a follow-up asks next, by its own words, of the answer it follows: (the topic that
# answers it, the topics it may follow, its words). The classifier reads such a follow-up
# by the word it repeats from the answer ("what foods fight that kind of inflammation?"
# after the immune reaction, "ok so what do I do without a test?" after the diagnosis) and
# gives the same answer again; the words say what is asked of it.
_NEXT_QUESTIONS: Tuple[Tuple[str, FrozenSet[str], Pattern[str]], ...] = (
    # "what makes those gaps appear?", "and what loosens them?", "the reason it happens?"
    (
        "causes",
        frozenset({"what_is_leaky_gut", "immune_reaction"}),
        re.compile(
            r"\b(?:what|wat|wht)(?: \w+){0,2} (?:causes?|makes?|loosens?|triggers?|damages?|opens?|breaks?)"
            r"\b(?! (?:me|you|it worse|them worse|it better|it go))"
            r"|\bthe reason (?:it|this|that|they|those|these|the)\b"
            r"|\bwhy do(?:es)? (?:they|those|these|it|the (?:gaps|junctions|lining|wall)) "
            r"(?:get|become|go|open|happen|loosen)\b",
            re.IGNORECASE,
        ),
    ),
    # "ok and what do I replace them with?", "which ones are good instead?"
    (
        "foods_to_eat",
        frozenset({"foods_to_avoid", "gluten"}),
        re.compile(r"\b(?:instead|replace\w*|substitut\w*|swap\w*|alternatives?)\b", re.IGNORECASE),
    ),
    # "says who?", "where did she get that from?", "is any of that peer reviewed?", after
    # any answer (the author's too: "what did she base it on?")
    (
        "sources",
        frozenset(ARTICLE_TOPICS),
        re.compile(
            r"^\W*(?:ok(?:ay)?,? |and |but |hmm+,? |wait,? |so )?"
            r"(?:says who|who says|sources?|source for (?:that|this)"
            r"|where did (?:she|you|u|they|the article|that|this) (?:get|come|find|read)"
            r"|where(?:'s| does| is) (?:that|this) (?:from|come from)"
            r"|what did (?:she|you|they) base (?:that|this|it) on|based on what|what(?:'s| is) (?:that|this) based on"
            r"|any (?:studies|research|proof|evidence)"
            r"|is (?:that|this|it|any of that|any of this) (?:proven|peer[- ]reviewed|backed|evidence[- ]based)"
            r"|proof|evidence)\b",
            re.IGNORECASE,
        ),
    ),
    # After the immune reaction, what its inflammation means for the visitor: "what foods
    # fight that kind of inflammation?", "what conditions is it tied to?", "how do I calm it
    # down?", "is that what makes me so tired?"
    (
        "foods_to_eat",
        frozenset({"immune_reaction"}),
        re.compile(r"\b(?:foods?|eat|eating)\b.{0,30}\b(?:fight|calm|reduce|lower|soothe|heal|help)", re.IGNORECASE),
    ),
    (
        "linked_conditions",
        frozenset({"immune_reaction"}),
        re.compile(r"\b(?:conditions?|diseases?|illness(?:es)?)\b", re.IGNORECASE),
    ),
    (
        "symptoms",
        frozenset({"immune_reaction"}),
        re.compile(
            r"\b(?:make|makes|making|made) (?:me|you|u|people|someone|one)(?: \w+){0,2} "
            r"(?:feel|tired|sick|crappy|exhausted|foggy|achy|bloated)",
            re.IGNORECASE,
        ),
    ),
    (
        "what_to_do",
        frozenset({"immune_reaction"}),
        re.compile(
            r"\bhow (?:do|can|could|would|should) (?:i|we|you|u|one) (?:calm|reduce|lower|fix|stop|treat|heal|bring)\b",
            re.IGNORECASE,
        ),
    ),
    # "so what can I do at 70?", "ok fair. then what should I do?"
    (
        "what_to_do",
        frozenset({"ageing", "diagnosis", "am_i_affected", "symptoms", "medical_recognition", "causes"}),
        re.compile(
            r"\bwhat (?:can|could|should|do|would|am) (?:i|we|someone|people|he|she|they|one)(?: \w+){0,3} "
            r"(?:do|try|supposed to do)\b",
            re.IGNORECASE,
        ),
    ),
)


def asks_next(text: str) -> Tuple[Tuple[str, FrozenSet[str]], ...]:
    """(topic, the topics it may follow) for each next question the follow-up's words ask."""
    return tuple((topic, after) for topic, after, pattern in _NEXT_QUESTIONS if pattern.search(text))


# "could your dietitian help me figure out which fibers?", "can gretchen help me with stress
# stuff too?": whether the coaching would help, whatever subject the question names.
_HELP_FROM_THE_COACH = re.compile(
    r"\b(?:can|could|would|will|does|do)\s+(?:your |the |a |this )?(?:dietitian|dietician|coach|coaching|gretchen|"
    r"nutritionist|she|one of you|you guys|practice)\s+(?:\w+\s+){0,2}(?:help|guide|coach|work with)\b"
    r"|\bsomeone (?:who|that) (?:could|can|would) (?:guide|help|coach|work with) me\b",
    re.IGNORECASE,
)


def asks_coach_for_help(text: str) -> bool:
    """The visitor asks whether the practice's coach would help with something."""
    return _HELP_FROM_THE_COACH.search(text) is not None


# "is she a real dietitian?" reads as "are you a real person?"; it asks about the author.
_THIRD_PERSON = re.compile(r"\b(?:she|her|he|him|the author|the writer|gretchen)\b", re.IGNORECASE)
_TO_THE_ASSISTANT = re.compile(
    r"\b(?:you|u|ur|your|you'?re|yours|bot|robot|ai|chatbot|machine|program|computer)\b", re.IGNORECASE
)


def asks_about_someone_else(text: str) -> bool:
    """A "real person?" question about her or him, not about the assistant."""
    return _THIRD_PERSON.search(text) is not None and _TO_THE_ASSISTANT.search(text) is None


# Questions the classifier reads as no article topic (or as another), said in words that
# name what they ask: (the intent that answers, the readings it replaces, the words).
# - "is it genetic? my mom had it too", "is this something you're born with?": whether it
#   is inherited, which the causes answer says (genes may play a role). The classifier
#   reads the mother's story as "do I have it?", "born with" as "are you a bot?", or falls
#   back.
# - "nobody really knows what causes it, right?", "it's all caused by sugar, isn't it?":
#   the causes asked inside a statement, read as small talk or a goodbye.
# - "how can i tell if i personaly have it", "does it sound like i have it": whether the
#   visitor has it, which the domain gate calls out of scope for a typo and no topic word.
_NO_TOPIC = frozenset({FALLBACK, OUT_OF_SCOPE, "deny", "affirm", "ask_topics", "goodbye", "thank"})
_ASKED_IN_OTHER_WORDS: Tuple[Tuple[str, FrozenSet[str], Pattern[str]], ...] = (
    (
        "ask_causes",
        frozenset({FALLBACK, OUT_OF_SCOPE, "bot_challenge", "deny", "affirm", "ask_topics", "ask_am_i_affected"}),
        re.compile(
            r"\b(?:genetic(?:s|ally)?|genes?|hereditary|inherit(?:ed|able|s)?|born with"
            r"|runs? in (?:the|my|our) family|pass(?:ed|es)? (?:it )?(?:down|on) to)\b"
            r"(?! (?:tests?|testing|panels?|reports?))",
            re.IGNORECASE,
        ),
    ),
    (
        "ask_causes",
        _NO_TOPIC,
        re.compile(
            r"\bwhat (?:\w+ ){0,2}(?:causes?|caused|triggers?|leads? to) (?:it|this|leaky gut|a leaky gut)\b"
            r"|\b(?:it'?s|its|it is|is it|was it) (?:all |just |only |mostly |really )?caused by\b",
            re.IGNORECASE,
        ),
    ),
    (
        "ask_am_i_affected",
        _NO_TOPIC,
        re.compile(
            r"\b(?:if|whether|do|could|might|can|that|like) i(?: \w+){0,2} (?:have|got|have got) "
            r"(?:it|this|leaky gut|a leaky gut)\b(?! (?:on|from|in|at|for|to|done|fixed|checked|sorted))",
            re.IGNORECASE,
        ),
    ),
)


def asked_in_other_words(intent: str, text: str) -> Optional[str]:
    """The intent a message's words ask when the classifier's reading is one they replace."""
    return next(
        (asked for asked, replaced, words in _ASKED_IN_OTHER_WORDS if intent in replaced and words.search(text)),
        None,
    )


_IBS = re.compile(r"\bibs\b|\birritable bowel", re.IGNORECASE)


def mentions_ibs(text: str) -> bool:
    """The visitor names irritable bowel syndrome."""
    return _IBS.search(text) is not None


def is_question(text: str) -> bool:
    """A message that asks something: a question mark, or a question word first."""
    return _QUESTION.search(text.strip()) is not None


def word_count(text: str) -> int:
    """The words of a message, as the follow-up rules count them."""
    return len(re.findall(r"[A-Za-z']+", text))


def is_elliptic(text: str) -> bool:
    """A short message that only makes sense after the previous answer."""
    return 0 < word_count(text) <= MAX_ELLIPTIC_WORDS and _ELLIPTIC.search(text.strip()) is not None


def continues_topic(now: "Understanding", topic: Optional[str]) -> bool:
    """A short message the classifier cannot place, about the topic just answered.

    "any besides berries?", "right after eating or anytime?": no article words of their
    own, so the classifier falls back, calls them out of scope or is unsure, yet the
    conversation's topic is among its three best guesses. Such a message continues the
    topic. A sure guess of another topic ("what causes it?"), a follow-up intent, a
    dialogue act or a message with several questions is left as it is.
    """
    if topic is None or now.parts or not 0 < now.words <= MAX_ELLIPTIC_WORDS:
        return False
    if f"ask_{topic}" not in now.ranking or now.intent == f"ask_{topic}":
        return False
    unplaced = now.intent in (FALLBACK, OUT_OF_SCOPE, "ask_topics")
    return unplaced or (topic_of_intent(now.intent) is not None and now.confidence < UNSURE_CONFIDENCE)


# A follow-up of up to this many words keeps the conversation's topic when the topic's
# probability, given a head start of TOPIC_HEAD_START, is still the classifier's best: "is
# that for women too or just men?" after the fiber amount, "what would I even write in it?"
# after the journal. Chosen on the blind-written training conversations (220 follow-ups,
# none of them a test message): 155 -> 164 handled there; docs/PIPELINES.md.
TOPIC_HEAD_START = 0.5
MAX_TOPIC_FOLLOW_UP_WORDS = 12


def stays_on_topic(now: "Understanding", topic: Optional[str]) -> bool:
    """A short message that reads best as being about the topic just answered.

    Every reading the classifier gave keeps its probability, and the current topic gets
    TOPIC_HEAD_START more: another topic still wins when the classifier is sure of it
    ("ok, and what causes it?"). Not for a message of several questions, a safety signal,
    another language, a sure dialogue act ("thanks, bye"), after the application steps, or
    a message read as another topic that is not elliptic (it says what it asks).
    """
    if topic is None or topic == "apply" or now.parts or now.safety or now.language != "en":
        return False
    if not 0 < now.words <= MAX_TOPIC_FOLLOW_UP_WORDS or not now.scores:
        return False
    if now.intent in DIALOGUE_ACTS and now.confidence >= SURE_CONFIDENCE:
        return False
    if topic_of_intent(now.intent) is not None and not now.elliptic:
        # "ok she's a dietitian. what would she tell me to eat?" after the author: a
        # question that says what it asks, read as another topic, keeps its reading.
        return False
    intent = f"ask_{topic}"
    scores = dict(now.scores)
    scores[intent] = scores.get(intent, 0.0) + TOPIC_HEAD_START
    return now.intent != intent and max(scores, key=lambda name: scores[name]) == intent


def next_topic(now: "Understanding", topic: Optional[str]) -> Optional[str]:
    """The topic a follow-up asks next of the answer just given, when the classifier read it
    as that answer again, a follow-up, or could not place it; None otherwise."""
    if topic is None or now.parts or now.safety or now.language != "en":
        return None
    asked = next((asked for asked, after in now.next_questions if topic in after), None)
    # Another topic the classifier read stays: its own words chose it.
    return asked if topic_of_intent(now.intent) in (None, topic, asked) else None


def understood_abroad(now: "Understanding") -> bool:
    """A Spanish or French message whose every question the classifier placed, surely enough
    to answer it in English (a fallback, out of scope or a safety intent is not placed)."""
    if now.language not in ANSWERED_LANGUAGES:
        return False
    # Two questions split the message's probability between them: each sure on its own will do.
    sure = now.confidence >= ABROAD_CONFIDENCE or (
        bool(now.parts) and all(p.confidence >= ABROAD_CONFIDENCE for p in now.parts)
    )
    return sure and all(
        p.intent not in (FALLBACK, OUT_OF_SCOPE) and p.intent not in KIND_OF_SAFETY_INTENT for p in now.questions()
    )


# "hiii! what's leaky gut?" reads as a greeting first, "thank you so much how do i sign up"
# as thanks; a question whose topic the classifier gives at least this probability is
# answered after the greeting or the welcome.
COURTESY_QUESTION_SHARE = 0.2


def question_beside_courtesy(now: "Understanding") -> Optional[str]:
    """The article or coaching question asked in a message read as a greeting or thanks, if any."""
    if not now.question:
        return None
    for intent, probability in now.scores:
        if topic_of_intent(intent) is not None and probability >= COURTESY_QUESTION_SHARE:
            return intent
    return None


@dataclass(frozen=True)
class Part:
    """One question of a message: its intent and any near-domain subject it names."""

    intent: str
    not_covered: Optional[str] = None
    confidence: float = 1.0


@dataclass(frozen=True)
class Understanding:
    """What NLU made of the visitor's latest message."""

    intent: str
    parts: Tuple[Part, ...] = ()
    safety: Tuple[str, ...] = ()
    situation: Tuple[str, ...] = ()
    language: str = "en"
    confidence: float = 1.0
    elliptic: bool = False
    follow_up: Optional[str] = None  # what an elliptic message asks ("how", "amount" ...)
    scores: Tuple[Tuple[str, float], ...] = ()  # every intent the classifier ranked, best first, with its probability
    words: int = 0
    question: bool = False  # a question mark or a question word first
    leading: bool = False  # "..., right?", "isn't it ...?": answered without a bare yes or no
    fiber_amount: bool = False  # "how much fiber ...?" without a word of increasing it
    more_of_the_same: bool = False  # "what else?", "what else can?": more of the list just given
    safety_doubt: bool = False  # the safety model reads a kind as likely, not surely: no offer
    off_domain: bool = False  # a follow-up reading with no word of the domain ("how to fix a tap")
    next_questions: Tuple[Tuple[str, FrozenSet[str]], ...] = ()  # asks_next: what its words ask next

    @property
    def ranking(self) -> Tuple[str, ...]:
        """The classifier's three best intents, best first."""
        return tuple(name for name, _ in self.scores[:3])

    def questions(self) -> Tuple[Part, ...]:
        """The parts in the order asked, or the message as one part."""
        return self.parts or (Part(self.intent),)


@dataclass(frozen=True)
class History:
    """What the conversation holds before this turn."""

    care_kinds: Tuple[str, ...] = ()
    offered: bool = False
    answers_since_offer: int = 0
    topic: Optional[str] = None
    misses_before: int = 0
    ibs: bool = False  # the visitor named IBS earlier, or in this single question


@dataclass
class TurnPlan:
    """The responses of one turn, in order; `answers` counts the article answers among them."""

    actions: List[str] = field(default_factory=list)
    answers: int = 0

    def add(self, action: str, answer: bool = False) -> None:
        """Append a response once (a turn never says the same thing twice)."""
        if action not in self.actions:
            self.actions.append(action)
            self.answers += int(answer)


def topic_of_intent(intent: str) -> Optional[str]:
    """`ask_causes` -> `causes`; None for intents that are no article or coaching topic."""
    if intent.startswith("ask_") and intent[4:] in ARTICLE_TOPICS + COACHING_TOPICS:
        return intent[4:]
    return None


def follow_up_of_intent(intent: str) -> Optional[str]:
    """`ask_followup_amount` -> `amount`."""
    prefix = "ask_followup_"
    if intent.startswith(prefix) and intent[len(prefix) :] in FOLLOW_UPS:
        return intent[len(prefix) :]
    return None


def resolve_follow_up(follow_up: str, topic: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """(the topic that answers a follow-up, or None with the subject the article lacks)."""
    if follow_up == "children":
        return None, "children"
    if topic is None:
        # Nothing said yet to follow up on: the questions that stand on their own.
        alone = {"source": "foods_to_eat", "how": "what_to_do"}.get(follow_up)
        return alone, None
    targets = _FOLLOW_UP_TARGETS.get(follow_up, {})
    if topic in targets:
        target = targets[topic]
        return (target, None) if target else (None, _FOLLOW_UP_SUBJECTS.get(follow_up, "that"))
    # Asked again about the same thing ("why?", "is that bad?" after most answers).
    return (
        (topic, None)
        if follow_up in ("why", "concern", "more", "how")
        else (None, _FOLLOW_UP_SUBJECTS.get(follow_up, "that"))
    )


def _answer(plan: TurnPlan, part: Part, history: History, situation: Sequence[str], fiber_amount: bool = False) -> None:
    """Append the response(s) answering one question (`fiber_amount`: it asks how much fiber)."""
    intent = part.intent
    if part.not_covered and intent not in ("ask_apply", "ask_coaching", "request_coach"):
        plan.add(NOT_COVERED)
        return
    if intent in CLOSING_INTENTS:
        plan.add(CLOSING)
        return
    if intent == "request_coach":
        plan.add(REQUEST_COACH)
        return
    if intent in ("ask_topics", "affirm"):
        plan.add("utter_topics")
        return
    follow_up = follow_up_of_intent(intent)
    if follow_up == "children" and "child" in situation:
        return  # the acknowledgement says the article does not cover children
    if follow_up is not None:
        target, _subject = resolve_follow_up(follow_up, history.topic)
        if target is None:
            plan.add(NOT_COVERED if _subject else "utter_please_rephrase")
            return
        if target == PRICE:
            plan.add(REQUEST_COACH)
            return
        intent = f"ask_{target}"
    topic = topic_of_intent(intent)
    if topic == "fiber_increase" and fiber_amount:
        topic = "fiber_amount"
    if topic == "fiber_increase" and history.ibs:
        # "I have IBS" ... "so should I be eating more fiber or not?": the article's IBS advice.
        topic = "fiber_ibs"
    if topic == "fiber_amount" and "child" in situation:
        return  # the article's 25-30 g is for adults: the acknowledgement says so
    if topic is not None:
        plan.add(f"utter_ask_{topic}", answer=topic in ARTICLE_TOPICS)
        return
    if intent == NOT_COVERED_INTENT:
        plan.add("utter_ask_beyond_article")
    elif intent in (FALLBACK, OUT_OF_SCOPE):
        pass  # handled by the caller: only when nothing else in the message was understood
    elif intent in KIND_OF_SAFETY_INTENT:
        pass  # answered first by the safety step
    else:
        plan.add(f"utter_{intent}")


def _care_plan(now: Understanding, history: History) -> TurnPlan:
    """After a safety signal: the guidance again first, then any plain question; no link.

    A follow-up about the same symptoms ("could that be leaky gut?"), a coaching request or
    a message not understood gets the guidance of the most urgent kind seen, never a
    generic answer or the application; thanks and goodbye get the resources.
    """
    plan = TurnPlan()
    kinds = [k for k in KIND_ORDER if k in now.safety]
    for kind in kinds:
        plan.add(f"utter_{SAFETY_INTENT_OF_KIND[kind]}")
    if now.language != "en":
        # Whatever a later message in Spanish or French asks ("y el kéfir es bueno?"), the
        # guidance comes again, in the visitor's language, then the English-only notice.
        if not kinds:
            plan.add(f"utter_{SAFETY_INTENT_OF_KIND[history.care_kinds[0]]}")
        plan.add(LANGUAGE_NOTICE_CARE)
        return plan
    questions = [p for p in now.questions() if p.intent not in KIND_OF_SAFETY_INTENT]
    if questions and all(p.intent in CLOSING_INTENTS for p in questions):
        plan.add(CLOSING_CARE)
        return plan
    if not kinds:
        plan.add(f"utter_{SAFETY_INTENT_OF_KIND[history.care_kinds[0]]}")
    for part in questions:
        intent = part.intent
        if intent in ("request_coach", "ask_apply", "ask_coaching", "ask_after_applying"):
            plan.add(REQUEST_COACH_CARE)
        elif intent in CLOSING_INTENTS:
            plan.add(CLOSING_CARE)
        elif (
            topic_of_intent(intent) in ARTICLE_TOPICS
            and topic_of_intent(intent)
            not in ("am_i_affected", "symptoms", "causes", "diagnosis", "what_to_do", "linked_conditions")
            and not part.not_covered
        ):
            _answer(plan, part, history, now.situation)
    return plan


def _unplaced_follow_up(now: Understanding) -> bool:
    """A short follow-up the classifier could not place on a topic of its own.

    Fallback and out of scope; "which nuts exactly?" or "why not?" read as a request for
    the topics or as "yes" when they are questions; the article lacks it, unless the
    classifier is sure ("how long does healing take?"); any unsure guess but a follow-up
    intent, which the current topic resolves by itself ("should my kids get tested too?").
    """
    if now.intent in (FALLBACK, OUT_OF_SCOPE):
        return True
    if now.intent in ("ask_topics", "affirm"):
        return now.question
    if now.intent == NOT_COVERED_INTENT:
        return now.confidence < SURE_CONFIDENCE
    return now.confidence < UNSURE_CONFIDENCE and follow_up_of_intent(now.intent) is None


def _acknowledge_situation(plan: TurnPlan, situation: Sequence[str]) -> None:
    """One acknowledgement per situation the visitor named, in a fixed order."""
    for kind in ("pregnancy", "breastfeeding", "child", "allergy", "condition", "medication"):
        if kind in situation:
            plan.add(f"utter_situation_{kind}")


def plan_turn(now: Understanding, history: History) -> List[str]:
    """The responses for this turn, in order (the policy then listens)."""
    if now.safety or history.care_kinds:
        care = History(
            care_kinds=tuple(k for k in KIND_ORDER if k in set(now.safety) | set(history.care_kinds)),
            topic=history.topic,
        )
        return _care_plan(now, care).actions
    plan = TurnPlan()
    if now.language != "en" and not (now.intent in DIALOGUE_ACTS and now.confidence >= SURE_CONFIDENCE):
        if not understood_abroad(now):
            # Not understood: a notice in the visitor's language, never the application link;
            # a pregnancy, a child or an allergy it names still gets its "ask your doctor".
            plan.add(LANGUAGE_NOTICE)
            _acknowledge_situation(plan, now.situation)
            return plan.actions
        # A Spanish or French question the classifier placed: the notice, then the answer.
        plan.add(LANGUAGE_ANSWER_NOTICE)
    if now.intent == "greet" and not now.parts:
        plan.add("utter_greet")
        asked = question_beside_courtesy(now)
        if asked is None:
            return plan.actions
        # "hiii! what's leaky gut?": the greeting, then the answer, read as one question.
        now = replace(now, intent=asked)
    if now.intent == "thank" and not now.parts:
        asked = question_beside_courtesy(now)
        if asked is not None:
            # "thank you so much how do i sign up": you're welcome, then the answer.
            plan.add(WELCOME)
            now = replace(now, intent=asked)
    if now.off_domain and history.topic is None and not now.parts and follow_up_of_intent(now.intent):
        # "best way to clean an oven without harsh chemicals" reads as "how?", but nothing
        # was said to follow up on and no word of it is the practice's: out of scope.
        now = replace(now, intent=OUT_OF_SCOPE)
    if now.leading and not now.parts and now.intent in DIALOGUE_ACTS + CLOSING_INTENTS + ("ask_topics", FALLBACK):
        # "you don't really need that much fiber, do you?": the tag reads as a "no" or a
        # goodbye; the premise is an article question, the best one the classifier saw.
        asked = next(
            (name for name, score in now.scores[:3] if topic_of_intent(name) and score >= LEADING_TOPIC_SCORE), None
        )
        if asked is not None:
            now = replace(now, intent=asked, confidence=dict(now.scores)[asked])
    asked_next = next_topic(now, history.topic)
    if now.more_of_the_same and history.topic is not None and not now.parts:
        topic = _LIST_OF.get(history.topic, history.topic)
        now = replace(now, intent=f"ask_{topic}", confidence=1.0)
    elif asked_next is not None:
        # "and what loosens them?" after what leaky gut is: the causes, not the same answer.
        now = replace(now, intent=f"ask_{asked_next}", confidence=1.0)
    elif continues_topic(now, history.topic):
        now = replace(now, intent=f"ask_{history.topic}", confidence=1.0)
    elif stays_on_topic(now, history.topic):
        # Its confidence is the topic's own: an unsure reading is still resolved as a short
        # follow-up of the topic below, a sure one by what its question words ask of it.
        now = replace(now, intent=f"ask_{history.topic}", confidence=dict(now.scores).get(f"ask_{history.topic}", 0.0))
    if now.elliptic and history.topic is not None and not now.parts and _unplaced_follow_up(now):
        if set(now.situation) & {"pregnancy", "breastfeeding", "child"}:
            # "and when you're pregnant?": the acknowledgement, and no adult answer again.
            now = Understanding(intent=NOT_COVERED_INTENT, situation=now.situation, language=now.language)
        else:
            # "which ones?" after the linked conditions: the same topic, or its next step.
            topic = "after_applying" if history.topic == "apply" else history.topic
            now = Understanding(intent=f"ask_{topic}", situation=now.situation, language=now.language)
    elif (
        now.elliptic
        and now.follow_up is not None
        and history.topic is not None
        and not now.parts
        and topic_of_intent(now.intent) == history.topic
    ):
        # "and how do I fix that?" after the causes: not the causes again, what it asks of them.
        now = replace(now, intent=f"ask_followup_{now.follow_up}")
    if now.parts and now.parts[0].intent == "greet":
        plan.add("utter_greet")  # "Good day. I am allergic to wheat ...": hello first
    _acknowledge_situation(plan, now.situation)
    asks = [p for p in now.questions() if p.intent not in CLOSING_INTENTS and p.intent != "greet"]
    if len(asks) == 1 and asks[0].intent == FALLBACK and topic_of_intent(now.intent) is not None:
        # "I would like to know which foods ... Thank you kindly.": the question, long and
        # read alone, falls back; the message as a whole is read as the question.
        now = replace(now, parts=tuple(replace(p, intent=now.intent) if p is asks[0] else p for p in now.parts))
    for part in now.questions():
        if part.intent == "thank" and asks:
            # "Thanks so much! How do I sign up?": the thanks gets a welcome, not the close.
            plan.add(WELCOME)
            continue
        _answer(plan, part, history, now.situation, fiber_amount=now.fiber_amount and not now.parts)
        # A later question of the same message follows up on the earlier ones.
        answered = [a for a in plan.actions if a.startswith("utter_ask_")]
        if answered and topic_of_intent(answered[-1][len("utter_") :]) is not None:
            history = replace(history, topic=answered[-1][len("utter_ask_") :])
    if not plan.actions:
        if now.intent == OUT_OF_SCOPE or any(p.intent == OUT_OF_SCOPE for p in now.questions()):
            plan.add("utter_out_of_scope")
        else:
            # Ask to rephrase; on the second miss in a row the action hands over, with the offer.
            plan.add(FALLBACK_ACTION)
            if history.misses_before >= 1 and not now.safety_doubt:
                plan.add(OFFER)
            return plan.actions
    if now.leading:
        # Before the first article answer, so "Not widely yet." is not read as agreeing.
        first = next(
            (i for i, a in enumerate(plan.actions) if topic_of_intent(a[len("utter_") :]) in ARTICLE_TOPICS), None
        )
        if first is not None:
            plan.actions.insert(first, PREMISE)
    if LINK_RESPONSES & set(plan.actions):
        return plan.actions
    asked_coaching = any(p.intent in ("ask_coaching", "ask_after_applying") for p in now.questions())
    due = plan.answers > 0 and (
        not history.offered or history.answers_since_offer + plan.answers >= OFFER_EVERY_ANSWERS
    )
    # A message the safety model reads as likely a signal gets no offer it did not ask for:
    # "is a probiotic ok when I've stopped eating most days" may be more than a food question.
    if asked_coaching or (due and not now.safety_doubt):
        plan.add(OFFER)
    return plan.actions
