"""The settings table: one place for each variable, and the docs generated from it."""

from __future__ import annotations

import dataclasses

import pytest

from practice.settings import (
    PROJECT_ROOT,
    VARIABLES,
    Settings,
    SettingsError,
    env_example,
    load_settings,
    with_readme_table,
)


def test_every_setting_has_exactly_one_variable() -> None:
    fields = [f.name for f in dataclasses.fields(Settings)]
    assert sorted(v.field for v in VARIABLES) == sorted(fields)
    assert len({v.name for v in VARIABLES}) == len(VARIABLES)


def test_the_readme_table_is_generated_from_the_table() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert with_readme_table(readme) == readme, "run `python -m practice.settings --readme`"


def test_env_example_is_generated_from_the_table() -> None:
    current = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    assert current == env_example(), "run `python -m practice.settings --env-example`"


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("RASA_PORT", "five", "RASA_PORT='five' is not valid: expected an integer"),
        ("CONSOLE_SECURE_COOKIES", "maybe", "CONSOLE_SECURE_COOKIES='maybe' is not valid: expected true or false"),
        ("CONSOLE_LOW_CONFIDENCE", "half", "CONSOLE_LOW_CONFIDENCE='half' is not valid: expected a number"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({name: value})
    assert str(refused.value) == expected


def test_a_blank_value_means_the_default() -> None:
    assert load_settings({"RASA_PORT": "", "CRISIS_LINE": ""}) == load_settings({})


def test_defaults_that_follow_other_settings() -> None:
    one = load_settings({"RASA_WORKERS": "1", "WEBSITE_PORT": "9000"})
    assert one.lock_store_url is None
    assert one.allowed_origins == ("http://localhost:9000", "http://127.0.0.1:9000")
    assert one.article_url == "http://127.0.0.1:9000/"
    assert load_settings({"RASA_WORKERS": "0"}).rasa_workers == 1  # raised to the least
