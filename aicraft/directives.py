"""Find generation directives in Markdown and validate their options.

A directive is a fenced block whose language is ``ai-<kind>``, with ``key="value"`` options on the
fence line and the prompt as its body. The scanner here and the superfences formatter used at
render time share :func:`parse_options` semantics (those of ``pymdownx.superfences``) and
:func:`validate`, so that the keys found before a build are the keys rendered during it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from aicraft.errors import Problem
from aicraft.records import SAFE_LOADER

KINDS: dict[str, str] = {"ai-text": "text", "ai-image": "image"}

_COMMON = ("provider", "model", "seed", "style", "candidates", "label", "show_prompt")
OPTIONS: dict[str, frozenset[str]] = {
    "text": frozenset((*_COMMON, "temperature", "max_tokens", "persona", "context")),
    "image": frozenset((*_COMMON, "size", "quality", "alt", "caption")),
}
#: Options that change only how an item is presented, never what is generated.
PRESENTATION = frozenset({"alt", "caption", "label", "show_prompt"})

QUALITIES = ("auto", "low", "medium", "high", "standard", "hd")
MAX_CANDIDATES = 8
MAX_PROMPT_CHARS = 20_000
MAX_LABEL_CHARS = 200
MIN_SIDE, MAX_SIDE = 16, 4096

# The same option grammar as pymdownx.superfences (RE_OPTIONS), anchored so that we can also
# report what it would silently skip.
_OPTION = re.compile(
    r"""[ \t]*(?P<key>[a-zA-Z][a-zA-Z0-9_]*)(?:=(?P<quot>"|')(?P<value>.*?)(?P=quot))?(?=[ \t]|$)"""
)
_FENCE_OPEN = re.compile(r"^(?P<prefix>[ \t>]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SIZE = re.compile(r"^(\d{1,5})x(\d{1,5})$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


@dataclass(frozen=True)
class Directive:
    """A directive as found in a page: kind, raw options, normalised prompt and its location."""

    kind: str
    options: Mapping[str, str]
    prompt: str
    file: str
    line: int
    end_line: int


@dataclass(frozen=True)
class Spec:
    """A validated directive: typed options with ``None`` where the directive says nothing."""

    kind: str
    prompt: str
    provider: str | None = None
    model: str | None = None
    temperature: float | None = None
    seed: int | None = None
    max_tokens: int | None = None
    persona: str | None = None
    style: str | None = None
    context: str | None = None
    candidates: int = 1
    label: str | None = None
    show_prompt: bool | None = None
    size: tuple[int, int] | None = None
    quality: str | None = None
    alt: str | None = None
    caption: str | None = None


@dataclass
class PageScan:
    """Everything the scanner found in one page."""

    file: str
    directives: list[Directive] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    human_text: str = ""
    #: The page's YAML front matter (empty when it has none or it is not a mapping).
    meta: dict[str, Any] = field(default_factory=dict)


def normalize_prompt(text: str) -> str:
    """Canonical prompt text: LF line ends, tabs expanded, dedented, no trailing blanks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)
    lines = [line.rstrip() for line in textwrap.dedent(text).split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def parse_options(info: str) -> tuple[dict[str, str], list[str]]:
    """Split a fence's option string into ``{key: value}`` and a list of complaints.

    A bare key gets itself as value, as in superfences; it is also reported, since every
    aicraft option needs a value.
    """
    options: dict[str, str] = {}
    complaints: list[str] = []
    pos = 0
    info = info.rstrip()
    while pos < len(info):
        if info[pos] in " \t":
            pos += 1
            continue
        m = _OPTION.match(info, pos)
        if m is None:
            rest = info[pos:]
            if rest.startswith("{"):
                complaints.append(
                    'options in braces are not supported; write them as key="value" pairs'
                )
            else:
                complaints.append(
                    f'cannot read the options at `{rest[:40]}`; write each as key="value"'
                )
            break
        key, value = m.group("key"), m.group("value")
        if value is None:
            complaints.append(f'option `{key}` has no value; write it as {key}="..."')
            value = key
        if key in options:
            complaints.append(f"option `{key}` is given twice; keep one")
        options[key] = value
        pos = m.end()
    return options, complaints


def _int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ValueError(f"`{name}` must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise ValueError(f"`{name}` must be between {low} and {high}, not {number}")
    return number


def _convert(name: str, value: str, kind: str, settings: Mapping[str, object]) -> object:
    """Convert one option's text to its typed value or raise ValueError with the fix."""
    if name in ("provider", "model"):
        if not _NAME.match(value):
            raise ValueError(f'`{name}` must be a name like "gpt-4o-mini", not {value!r}')
        return value
    if name == "temperature":
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"`temperature` must be a number, not {value!r}") from None
        if not 0.0 <= number <= 2.0:
            raise ValueError(f"`temperature` must be between 0 and 2, not {value}")
        return number
    if name == "seed":
        return _int(name, value, 0, 2**63 - 1)
    if name == "max_tokens":
        return _int(name, value, 1, 200_000)
    if name == "candidates":
        return _int(name, value, 1, MAX_CANDIDATES)
    if name in ("persona", "style"):
        table = settings.get(f"{name}s") or {}
        if value not in table:
            known = ", ".join(sorted(table)) or f"none are defined: add `{name}s:` to the config"
            raise ValueError(f"unknown {name} {value!r} (known: {known})")
        return value
    if name == "context":
        if value != "page":
            raise ValueError(f'`context` can only be "page", not {value!r}')
        return value
    if name == "show_prompt":
        lowered = value.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError(f'`show_prompt` must be "true" or "false", not {value!r}')
        return lowered == "true"
    if name == "size":
        m = _SIZE.match(value.strip())
        if not m:
            raise ValueError(f'`size` must look like "1024x768", not {value!r}')
        width, height = int(m.group(1)), int(m.group(2))
        if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
            raise ValueError(f"`size` sides must be between {MIN_SIDE} and {MAX_SIDE} pixels")
        return (width, height)
    if name == "quality":
        if value not in QUALITIES:
            raise ValueError(f"`quality` must be one of {', '.join(QUALITIES)}, not {value!r}")
        return value
    if name == "label" and len(value) > MAX_LABEL_CHARS:
        raise ValueError(f"`label` is longer than {MAX_LABEL_CHARS} characters")
    if name == "alt" and not value.strip():
        raise ValueError("`alt` must describe the image for readers who cannot see it")
    return value


def validate(
    kind: str, options: Mapping[str, str], prompt: str, settings: Mapping[str, object]
) -> tuple[Spec | None, list[tuple[str, str]]]:
    """Check a directive's options and prompt.

    Returns the typed :class:`Spec` (``None`` when anything is wrong) and a list of
    ``(message, fix)`` pairs. ``settings`` supplies the known personas and styles.
    """
    errors: list[tuple[str, str]] = []
    allowed = OPTIONS[kind]
    values: dict[str, object] = {}
    for name, raw in options.items():
        if name not in allowed:
            other = "ai-image" if kind == "text" else "ai-text"
            if name in OPTIONS["image" if kind == "text" else "text"]:
                fix = f"remove it: `{name}` only applies to {other}"
            else:
                fix = "use one of: " + ", ".join(sorted(allowed))
            errors.append((f"unknown option `{name}` for ai-{kind}", fix))
            continue
        try:
            values[name] = _convert(name, raw, kind, settings)
        except ValueError as exc:
            errors.append((str(exc), f"correct the `{name}` option"))
    if not prompt.strip():
        errors.append(("the directive has no prompt", "write the prompt in the fence's body"))
    elif len(prompt) > MAX_PROMPT_CHARS:
        errors.append(
            (f"the prompt is longer than {MAX_PROMPT_CHARS} characters", "shorten the prompt")
        )
    if kind == "image" and "alt" not in options:
        errors.append(
            ("an ai-image needs `alt` text", 'add alt="a short description of the image"')
        )
    if errors:
        return None, errors
    return Spec(kind=kind, prompt=prompt, **values), []  # type: ignore[arg-type]


def strip_front_matter(text: str) -> tuple[str, int]:
    """Remove YAML front matter; return the rest and how many lines were removed."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return text, 0
    return text[m.end() :], m.group(0).count("\n")


def _strip_prefix(line: str, prefix: str) -> str:
    """Remove a fence's container prefix (indentation and blockquote markers) from a line."""
    for _ in range(prefix.count(">")):
        line = re.sub(r"^[ \t]*>[ \t]?", "", line, count=1)
    return line


#: Markdown and HTML markup removed from prose (code, comments, tags, link targets, URLs,
#: attribute lists, footnote and link definitions); shared with the offline provider.
INLINE_MARKUP: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"```.*?```|~~~.*?~~~", re.S), " "),
    (re.compile(r"<!--.*?-->", re.S), " "),
    (re.compile(r"<[^>\n]+>"), " "),
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), " "),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"`[^`\n]*`"), " "),
    (re.compile(r"(?:https?://|www\.)\S+"), " "),
    (re.compile(r"\{[^}\n]*\}"), " "),
    (re.compile(r"\[\^?[^\]]*\]:.*"), " "),
)
_BLOCK_MARKERS = (
    (re.compile(r"^\s*(?:#{1,6}|[-*+]|\d+[.)]|>|!!!|\?\?\?\+?|===)\s*", re.M), ""),
    (re.compile(r"[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}"), ""),
)


def _clean_prose(text: str) -> str:
    for pattern, repl in (*INLINE_MARKUP, *_BLOCK_MARKERS):
        text = pattern.sub(repl, text)
    return text


def scan(text: str, file: str, settings: Mapping[str, object] | None = None) -> PageScan:
    """Find every directive of a page with exact 1-based line numbers.

    Fenced blocks that are not directives (code, or examples in a longer fence) are skipped
    with their whole content. ``human_text`` is the page's prose outside all fences, with the
    front matter and Markdown markup removed: the input of the offline Markov chain and of
    ``context="page"``.
    """
    settings = settings or {}
    result = PageScan(file=file)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    body, offset = strip_front_matter(text)
    if offset:
        try:
            front = text[: len(text) - len(body)].strip().strip("-.").strip()
            meta = yaml.load(front, Loader=SAFE_LOADER)
        except yaml.YAMLError:
            meta = None  # MkDocs reports broken front matter itself
        if isinstance(meta, dict):
            result.meta = meta
    lines = body.split("\n")
    prose: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _FENCE_OPEN.match(line)
        if m is None or (m.group("fence")[0] == "`" and "`" in m.group("info")):
            prose.append(line)
            i += 1
            continue
        prefix, fence, info = m.group("prefix"), m.group("fence"), m.group("info").strip()
        close = re.compile(r"^[ \t>]*" + re.escape(fence) + r"[ \t]*$")
        start = i
        i += 1
        inner: list[str] = []
        while i < len(lines) and not close.match(lines[i]):
            inner.append(_strip_prefix(lines[i], prefix))
            i += 1
        closed = i < len(lines)
        i += 1  # past the closing fence
        lang, _, option_text = info.partition(" ")
        lang = lang.lstrip(".")
        if "\t" in lang:
            lang, _, more = lang.partition("\t")
            option_text = more + " " + option_text
        if not lang.startswith("ai-"):
            continue
        line_no = offset + start + 1
        if lang not in KINDS:
            known = ", ".join(KINDS)
            result.problems.append(
                Problem(file, line_no, f"unknown directive kind `{lang}`", f"use one of: {known}")
            )
            continue
        if not closed:
            result.problems.append(
                Problem(
                    file,
                    line_no,
                    f"the `{lang}` fence is never closed",
                    f"add a line with {fence} after the prompt",
                )
            )
            continue
        kind = KINDS[lang]
        options, complaints = parse_options(option_text)
        prompt = normalize_prompt("\n".join(inner))
        for complaint in complaints:
            result.problems.append(Problem(file, line_no, complaint))
        _, errors = validate(kind, options, prompt, settings)
        for message, fix in errors:
            result.problems.append(Problem(file, line_no, message, fix))
        if not complaints and not errors:
            result.directives.append(Directive(kind, options, prompt, file, line_no, offset + i))
    result.human_text = _clean_prose("\n".join(prose))
    return result
