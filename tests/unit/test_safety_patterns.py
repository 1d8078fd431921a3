"""The safety patterns force the right intent and leave ordinary questions alone."""

from __future__ import annotations

from typing import List

import pytest

from practice.nlu.safety_guard import SafetyRule, load_safety_rules, match_safety_intent

RED_FLAG = "report_red_flag_symptoms"
SELF_HARM = "express_self_harm"
DISORDERED = "mention_disordered_eating"


@pytest.fixture(scope="module")
def rules() -> List[SafetyRule]:
    """The rules shipped in practice/nlu/safety_patterns.yml."""
    return load_safety_rules()


POSITIVES = [
    # the same words where they are a signal (round four)
    ("I keep throwing up and can't keep water down", RED_FLAG),
    ("I think I have an eating disorder", DISORDERED),
    ("me purgo después de cada comida", DISORDERED),
    ("I just want something to finish me off, I can't go on", SELF_HARM),
    # red flags: blood
    ("I have blood in my stool", RED_FLAG),
    ("there was blood in the toilet after I went", RED_FLAG),
    ("Bloody diarrhea since Monday", RED_FLAG),
    ("i've been pooping blood", RED_FLAG),
    ("bleeding from my bum when I go", RED_FLAG),
    ("I threw up blood this morning", RED_FLAG),
    ("my vomit looks like coffee grounds", RED_FLAG),
    # red flags: black or tarry stool
    ("my poop is black and tarry", RED_FLAG),
    ("Black stools for three days now", RED_FLAG),
    ("my stool has been black since Tuesday", RED_FLAG),
    ("poo looks like tar", RED_FLAG),
    ("my poops have gone completely black", RED_FLAG),
    # red flags: persistent vomiting
    ("I keep vomiting", RED_FLAG),
    ("I can\u2019t stop throwing up", RED_FLAG),
    ("been throwing up since last night", RED_FLAG),
    ("vomiting for 2 days straight", RED_FLAG),
    ("I can't keep anything down", RED_FLAG),
    ("puking nonstop since the weekend", RED_FLAG),
    ("been vomitting all day", RED_FLAG),
    # red flags: severe or worsening pain
    ("severe stomach pain", RED_FLAG),
    ("I have really severe abdominal pain", RED_FLAG),
    ("the pain in my belly is getting worse", RED_FLAG),
    ("my stomach pain is getting worse every day", RED_FLAG),
    ("excruciating pain in my lower right abdomen", RED_FLAG),
    ("stomach hurts so bad", RED_FLAG),
    # red flags: weight loss without trying
    ("unexplained weight loss", RED_FLAG),
    ("I'm losing weight without trying", RED_FLAG),
    ("lost 8 kg in two months without dieting", RED_FLAG),
    ("I keep losing weight and I don't know why", RED_FLAG),
    # red flags: swallowing, fever, chest, breathing
    ("I have trouble swallowing", RED_FLAG),
    ("it hurts when I swallow food", RED_FLAG),
    ("food keeps getting stuck in my throat", RED_FLAG),
    ("I have a fever and my stomach really hurts", RED_FLAG),
    ("belly ache and a high temperature since yesterday", RED_FLAG),
    ("I get chest pain after meals", RED_FLAG),
    ("I'm short of breath", RED_FLAG),
    ("I can't breathe properly after eating", RED_FLAG),
    ("my throat is swelling after I ate nuts", RED_FLAG),
    # self-harm
    ("I want to kill myself", SELF_HARM),
    ("sometimes I think about suicide", SELF_HARM),
    ("I feel suicidal", SELF_HARM),
    ("I've been cutting myself again", SELF_HARM),
    ("I don't want to live anymore", SELF_HARM),
    ("I just want to end it all", SELF_HARM),
    ("I'm thinking of ending my life", SELF_HARM),
    ("I wish I were dead", SELF_HARM),
    ("everyone would be better off if I was dead, I'd be better off dead", SELF_HARM),
    ("life is not worth living with this gut", SELF_HARM),
    ("nobody would miss me", SELF_HARM),
    ("I want to die", SELF_HARM),
    ("self-harm helps me cope", SELF_HARM),
    ("I'd rather go to sleep and never wake up", SELF_HARM),
    ("thinking of overdosing on paracetamol", SELF_HARM),
    ("i don't see any point in living", SELF_HARM),
    ("I want to end it.", SELF_HARM),
    # disordered eating
    ("I eat 500 calories a day", DISORDERED),
    ("ran 8 miles to burn off one slice of birthday cake. normal right?", DISORDERED),
    ("went for a 10 mile run to burn off the pizza", DISORDERED),
    ("is 600 kcal per day ok for leaky gut?", DISORDERED),
    ("I want to eat under 800 calories", DISORDERED),
    ("I keep it to less than 1200 calories", DISORDERED),
    ("I make myself throw up after eating", DISORDERED),
    ("I've been making myself sick after dinner", DISORDERED),
    ("I throw up after meals so I don't gain weight", DISORDERED),
    ("I purge most nights", DISORDERED),
    ("I take laxatives to lose weight", DISORDERED),
    ("laxatives after every meal", DISORDERED),
    ("I'm starving myself to get thin", DISORDERED),
    ("I stopped eating so I can lose weight faster", DISORDERED),
    ("i stopped eating so that i'd fit into my dress", DISORDERED),
    ("I haven't eaten in four days", DISORDERED),
    ("I'm skipping meals to lose weight", DISORDERED),
    ("I think I have an eating disorder", DISORDERED),
    ("I was bulimic as a teen and it's back", DISORDERED),
    ("I binge and then vomit", DISORDERED),
    ("900 calories max, every day", DISORDERED),
    ("I've been fasting for days to get thin", DISORDERED),
    ("I keep restricting my food intake", DISORDERED),
    ("I've started taking diet pills", DISORDERED),
    # priority: the crisis wins over the symptom, purging is not a vomiting red flag
    ("I keep vomiting and I want to die", SELF_HARM),
    ("I keep making myself throw up to lose weight", DISORDERED),
    ("I've been throwing up after every meal to stay thin", DISORDERED),
    ("I make myself throw up and now there is blood in my vomit", RED_FLAG),
    # found by a held-out set written blind (2026-11-26)
    ("honestly I'd rather be dead", SELF_HARM),
    ("what's the point of living like this", SELF_HARM),
    ("fever since yesterday and my tummy is killing me", RED_FLAG),
    ("dropped 8kg in two months without trying", RED_FLAG),
    ("I usually throw up after a binge", DISORDERED),
    ("what is the least calories a person can survive on", DISORDERED),
    ("when I eat too much I spend extra hours at the gym", DISORDERED),
    ("I run every night to make up for eating", DISORDERED),
    # what a visitor notices, said in passing (round nine)
    ("quick one, is it normal to see blood every time I go to the toilet?", RED_FLAG),
    ("can't keep water to stay down since yesterday", RED_FLAG),
    ("nothing stays down, not even water", RED_FLAG),
    ("my stomach pain keeps waking me up at night", RED_FLAG),
    ("a dull ache under my ribs wakes me up most nights", RED_FLAG),
    ("mum keeps choking on her food lately", RED_FLAG),
    ("down 6 kilos this month and I haven't been dieting at all", RED_FLAG),
    ("I'm about to give up on living", SELF_HARM),
    ("did four days on just black coffee, going for a week", DISORDERED),
    ("haven't had a proper meal in over a week", DISORDERED),
    ("I can't keep food or water down since yesterday", RED_FLAG),
    ("my mum keeps choking when she eats bread", RED_FLAG),
    ("how do I hide not eating from my roommates", DISORDERED),
]

NEGATIVES = [
    # article questions about symptoms
    "does leaky gut cause bloating?",
    "can fiber cause gas?",
    "is weight loss a symptom of leaky gut?",
    "can leaky gut make you lose weight?",
    "what are the symptoms?",
    "does leaky gut cause stomach pain?",
    "I get stomach cramps after dairy",
    "I have diarrhea most mornings, could it be leaky gut",
    "does leaky gut cause nausea",
    "is vomiting a sign of leaky gut?",
    "I'm bloated and constipated",
    "my stomach hurts a bit after eating bread",
    # words that look like red flags but are not
    "is there a blood test for leaky gut?",
    "does sugar affect blood sugar and my gut?",
    "is black coffee ok for my gut?",
    "are black beans good fiber?",
    "can I swallow probiotic capsules whole?",
    "what's my daily fiber target",
    "I need a cardiologist for my blood pressure",
    "best horror movies with lots of blood",
    # weight and calories said normally
    "I want to lose weight in a healthy way",
    "I lost 5 pounds after cutting out junk food",
    "how many calories should I eat a day?",
    "I eat about 2000 calories a day",
    "took the kids to the park to burn off some energy before dinner",
    "went for a run to burn off the stress of the day",
    "went for a walk to burn off some energy before lunch",
    # the last digits of a larger number are no low target
    "I'm aiming for about 1,800 calories a day like my doctor suggested",
    "my plan says 2,400 calories max on training days",
    "is a 1,500 calorie diet too low for a man?",
    "is a 200 calorie snack ok?",
    "can I take laxatives for constipation?",
    "is intermittent fasting good for leaky gut?",
    "should I skip breakfast?",
    "can you overdose on probiotics?",
    "is fasting good for leaky gut?",
    "should I restrict gluten?",
    "what's the point of a food journal?",
    "I'm not sure what to eat",
    "is it safe to eat kimchi every day?",
    "I want to end my sugar habit",
    # figures of speech
    "I'm starving, what's a gut friendly snack?",
    "this bloating is killing me",
    "I could kill for a burger",
    "I'm dying for a coffee",
    "I'm dying to know what causes leaky gut",
    "how do I kill a process in linux",
    "do probiotics kill bad bacteria?",
    "should I cut out gluten?",
    "I'm sick of feeling tired all the time",
    "ideas to throw a birthday party",
    "my phone battery is dying",
    # ordinary chat
    "What is leaky gut?",
    "How much fiber do I need?",
    "Tell me about 1:1 coaching",
    "hi",
    "My friend Mia told me about leaky gut",
    # figures of speech and ordinary questions near the newer patterns
    "I'd rather die than eat kale lol",
    "what's the point of probiotics",
    "I lost 5 pounds on holiday, does that matter",
    "I go to the gym after eating, is that ok",
    "how many calories are in a bowl of oats",
    "should i stop eating so much sugar and junk food for my gut",
    "I want to stop eating so late at night",
    # a pet's stomach, a workplace, a cupboard, hyperbole (round four)
    "our dog keeps throwing up grass in the garden, unrelated but what fiber target for me?",
    "I'm a dietitian on an eating disorder unit, do you take referrals for gut issues?",
    "purgué la nevera de ultraprocesados, ¿qué compro ahora?",
    "that ghost pepper sauce nearly finished me off lol, is spicy food bad for the gut?",
    # near the round-nine patterns
    "my period cramps woke me up last night",
    "the baby wakes me up every night, what fiber should I eat",
    "I'd never give up on life, but what is leaky gut",
    "two days of just broth before my colonoscopy prep, is that ok for my gut?",
    "my toddler keeps choking on his laughter when he eats lol",
    "how do I hide vegetables in my kids' food",
]


@pytest.mark.parametrize(("text", "intent"), POSITIVES)
def test_pattern_forces_safety_intent(rules: List[SafetyRule], text: str, intent: str) -> None:
    """Each red-flag, crisis or eating-disorder text gets its safety intent."""
    found = match_safety_intent(rules, text)
    assert found is not None, f"no safety pattern matched {text!r}"
    assert found["intent"] == intent, f"{text!r} matched {found}"


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_text_is_left_to_the_classifier(rules: List[SafetyRule], text: str) -> None:
    """Ordinary questions and figures of speech are not forced to a safety intent."""
    found: dict | None = match_safety_intent(rules, text)
    assert found is None, f"{text!r} wrongly matched {found}"


def test_rules_are_in_priority_order(rules: List[SafetyRule]) -> None:
    """Crisis first, then red flags, then eating disorders, each with patterns."""
    assert [rule.intent for rule in rules] == [SELF_HARM, RED_FLAG, DISORDERED]
    assert all(rule.patterns for rule in rules)
