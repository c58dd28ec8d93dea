"""Editorial review, candidates, publishing policy, `check`, `gc` and `new`."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aicraft.cli import main
from aicraft.records import Record
from tests.sites import PROSE, build_site

POST = f"""
---
date: 2026-03-01
---

# Frost

{PROSE}

```ai-text label="A frost poem"
Write a four-line poem about the first frost.
```

{PROSE}

```ai-image size="64x64" alt="A pale blue square of frost"
A pale blue square of frost.
```
"""


def run(*args: str, ok: bool | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    output = result.output
    if ok is True:
        assert result.exit_code == 0, output
    return result.exit_code, output


def _site(site_factory, **plugin: object) -> Path:
    pages = {"blog/index.md": "# Blog\n", "blog/posts/frost.md": POST}
    return site_factory(pages, {"policy": {"require_review": True}, **plugin})


def _record(config: Path, kind: str) -> tuple[Path, Record]:
    for path in (config.parent / "generations").glob("*.md"):
        record = Record.loads(path.read_text(), str(path))
        if record.kind == kind:
            return path, record
    raise AssertionError(f"no {kind} record")


def _edit(path: Path, old: str, new: str) -> None:
    head, sep, body = path.read_text().rpartition("---\n")
    assert old in body
    path.write_text(head + sep + body.replace(old, new, 1))


def test_the_editors_workflow_from_generation_to_publication(site_factory) -> None:
    config = _site(site_factory)
    f = ("-f", str(config))
    run("generate", *f, ok=True)

    code, output = run("review", "list", *f)
    assert code == 0
    assert "blog/posts/frost.md" in output and output.count("pending") >= 2
    code, output = run("check", *f)
    assert code == 1
    assert "is not reviewed [require_review]" in output

    path, text = _record(config, "text")
    first_word = text.body.split()[0]
    _edit(path, first_word, "Frosted")  # an editor's change before approval
    code, output = run("review", "show", text.short[:6], *f)
    assert code == 0
    assert "human edits:" in output and "+Frosted" in output

    run("review", "approve", "--all", "--by", "Ed Itor", "--note", "fine", *f, ok=True)
    code, output = run("check", *f, "--json")
    assert code == 0, output
    assert json.loads(output)["ok"] is True

    _edit(path, "Frosted", "Frozen")  # changed after approval
    code, output = run("check", *f)
    assert code == 1
    assert f"ai-text {text.short} was edited after its approval" in output
    assert "blog/posts/frost.md:9" in output
    code, output = run("review", "list", "--state", "changed", *f)
    assert text.short in output

    run("review", "approve", text.short, "--by", "Ed Itor", *f, ok=True)
    run("check", *f, ok=True)
    site = build_site(config, strict=True)
    html = next(site.glob("blog/20*/**/index.html")).read_text()
    assert html.count("reviewed by Ed Itor on ") == 4
    assert "AI-assisted text, human-edited" in html
    history = _record(config, "text")[1].review["history"]
    assert [h["action"] for h in history] == ["approved", "approved"]
    assert history[0]["note"] == "fine"


def test_reject_blocks_publication_and_says_why(site_factory) -> None:
    config = _site(site_factory)
    f = ("-f", str(config))
    run("generate", *f, ok=True)
    _, image = _record(config, "image")
    run("review", "reject", image.short, "--reason", "too dark", "--by", "Ed", *f, ok=True)
    code, output = run("check", *f)
    assert code == 1
    assert f"ai-image {image.short} was rejected in review" in output
    code, output = run("review", "show", image.short, *f)
    assert "rejected by Ed - too dark" in output


def test_ids_need_a_unique_prefix_and_a_reviewer_name(site_factory, monkeypatch) -> None:
    config = _site(site_factory)
    f = ("-f", str(config))
    run("generate", *f, ok=True)
    code, output = run("review", "approve", "zz", "--by", "Ed", *f)
    assert code == 1 and "not a record id" in output
    code, output = run("review", "approve", "ffff0000", "--by", "Ed", *f)
    assert code == 1 and "no record with an id starting" in output
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(config.parent)
    code, output = run("review", "approve", "--all", *f)
    assert code == 1 and "pass --by NAME" in output


def _generated_post(site_factory, old: str, new: str) -> tuple[Path, tuple[str, str]]:
    """A blog whose post is POST with ``old`` replaced by ``new``, generated; ``-f CONFIG``."""
    post = POST.replace(old, new)
    assert post != POST
    config = site_factory({"blog/index.md": "# Blog\n", "blog/posts/frost.md": post})
    f = ("-f", str(config))
    run("generate", *f, ok=True)
    return config, f


def test_a_human_picks_among_candidates(site_factory) -> None:
    config, f = _generated_post(
        site_factory, '```ai-text label="A frost poem"', '```ai-text candidates="3"'
    )
    path, text = _record(config, "text")
    assert len(text.candidates) == 3 and text.body == text.candidates[0]
    # To choose, an editor sees them all, numbered, the published one marked.
    code, output = run("review", "show", text.short, *f)
    assert code == 0 and f"`aicraft pick {text.short} N`" in output
    for number, candidate in enumerate(text.candidates, start=1):
        mark = "*" if number == 1 else " "
        assert (
            f"{mark} candidate {number}:\n"
            + "\n".join("  " + line for line in candidate.splitlines())
            in output
        )
    html = next(build_site(config).glob("blog/20*/**/index.html")).read_text()
    assert "candidate 1 of 3, not chosen by a human" in html
    run("pick", text.short, "2", "--by", "Ed Itor", *f, ok=True)
    picked = Record.loads(path.read_text(), str(path))
    assert picked.picked == 2 and picked.body == text.candidates[1]
    html = next(build_site(config).glob("blog/20*/**/index.html")).read_text()
    assert "candidate 2 of 3, chosen by Ed Itor" in html
    code, output = run("pick", text.short, "4", "--by", "Ed", *f)
    assert code == 1 and "candidates 1 to 3" in output


def test_picking_an_image_candidate_publishes_that_file_and_pins_its_bytes(site_factory) -> None:
    config, f = _generated_post(
        site_factory, '```ai-image size="64x64"', '```ai-image size="64x64" candidates="2"'
    )
    path, image = _record(config, "image")
    store = path.parent
    digests = [hashlib.sha256((store / n).read_bytes()).hexdigest() for n in image.candidates]
    assert image.candidates_sha256 == digests and image.original_sha256 == digests[0]
    code, output = run("review", "show", image.short, *f)
    assert f"* candidate 1: {store / image.candidates[0]}" in output
    assert f"  candidate 2: {store / image.candidates[1]}" in output
    run("pick", image.short, "2", "--by", "Ed Itor", *f, ok=True)
    picked = Record.loads(path.read_text(), str(path))
    assert picked.original == image.candidates[1] and picked.original_sha256 == digests[1]
    site = build_site(config, strict=True)
    html = next(site.glob("blog/20*/**/index.html")).read_text()
    assert "candidate 2 of 2, chosen by Ed Itor" in html
    published = {p.name for p in (site / "assets" / "aicraft").glob("*.png")}
    assert published == {image.candidates[1]}, "an unpicked candidate is not published"
    # Swapping the picked file for the other candidate is a changed image, never published.
    (store / image.candidates[1]).write_bytes((store / image.candidates[0]).read_bytes())
    code, output = run("check", *f)
    assert code == 1 and f"{image.candidates[1]} is not the image the model made" in output


def _png(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_an_editor_edits_an_image_and_the_edit_is_disclosed(site_factory, tmp_path) -> None:
    from PIL import Image, ImageDraw

    config = _site(site_factory)
    f = ("-f", str(config))
    run("generate", *f, ok=True)
    run("review", "approve", "--all", "--by", "Ed Itor", *f, ok=True)
    assert run("check", *f)[0] == 0
    path, image = _record(config, "image")
    store = path.parent
    model_bytes = (store / image.original).read_bytes()
    with Image.open(io.BytesIO(model_bytes)) as im:
        edited = im.convert("RGB")
    ImageDraw.Draw(edited).rectangle((0, 0, 31, 31), fill=(255, 0, 0))  # a quarter of 64x64
    (tmp_path / "edited.png").write_bytes(_png(edited))

    code, output = run(
        "edit-image", image.short, str(tmp_path / "edited.png"), "--by", "Ann Artist", *f
    )
    assert code == 0, output
    assert "human-edited 25%" in output
    record = Record.loads(path.read_text(), str(path))
    name = f"{image.short}-edited.png"
    assert record.image_edit is not None and record.image_edit["file"] == name
    assert record.image_edit["by"] == "Ann Artist" and record.image_edit["changed"] == 0.25
    assert (store / image.original).read_bytes() == model_bytes, "the model's image stays"
    # The approval bound to the model's image: it no longer counts.
    code, output = run("check", *f)
    assert code == 1 and "was edited after its approval" in output and image.short in output
    run("review", "approve", image.short, "--by", "Ed Itor", *f, ok=True)
    assert run("check", *f)[0] == 0

    site = build_site(config, strict=True)
    html = next(site.glob("blog/20*/**/index.html")).read_text()
    figure = html[html.index('<figure class="aicraft aicraft-image"') :]
    figure = figure[: figure.index("</figure>")]
    assert "AI-assisted image, human-edited 25%" in figure and "reviewed by Ed Itor" in figure
    assert f"/{name}" in figure, "the edit is what is published"
    with Image.open(site / "assets" / "aicraft" / name) as published:
        assert published.convert("RGB").getpixel((5, 5)) == (255, 0, 0)
    assert not (site / "assets" / "aicraft" / image.original).exists(), "only what is shown"
    # The file says so too: who edited it, and the credit with the edit's size.
    from aicraft.images import read_metadata

    embedded = read_metadata((site / "assets" / "aicraft" / name).read_bytes())
    assert embedded["exif"]["Artist"].endswith("; edited by Ann Artist")
    assert "human-edited 25%" in json.dumps(embedded["xmp"])
    [entry] = [
        e
        for e in json.loads((site / "ai-disclosures.json").read_text())["items"]
        if e["kind"] == "image"
    ]
    assert entry["human_edited"] is True and entry["edit_share"] == 0.25
    assert entry["image"] == name and entry["review_status"] == "approved"

    # Replacing the edit by hand is caught like replacing the model's image.
    (store / name).write_bytes(model_bytes)
    code, output = run("check", *f)
    assert code == 1 and f"{name} is not the human edit recorded" in output
    # A crop cannot be compared pixel for pixel: it is disclosed as such.
    (tmp_path / "crop.png").write_bytes(_png(edited.crop((0, 0, 48, 48))))
    code, output = run("edit-image", image.short, str(tmp_path / "crop.png"), "--by", "Ann", *f)
    assert code == 0 and "human-edited cropped or resized" in output
    html = next(build_site(config).glob("blog/20*/**/index.html")).read_text()
    assert "AI-assisted image, human-edited (cropped or resized)" in html

    # Undo: the model's image is published again, the edited file is gone.
    run("edit-image", image.short, "--undo", "--by", "Ann", *f, ok=True)
    record = Record.loads(path.read_text(), str(path))
    assert record.image_edit is None and not (store / name).exists()
    assert [h["action"] for h in record.review["history"]] == [
        "approved",
        "edited the image",
        "approved",
        "edited the image",
        "undid the image edit",
    ]
    html = next(build_site(config).glob("blog/20*/**/index.html")).read_text()
    assert "human-edited" not in html and f"/{image.original}" in html

    # An edit saved as JPEG is kept as it is, and published as PNG like every AI image.
    edited.save(tmp_path / "edited.jpg", "JPEG", quality=95)
    run("edit-image", image.short, str(tmp_path / "edited.jpg"), "--by", "Ann", *f, ok=True)
    site = build_site(config)
    with Image.open(site / "assets" / "aicraft" / name) as published:
        assert published.format == "PNG"
    run("edit-image", image.short, "--undo", "--by", "Ann", *f, ok=True)

    # What is refused: the same pixels, a text item, neither a file nor --undo.
    (tmp_path / "same.png").write_bytes(model_bytes)
    code, output = run("edit-image", image.short, str(tmp_path / "same.png"), "--by", "A", *f)
    assert code == 1 and "same pixels" in output
    _, text = _record(config, "text")
    code, output = run("edit-image", text.short, str(tmp_path / "crop.png"), "--by", "A", *f)
    assert code == 1 and "is a text item" in output
    assert run("edit-image", image.short, "--by", "A", *f)[0] == 2


def test_refresh_keeps_the_review_history_and_never_loses_human_edits_silently(
    site_factory, tmp_path
) -> None:
    from PIL import Image

    config = _site(site_factory)
    f = ("-f", str(config))
    run("generate", *f, ok=True)
    text_path, text = _record(config, "text")
    image_path, image = _record(config, "image")
    run("review", "approve", "--all", "--by", "Ed Itor", *f, ok=True)
    _edit(text_path, text.body.split()[0], "Hand-written")
    with Image.open(image_path.parent / image.original) as im:
        (tmp_path / "flipped.png").write_bytes(_png(im.transpose(Image.Transpose.FLIP_TOP_BOTTOM)))
    run("edit-image", image.short, str(tmp_path / "flipped.png"), "--by", "Ann", *f, ok=True)

    code, output = run("generate", "--refresh", *f)
    assert code == 1 and "would lose human edits" in output
    assert f"ai-text {text.short} (human-edited" in output
    assert f"ai-image {image.short} (human-edited" in output
    assert "Hand-written" in text_path.read_text(), "nothing was regenerated"

    run("generate", "--refresh", "--discard-edits", *f, ok=True)
    for path in (text_path, image_path):
        record = Record.loads(path.read_text(), str(path))
        assert not record.edited and record.review["status"] == "pending"
        actions = [entry["action"] for entry in record.review["history"]]
        assert actions[0] == "approved" and actions[-1] == "regenerated", actions
    assert not (image_path.parent / f"{image.short}-edited.png").exists()


def test_policy_rules_are_listed_together_with_their_locations(site_factory) -> None:
    post = POST.replace(
        "Write a four-line poem about the first frost.",
        "Write a poem in the style of Famous Living Poet.",
    ).replace('alt="A pale blue square of frost"', 'alt="image"')
    policy = {
        "allowed_providers": ["openai"],
        "forbidden": [{"pattern": "in the style of", "reason": "no style imitation"}],
        "require_alt": True,
        "max_ai_share": 0.05,
    }
    config = site_factory(
        {"blog/index.md": "# Blog\n", "blog/posts/frost.md": post}, {"policy": policy}
    )
    f = ("-f", str(config))
    run("generate", *f, ok=True)
    code, output = run("check", *f, "--json")
    assert code == 1
    rules = sorted(v["rule"] for v in json.loads(output)["policy"])
    assert rules == [
        "allowed_providers",
        "allowed_providers",
        "forbidden",
        "max_ai_share",
        "require_alt",
    ]
    found = json.loads(output)["policy"]
    assert all(v["file"] == "blog/posts/frost.md" for v in found)
    assert {v["line"] for v in found if v["rule"] == "forbidden"} == {9}


def test_frozen_and_strict_builds_fail_on_policy_and_serve_shows_a_warning(
    site_factory, monkeypatch
) -> None:
    from mkdocs.exceptions import Abort

    config = _site(site_factory)
    run("generate", "-f", str(config), ok=True)
    with pytest.raises(Abort):
        build_site(config, strict=True)
    site = build_site(config)  # a plain build (like serve) warns on the page instead
    html = next(site.glob("blog/20*/**/index.html")).read_text()
    assert "aicraft-policy-warning" in html and "is not reviewed" in html
    monkeypatch.setenv("CI", "true")
    with pytest.raises(Abort):
        build_site(config)


def test_check_reports_stale_records_and_gc_removes_orphans(site_factory) -> None:
    config = _site(site_factory, policy={})
    f = ("-f", str(config))
    run("generate", *f, ok=True)
    post = config.parent / "docs" / "blog" / "posts" / "frost.md"
    post.write_text(post.read_text().replace("first frost", "last frost"))
    code, output = run("check", *f, "--json")
    data = json.loads(output)
    assert code == 1
    assert len(data["missing"]) == 1 and len(data["stale"]) == 1
    assert "blog/posts/frost.md:9 no longer matches" in data["stale"][0]["message"]
    run("generate", *f, ok=True)
    code, output = run("gc", *f)
    assert "would remove" in output
    assert len(list((config.parent / "generations").glob("*.md"))) == 3
    run("gc", "--yes", *f, ok=True)
    assert len(list((config.parent / "generations").glob("*.md"))) == 2
    run("check", *f, ok=True)


def test_new_scaffolds_a_site_that_builds(tmp_path: Path, monkeypatch) -> None:
    for name in ("CI", "OPENAI_API_KEY", "OPENAI_BASE_URL", "AICRAFT_MODE"):
        monkeypatch.delenv(name, raising=False)
    target = tmp_path / "my-blog"
    code, output = run("new", str(target))
    assert code == 0, output
    workflow = (target / ".github" / "workflows" / "publish.yml").read_text()
    assert "aicraft check" in workflow and "aicraft build --strict" in workflow
    assert 'CI: "true"' in workflow and "deploy-pages" in workflow
    # CI installs the versions the site was made with, never whatever is newest.
    assert "pip install -r requirements.txt" in workflow
    from importlib.metadata import version

    pins = [line for line in (target / "requirements.txt").read_text().splitlines() if "==" in line]
    assert pins == [f"{p}=={version(p)}" for p in ("aicraft", "mkdocs", "mkdocs-material")]
    assert "generations/** -text" in (target / ".gitattributes").read_text()
    site = build_site(target / "mkdocs.yml")
    index = (site / "blog" / "index.html").read_text()
    assert 'data-ai-generated="true"' in index
    # The template's own prose is AI-written (aicraft is): its pages say so until rewritten.
    for page in (site / "index.html", next(site.glob("blog/20*/**/index.html"))):
        html = page.read_text()
        assert "written by Claude (an AI model) for aicraft" in html
        assert "No AI on this page" not in html and 'content="human-only"' not in html
    code, output = run("new", str(target))
    assert code == 1 and "not empty" in output


def test_an_approval_without_a_sha256_is_pending_everywhere(site_factory) -> None:
    from aicraft.disclosure import review_state
    from aicraft.records import sha256_text
    from aicraft.review import state, unbound_approval

    config = _site(site_factory)
    f = ("-f", str(config))
    run("generate", *f, ok=True)
    path, text = _record(config, "text")
    head, sep, body = path.read_text().partition("\nreview:\n")
    forged = head + sep + "  status: approved\n  by: Mallory\n" + body[body.index("---\n") :]
    path.write_text(forged)
    record = Record.loads(forged, str(path))
    assert unbound_approval(record)
    assert state(record) == "pending"
    assert review_state(record) == ("pending", "not yet reviewed")
    record.review["sha256"] = "A" * 64  # not a digest aicraft writes
    assert state(record) == "pending" and review_state(record)[0] == "pending"
    record.review["sha256"] = sha256_text(record.body)
    assert state(record) == "approved" and review_state(record)[0] == "approved"
    record.review["sha256"] = sha256_text("something else")
    assert state(record) == "changed" and review_state(record)[0] == "changed"

    code, output = run("review", "list", *f)
    assert code == 0
    assert f"{path}: its review says approved but names no sha256" in output
    assert f"`aicraft review approve {text.short}`" in output
    assert f"{text.short}  line 9    ai-text  pending" in output
    code, output = run("check", *f)
    assert code == 1 and "is not reviewed [require_review]" in output
    run("review", "approve", text.short, "--by", "Ed Itor", *f, ok=True)
    code, output = run("review", "list", *f)
    assert (
        "names no sha256" not in output and f"{text.short}  line 9    ai-text  approved" in output
    )
