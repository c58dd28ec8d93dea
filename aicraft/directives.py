"""Find generation directives in Markdown and validate their options.

A directive is a fenced block whose language is ``ai-<kind>``, with ``key="value"`` options on the
fence line and the prompt as its body. The scanner here reads a page as ``pymdownx.superfences``
(the renderer) reads it, rule for rule (:mod:`aicraft.fences` mirrors that reading): tabs expanded
over the whole text first, fences opened, continued, closed and abandoned by its indentation and
block-quote rules, options split by its ``RE_OPTIONS``. Where the two could still read a directive
differently (an unreadable fence line, the language in braces, a value containing its own quote, a
fence cut off by a line outside it), the scanner reports a located problem instead of guessing.
The superfences formatter used at render time shares :func:`normalize_prompt` and
:func:`validate`, so that the keys found before a build are the keys rendered during it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aicraft.errors import Problem
from aicraft.fences import (
    FENCE,
    FENCE_STARTS,
    OPTION,
    PLAIN_OPTIONS,
    PREFIX,
    RE_OPTIONS,
    TAB_LENGTH,
    FenceHeader,
    OpenFence,
    attr_values,
    markdown_lines,
    opens_code,
    options_readable,
    read_fence_header,
)
from aicraft.records import parse_yaml

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

_AI_INFO = re.compile(r"[ \t]*\.?ai-")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SIZE = re.compile(r"^(\d{1,5})x(\d{1,5})$")
#: MkDocs' YAML_RE (mkdocs.utils.meta): the front matter MkDocs removes before rendering.
_FRONT_MATTER = re.compile(r"\A-{3}[ \t]*\n(.*?\n)(?:\.{3}|-{3})[ \t]*\n", re.S)


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
    text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(TAB_LENGTH)
    lines = text.split("\n")
    # When a line starts with neither blank nor break, dedent only empties the lines of blanks,
    # which rstrip does too; only otherwise is there a margin to remove.
    if not any(line and line[0] not in " \t" for line in lines):
        lines = textwrap.dedent(text).split("\n")
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _unreadable(text: str) -> str:
    """The complaint for an option string superfences cannot read, naming the first bad part."""
    pos = 0
    while pos < len(text):
        if text[pos] in " \t":
            pos += 1
            continue
        m = OPTION.match(text, pos)
        if m is None:
            break
        pos = m.end()
    rest = text[pos:] or text.strip()
    if rest.startswith("{"):
        return 'options in braces are not supported; write them as key="value" pairs'
    return f'cannot read the options at `{rest[:40]}`; write each as key="value"'


def _ambiguous(text: str, matches: list[re.Match[str]]) -> str | None:
    """A complaint when superfences' two readings of ``text`` differ, else ``None``.

    The fence-line grammar lets a quoted value run on to a later quote followed by a blank, but
    ``RE_OPTIONS`` ends it at its first matching quote: ``label="a"seed="7"`` is one option for
    the first and two for the second, which is what the formatter gets. The readings agree when
    every option that ``RE_OPTIONS`` finds is separated from the next by blanks and nothing is
    left over.
    """
    pos = 0
    quoted: re.Match[str] | None = None
    culprit: re.Match[str] | None = None
    for m in matches:
        gap = text[pos : m.start()]
        if gap.strip(" \t") or (pos and not gap):
            culprit = quoted or m
            break
        if m.group("value") is not None:
            quoted = m
        pos = m.end()
    else:
        if not text[pos:].strip(" \t"):
            return None
        culprit = quoted or (matches[-1] if matches else None)
    key = culprit.group("key") if culprit else "?"
    quote = (culprit.group("quot") if culprit else None) or '"'
    other = "'" if quote == '"' else '"'
    return (
        f"cannot tell where the value of `{key}` ends: it contains its own quote ({quote}); "
        f"write it as {key}={other}...{other} if it contains {quote}, "
        "and put a space between options"
    )


def parse_options(info: str) -> tuple[dict[str, str], list[str]]:
    """Split a fence's option string into ``{key: value}`` and a list of complaints.

    The options are those ``pymdownx.superfences`` hands to the formatter (split by its
    ``RE_OPTIONS``; a repeated key keeps its last value). A bare key gets itself as value, as in
    superfences; it is also reported, since every aicraft option needs a value. So is a string
    superfences cannot read as options, a repeated key, and a value containing its own quote
    (where what the page shows and what the formatter gets part ways).
    """
    text = info.strip(" \t")
    if not text:
        return {}, []
    plain = PLAIN_OPTIONS.fullmatch(text) is not None
    if not plain and not options_readable(text):
        return {}, [_unreadable(text)]
    options: dict[str, str] = {}
    complaints: list[str] = []
    matches = list(RE_OPTIONS.finditer(text))
    # Plain options are read alike by both (each value ends at its first quote).
    ambiguous = None if plain else _ambiguous(text, matches)
    if ambiguous:
        complaints.append(ambiguous)
    for m in matches:
        key, value = m.group("key"), m.group("value")
        if value is None:
            complaints.append(f'option `{key}` has no value; write it as {key}="..."')
            value = key
        if key in options:
            complaints.append(f"option `{key}` is given twice; keep one")
        options[key] = value
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
    values, errors = _check_directive(kind, options, prompt, settings)
    if errors:
        return None, errors
    return Spec(kind=kind, prompt=prompt, **values), []  # type: ignore[arg-type]


def _check_directive(
    kind: str, options: Mapping[str, str], prompt: str, settings: Mapping[str, object]
) -> tuple[dict[str, object], list[tuple[str, str]]]:
    """The typed option values and the ``(message, fix)`` pairs of :func:`validate`.

    The scanner needs only the pairs: it builds no :class:`Spec`.
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
    return values, errors


def _front_matter(text: str) -> tuple[str, int, dict[str, Any]]:
    """``(rest, lines removed, meta)``: the YAML front matter as MkDocs takes it off a page.

    As in ``mkdocs.utils.meta.get_data``, it is removed only when it reads as a mapping; else
    (a ``---`` rule, say, with more of the page down to the next ``---``) MkDocs renders it, so
    the directives in it are real. MkDocs ignores any error of the YAML reader here (a date
    like 2024-13-45 raises ValueError); so does this.
    """
    m = _FRONT_MATTER.match(text)
    if m is None:
        return text, 0, {}
    try:
        meta = parse_yaml(m.group(1))
    except Exception:  # as MkDocs: the page is then rendered with its "front matter"
        return text, 0, {}
    if not isinstance(meta, dict):
        return text, 0, {}
    return text[m.end() :], m.group(0).count("\n"), meta


def _header_problem(header: FenceHeader | None, fence: str, info: str) -> tuple[str, str]:
    """``(message, fix)`` for an ``ai-`` fence line that superfences formats as no directive.

    ``info`` is the line after the fence. Such a line is refused rather than guessed at: an
    unknown kind, the kind or options in braces, options superfences cannot read.
    """
    values: dict[str, str | None] = {}
    words = info.split(None, 1)
    if header is not None and header.lang:
        lang = header.lang
    elif header is not None and header.attrs:
        lang, values = attr_values(header.attrs)
    else:
        lang = words[0].removeprefix(".") if words else ""
    if lang not in KINDS:
        return f"unknown directive kind `{lang}`", f"use one of: {', '.join(KINDS)}"
    if header is not None and header.attrs:
        if not header.lang and not values and header.attrs.strip(" \t") == f".{lang}":
            return (
                f"the directive's kind is written in braces (`{{.{lang}}}`)",
                f"write {fence}{lang} instead of {fence}{{.{lang}}}",
            )
        return (
            "options in braces are not supported",
            f'write them as key="value" pairs after the kind: {fence}{lang} key="value"',
        )
    odd = next((c for c in info if c.isspace() and c not in " \t"), None)
    if header is None and odd is not None:
        return (
            f"the fence line contains an unusual space (U+{ord(odd):04X})",
            "replace it with an ordinary space",
        )
    rest = header.unrecognized if header is not None and header.unrecognized else ""
    if header is None and len(words) == 2:
        rest = words[1]
    if not rest.strip(" \t"):  # pragma: no cover - superfences reads any other line
        return "cannot read the fence line", f'write it as {fence}{lang} key="value" ...'
    return _unreadable(rest.strip(" \t")), ""


class _OpenFence(OpenFence):
    """A fence the scanner follows: superfences' state machine, and the prompt it holds."""

    @property
    def prompt(self) -> str:
        """The fence's content as superfences hands it to the formatter, normalised."""
        return normalize_prompt("\n".join(line[self.ws_len :] for line in self.code))


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
    # Emphasis markers: ``[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}``, written to begin with a character
    # class so that the regex engine skips quickly to the next ``*`` or ``_`` (ten times faster,
    # same matches: the lookbehind, moved past the first marker, looks one character further).
    (re.compile(r"[*_](?:[*_]{0,2}(?=\S)|(?<=\S[*_])[*_]{0,2})"), ""),
)
#: Strings one of which every match of a pattern (keyed by its text) contains: a text without
#: any of them is left as it is, and the search skipped. A pattern not listed is always searched.
_NEEDLES: dict[str, tuple[str, ...]] = {
    r"```.*?```|~~~.*?~~~": ("`", "~"),
    r"<!--.*?-->": ("<",),
    r"<[^>\n]+>": ("<",),
    r"!\[[^\]]*\]\([^)]*\)": ("[",),
    r"\[([^\]]*)\]\([^)]*\)": ("[",),
    r"\[([^\]]*)\]\[[^\]]*\]": ("[",),
    r"`[^`\n]*`": ("`",),
    r"(?:https?://|www\.)\S+": ("http", "www."),
    r"\{[^}\n]*\}": ("{",),
    r"\[\^?[^\]]*\]:.*": ("[",),
    _BLOCK_MARKERS[1][0].pattern: ("*", "_"),
}
_PROSE_STEPS = tuple(
    (pattern, repl, _NEEDLES.get(pattern.pattern, ()))
    for pattern, repl in (*INLINE_MARKUP, *_BLOCK_MARKERS)
)


def _clean_prose(text: str) -> str:
    """``text`` without the markup of ``INLINE_MARKUP`` and ``_BLOCK_MARKERS``, in that order."""
    for pattern, repl, needles in _PROSE_STEPS:
        if needles and not any(map(text.__contains__, needles)):
            continue
        text = pattern.sub(repl, text)
    return text


def scan(text: str, file: str, settings: Mapping[str, object] | None = None) -> PageScan:
    """Find every directive of a page with exact 1-based line numbers.

    The page is read as ``pymdownx.superfences`` reads it (see the module's docstring), so the
    directives found are those the renderer formats, with the same options and prompt. Fenced
    blocks that are not directives (code, or examples in a longer fence) are skipped with their
    whole content. An ``ai-`` fence that would not be rendered as the directive it looks like is
    a located problem. ``human_text`` is the page's prose outside all fences, with the front
    matter and Markdown markup removed: the input of the offline Markov chain and of
    ``context="page"``.
    """
    settings = settings or {}
    result = PageScan(file=file)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    body, offset, result.meta = _front_matter(text)
    raw = body.split("\n")
    lines = markdown_lines(body)
    #: The closed fences, ``(first line, last line + 1)``: what is left of the page is prose.
    fenced: list[tuple[int, int]] = []
    fence: _OpenFence | None = None

    def report(at: _OpenFence, message: str, fix: str = "") -> None:
        result.problems.append(Problem(file, offset + at.start + 1, message, fix))

    for index, line in enumerate(lines):
        if fence is None:
            # Fast path: most lines are prose, and no fence opens where the line does not
            # start (after its prefix) as a fence does; ``_open_fence`` would return None.
            if not line.lstrip(PREFIX).startswith(FENCE_STARTS):
                continue
            fence = _open_fence(index, line)
            if fence is not None and fence.role == "refused":
                report(fence, *fence.problem)
            continue
        verdict = fence.step(line)
        if verdict == "more":
            continue
        if verdict == "close":
            fenced.append((fence.start, index + 1))
            if fence.role == "directive":
                _finish(
                    fence, (offset + fence.start + 1, offset + index + 1), file, settings, result
                )
        elif fence.role == "directive":
            report(
                fence,
                f"the `{fence.lang}` fence is cut off at line {offset + index + 1}: {verdict}, "
                "so the page does not show it as a directive",
                "indent and quote every line of the directive, its closing "
                f"{fence.fence} included, like its opening fence",
            )
        fence = None
    if fence is not None and fence.role == "directive":
        report(
            fence,
            f"the `{fence.lang}` fence is never closed",
            f"add a line with {fence.fence} after the prompt, indented and quoted like "
            "the opening fence",
        )
    prose: list[str] = []
    after = 0
    for start, stop in fenced:
        prose += raw[after:start]
        after = stop
    prose += raw[after:]
    result.human_text = _clean_prose("\n".join(prose))
    return result


def _open_fence(index: int, line: str) -> _OpenFence | None:
    """The fence superfences opens on ``line`` (the index-th of the page), if any.

    An ``ai-`` line that superfences formats as no directive (or reads as no fence at all) is
    opened all the same, as ``"refused"``: the scanner reports it, and skips what follows as the
    content of a fence, as the author meant it.
    """
    ws_len = len(line) - len(line.lstrip(PREFIX))
    quote_level = line[:ws_len].count(">")
    header = read_fence_header(line, ws_len)
    if header is None:
        bare = FENCE.match(line, ws_len)
        if bare is None:
            return None
        fence = bare.group()
    else:
        fence = header.fence
    info = line[ws_len + len(fence) :]
    lang = (header.lang if header is not None else None) or ""
    if header is not None and not lang and header.attrs:
        lang, _ = attr_values(header.attrs)
    if lang.startswith("ai-") or _AI_INFO.match(info):
        if header is not None and lang in KINDS and not header.attrs and not header.unrecognized:
            options, complaints = parse_options(header.options or "")
            return _OpenFence(
                index, fence, ws_len, quote_level, "directive", lang, options, complaints
            )
        problem = _header_problem(header, fence, info)
        return _OpenFence(index, fence, ws_len, quote_level, "refused", problem=problem)
    if header is None or not opens_code(header):
        return None
    return _OpenFence(index, fence, ws_len, quote_level, "code", lang)


def _finish(
    fence: _OpenFence,
    lines: tuple[int, int],
    file: str,
    settings: Mapping[str, object],
    result: PageScan,
) -> None:
    """Report the problems of a closed directive (its opening and closing ``lines``), or keep it."""
    line_no, end_line = lines
    prompt = fence.prompt
    for complaint in fence.complaints:
        result.problems.append(Problem(file, line_no, complaint))
    _, errors = _check_directive(KINDS[fence.lang], fence.options, prompt, settings)
    for message, fix in errors:
        result.problems.append(Problem(file, line_no, message, fix))
    if not fence.complaints and not errors:
        result.directives.append(
            Directive(KINDS[fence.lang], fence.options, prompt, file, line_no, end_line)
        )
