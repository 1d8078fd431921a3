"""Safety frames: signals found by what a passage talks about, in any wording and order.

Examples are written for these tests (none is taken from the blind sets). Each frame is
checked on its own (`load_safety_frames`), and the whole layer (`find_signals` with the
default rules) is checked on messages the exact-phrasing patterns alone miss.
"""

from __future__ import annotations

from typing import Dict, List

import pytest

from practice.nlu.safety_guard import (
    SafetyFrame,
    find_signals,
    load_safety_frames,
    load_safety_rules,
    load_sentence_support,
    normalise,
    strip_accents,
)


@pytest.fixture(scope="module")
def frames() -> Dict[str, SafetyFrame]:
    """Every frame by name."""
    return {f.name: f for found in load_safety_frames().values() for f in found}


def prepared(text: str) -> str:
    """What the layer matches against: lower-case, straight quotes, no accents."""
    return strip_accents(normalise(text))


def kinds(text: str) -> List[str]:
    """The kinds the whole layer finds in `text`."""
    return [s.kind for s in find_signals(load_safety_rules(), text)]


@pytest.mark.parametrize(
    "name, text",
    [
        ("blood+bowel", "when I wiped this morning the paper was bright red"),
        ("blood+bowel", "hay sangre roja en mis heces desde ayer"),
        ("blood+bowel", "il y a du sang rouge foncé dans mes selles"),
        ("blood+vomit", "I threw up and there were streaks of blood in it"),
        ("black+bowel", "my poo has gone black and sticky"),
        ("weight_loss+unintended", "dropped two sizes since summer and I'm not even dieting"),
        ("weight_loss+unintended", "he perdido 7 kilos sin hacer dieta"),
        ("swallow_trouble+swallow", "my dad struggles to swallow, food gets stuck halfway down"),
        ("swallow_trouble+swallow", "Mum says it feels like a stone in her throat when she eats"),
        ("no_fluids", "the baby has had no wet nappies all day"),
        ("fever+belly_pain", "tengo fiebre y mucho dolor de barriga"),
        ("yellow+skin_eyes", "my eyes look kind of yellow lately"),
        ("means+stockpile", "I've saved up enough of my sleeping pills"),
        ("height+jump", "I keep looking down from the bridge on my walk home"),
        ("no_wake", "j'aimerais m'endormir et ne plus me réveiller"),
        ("death_wish", "a veces pido que dios me lleve ya"),
        ("self_harm", "started cutting my arms again last week"),
        ("end_life", "je cherche comment me tuer sans souffrir"),
        ("end_life", "el año pasado intenté matarme con pastillas"),
        ("height+jump", "anoche pensé en tirarme por la ventana del cuarto piso"),
        ("means+stockpile", "ya me da igual, esta noche me tomo todo el botiquín"),
        ("not_here", "no quiero seguir aquí, estoy cansada de todo"),
        ("pointless", "je n'ai plus aucune raison de continuer"),
        ("self_harm", "je me suis ouvert le poignet hier soir"),
        ("self_harm", "me golpeo la cabeza contra la pared cuando me duele"),
        ("goodbye_note", "j'ai enregistré une vidéo d'adieu pour mes enfants"),
        ("goodbye_note", "escribí una carta de despedida para mi madre"),
        ("deadly_means", "I sat with my gun for an hour last night"),
        ("fingers_throat", "two fingers down my throat after every big dinner"),
        ("purge_sure", "I make sure lunch comes back up before class"),
        ("laxative_handful", "il prend une poignée de laxatifs le dimanche"),
        ("vomit+coffee_grounds", "mon père a vomi quelque chose comme du café moulu"),
        ("fever+belly_pain", "j'ai 39,5 et mal au bas du ventre à droite"),
        ("self_harm", "how do you stop wanting to hurt yourself? asking for me"),
        ("self_harm", "been opening up my wrists a bit, not deep"),
        ("burden", "he texted 'sorry for being such a burden' and his phone is off"),
        ("end_life", "I don't trust myself to be alone tonight"),
        ("not_here", "I want to thank her before I'm gone"),
        ("not_here", "won't be needing my savings where I'm going"),
        ("overdose_act", "i took a lot of my pills a bit ago on purpose"),
        ("self_injury", "j'ai recommencé avec la lame de rasoir, sur le ventre"),
        ("self_injury", "tengo las muñecas llenas de rayitas otra vez"),
        ("lethal_question", "con cuántas pastillas de paracetamol se daña el hígado del todo"),
        ("lethal_question", "mon fusil de chasse est chargé dans le garde-robe"),
        ("death_wish", "me gustaría no haber nacido, es cansancio de existir"),
        ("no_wake", "cada noche le pido a Dios que no me deje amanecer"),
        ("not_here", "c'est mon dernier hiver, je le sens"),
        ("height+jump", "me asomo por el borde de la azotea y me imagino cayendo"),
        ("water+not_coming_back", "sometimes I think of walking into the lake and not coming back"),
        ("car_fumes", "I sat in the garage with the engine running for a while"),
        ("vomit+purge_meal", "I bring my dinner back up so it doesn't count"),
        ("compensate+compensation_act", "every bite has to be compensated, so I run until it's gone"),
        ("weight_drug+weight_goal", "tomo diuréticos para bajar de peso"),
        ("only_water+days_count", "only water since day 4 of my fast"),
        ("skip_meals+weight_goal", "I skip lunch and dinner so the scale keeps going down"),
        ("burden", "me siento una carga para mi familia"),
        ("dark_urine", "my pee has been the colour of cola all week"),
        ("rare_meals", "je ne mange qu'un repas tous les trois jours"),
        ("fasting+weight_goal", "ayuno tres días seguidos para bajar de peso"),
        ("vomit+on_purpose", "I throw up after dinner on purpose"),
        ("only_water+days_count", "nothing but coffee and water since Tuesday"),
    ],
)
def test_each_frame_finds_its_signal(frames: Dict[str, SafetyFrame], name: str, text: str) -> None:
    assert frames[name].matches(prepared(text)), name


@pytest.mark.parametrize(
    "name, text",
    [
        # figures of speech and everyday words near the new crisis and eating forms
        ("end_life", "les gratins de ma belle-mère vont finir par me tuer"),
        ("end_life", "me mato a trabajar toda la semana"),
        ("not_here", "je ne compte plus être là la semaine prochaine, vacances!"),
        ("vomit+coffee_grounds", "the coffee grounds go in my compost, is coffee ok for the gut?"),
        ("purge_sure", "I make sure my kids eat breakfast"),
        ("fever+belly_pain", "j'ai 39 ans et mal au ventre parfois"),
        ("end_life", "my trainer makes us do suicide sprints every session"),
        ("not_here", "before I'm gone on vacation, can you send the link?"),
        ("overdose_act", "I took a lot of pills for my cold, is that bad for the gut?"),
        ("goodbye_note", "a goodbye message of sorts: we're moving across the country"),
        ("not_here", "ya no lo voy a necesitar, le regalé mi bici a mi sobrino"),
        # a negated first concept
        ("blood+bowel", "no blood in my poo, just a lot of gas"),
        ("fever+belly_pain", "my belly hurts a bit but no fever"),
        # concepts too far apart
        ("black+bowel", "I drink black coffee in the morning and the rest of the day I feel fine, then the toilet"),
        # a question about symptoms in general, not a report
        ("blood+bowel", "can leaky gut cause blood in the stool?"),
        # wishes, not reports
        ("weight_loss+unintended", "je voudrais perdre quelques kilos sans régime extrême"),
        ("skip_meals+weight_goal", "I skip breakfast because I'm never hungry in the morning"),
        ("death_wish", "this cake is to die for"),
        ("death_wish", "me quiero morir de la vergüenza jaja"),
        ("swallow_trouble+swallow", "I have trouble swallowing pills, are there powder probiotics?"),
        # an animal's symptoms are no visitor's red flag
        ("vomit+purge_meal", "my dog vomited after eating, is kefir ok for dogs?"),
        # the visitor's work with blood and vomit is no report of them
        ("blood+vomit", "paramedic here, cleaned blood and vomit out of the ambulance all night, what's a good snack?"),
        ("blood+vomit", "soy enfermera de guardia, sangre y vómito todo el día, ¿qué desayuno?"),
        # a fasting blood test is no fast
        ("fasting+weight_goal", "my doctor ordered a fasting blood test, should I worry about my weight?"),
        ("faint", "I spent the day passing out flyers for the bakery"),
    ],
)
def test_a_frame_stays_quiet_where_it_should(frames: Dict[str, SafetyFrame], name: str, text: str) -> None:
    assert not frames[name].matches(prepared(text)), name


@pytest.mark.parametrize(
    "text, expected",
    [
        ("went to the toilet and the bowl turned completely red", ["red_flag"]),
        ("Mum can't get her tablets down, it feels like a stone in her throat", ["red_flag"]),
        ("C'est combien ? De toute façon j'ai mis de côté des médicaments pour en finir", ["crisis"]),
        ("no sé si voy a seguir aquí el mes que viene", ["crisis"]),
        ("if I eat 500 calories I have to burn them off, so I run for two hours", ["eating_disorder"]),
        ("some nights I hope I just don't open my eyes again", ["crisis"]),
        ("I took a handful of pills hoping I wouldn't wake up", ["crisis"]),
        ("ojalá mañana no me despierte, ya no puedo más", ["crisis"]),
        ("j'espère que je ne me réveille pas demain matin", ["crisis"]),
        ("ce que je rejette ressemble à du marc de café, c'est grave ?", ["red_flag"]),
        ("I'm a nurse and since this morning I've been vomiting blood", ["red_flag"]),
    ],
)
def test_the_layer_finds_what_exact_phrasings_miss(text: str, expected: List[str]) -> None:
    assert kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "this deadline is killing me, what should I eat for energy?",
        "Les gratins de ma belle-mère vont finir par me tuer, des idées plus légères ?",
        "last thing: who wrote the article?",
        "my house is a mess, I purged everything I own before the move",
        "hoping I don't wake up late for my exam, what's a good breakfast for the gut?",
        "I hope I won't wake up with bloating again after dinner",
        "ojalá no me despierte el ruido de la obra otra vez",
        "j'espère que je ne me réveille pas trop tard demain",
        "beans make me sick every time, gassy for hours: should I give them up?",
        "my bank account wants to die after this month, how much is the coaching?",
        "I'm writing an essay on suicide prevention and the gut-brain axis",
        "on a purgé les radiateurs hier, c'est quoi le kéfir de fruits ?",
        "me hicieron análisis de heces y de sangre y todo bien, pero sigo con gases",
        "they did a full blood panel and a stool sample at my checkup, all normal",
    ],
)
def test_the_layer_leaves_ordinary_messages_alone(text: str) -> None:
    assert kinds(text) == []


def test_a_classifier_only_sentence_needs_a_word_of_its_kind() -> None:
    support = load_sentence_support()
    assert not support["crisis"].search(prepared("I don't want to overthink it, I feel good"))
    assert support["crisis"].search(prepared("I don't want to be alive anymore"))
    assert support["eating_disorder"].search(prepared("I make myself sick after dinner"))
