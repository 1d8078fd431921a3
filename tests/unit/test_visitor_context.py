"""What a visitor says about themselves, and subjects the article does not cover
(practice/nlu/visitor_context.py with practice/nlu/visitor_context.yml)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from practice.nlu.visitor_context import ContextRules, load_context_rules, question_beside_situation, read_context


@pytest.fixture(scope="module")
def rules() -> ContextRules:
    """The rules of visitor_context.yml."""
    return load_context_rules()


@pytest.mark.parametrize(
    "text, subject",
    [
        ("is coffee bad for my gut?", "coffee"),
        ("does activated charcoal help with gas", "activated charcoal"),
        ("would acupuncture do anything for this", "acupuncture and manual therapies"),
        ("are ice baths good for gut inflammation", "cold plunges and saunas"),
        ("can leaky gut turn into cancer", "cancer"),
        ("how long does it take to heal?", "how long healing takes"),
        ("how long until i feel better", "how long healing takes"),
        ("and how quickly will that work?", "how long healing takes"),
        ("can my husband catch it from me, is it contagious", "whether it is contagious"),
        ("what helps a newborn with colic", "infants"),
        ("how many glasses of kefir a day", "amounts of specific foods"),
        ("what about lectins in beans", "lectins, nightshades and oxalates"),
        ("are eggs ok to eat with a leaky gut", "eggs"),
        ("does manuka honey heal the gut lining", "honey"),
        ("can i take imodium when it gets bad", "anti-diarrhea medicines"),
        ("is AG1 worth the money for gut health", "greens powders"),
        ("and what about vaping?", "vaping"),
        ("which meds exactly?", "which medications or infections"),
        ("how many hours of sleep do I need", "how many hours of sleep"),
        ("how many grams of fiber in an apple?", "the fiber in specific foods"),
        ("is the lactulose mannitol test worth it", "stool and gut-lining tests"),
        ("should I try the GAPS diet", "the GAPS diet"),
        ("are those at-home microbiome stool tests accurate?", "stool and gut-lining tests"),
        ("are the IgG food sensitivity kits you order online legit", "food sensitivity tests"),
        ("is a food intolerance panel worth $300", "food sensitivity tests"),
        # anything else about those medicines is not covered
        ("is ibuprofen ok with a leaky gut", "painkillers and NSAIDs"),
        ("can the birth control pill cause gut issues", "birth control"),
        ("do antibiotics kill the good bacteria", "antibiotics"),
    ],
)
def test_a_subject_the_article_does_not_cover_is_named(rules: ContextRules, text: str, subject: str) -> None:
    assert read_context(rules, text).get("not_covered") == subject


@pytest.mark.parametrize(
    "text",
    [
        "how much fiber should I eat per day",
        "is it genetic or something I did?",
        "can leaky gut cause acne or eczema",
        "what foods should I avoid",
        "is there a blood test for it",
        "is there a blood test or stool test that can confirm it",
        "what makes those gaps appear in the lining",
        "could a lab measure it, like bloodwork or a stool sample",
        "thanks honey, that helps",
        # whether a medicine causes leaky gut: the article's causes name "certain medications"
        "can antibiotics or other meds give you a leaky gut",
        "does omeprazole cause leaky gut",
        "could ibuprofen be damaging my gut lining",
    ],
)
def test_article_questions_are_not_marked_as_not_covered(rules: ContextRules, text: str) -> None:
    assert "not_covered" not in read_context(rules, text)


@pytest.mark.parametrize(
    "text, kinds, foods",
    [
        ("I'm 20 weeks pregnant, what should I eat?", ["pregnancy"], None),
        ("my 6 year old has tummy aches, what can he eat", ["child"], None),
        ("I'm allergic to walnuts and soy, which foods help?", ["allergy"], ["walnuts", "soy"]),
        ("My 12-year-old has IBS. Which fibers are ok?", ["child"], None),
        ("nursing my 4 month old, what should I cut back on?", ["breastfeeding"], None),
        ("just finished 3 rounds of antibiotics, are probiotic foods good?", ["medication"], None),
        ("lentils make me bloat so I skip them. what fiber is ok?", ["allergy"], ["lentils"]),
        ("I've had psoriasis for years, is it linked?", ["condition"], None),
    ],
)
def test_the_visitor_s_situation_is_read(
    rules: ContextRules, text: str, kinds: List[str], foods: Optional[List[str]]
) -> None:
    situation = read_context(rules, text).get("situation", [])
    assert [s["kind"] for s in situation] == kinds
    if foods is not None:
        assert situation[-1]["foods"] == foods


@pytest.mark.parametrize(
    ("intent", "ranking", "expected"),
    [
        # "I'm on omeprazole, which foods should I avoid?": the situation pulled the guess.
        (
            {"name": "ask_beyond_article", "confidence": 0.68},
            [{"name": "ask_beyond_article", "confidence": 0.68}, {"name": "ask_foods_to_avoid", "confidence": 0.2}],
            "ask_foods_to_avoid",
        ),
        # Sure the article lacks it ("can I take L-glutamine while pregnant?").
        (
            {"name": "ask_beyond_article", "confidence": 0.97},
            [{"name": "ask_beyond_article", "confidence": 0.97}, {"name": "ask_probiotics", "confidence": 0.01}],
            None,
        ),
        # The next guess is no article question.
        (
            {"name": "ask_beyond_article", "confidence": 0.5},
            [{"name": "ask_beyond_article", "confidence": 0.5}, {"name": "ask_followup_children", "confidence": 0.3}],
            None,
        ),
        # Any other intent is left as it is.
        ({"name": "ask_causes", "confidence": 0.5}, [{"name": "ask_causes", "confidence": 0.5}], None),
    ],
)
def test_the_question_beside_a_situation_keeps_its_own_intent(
    intent: Dict[str, Any], ranking: List[Dict[str, Any]], expected: Optional[str]
) -> None:
    question = question_beside_situation(intent, ranking)
    assert (question or {}).get("name") == expected


@pytest.mark.parametrize(
    "text, kind",
    [
        ("still nursing my little one, is kefir ok for me?", "breastfeeding"),
        ("nursing, and running on no sleep. does that hurt the gut?", "breastfeeding"),
        ("nursing momma here, what foods help?", "breastfeeding"),
        ("EBF for 6 months now, can I start probiotics?", "breastfeeding"),
        ("finished a course of doxycycline last week, what should I eat?", "medication"),
        ("just done with a round of antibiotics, any foods to help?", "medication"),
    ],
)
def test_nursing_and_a_finished_course_of_antibiotics_are_situations(rules: ContextRules, text: str, kind: str) -> None:
    assert kind in [s["kind"] for s in read_context(rules, text).get("situation", [])]


@pytest.mark.parametrize(
    "text", ["I'm a nursing student, how much fiber a day?", "my gran is in a nursing home, can she do the coaching?"]
)
def test_nursing_as_a_profession_or_a_home_is_no_breastfeeding(rules: ContextRules, text: str) -> None:
    assert "breastfeeding" not in [s["kind"] for s in read_context(rules, text).get("situation", [])]


@pytest.mark.parametrize(
    "text, kind",
    [
        ("3rd trimester now, is kefir fine?", "pregnancy"),
        ("ttc since spring, what should I eat?", "pregnancy"),
        ("i'm 28 weeks and bloated, why?", "pregnancy"),
        ("estoy embarazada, ¿qué como?", "pregnancy"),
        ("je suis enceinte, quels aliments ?", "pregnancy"),
        ("exclusively pumping for my twins, how much fiber?", "breastfeeding"),
        ("j'allaite encore, le kéfir ça va ?", "breastfeeding"),
        ("my teenage daughter lives on crisps, what should she eat?", "child"),
        ("toddler won't eat veg, tips?", "child"),
        ("mi hija tiene dolor de barriga", "child"),
        ("ma fille a mal au ventre", "child"),
        ("diagnosed with anxiety last year, does my gut matter?", "condition"),
        ("crohn's warrior here, what helps?", "condition"),
        ("type 2 diabetic.", "condition"),
        ("tengo diabetes, ¿qué alimentos?", "condition"),
        ("sertraline makes me bloated, what can i eat", "medication"),
        ("im on ozempic, is fiber ok", "medication"),
        ("my thyroid tablets upset my stomach", "medication"),
    ],
)
def test_situations_said_in_other_words_and_languages(rules: ContextRules, text: str, kind: str) -> None:
    assert kind in [s["kind"] for s in read_context(rules, text).get("situation", [])]


@pytest.mark.parametrize(
    "text, left_out",
    [
        ("oats really upset my stomach, other fiber ideas?", ["oats"]),
        ("walnuts don't agree with me, what else?", ["walnuts"]),
        ("cabbage gives me awful cramps, probiotic foods?", ["kimchi", "sauerkraut"]),
        ("i break out in hives from berries and oranges. fruit ideas?", ["berries", "oranges"]),
        ("soy alérgico a las nueces y a las fresas. ¿qué como?", ["walnuts", "berries"]),
        ("je suis allergique aux noix de cajou, que manger ?", ["cashews"]),
        ("dairy sensitive, what probiotic foods are there?", ["yogurt", "kefir"]),
    ],
)
def test_a_sensitivity_in_other_words_leaves_its_foods_out(rules: ContextRules, text: str, left_out: List[str]) -> None:
    allergy = [s for s in read_context(rules, text).get("situation", []) if s["kind"] == "allergy"]
    assert allergy and set(left_out) <= set(allergy[0]["leave_out"])


@pytest.mark.parametrize(
    "text",
    [
        "Gluten makes me feel rough but I've never been diagnosed with celiac",
        "I'm 25 weeks into marathon training, what should I eat?",
        "I'm super sensitive to criticism lol, anyway what is leaky gut",
    ],
)
def test_no_condition_or_pregnancy_read_into_these(rules: ContextRules, text: str) -> None:
    kinds = [s["kind"] for s in read_context(rules, text).get("situation", [])]
    assert "condition" not in kinds and "pregnancy" not in kinds


@pytest.mark.parametrize(
    "text, about_it",
    [
        ("is sauerkraut safe while pregnant?", True),
        ("are probiotics ok during pregnancy", True),
        ("is kefir fine when breastfeeding?", True),
        ("does pregnancy make the gut leakier?", True),
        ("can being pregnant cause leaky gut?", True),
        ("I'm pregnant, which foods help the gut?", False),
        ("what foods are good when you feel bloated", False),
    ],
)
def test_a_question_about_the_pregnancy_itself_is_not_covered(rules: ContextRules, text: str, about_it: bool) -> None:
    assert (read_context(rules, text).get("not_covered") == "pregnancy and breastfeeding") is about_it
