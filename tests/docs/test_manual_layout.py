"""The README stays short and points at the manual; the manual's navigation holds every page.

`mkdocs build --strict` (in scripts/test) fails on a page left out of the navigation or a
broken link; these tests say the same without building, so `pytest tests/docs` alone
catches it.
"""

from __future__ import annotations

from typing import Any

import yaml

from docs.manual import DOCS, ROOT

README = ROOT / "README.md"
MKDOCS = ROOT / "mkdocs.yml"
# The two commands a newcomer types first; the README promises them verbatim.
DEMO = "    scripts/demo\n"
SEND = (
    '    .venv/bin/isms-bridge send --config configs/sandbox.toml --to 60123456789 "Hello £5"'
    " --wait-receipt\n"
)
TESTS = "    scripts/test\n"


class _ConfigLoader(yaml.SafeLoader):
    """mkdocs.yml's own tags (`!relative $config_dir`) read as plain strings."""


_ConfigLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


def _nav_pages(entries: Any) -> list[str]:
    pages: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            pages += _nav_pages(value)
        else:
            pages.append(value)
    return pages


def test_the_readme_is_short_and_keeps_its_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    for command in (DEMO, SEND, TESTS):
        assert command in text
    assert ".venv/bin/mkdocs serve" in text


def test_every_page_of_the_manual_is_in_the_navigation_once() -> None:
    config = yaml.load(MKDOCS.read_text(encoding="utf-8"), Loader=_ConfigLoader)
    pages = _nav_pages(config["nav"])
    assert len(pages) == len(set(pages)), "a page is listed twice"
    on_disk = sorted(str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md"))
    assert sorted(pages) == on_disk
