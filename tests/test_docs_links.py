"""Every relative link in README.md and docs/*.md points to a file or folder that exists."""
from __future__ import annotations

import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# Pages another branch is writing at the same time; allowed to be missing until they land.
PENDING = {"docs/datasets_omniglot.md"}


def pages() -> list[str]:
    return [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))


def relative_links(path: str) -> list[str]:
    """Link targets outside code blocks and code spans, without URLs and same-page anchors."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)
    targets = [m.group(1) for m in LINK.finditer(text)]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


def test_docs_pages_exist():
    names = {os.path.basename(p) for p in pages()}
    for page in ("configuration.md", "run_folder.md", "components.md", "data.md", "evaluation.md",
                 "workflow.md", "distributed.md", "reliability.md", "benchmarks.md",
                 "from_revisiting_dml.md", "contributing.md", "losses_and_miners.md"):
        assert page in names, page


def test_every_relative_link_points_to_an_existing_path():
    broken = []
    for page in pages():
        for target in relative_links(page):
            path = os.path.normpath(os.path.join(os.path.dirname(page), target.split("#", 1)[0]))
            if not os.path.exists(path) and os.path.relpath(path, ROOT) not in PENDING:
                broken.append(f"{os.path.relpath(page, ROOT)}: {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_readme_is_short_and_keeps_the_two_commands():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        text = fh.read()
    assert len(text.splitlines()) <= 220
    assert "pip install -r requirements.txt && python main.py" in text
    assert "python -m pytest -q" in text


def test_no_page_cites_the_internal_contract():
    for page in pages():
        with open(page, encoding="utf-8") as fh:
            assert "CONTRACT" not in fh.read(), page
