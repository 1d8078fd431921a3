"""The YAML round trip: only the new example lines change, nothing is added twice."""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path
from typing import List

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from practice.launcher import process_environment
from practice.retrain.checks import validate_command
from practice.retrain.nlu_yaml import add_examples, add_examples_to_file, read_examples
from practice.retrain.project import HOLDOUT_FILE, NLU_FILE, apply_placements
from practice.retrain.results import Placement
from practice.retrain.text import clean_example, normalise, similar
from practice.settings import PROJECT_ROOT, load_settings

from .conftest import copy_project

SAMPLE = """version: "3.1"

# A comment at the top, kept.
nlu:
# ------------------------------------------------ greetings
- intent: greet
  examples: |
    - hi
    - hello there
    - [Sam](name) says hi

- intent: goodbye  # trailing comment, kept
  examples: |
    - bye
    - see you later

# the last block, indented differently on purpose
- intent: thank
  examples: |
      - thanks
      - cheers
"""


def added_lines(before: str, after: str) -> List[str]:
    """The lines `after` has that `before` does not, asserting nothing was removed."""
    diff = list(difflib.ndiff(before.splitlines(keepends=True), after.splitlines(keepends=True)))
    assert not [d for d in diff if d.startswith("- ")], "a line was removed or changed"
    return [d[2:] for d in diff if d.startswith("+ ")]


def test_nothing_new_leaves_the_text_byte_identical() -> None:
    updated, result = add_examples(
        SAMPLE, {"greet": ["Hi!", "HELLO   there", "sam says hi"], "goodbye": ["See you later."]}
    )
    assert updated == SAMPLE
    assert result.added == []
    assert [reason for *_, reason in result.skipped] == ["already in the data"] * 4


def test_the_repository_nlu_file_round_trips_byte_identical(tmp_path: Path) -> None:
    copy = tmp_path / "nlu.yml"
    original = (PROJECT_ROOT / NLU_FILE).read_bytes()
    copy.write_bytes(original)
    examples = read_examples(copy)
    assert examples, "the repository's data/nlu.yml has examples"
    intent, text = examples[len(examples) // 2]
    result = add_examples_to_file(copy, {intent: [text, text.upper() + "?"]})
    assert result.added == []
    assert copy.read_bytes() == original


def test_new_examples_go_at_the_end_of_their_block_and_nothing_else_changes() -> None:
    updated, result = add_examples(
        SAMPLE,
        {"goodbye": ["catch you on the flip side"], "thank": ["ta very much"], "greet": ["hiya!"]},
    )
    assert result.added == [
        ("goodbye", "catch you on the flip side"),
        ("thank", "ta very much"),
        ("greet", "hiya!"),
    ]
    assert added_lines(SAMPLE, updated) == [
        "    - hiya!\n",
        "    - catch you on the flip side\n",
        "      - ta very much\n",
    ]
    lines = updated.splitlines()
    assert lines[lines.index("    - [Sam](name) says hi") + 1] == "    - hiya!"
    assert lines[lines.index("    - see you later") + 1] == "    - catch you on the flip side"
    assert updated.endswith("      - cheers\n      - ta very much\n")
    assert "# A comment at the top, kept." in updated
    assert "- intent: goodbye  # trailing comment, kept" in updated


def test_an_intent_without_a_block_gets_a_new_block_at_the_end_of_the_list() -> None:
    source = SAMPLE + "\nresponses:\n  utter_x:\n  - text: x\n"
    updated, _ = add_examples(source, {"ask_kefir": ["is kefir good"]})
    assert updated == source.replace(
        "      - cheers\n\nresponses:",
        "      - cheers\n\n- intent: ask_kefir\n  examples: |\n    - is kefir good\n\nresponses:",
    )


def test_duplicates_within_a_batch_and_across_files_are_skipped() -> None:
    updated, result = add_examples(SAMPLE, {"greet": ["yo there", "Yo there!", "howdy"]}, known={normalise("Howdy")})
    assert result.added == [("greet", "yo there")]
    assert added_lines(SAMPLE, updated) == ["    - yo there\n"]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("  two\nlines\there  ", "two lines here"),
        ("nul\x00and bell\x07", "nul and bell"),
        ("emoji 🙂 and ünïcödé", "emoji 🙂 and ünïcödé"),
        ("# looks like a comment", "# looks like a comment"),
        ("- starts with a dash: and a colon", "- starts with a dash: and a colon"),
        ("quotes ' \" and | pipes", "quotes ' \" and | pipes"),
        ("[not](an entity) please", None),
        ("   ", None),
        ("?!?", None),
    ],
)
def test_visitor_text_is_stored_verbatim_or_refused(raw: str, stored: str) -> None:
    assert clean_example(raw) == stored
    updated, result = add_examples(SAMPLE, {"greet": [raw]})
    if stored is None:
        assert updated == SAMPLE and result.added == []
        return
    # Rasa's own loader reads back exactly the stored text under the intent.
    path = Path(__file__).parent / "never-written.yml"
    assert not path.exists()
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    data = RasaYAMLReader().reads(updated)
    assert ("greet", stored) in {(m.get("intent"), m.get("text")) for m in data.intent_examples}


def test_near_duplicates_are_similar_and_different_questions_are_not() -> None:
    assert similar(normalise("what's leaky gut?"), normalise("Whats leaky gut"))
    assert similar(normalise("is kefir worth drinking"), normalise("is kefir worth drinkin"))
    assert similar(normalise("leaky gut what is it"), normalise("what is it leaky gut"))
    assert not similar(normalise("is kefir worth drinking"), normalise("is gluten worth avoiding"))
    assert not similar(normalise("what should I eat"), normalise("what should I avoid"))


def test_applied_placements_pass_rasa_data_validate(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    before = {name: (project / name).read_bytes() for name in (NLU_FILE, HOLDOUT_FILE)}
    placements = [
        Placement(1, "is kefir worth drinking every day", "ask_probiotics", "training"),
        Placement(2, "can sourdough be ok for me", "ask_gluten", "training"),
        Placement(3, "could my eczema come from my gut", "ask_linked_conditions", "holdout"),
        Placement(4, "brand new intent example", "ask_kombucha", "skipped", "already there"),
    ]
    from practice.retrain.project import known_texts

    apply_placements(project, placements, known_texts(project))
    assert added_lines(before[NLU_FILE].decode(), (project / NLU_FILE).read_text()) == [
        "    - is kefir worth drinking every day\n",
        "    - can sourdough be ok for me\n",
    ]
    assert added_lines(before[HOLDOUT_FILE].decode(), (project / HOLDOUT_FILE).read_text()) == [
        "    - could my eczema come from my gut\n"
    ]
    held_out = load_data(str(project / HOLDOUT_FILE))
    assert ("could my eczema come from my gut", "ask_linked_conditions") in {
        (m.get("text"), m.get("intent")) for m in held_out.intent_examples
    }
    done = subprocess.run(
        validate_command(),
        cwd=project,
        env=process_environment(load_settings({})),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
