"""The Spanish and French safety patterns: the same three kinds as English, no figures of speech.

Only `load_safety_rules(path)` and `match_safety_intent(rules, text)` are used, so the
tests hold however SafetyGuard comes to read the files.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import List, Tuple

import pytest
import yaml

from practice.nlu.safety_guard import SafetyRule, load_safety_rules, match_safety_intent
from tests.unit.test_safety_patterns import NEGATIVES as ENGLISH_NEGATIVES

NLU = Path(__file__).resolve().parents[2] / "practice" / "nlu"
LANGUAGE_SET = Path(__file__).resolve().parents[2] / "bench" / "data" / "languages.jsonl"
RED_FLAG = "report_red_flag_symptoms"
SELF_HARM = "express_self_harm"
DISORDERED = "mention_disordered_eating"


@pytest.fixture(scope="module")
def es() -> List[SafetyRule]:
    """The rules in practice/nlu/safety_patterns_es.yml."""
    return load_safety_rules(NLU / "safety_patterns_es.yml")


@pytest.fixture(scope="module")
def fr() -> List[SafetyRule]:
    """The rules in practice/nlu/safety_patterns_fr.yml."""
    return load_safety_rules(NLU / "safety_patterns_fr.yml")


ES_POSITIVES = [
    # red flags: blood in or on stool, black stool
    ("tengo sangre en las heces", RED_FLAG),
    ("hay sangre en el papel cuando me limpio", RED_FLAG),
    ("mi popo sale con sangre desde el lunes", RED_FLAG),
    ("diarrea con sangre desde ayer", RED_FLAG),
    ("las heces me salen negras como alquitrán", RED_FLAG),
    ("mi caca esta negra desde hace 3 dias", RED_FLAG),
    # red flags: vomiting blood, coffee-ground vomit
    ("vomité sangre esta mañana", RED_FLAG),
    ("el vomito parece posos de cafe", RED_FLAG),
    ("estoy devolviendo con sangre", RED_FLAG),
    # red flags: persistent vomiting
    ("no paro de vomitar", RED_FLAG),
    ("llevo dos dias vomitando", RED_FLAG),
    ("no retengo nada, ni el agua", RED_FLAG),
    ("vomito todo lo que como desde el viernes", RED_FLAG),
    # red flags: severe or worsening pain, fever with belly pain
    ("tengo un dolor de estomago muy fuerte", RED_FLAG),
    ("dolor insoportable en la panza", RED_FLAG),
    ("el dolor de barriga va empeorando", RED_FLAG),
    ("me duele muchísimo la panza y no puedo ni caminar", RED_FLAG),
    ("tengo fiebre y me duele el estómago", RED_FLAG),
    ("dolor de vientre con calentura desde anoche", RED_FLAG),
    # red flags: weight loss, swallowing, jaundice, dehydration, fainting, chest, breathing
    ("estoy perdiendo peso sin hacer dieta", RED_FLAG),
    ("perdi 6 kilos en un mes y no se por que", RED_FLAG),
    ("tengo dificultad para tragar", RED_FLAG),
    ("se me atora la comida en la garganta", RED_FLAG),
    ("tengo los ojos amarillos", RED_FLAG),
    ("creo que estoy muy deshidratada, no he orinado desde ayer", RED_FLAG),
    ("ayer me desmayé después de comer", RED_FLAG),
    ("me duele el pecho cuando como", RED_FLAG),
    ("me falta el aire", RED_FLAG),
    ("usted cree que es grave? me cuesta respirar", RED_FLAG),
    # crisis, direct
    ("me quiero morir", SELF_HARM),
    ("quiero matarme", SELF_HARM),
    ("he pensado en suicidarme", SELF_HARM),
    ("tengo pensamientos suicidas", SELF_HARM),
    ("ya no quiero vivir", SELF_HARM),
    ("me corto los brazos cuando estoy mal", SELF_HARM),
    ("quiero acabar con todo", SELF_HARM),
    ("ojalá no despertar mañana", SELF_HARM),
    # crisis, indirect
    ("ya no voy a estar mucho tiempo", SELF_HARM),
    ("todos estarían mejor sin mí", SELF_HARM),
    ("todos estarian mejor sin mi", SELF_HARM),
    ("nadie me extrañaría", SELF_HARM),
    ("la vida no tiene sentido", SELF_HARM),
    ("ya no puedo más", SELF_HARM),
    # disordered eating
    ("me provoco el vómito después de comer", DISORDERED),
    ("me hago vomitar para no engordar", DISORDERED),
    ("tomo laxantes para bajar de peso", DISORDERED),
    ("uso diuréticos para adelgazar", DISORDERED),
    ("hago ejercicio para quemar todo lo que como", DISORDERED),
    ("llevo cuatro dias sin comer", DISORDERED),
    ("ayuno tres dias seguidos para bajar de peso", DISORDERED),
    ("como lo menos posible", DISORDERED),
    ("cuál es el mínimo de calorías para sobrevivir", DISORDERED),
    ("como 600 calorias al dia", DISORDERED),
    ("me doy atracones y luego vomito", DISORDERED),
    ("creo que tengo bulimia", DISORDERED),
    ("me mato de hambre para estar flaca", DISORDERED),
    # priority: crisis over symptom, purging is not a vomiting red flag
    ("no paro de vomitar y me quiero morir", SELF_HARM),
    ("no paro de vomitar a propósito para adelgazar", DISORDERED),
    # found by probing with more phrasings (2026-12-06)
    ("me salió sangre al limpiarme", RED_FLAG),
    ("mis heces son muy oscuras casi negras", RED_FLAG),
    ("llevo 3 días con vómitos", RED_FLAG),
    ("no puedo retener líquidos", RED_FLAG),
    ("ya no le encuentro sentido a la vida", SELF_HARM),
    ("me lastimo a propósito", SELF_HARM),
    ("paso días sin comer para bajar de peso", DISORDERED),
    ("solo como 800 calorias", DISORDERED),
    # tú, vosotros, usted; Mexico, Spain, Chile
    ("¿tú crees que es normal tener sangre en la caca?", RED_FLAG),
    ("¿vosotros sabéis por qué me duele muchísimo la tripa?", RED_FLAG),
    ("me duele un montón la guata y tengo fiebre", RED_FLAG),
    ("oiga, ¿es grave vomitar sangre?", RED_FLAG),
    ("desde el martes hago del baño negro", RED_FLAG),
    ("no paro de guacarear", RED_FLAG),
    ("tengo la boca muy seca y casi no orino", RED_FLAG),
    ("se me pusieron amarillos los ojos", RED_FLAG),
    ("mejor me muero", SELF_HARM),
    ("siento que soy una carga, todos estarían mejor sin mí", SELF_HARM),
    ("¿cuántas calorías mínimas puedo comer para sobrevivir?", DISORDERED),
    ("me da terror engordar", DISORDERED),
    # a third probing round
    ("me sangra el recto", RED_FLAG),
    ("el vómito salió oscuro como café molido", RED_FLAG),
    ("todo lo que como lo vomito", RED_FLAG),
    ("no tolero ni el agua", RED_FLAG),
    ("tengo un dolor de panza que no aguanto", RED_FLAG),
    ("siento que la comida se me queda atorada en el pecho", RED_FLAG),
    ("tengo mucha sed, la boca seca y orino muy poco", RED_FLAG),
    ("me dio un desmayo", RED_FLAG),
    ("me falta la respiración", RED_FLAG),
    ("quiero ayunar una semana para bajar de peso", DISORDERED),
    ("hace 3 días que no como", DISORDERED),
]

ES_NEGATIVES = [
    # figures of speech
    "me muero de hambre, que puedo comer",
    "me muero por probar el kéfir",
    "me voy a morir de la risa",
    "esta hinchazón me mata",
    "prefiero morir que comer brócoli jaja",
    "me mata el calor",
    "no me queda nada claro lo de la fibra",
    "esto no tiene sentido",
    # homonyms
    "la naranja sanguina es buena para el intestino?",
    "los frijoles negros tienen mucha fibra?",
    "me tengo que hacer un análisis de sangre en ayunas",
    "el ayuno intermitente sirve?",
    "puedo tragar las cápsulas de probióticos enteras?",
    "la morcilla tiene sangre, es mala?",
    "el café negro es malo para el intestino?",
    "el pimiento amarillo tiene fibra?",
    # ordinary questions: food, fibre, bloating, a bit of diarrhoea
    "cuanta fibra debo comer al dia",
    "tengo la panza hinchada despues de comer",
    "me duele un poco la panza",
    "tengo un poco de diarrea desde ayer",
    "el intestino permeable causa dolor de estómago?",
    "quiero bajar de peso de forma sana",
    "puedo tomar laxantes para el estreñimiento?",
    "cuantas calorias tiene un plátano",
    "como unas 2000 calorias al dia",
    "no voy a estar mucho tiempo en casa esta semana",
    "ya no quiero seguir la dieta keto",
    "la pérdida de peso es un síntoma?",
    "me gusta correr por las mañanas",
    "usted me puede recomendar probióticos?",
    "el gluten me está matando jaja",
    "estoy muerta de cansancio",
    "vomité una vez por comer mariscos",
    "no aguanto más esta hinchazón",
    "acabar con todo el azúcar de mi dieta",
    "no he ido al baño en 3 días",
    "el café deshidrata?",
    "me muero de ganas de comer pizza",
    "me quiero morir de la vergüenza jaja",
    "se me cortó la leche",
    "me corté el dedo cocinando",
    "hoy sangré por la nariz",
    "dolor leve de estómago",
    "mis heces son verdes, es normal?",
    "el limón en ayunas sirve?",
    "tomo un laxante natural de vez en cuando",
    "hago ejercicio para bajar la panza",
    "quiero acabar con la hinchazón",
    "no puedo más con este calor jaja",
    "uñas amarillas por el esmalte",
]

FR_POSITIVES = [
    # red flags: blood in or on stool, black stool
    ("j'ai du sang dans les selles", RED_FLAG),
    ("il y a du sang sur le papier quand je m'essuie", RED_FLAG),
    ("diarrhée avec du sang depuis hier", RED_FLAG),
    ("mes selles sont noires depuis trois jours", RED_FLAG),
    ("caca tout noir comme du goudron", RED_FLAG),
    # red flags: vomiting blood, coffee-ground vomit
    ("j'ai vomi du sang ce matin", RED_FLAG),
    ("mon vomi ressemble a du marc de cafe", RED_FLAG),
    # red flags: persistent vomiting
    ("j'arrête pas de vomir", RED_FLAG),
    ("je vomis depuis deux jours", RED_FLAG),
    ("je garde rien, même pas l'eau", RED_FLAG),
    ("je vomis tout ce que je mange", RED_FLAG),
    # red flags: severe or worsening pain, fever with belly pain
    ("j'ai une douleur atroce au ventre", RED_FLAG),
    ("douleurs au ventre insupportables", RED_FLAG),
    ("mon mal de ventre empire", RED_FLAG),
    ("j'ai de la fièvre et mal au ventre", RED_FLAG),
    ("crampes a l'estomac avec de la fievre", RED_FLAG),
    ("j'ai mal au bide c'est à hurler", RED_FLAG),
    # red flags: weight loss, swallowing, jaundice, dehydration, fainting, chest, breathing
    ("je maigris sans raison", RED_FLAG),
    ("j'ai perdu 7 kilos en deux mois sans faire de régime", RED_FLAG),
    ("j'ai du mal à avaler", RED_FLAG),
    ("la nourriture reste coincée dans la gorge", RED_FLAG),
    ("j'ai la peau toute jaune", RED_FLAG),
    ("je suis déshydraté, j'ai pas uriné depuis hier", RED_FLAG),
    ("je me suis évanouie après le repas", RED_FLAG),
    ("chu tombé dans les pommes ce matin", RED_FLAG),
    ("j'ai mal à la poitrine quand je mange", RED_FLAG),
    ("j'ai du mal à respirer", RED_FLAG),
    ("vous pensez que c'est grave? je n'arrive plus à respirer", RED_FLAG),
    # crisis, direct
    ("j'ai envie de mourir", SELF_HARM),
    ("je veux me tuer", SELF_HARM),
    ("j'ai des pensées suicidaires", SELF_HARM),
    ("je veux plus vivre", SELF_HARM),
    ("j'ai le goût de mourir", SELF_HARM),
    ("je veux en finir", SELF_HARM),
    ("je me scarifie le soir", SELF_HARM),
    ("je voudrais ne plus me réveiller", SELF_HARM),
    # crisis, indirect
    ("je ne serai plus là", SELF_HARM),
    ("j'serai pu là bientôt", SELF_HARM),
    ("tout le monde serait mieux sans moi", SELF_HARM),
    ("personne ne me regretterait", SELF_HARM),
    ("la vie ne vaut plus la peine", SELF_HARM),
    # disordered eating
    ("je me fais vomir après les repas", DISORDERED),
    ("je me fais vomir pour maigrir", DISORDERED),
    ("je prends des laxatifs pour perdre du poids", DISORDERED),
    ("des diurétiques pour maigrir ca marche?", DISORDERED),
    ("je fais du sport pour brûler tout ce que je mange", DISORDERED),
    ("j'ai rien mangé depuis quatre jours", DISORDERED),
    ("je jeûne pendant trois jours pour maigrir", DISORDERED),
    ("je mange le moins possible", DISORDERED),
    ("le moins de calories possible pour survivre?", DISORDERED),
    ("je mange 500 calories par jour", DISORDERED),
    ("je fais des crises de boulimie puis je vomis", DISORDERED),
    ("je crois que je suis anorexique", DISORDERED),
    ("j'ai peur de grossir", DISORDERED),
    # priority: crisis over symptom, purging is not a vomiting red flag
    ("je vomis depuis hier et j'ai envie de mourir", SELF_HARM),
    ("je vomis plusieurs fois par jour pour maigrir", DISORDERED),
    # found by probing with more phrasings (2026-12-06)
    ("caca noir", RED_FLAG),
    ("j'arrive pas à garder l'eau", RED_FLAG),
    ("douleur en avalant", RED_FLAG),
    # tu, vous; France and Québec
    ("tu penses que c'est grave d'avoir du sang dans les selles?", RED_FLAG),
    ("vous croyez que c'est normal de vomir du sang?", RED_FLAG),
    ("j'ai mal à la bedaine en tabarnak pis de la fièvre", RED_FLAG),
    ("j'ai la bouche très sèche et j'urine presque pas", RED_FLAG),
    ("j'ai fait un malaise au travail", RED_FLAG),
    ("des fois j'ai envie de disparaître", SELF_HARM),
    ("j'ai le goût d'en finir", SELF_HARM),
    ("je suis un fardeau, ils seraient mieux sans moi", SELF_HARM),
    ("je prends des laxatifs après mes crises", DISORDERED),
    ("j'ai une peur bleue de grossir", DISORDERED),
    # a third probing round
    ("je voudrais disparaître", SELF_HARM),
    ("ça fait 4 jours que je mange rien", DISORDERED),
    ("j'ai failli m'évanouir", RED_FLAG),
    ("je peux rien garder", RED_FLAG),
]

FR_NEGATIVES = [
    # figures of speech
    "j'ai une faim de loup",
    "je meurs de faim, je mange quoi?",
    "je meurs d'envie de goûter le kéfir",
    "ce ballonnement va me tuer",
    "j'ai jeté la malbouffe",
    "je préfère mourir que manger du chou lol",
    "j'ai le goût de manger des pâtes",
    "j'en peux plus de ces ballonnements",
    # homonyms
    "une prise de sang à jeun, c'est utile?",
    "le boudin noir est-il mauvais pour l'intestin?",
    "les haricots noirs ont beaucoup de fibres?",
    "le chocolat noir c'est permis?",
    "poitrine de poulet ou saumon pour le souper?",
    "le café noir est mauvais?",
    "je peux avaler les gélules entières?",
    "le poivron jaune a des fibres?",
    # ordinary questions: food, fibre, bloating, a bit of diarrhoea
    "combien de fibres par jour",
    "j'ai le ventre gonflé après manger",
    "j'ai un peu mal au ventre",
    "j'ai un peu la diarrhée depuis hier",
    "l'intestin perméable donne mal au ventre?",
    "je veux perdre du poids sainement",
    "je peux prendre des laxatifs pour la constipation?",
    "combien de calories dans une banane",
    "je mange environ 2000 calories par jour",
    "le jeûne intermittent c'est bon?",
    "la perte de poids est un symptôme?",
    "je ne serai plus là la semaine prochaine, je suis en vacances",
    "pouvez-vous m'aider à en finir avec les ballonnements?",
    "le pain sans gluten c'est pas terrible",
    "je vais en finir avec le gluten",
    "je suis mort de fatigue",
    "je crève de faim",
    "j'ai vomi une fois hier",
    "mal au dos terrible",
    "j'ai du mal à avaler les gélules",
    "je serai plus là après 17h",
    "je suis morte de rire",
    "je crève de chaud",
    "radis noir et olives noires",
    "mal au ventre léger",
    "les laxatifs naturels pour la constipation",
    "en finir avec la constipation",
    "j'ai le goût d'un bon café",
    "je veux disparaître sous ma couette tellement j'ai honte lol",
]


@pytest.mark.parametrize(("text", "intent"), ES_POSITIVES)
def test_spanish_pattern_forces_safety_intent(es: List[SafetyRule], text: str, intent: str) -> None:
    """Each Spanish red-flag, crisis or eating-disorder text gets its safety intent."""
    found = match_safety_intent(es, text)
    assert found is not None, f"no Spanish pattern matched {text!r}"
    assert found["intent"] == intent, f"{text!r} matched {found}"


@pytest.mark.parametrize("text", ES_NEGATIVES)
def test_spanish_ordinary_text_is_left_alone(es: List[SafetyRule], text: str) -> None:
    """Spanish figures of speech, homonyms and ordinary questions match nothing."""
    found = match_safety_intent(es, text)
    assert found is None, f"{text!r} wrongly matched {found}"


@pytest.mark.parametrize(("text", "intent"), FR_POSITIVES)
def test_french_pattern_forces_safety_intent(fr: List[SafetyRule], text: str, intent: str) -> None:
    """Each French red-flag, crisis or eating-disorder text gets its safety intent."""
    found = match_safety_intent(fr, text)
    assert found is not None, f"no French pattern matched {text!r}"
    assert found["intent"] == intent, f"{text!r} matched {found}"


@pytest.mark.parametrize("text", FR_NEGATIVES)
def test_french_ordinary_text_is_left_alone(fr: List[SafetyRule], text: str) -> None:
    """French figures of speech, homonyms and ordinary questions match nothing."""
    found = match_safety_intent(fr, text)
    assert found is None, f"{text!r} wrongly matched {found}"


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


@pytest.mark.parametrize(
    ("language", "text", "intent"),
    [("es", t, i) for t, i in ES_POSITIVES if _strip_accents(t) != t]
    + [("fr", t, i) for t, i in FR_POSITIVES if _strip_accents(t) != t],
)
def test_accents_are_optional(
    es: List[SafetyRule], fr: List[SafetyRule], language: str, text: str, intent: str
) -> None:
    """Every accented positive also matches typed without its accents."""
    rules = es if language == "es" else fr
    found = match_safety_intent(rules, _strip_accents(text))
    assert found is not None and found["intent"] == intent, f"{_strip_accents(text)!r} matched {found}"


@pytest.mark.parametrize("language", ["es", "fr"])
def test_english_and_the_language_set_are_left_alone(es: List[SafetyRule], fr: List[SafetyRule], language: str) -> None:
    """Neither file fires on the English negatives or on the 198 benign chat messages."""
    rules = es if language == "es" else fr
    chat = [json.loads(line)["text"] for line in LANGUAGE_SET.read_text("utf-8").splitlines() if line.strip()]
    wrong = {t: match_safety_intent(rules, t) for t in [*ENGLISH_NEGATIVES, *chat]}
    assert {t: m for t, m in wrong.items() if m is not None} == {}


def _english_examples() -> List[Tuple[str, str]]:
    """(intent, text) of every example in data/nlu.yml and tests/nlu/holdout.yml."""
    root = Path(__file__).resolve().parents[2]
    examples = []
    for file in (root / "data" / "nlu.yml", root / "tests" / "nlu" / "holdout.yml"):
        for item in yaml.safe_load(file.read_text("utf-8")).get("nlu", []):
            for line in (item.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip()[2:])
                    examples.append((item.get("intent"), text))
    return examples


@pytest.mark.parametrize("language", ["es", "fr"])
def test_english_training_data_gets_no_wrong_intent(es: List[SafetyRule], fr: List[SafetyRule], language: str) -> None:
    """On the ~3,900 English examples the files fire only on cognates, with the labelled intent.

    ("suicidal", "anorexic" are the same words in Spanish and French.)
    """
    rules = es if language == "es" else fr
    examples = _english_examples()
    assert len(examples) > 1000
    wrong = {}
    for intent, text in examples:
        found = match_safety_intent(rules, text)
        if found is not None and found["intent"] != intent:
            wrong[text] = (intent, found)
    assert wrong == {}


@pytest.mark.parametrize("file", ["safety_patterns_es.yml", "safety_patterns_fr.yml"])
def test_same_intents_in_the_same_order(file: str) -> None:
    """Crisis first, then red flags, then eating disorders, as in safety_patterns.yml."""
    english = [rule.intent for rule in load_safety_rules()]
    rules = load_safety_rules(NLU / file)
    assert [rule.intent for rule in rules] == english == [SELF_HARM, RED_FLAG, DISORDERED]
    assert all(rule.patterns for rule in rules)


def test_english_rules_agree_with_the_spanish_and_french_tables() -> None:
    """All files can run on every message: the English rules never contradict these tables.

    On the Spanish and French positives they match nothing or the same intent; on the
    negatives they match nothing.
    """
    english = load_safety_rules()
    contradictions = {}
    for text, intent in [*ES_POSITIVES, *FR_POSITIVES]:
        found = match_safety_intent(english, text)
        if found is not None and found["intent"] != intent:
            contradictions[text] = found
    for text in [*ES_NEGATIVES, *FR_NEGATIVES]:
        found = match_safety_intent(english, text)
        if found is not None:
            contradictions[text] = found
    assert contradictions == {}
