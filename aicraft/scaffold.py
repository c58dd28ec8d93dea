"""``aicraft new``: a working site to start from, with CI that publishes on push."""

from __future__ import annotations

from pathlib import Path

from aicraft.errors import AicraftError

MKDOCS_YML = """\
site_name: {name}
site_description: A blog written with AI as a creative partner, disclosed honestly.
docs_dir: docs

theme:
  name: material
  custom_dir: overrides
  features:
    - navigation.indexes
  palette:
    - media: "(prefers-color-scheme: light)"
      scheme: default
      toggle: {{icon: material/weather-night, name: Switch to dark mode}}
    - media: "(prefers-color-scheme: dark)"
      scheme: slate
      toggle: {{icon: material/weather-sunny, name: Switch to light mode}}

plugins:
  - search
  - blog
  - aicraft:
      provider: auto              # openai when OPENAI_API_KEY is set, else the offline provider
      editorial_responsibility: "{name} editors"
      budget_usd: 1.00            # never spend more than this in one run
      policy:
        require_review: true      # unreviewed AI items block publication in CI
        forbidden:
          - pattern: "in the style of"
            reason: "do not imitate a living artist's style"

markdown_extensions:
  - admonition
  - attr_list
  - md_in_html
  - pymdownx.details
  - pymdownx.superfences
"""

INDEX_MD = """\
---
authorship:
  level: EAI
  statement: >-
    Template text of aicraft's new-site scaffold, written by Claude (an AI model) for aicraft.
    Rewrite this page, then say here how you wrote it (e.g. level: none).
---

# {name}

Welcome. Every passage or image on this site that a model made is credited where it appears,
with the prompt that asked for it and whether an editor has reviewed it.

[Read the blog](blog/index.md)
"""

BLOG_INDEX_MD = "# Blog\n"

AUTHORS_YML = """\
authors:
  editor:
    name: The editor
    description: Writes the posts and reviews every AI item before it is published.
    avatar: images/editor.svg
"""

FIRST_POST_MD = """\
---
date: {date}
authors:
  - editor
categories:
  - Notes
authorship:
  level: EAI
  statement: >-
    Template text of aicraft's new-site scaffold, written by Claude (an AI model) for aicraft;
    the poem below is generated and credited. Rewrite this post, then say here how you wrote it.
---

# Hello, aicraft

This is the first post. Its prose came with aicraft's site template and is yours to rewrite:
then say in `authorship:` above how you wrote it (until then it truthfully says who did). The
block below is a generation directive. `aicraft build` generates it once, stores the result
with its provenance in `generations/`, and shows it here with an inline credit.

```ai-text temperature="0.8" label="A first poem"
Write a four-line poem about starting a new notebook.
```

<!-- more -->

Review it before you publish: `aicraft review list`, then
`aicraft review approve <id> --by "Your Name"`.
"""

AVATAR_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<circle cx="32" cy="32" r="32" fill="#5e35b1"/>'
    '<circle cx="32" cy="25" r="11" fill="#fff"/>'
    '<path d="M12 54c4-11 12-16 20-16s16 5 20 16" fill="#fff"/></svg>\n'
)

MAIN_HTML = '{% extends "base.html" %}\n'

GITIGNORE = """\
/site/
/.venv/
__pycache__/
generations/.lock
"""

# Records keep a model's answer byte for byte: git must not convert their line ends (a
# Windows checkout with core.autocrlf would otherwise rewrite every record).
GITATTRIBUTES = """\
generations/** -text
"""

WORKFLOW = """\
# Publish on push: check that every AI item is generated, reviewed and within policy, then
# build without calling any model (CI=true makes aicraft frozen) and deploy to GitHub Pages.
name: publish
on:
  push:
    branches: [main]
  pull_request:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    env:
      CI: "true"
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install -r requirements.txt
      - name: Check (missing generations, review, policy)
        run: aicraft check
      - name: Build (frozen, strict)
        run: aicraft build --strict
      - uses: actions/upload-pages-artifact@v3
        if: github.event_name == 'push'
        with:
          path: site

  deploy:
    if: github.event_name == 'push'
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""


REQUIREMENTS = """\
# What CI installs (.github/workflows/publish.yml): the versions this site was made with, so
# that CI builds what you built. Upgrade them deliberately, with a local build first.
# Where aicraft does not come from PyPI, replace its line with where you install it from:
# a git URL (aicraft @ git+https://github.com/OWNER/aicraft@TAG) or a wheel's path.
{pins}
"""

#: The packages CI needs to build the site; ``requirements.txt`` pins their installed versions.
PINNED = ("aicraft", "mkdocs", "mkdocs-material")


def requirements() -> str:
    """``requirements.txt`` pinning :data:`PINNED` to the versions installed here."""
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for package in PINNED:
        try:
            pins.append(f"{package}=={version(package)}")
        except PackageNotFoundError:  # running from a source tree that was never installed
            pins.append(package)
    return REQUIREMENTS.format(pins="\n".join(pins))


def scaffold(target: Path, name: str, date: str) -> list[Path]:
    """Write a new site into ``target`` (which must be empty or missing); return the files."""
    if target.exists() and any(target.iterdir()):
        raise AicraftError(f"{target} is not empty; choose a new folder")
    files = {
        "mkdocs.yml": MKDOCS_YML.format(name=name),
        "docs/index.md": INDEX_MD.format(name=name),
        "docs/blog/index.md": BLOG_INDEX_MD,
        "docs/blog/.authors.yml": AUTHORS_YML,
        "docs/blog/posts/hello-aicraft.md": FIRST_POST_MD.format(date=date),
        "docs/images/editor.svg": AVATAR_SVG,
        "overrides/main.html": MAIN_HTML,
        "generations/.gitkeep": "",
        ".gitignore": GITIGNORE,
        ".gitattributes": GITATTRIBUTES,
        ".github/workflows/publish.yml": WORKFLOW,
        "requirements.txt": requirements(),
    }
    written = []
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
