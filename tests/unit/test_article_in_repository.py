"""The article ships with the repository, so a clone in any folder serves it."""

from __future__ import annotations

from practice.settings import DEFAULT_ARTICLE, PROJECT_ROOT, load_settings


def test_the_default_article_is_a_file_of_the_repository() -> None:
    assert DEFAULT_ARTICLE.is_relative_to(PROJECT_ROOT)
    assert DEFAULT_ARTICLE.read_text(encoding="utf-8").lstrip().startswith("<!--")
    assert "# What the heck is leaky gut?" in DEFAULT_ARTICLE.read_text(encoding="utf-8")


def test_article_path_defaults_to_the_repository_copy() -> None:
    assert load_settings({}).article_path == DEFAULT_ARTICLE
