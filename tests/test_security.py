"""Security: hostile model output, hostile presentation options and prompts, hostile model ids,
forged review fields, and the API key, end to end.

The model is an attacker here. The fake OpenAI server (tests/openai_server.py) answers chat
completions with the corpus of tests/payloads.py; the site is generated with ``aicraft generate``
(the CLI, through the real ``openai`` client), built with MkDocs + Material, and the built HTML
is parsed the way a browser parses it (html5lib, the WHATWG algorithm) and audited:

- nothing executable came from the payload: no script, iframe, object, embed, svg, math, style,
  base, form, meta... element in the page's content, and around it exactly the elements the
  theme has on the same page built from a well-behaved model; no ``on*`` attribute, no
  ``javascript:``/``data:``/``vbscript:`` URL in any URL attribute, no meta refresh anywhere;
- every AI item is whole: its wrapper carries ``data-ai-generated="true"``, its first child is
  the one credit line, and nothing else on the page claims to be an item or a credit or carries
  a disclosure attribute;
- the page's banner counts exactly the items on the page.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import html5lib
import pytest
from click.testing import CliRunner, Result

from aicraft.cli import main
from aicraft.images import read_metadata
from aicraft.records import Record, sha256_text
from tests.openai_server import Behavior, FakeOpenAI, RecordedRequest
from tests.payloads import MODEL_IDS, OUTPUTS, Payload, option_payloads
from tests.sites import AICRAFT_ENV, PROSE, build_site, write_site

SECRET = "sk-test-SECURITY-5f0c2d9e8b7a6f5e4d3c2b1a0918"
CLEAN_ENV: dict[str, str | None] = {name: None for name in AICRAFT_ENV}
FAST = {"retry_backoff": 0.01, "retry_backoff_max": 0.05, "max_retries": 1, "timeout": 10}

# Elements that must never come from a payload (beyond those the theme puts on every page).
EXECUTABLE = frozenset(
    {
        "script", "iframe", "object", "embed", "svg", "math", "style", "base", "form", "input",
        "button", "textarea", "select", "frame", "frameset", "link", "meta", "template", "video",
        "audio", "source", "applet", "noscript", "marquee", "xmp", "plaintext", "title", "body",
    }
)  # fmt: skip
URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "action", "formaction", "srcset", "poster", "data", "background",
        "cite", "longdesc", "ping", "xlink:href", "codebase", "dynsrc", "lowsrc", "srcdoc",
    }
)  # fmt: skip
BAD_SCHEME = re.compile(r"^(?:javascript|data|vbscript|livescript):", re.IGNORECASE)
# Attributes allowed on elements of a text item's content (the sanitiser's allow-list).
CONTENT_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
}
DISCLOSURE_ATTRIBUTES = (
    "data-ai-generated",
    "ai-disclosure",
    "data-ai-disclosure",
    "data-aicraft-key",
)


# -- HTML, parsed as a browser parses it ----------------------------------------------------------
def parse(html: str) -> ET.Element:
    """The document tree of ``html`` (WHATWG parsing; foreign attributes as ``xlink:href``)."""
    return html5lib.parse(html, namespaceHTMLElements=False)


def _name(element: ET.Element) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1].lower()


def _attributes(element: ET.Element) -> dict[str, str]:
    out = {}
    for name, value in element.attrib.items():
        if name.startswith("{http://www.w3.org/1999/xlink}"):
            name = "xlink:" + name.rsplit("}", 1)[1]
        out[name.rsplit("}", 1)[-1].lower() if not name.startswith("xlink:") else name] = value
    return out


def _classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def _text(element: ET.Element) -> str:
    return "".join(element.itertext())


def _url_is_dangerous(value: str) -> bool:
    # Browsers drop ASCII whitespace and control characters inside and around a scheme.
    cleaned = re.sub(r"[\x00-\x20\x7f]+", "", value)
    return bool(BAD_SCHEME.match(cleaned))


def attribute_problems(root: ET.Element) -> list[str]:
    """Event handlers and script URLs anywhere under ``root``."""
    problems = []
    for element in root.iter():
        for name, value in _attributes(element).items():
            if name.startswith("on"):
                problems.append(f"<{_name(element)} {name}={value!r}>")
            if (name in URL_ATTRIBUTES or name.endswith(":href")) and _url_is_dangerous(value):
                problems.append(f"<{_name(element)} {name}={value!r}>")
            if name == "http-equiv" and value.strip().lower() == "refresh":
                problems.append(f"<{_name(element)} http-equiv=refresh>")
            if name == "style" and re.search(r"url\(|expression\(|@import", value, re.I):
                problems.append(f"<{_name(element)} style={value!r}>")
    return problems


def content_root(root: ET.Element) -> ET.Element:
    """The element holding the page's Markdown (Material's ``.md-content__inner``)."""
    found = [e for e in root.iter() if "md-content__inner" in _classes(e)]
    assert len(found) == 1, f"{len(found)} content elements"
    return found[0]


def tag_counts(root: ET.Element) -> tuple[Counter[str], Counter[str]]:
    """EXECUTABLE elements of a page: (inside its content, in the theme around it)."""
    content = content_root(root)
    inside = {id(e) for e in content.iter()}
    counts: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    for element in root.iter():
        name = _name(element)
        if name in EXECUTABLE:
            counts[0 if id(element) in inside else 1][name] += 1
    return counts


@dataclass
class Item:
    """An AI item found in a built page."""

    element: ET.Element
    key: str
    credit: ET.Element | None
    content: ET.Element | None


def items(root: ET.Element) -> list[Item]:
    """Every element that carries ``data-aicraft-key``."""
    found = []
    for element in root.iter():
        key = element.get("data-aicraft-key")
        if key is None:
            continue
        children = list(element)
        credit = children[0] if children and "aicraft-credit" in _classes(children[0]) else None
        content = next((c for c in children if "aicraft-content" in _classes(c)), None)
        found.append(Item(element, key, credit, content))
    return found


def page_problems(root: ET.Element, keys: set[str], count_banner: bool = True) -> list[str]:
    """Everything wrong with the AI items and disclosures of one page.

    ``count_banner``: check that the banner counts the items (see
    test_the_listing_banner_counts_only_real_items for listing pages).
    """
    problems = attribute_problems(root)
    found = items(root)
    for item in found:
        element = item.element
        where = f"item {item.key[:16]}"
        if item.key not in keys:
            problems.append(f"{where}: not a record of the store (forged item)")
        if element.get("data-ai-generated") != "true":
            problems.append(f"{where}: data-ai-generated={element.get('data-ai-generated')!r}")
        if "aicraft" not in _classes(element):
            problems.append(f"{where}: wrapper without class aicraft")
        if item.credit is None:
            problems.append(f"{where}: the first child is not the credit")
        elif (element.text or "").strip():
            problems.append(f"{where}: text before the credit: {element.text!r}")
        credits = [e for e in element.iter() if "aicraft-credit" in _classes(e)]
        if len(credits) != 1:
            problems.append(f"{where}: {len(credits)} credit lines")
        if item.content is not None:
            for inner in item.content.iter():
                name = _name(inner)
                if inner is item.content:
                    continue
                if name in EXECUTABLE or name in ("img", "div", "details", "figure"):
                    problems.append(f"{where}: <{name}> in model output")
                allowed = CONTENT_ATTRIBUTES.get(name, set())
                extra = set(_attributes(inner)) - allowed
                if extra:
                    problems.append(f"{where}: <{name}> with attributes {sorted(extra)}")
                href = inner.get("href")
                if href is not None and not href.startswith(("http://", "https://", "mailto:")):
                    problems.append(f"{where}: link to {href!r}")
    wrappers = {id(i.element) for i in found}
    for element in root.iter():
        attributes = _attributes(element)
        forged = [a for a in DISCLOSURE_ATTRIBUTES if a in attributes]
        if forged and id(element) not in wrappers:
            problems.append(f"<{_name(element)}> outside an item carries {forged}")
        if "aicraft-credit" in _classes(element) and not any(i.credit is element for i in found):
            problems.append("a credit line that is not the first child of an item")
    banners = [e for e in root.iter() if "aicraft-banner" in _classes(e)]
    if found and count_banner:
        if len(banners) != 1:
            problems.append(f"{len(banners)} banners for {len(found)} items")
        else:
            banner = banners[0]
            listed = banner.get("data-ai-items")
            if listed is None:
                m = re.search(r"(\d+) AI-made item", _text(banner))
                listed = m.group(1) if m else None
            if listed is None or int(listed) != len({i.key for i in found}):
                problems.append(f"the banner counts {listed} items, the page has {len(found)}")
    for script in root.iter("script"):
        if script.get("type") == "application/ld+json":
            try:
                json.loads(script.text or "")
            except ValueError as exc:
                problems.append(f"JSON-LD that does not parse: {exc}")
    return problems


# -- the hostile site ---------------------------------------------------------------------------
TEMPLATE_LITERALS = {
    "jinja-expr": "{{ 7*7 }}",
    "jinja-block": '{% include "main.html" %}{% raw %}x{% endraw %}',
    "jinja-config": "{{ config.extra }}",
    "template-dollar": "${7",
}
MARKER = re.compile(r"\[\[(out|model):([\w-]+)\]\]")
BY_ID = {p.id: p for p in OUTPUTS}
PER_PAGE = 25
BUILT = {  # built pages whose path is not their source's
    "blog/posts/hostile.md": "blog/2026/03/01/a-hostile-post/index.html",
    "blog/index.md": "blog/index.html",
}


def _answer(request: RecordedRequest) -> Behavior | None:
    """The fake model: a payload, or a hostile model id, as the prompt's marker asks."""
    m = MARKER.search(json.dumps(request.body))
    if m is None:
        return None
    kind, ident = m.groups()
    if kind == "out":
        return Behavior(content=BY_ID[ident].text)
    return Behavior(model=MODEL_IDS[int(ident)])


def _fence_option(name: str, value: str, quote: str) -> str:
    return f"{name}={quote}{value}{quote}"


def _hostile_pages() -> dict[str, str]:
    pages: dict[str, str] = {
        "index.md": f"# Home\n\n{PROSE}\n",
        "blog/index.md": "# Blog\n",
    }
    # Model output: every payload as a chat completion, 25 to a page.
    for start in range(0, len(OUTPUTS), PER_PAGE):
        parts = [f"# Hostile output {start // PER_PAGE}\n\n{PROSE}\n"]
        for payload in OUTPUTS[start : start + PER_PAGE]:
            parts.append(f'```ai-text label="{payload.id}"\nAnswer [[out:{payload.id}]].\n```\n')
        pages[f"output/part{start // PER_PAGE}.md"] = "\n".join(parts)
    # Presentation options: label, alt and caption of images (and a label of a text).
    parts = [f"# Hostile options\n\n{PROSE}\n"]
    for payload, quote in option_payloads():
        opts = " ".join(
            _fence_option(name, payload.text, quote) for name in ("label", "alt", "caption")
        )
        parts.append(f'~~~ai-image size="64x64" {opts}\nA picture for {payload.id}.\n~~~\n')
        parts.append(
            f"~~~ai-text {_fence_option('label', payload.text, quote)}\n"
            f"A verse for {payload.id}.\n~~~\n"
        )
    pages["options.md"] = "\n".join(parts)
    # Prompts (shown in the credit's <details>, and echoed into the fake model's answer).
    parts = [f"# Hostile prompts\n\n{PROSE}\n"]
    for payload in OUTPUTS:
        if "\x01" in payload.text or "\x02" in payload.text:
            continue  # control characters are no text a page can hold
        parts.append(f"~~~~ai-text\n{payload.text}\n\nPrompt {payload.id}.\n~~~~\n")
    pages["prompts.md"] = "\n".join(parts)
    # Model ids reported by the server.
    parts = [f"# Hostile model ids\n\n{PROSE}\n"]
    for index in range(len(MODEL_IDS)):
        parts.append(f"```ai-text\nWrite a verse [[model:{index}]].\n```\n")
    pages["models.md"] = "\n".join(parts)
    # A blog post whose excerpt (on the blog index) shows hostile items.
    pages["blog/posts/hostile.md"] = textwrap.dedent(
        """\
        ---
        date: 2026-03-01
        ---

        # A hostile post

        {prose}

        ```ai-text
        Answer [[out:fake-key-text]].
        ```

        ```ai-text
        Answer [[out:fake-item]].
        ```

        ```ai-text
        Answer [[out:close-wrapper]].
        ```

        <!-- more -->

        {prose}
        """
    ).format(prose=PROSE)
    return pages


@dataclass
class HostileSite:
    config: Path
    site: Path
    store: Path
    generate: Result
    twin: Path  # the same site, generated from a well-behaved model
    records: dict[str, Record] = field(default_factory=dict)
    html: dict[str, str] = field(default_factory=dict)
    trees: dict[str, ET.Element] = field(default_factory=dict)

    def page(self, src: str) -> ET.Element:
        """The parsed built page of source ``src`` (``output/part0.md``) or built file."""
        path = BUILT.get(src) or (src if src.endswith(".html") else src[:-3] + "/index.html")
        if path not in self.trees:
            self.html[path] = (self.site / path).read_text("utf-8")
            self.trees[path] = parse(self.html[path])
        return self.trees[path]

    def key_for(self, needle: str) -> str:
        """The key of the one record whose prompt contains ``needle``."""
        keys = [k for k, r in self.records.items() if needle in r.prompt]
        assert len(keys) == 1, (needle, keys)
        return keys[0]

    def item(self, src: str, key: str) -> Item:
        found = [i for i in items(self.page(src)) if i.key == key]
        assert len(found) == 1, f"{len(found)} items with key {key[:16]} on {src}"
        return found[0]


def _generate_and_build(root: Path, answer: Any) -> tuple[Path, Result, Path]:
    with FakeOpenAI(default=answer) as server, pytest.MonkeyPatch.context() as mp:
        for name in CLEAN_ENV:
            mp.delenv(name, raising=False)
        config = write_site(
            root,
            _hostile_pages(),
            {"provider": "openai", "base_url": server.base_url, "concurrency": 8, **FAST},
        )
        result = CliRunner().invoke(
            main, ["generate", "-f", str(config)], env={**CLEAN_ENV, "OPENAI_API_KEY": SECRET}
        )
        return config, result, build_site(config)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileSite]:
    root = tmp_path_factory.mktemp("hostile")
    config, result, site = _generate_and_build(root, _answer)
    _, benign, twin = _generate_and_build(tmp_path_factory.mktemp("benign"), None)
    assert benign.exit_code == 0, benign.output
    store = root / "generations"
    built = HostileSite(config, site, store, result, twin)
    for path in store.glob("*.md"):
        record = Record.loads(path.read_text("utf-8"), str(path))
        built.records[record.key] = record
    yield built


# -- model output -------------------------------------------------------------------------------
def test_every_hostile_output_was_generated_and_stored_verbatim(hostile: HostileSite) -> None:
    assert hostile.generate.exit_code == 0, hostile.generate.output
    for payload in OUTPUTS:
        record = hostile.records[hostile.key_for(f"[[out:{payload.id}]]")]
        assert record.original == payload.text.strip(), payload.id  # the store keeps the truth


@pytest.mark.parametrize("payload", OUTPUTS, ids=lambda p: p.id)
def test_hostile_model_output_is_inert_and_keeps_its_credit(
    hostile: HostileSite, payload: Payload
) -> None:
    index = OUTPUTS.index(payload) // PER_PAGE
    src = f"output/part{index}.md"
    key = hostile.key_for(f"[[out:{payload.id}]]")
    item = hostile.item(src, key)
    assert item.credit is not None, "the credit must be the item's first child"
    assert payload.id in _text(item.credit), "the credit shows the directive's label"
    assert item.content is not None
    assert page_problems(hostile.page(src), set(hostile.records)) == []
    literal = TEMPLATE_LITERALS.get(payload.id)
    if literal is not None:  # template syntax stays text: nothing renders it
        text = _text(item.content)
        assert literal in text and "49" not in text, text


LISTINGS = ["blog/index.md", "blog/archive/2026/index.html"]
AUDITED = [
    *(f"output/part{n}.md" for n in range(-(-len(OUTPUTS) // PER_PAGE))),
    "options.md",
    "prompts.md",
    "models.md",
    "blog/posts/hostile.md",
    "blog/index.md",
    "blog/archive/2026/index.html",
    "ai-disclosures/index.html",
]


@pytest.mark.parametrize("src", AUDITED)
def test_no_page_carries_more_executable_markup_than_the_theme(
    hostile: HostileSite, src: str
) -> None:
    inside, around = tag_counts(hostile.page(src))
    assert inside == Counter(), "executable elements in the page's content"
    path = BUILT.get(src) or (src if src.endswith(".html") else src[:-3] + "/index.html")
    _, twin_around = tag_counts(parse((hostile.twin / path).read_text("utf-8")))
    assert around == twin_around, "the theme around the content changed"
    problems = page_problems(hostile.page(src), set(hostile.records), src not in LISTINGS)
    assert problems == []


@pytest.mark.parametrize("src", LISTINGS)
def test_the_listing_banner_counts_only_real_items(hostile: HostileSite, src: str) -> None:
    root = hostile.page(src)
    banner = [e for e in root.iter() if "aicraft-banner--listing" in _classes(e)]
    assert len(banner) == 1
    assert int(banner[0].get("data-ai-items", "-1")) == len({i.key for i in items(root)})


# -- human input: presentation options and prompts ----------------------------------------------
def _params(values: list[Any]) -> list[Any]:
    """Parameters named by their payload's id."""
    out = []
    for value in values:
        payload = value[0] if isinstance(value, tuple) else value
        out.append(pytest.param(*(value if isinstance(value, tuple) else (value,)), id=payload.id))
    return out


@pytest.mark.parametrize(("payload", "quote"), _params(option_payloads()))
def test_hostile_labels_alts_and_captions_are_shown_as_text(
    hostile: HostileSite, payload: Payload, quote: str
) -> None:
    image = hostile.item("options.md", hostile.key_for(f"A picture for {payload.id}."))
    text = hostile.item("options.md", hostile.key_for(f"A verse for {payload.id}."))
    for item in (image, text):
        assert item.credit is not None
        labels = [e for e in item.credit.iter() if "aicraft-label" in _classes(e)]
        assert [_text(e) for e in labels] == [payload.text]
    images = [e for e in image.element.iter("img")]
    assert len(images) == 1
    assert images[0].get("alt") == payload.text
    assert re.fullmatch(r"\.\./assets/aicraft/[0-9a-f]{16}\.png", images[0].get("src", ""))
    captions = [e for e in image.element.iter() if "aicraft-caption-text" in _classes(e)]
    assert [_text(e) for e in captions] == [payload.text]
    # The same values, in the page's JSON-LD and in ai-disclosures.json, are data, not markup.
    doc = _json_ld(hostile.page("options.md"))
    media = [m for m in doc["associatedMedia"] if m["@id"].endswith(image.key[:16])]
    assert [(m["caption"], m["description"]) for m in media] == [(payload.text, payload.text)]
    ledger = {e["key"]: e for e in _ledger_json(hostile)["items"]}
    entry = ledger[image.key]
    assert (entry["label"], entry["alt"], entry["caption"]) == (payload.text,) * 3


def _json_ld(root: ET.Element) -> dict[str, Any]:
    scripts = [s for s in root.iter("script") if s.get("type") == "application/ld+json"]
    assert len(scripts) == 1
    return json.loads(scripts[0].text or "")


def _ledger_json(hostile: HostileSite) -> dict[str, Any]:
    return json.loads((hostile.site / "ai-disclosures.json").read_text("utf-8"))


def test_hostile_alt_text_cannot_forge_the_image_files_metadata(hostile: HostileSite) -> None:
    checked = 0
    for payload, _ in option_payloads():
        record = hostile.records[hostile.key_for(f"A picture for {payload.id}.")]
        data = (hostile.site / "assets" / "aicraft" / record.original).read_bytes()
        meta = read_metadata(data)
        ET.fromstring(meta["xmp_packet"].encode("utf-8"))  # well-formed XML
        xmp = meta["xmp"]
        assert xmp["Iptc4xmpExt:DigitalSourceType"].endswith("/trainedAlgorithmicMedia")
        assert xmp["dc:description"] == payload.text
        assert xmp["Iptc4xmpExt:AISystemUsed"] == record.model
        checked += 1
    assert checked >= 60


PROMPT_PAYLOADS = [p for p in OUTPUTS if "\x01" not in p.text and "\x02" not in p.text]


@pytest.mark.parametrize("payload", _params(PROMPT_PAYLOADS))
def test_hostile_prompts_are_shown_as_text(hostile: HostileSite, payload: Payload) -> None:
    key = hostile.key_for(f"Prompt {payload.id}.")
    record = hostile.records[key]
    item = hostile.item("prompts.md", key)
    details = [e for e in item.element.iter("details") if "aicraft-prompt" in _classes(e)]
    assert len(details) == 1
    shown = [_text(code) for code in details[0].iter("code")]
    assert shown == [record.prompt]
    assert payload.text.strip() in record.prompt


# -- hostile model ids ----------------------------------------------------------------------------
@pytest.mark.parametrize("index", range(len(MODEL_IDS)), ids=lambda i: f"model{i}")
def test_a_hostile_model_id_is_data_everywhere(hostile: HostileSite, index: int) -> None:
    model = MODEL_IDS[index]
    key = hostile.key_for(f"[[model:{index}]]")
    assert hostile.records[key].model == model  # the record keeps what the server said
    item = hostile.item("models.md", key)
    assert item.element.get("ai-model") == model
    assert item.element.get("data-ai-model") == model
    assert item.credit is not None
    shown = [_text(e) for e in item.credit.iter() if "aicraft-model" in _classes(e)]
    assert shown == [model]
    assert model in (item.element.get("data-aia") or "")
    doc = _json_ld(hostile.page("models.md"))
    parts = [p for p in doc["hasPart"] if p["@id"].endswith(key[:16])]
    assert [p["creator"]["name"] for p in parts] == [model]
    ledger = {e["key"]: e for e in _ledger_json(hostile)["items"]}
    assert ledger[key]["model"] == model


# -- secrets ------------------------------------------------------------------------------------
KEYS = [
    pytest.param("sk-proj-SECURITY-5f0c2d9e8b7a6f5e4d3c2b1a0918", id="sk-key"),
    # Not shaped like an OpenAI key: only scrubbing by value can hide it.
    pytest.param("local-token-7f3a9c2e5b1d40688aa", id="local-token"),
]


class _Redirector:
    """An HTTP server whose every GET redirects to ``target`` (which holds the key)."""

    def __init__(self, target: str) -> None:
        location = target

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/image.png"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _image_answer(url: str) -> Behavior:
    return Behavior(raw_body=json.dumps({"created": 1, "data": [{"url": url}]}).encode())


# Ways a provider can echo the key back, each selected by a word in the prompt.
ECHOES = {
    "echo-text": lambda key, server, redirector: Behavior.echo_authorization(),
    "echo-400": lambda key, server, redirector: Behavior.echo_authorization(status=400),
    "echo-401": lambda key, server, redirector: Behavior.echo_authorization(status=401),
    "echo-429": lambda key, server, redirector: Behavior.echo_authorization(
        status=429, retry_after=0
    ),
    "echo-500": lambda key, server, redirector: Behavior.echo_authorization(status=500),
    "refusal": lambda key, server, redirector: Behavior.refused(f"No. Your key is {key}."),
    "error-body": lambda key, server, redirector: Behavior.bad_request(f"Bad key: {key}"),
    "raw-body": lambda key, server, redirector: Behavior(
        status=502, raw_body=f"<html>upstream failed for {key}</html>".encode()
    ),
    "api-redirect": lambda key, server, redirector: Behavior(
        status=307, headers={"Location": f"{server.base_url}/{key}/chat/completions"}
    ),
    "image-redirect": lambda key, server, redirector: _image_answer(redirector.url),
}
# Echoes that leak today (see the xfail tests below).
LEAKS = {
    "model-id": lambda key, server, redirector: Behavior(model=f"gpt-4o-mini-{key}"),
    "image-url-path": lambda key, server, redirector: _image_answer(
        f"{server.root_url}/files/{key}/image.png"
    ),
}


def _echo_site(root: Path, server: FakeOpenAI, names: list[str]) -> Path:
    parts = [f"# Echoes\n\n{PROSE}\n"]
    for name in names:
        if name.startswith("image"):
            parts.append(f'```ai-image size="64x64" alt="x"\nA picture, {name}.\n```\n')
        else:
            parts.append(f"```ai-text\nA verse, {name}.\n```\n")
    return write_site(
        root,
        {"index.md": "\n".join(parts)},
        {"provider": "openai", "base_url": server.base_url, **FAST, "max_retries": 1},
    )


def _serve_echoes(server: FakeOpenAI, key: str, table: dict[str, Any], redirector: Any) -> None:
    def answer(request: RecordedRequest) -> Behavior | None:
        body = json.dumps(request.body)
        for name, make in table.items():
            if f", {name}." in body:
                return make(key, server, redirector)
        return None

    server.default = answer


def _files_with(root: Path, needle: str) -> list[str]:
    return [
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and needle.encode() in p.read_bytes()
    ]


@pytest.mark.parametrize("key", KEYS)
def test_the_key_appears_nowhere_whatever_the_provider_echoes(
    tmp_path: Path, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeOpenAI() as server, pytest.MonkeyPatch.context() as mp:
        redirector = _Redirector(f"{server.root_url}/files/{key}.png")
        try:
            for name in CLEAN_ENV:
                mp.delenv(name, raising=False)
            _serve_echoes(server, key, ECHOES, redirector)
            config = _echo_site(tmp_path, server, [*ECHOES, "fine"])
            result = CliRunner().invoke(
                main, ["generate", "-f", str(config)], env={**CLEAN_ENV, "OPENAI_API_KEY": key}
            )
            assert result.exit_code != 0  # every echo is a failure, not a published answer
            assert "Generated 1 item(s)" in result.output, result.output
            # A build in auto mode retries the failed items, and logs every failure.
            mp.setenv("OPENAI_API_KEY", key)
            build_site(config)
            mp.delenv("OPENAI_API_KEY")
            # And the real command, in a process of its own, as a user runs it.
            env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
            process = subprocess.run(
                [sys.executable, "-m", "aicraft", "build", "-f", str(config), "-d", "site2"],
                env={**env, "OPENAI_API_KEY": key, "PYTHONPATH": str(Path.cwd())},
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
        finally:
            redirector.close()
    assert "Traceback" not in process.stderr
    assert process.stderr.count("not generated: index.md:") == len(ECHOES), process.stderr
    assert key not in result.output
    assert key not in process.stdout + process.stderr
    # aicraft's and MkDocs' own log records, at every level. (httpx and the openai client log
    # request URLs at INFO and DEBUG, where a redirect can put the key: see SECURITY.md.)
    ours = [r for r in caplog.records if r.name.startswith(("aicraft", "mkdocs"))]
    assert ours, "the build logs the failures"
    assert [r.getMessage() for r in ours if key in r.getMessage()] == []
    assert _files_with(tmp_path, key) == []  # store, site, cache, logs: nowhere
    sent = [r.header("authorization") for r in server.api_requests()]
    assert sent and all(h == f"Bearer {key}" for h in sent), "the key must reach the server"


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("echo", ["model-id", "image-url-path"])
def test_the_key_never_leaks_through_model_ids_or_image_urls(
    tmp_path: Path, key: str, echo: str
) -> None:
    with FakeOpenAI() as server, pytest.MonkeyPatch.context() as mp:
        for name in CLEAN_ENV:
            mp.delenv(name, raising=False)
        _serve_echoes(server, key, {echo: LEAKS[echo]}, None)
        config = _echo_site(tmp_path, server, [echo])
        result = CliRunner().invoke(
            main, ["generate", "-f", str(config)], env={**CLEAN_ENV, "OPENAI_API_KEY": key}
        )
    assert key not in result.output
    assert _files_with(tmp_path, key) == []


# -- records edited by hand or by a pull request --------------------------------------------------
HOSTILE_REVIEWER = '<img src=x onerror=alert(1)>"><script>alert(2)</script>'


def test_hostile_review_fields_in_a_record_are_shown_as_text(
    site_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = site_factory({"index.md": f"# Reviewed\n\n{PROSE * 4}\n\n```ai-text\nA verse.\n```\n"})
    assert CliRunner().invoke(main, ["generate", "-f", str(config)]).exit_code == 0
    path = next((config.parent / "generations").glob("*.md"))
    record = Record.loads(path.read_text("utf-8"), str(path))
    record.review = {
        "status": "approved",
        "by": HOSTILE_REVIEWER,
        "at": "</time><script>alert(3)</script>",
        "sha256": sha256_text(record.body),
        "note": "<iframe src=javascript:alert(4)>",
        "picked_by": HOSTILE_REVIEWER,
        "history": [{"action": "<svg onload=alert(5)>", "by": HOSTILE_REVIEWER}],
    }
    path.write_text(record.dumps(), "utf-8")
    site = build_site(config)
    root = parse((site / "index.html").read_text("utf-8"))
    assert page_problems(root, {record.key}) == []
    assert content_root(root) is not None and tag_counts(root)[0] == Counter()
    (item,) = items(root)
    assert item.credit is not None
    assert f"reviewed by {HOSTILE_REVIEWER}" in _text(item.credit)
    ledger = parse((site / "ai-disclosures" / "index.html").read_text("utf-8"))
    assert attribute_problems(ledger) == [] and tag_counts(ledger)[0] == Counter()
    data = json.loads((site / "ai-disclosures.json").read_text("utf-8"))
    assert data["items"][0]["reviewed_by"] == HOSTILE_REVIEWER


def test_ci_builds_send_no_key_anywhere_whatever_a_pull_request_configures(
    site_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request can point ``base_url`` at its own server and ``api_key_env`` at any
    variable of the CI runner; a CI build (``CI`` set: frozen) calls no provider at all."""
    with FakeOpenAI() as evil:
        config = site_factory(
            {"index.md": f"# CI\n\n{PROSE}\n\n```ai-text\nNot generated yet.\n```\n"},
            {"provider": "openai", "base_url": evil.base_url, "api_key_env": "DEPLOY_TOKEN"},
        )
        env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
        env.update(CI="true", DEPLOY_TOKEN=SECRET, OPENAI_API_KEY=SECRET)
        env["PYTHONPATH"] = str(Path.cwd())
        for args in (["build", "--strict"], ["check"], ["status"]):
            done = subprocess.run(
                [sys.executable, "-m", "aicraft", *args, "-f", str(config)],
                env=env,
                cwd=config.parent,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert SECRET not in done.stdout + done.stderr
        assert done.returncode == 0
        assert evil.requests == [], "a CI build called the configured server"
