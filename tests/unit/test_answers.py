"""content/answers.yml is the one source of the answers' article links and of docs/ANSWERS.md."""

from __future__ import annotations

import re

import yaml

from practice.answers import ANSWER_PREFIX, annotate, load_answers, source_url
from practice.settings import DEFAULT_ARTICLE, PROJECT_ROOT, load_settings
from practice.website.markdown import heading_anchor, heading_anchors, render_markdown
from scripts.render_answers import DOC, render

ARTICLE_URL = "https://www.practice.example/leaky-gut"


def domain_responses() -> dict:
    with (PROJECT_ROOT / "domain.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["responses"]


def test_every_answering_response_has_its_entry_and_nothing_else_does() -> None:
    answering = {name for name in domain_responses() if name.startswith(ANSWER_PREFIX)}
    assert answering, "domain.yml has no utter_ask_* response"
    assert set(load_answers()) == answering


def test_every_section_is_a_heading_of_the_article_with_an_anchor_on_the_page() -> None:
    source = DEFAULT_ARTICLE.read_text(encoding="utf-8")
    anchors = heading_anchors(source)
    page = render_markdown(source)
    for answer in load_answers().values():
        for section in filter(None, (answer.section, *answer.also)):
            assert section in anchors, f"{answer.response}: no heading {section!r} in the article"
        if answer.section:
            assert answer.anchor == anchors[answer.section]
            assert f' id="{answer.anchor}"' in page, f"{answer.response}: anchor missing"
        assert answer.passage, f"{answer.response}: no passage"


def test_docs_answers_md_is_generated_from_the_answers_file() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "docs/ANSWERS.md is stale: run python scripts/render_answers.py"
    for name in load_answers():
        assert f"`{name}`" in DOC.read_text(encoding="utf-8")


def test_headings_get_stable_unique_anchors() -> None:
    assert heading_anchor("So what can you do if you suspect you have leaky gut?") == (
        "so-what-can-you-do-if-you-suspect-you-have-leaky-gut"
    )
    assert heading_anchor("It\u2019s **bold** and [linked](https://x.example)") == ("its-bold-and-linked")
    page = render_markdown("## Same\n\ntext\n\n## Same\n")
    assert '<h2 id="same">' in page and '<h2 id="same-2">' in page
    assert re.search(r'<h2 id="same">Same</h2>', page)


def test_an_article_answer_gets_kind_and_its_section_link() -> None:
    response = annotate("utter_ask_causes", {"text": "Genes..."}, ARTICLE_URL)
    assert response == {
        "text": "Genes...",
        "kind": "answer",
        "source": {
            "section": "What causes leaky gut?",
            "url": f"{ARTICLE_URL}#what-causes-leaky-gut",
        },
    }


def test_no_section_no_link_and_other_responses_untouched() -> None:
    assert annotate("utter_ask_beyond_article", {"text": "Ask your doctor."}, ARTICLE_URL) == {
        "text": "Ask your doctor.",
        "kind": "answer",
    }
    assert annotate("utter_greet", {"text": "Hi"}, ARTICLE_URL) == {"text": "Hi"}
    assert annotate("utter_ask_causes", None, ARTICLE_URL) is None
    # A new answer the dialogue side adds before answers.yml knows it: an answer, unlinked.
    assert annotate("utter_ask_new_topic", {"text": "x"}, ARTICLE_URL) == {
        "text": "x",
        "kind": "answer",
    }


def test_a_kind_or_source_the_dialogue_set_is_kept() -> None:
    given = {"text": "x", "kind": "safety"}
    assert annotate("utter_ask_causes", dict(given), ARTICLE_URL)["kind"] == "safety"
    own = {"section": "Elsewhere", "url": "https://x.example/#a"}
    assert annotate("utter_ask_causes", {"text": "x", "source": own}, ARTICLE_URL)["source"] == own


def test_article_url_setting_defaults_to_the_demo_sites_article_page() -> None:
    assert load_settings({}).article_url == "http://127.0.0.1:8000/"
    assert load_settings({"WEBSITE_PORT": "8123"}).article_url == "http://127.0.0.1:8123/"
    assert load_settings({"ARTICLE_URL": ARTICLE_URL + "#old"}).article_url == ARTICLE_URL
    assert source_url(ARTICLE_URL, "references") == f"{ARTICLE_URL}#references"
