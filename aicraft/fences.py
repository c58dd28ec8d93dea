"""How ``pymdownx.superfences`` reads fenced code blocks, mirrored for the directive scanner.

aicraft finds its directives before a build (:func:`aicraft.directives.scan`) and superfences
renders them during it, so both must read a page alike. This module reads it as superfences does,
rule for rule, but in linear time (superfences' fence-line regex backtracks exponentially on some
lines it does not match):

- the page's lines as superfences gets them after Python-Markdown's NormalizeWhitespace
  (:func:`markdown_lines`: tabs expanded over the whole text, whitespace-only lines emptied);
- a fence's opening line as its ``RE_NESTED_FENCE_START`` reads it (:func:`read_fence_header`:
  the language, then an attribute list, options or an unrecognized rest), whether its fence-line
  grammar reads a string as options (:func:`options_readable`), and the options as its
  ``RE_OPTIONS`` splits them;
- whether it opens a code fence on a line (:func:`opens_code`), and how an open fence goes on,
  closes or is abandoned by its indentation and block-quote rules (:class:`OpenFence`, after its
  ``eval_fence`` and ``eval_quoted``).

It assumes superfences' default settings, as MkDocs uses them: ``relaxed_headers`` and
``preserve_tabs`` off, the highlight validator with Pygments, no ``pymdownx.quotes``, and
Python-Markdown's tab length of 4 (``TAB_LENGTH``). ``RE_OPTIONS``, ``RE_HL_LINES``,
``RE_LINENUMS`` and ``PREFIX_CHARS`` are superfences' own, copied; ``tests/test_directives.py``
checks that they still are, against the installed pymdown-extensions (13.1.2 when this module was
split off; the project requires 10.0 or later). What aicraft makes of a fence (a directive, code,
or an ``ai-`` fence it refuses) is decided in :mod:`aicraft.directives`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown.extensions.attr_list import get_attrs

# pymdownx.superfences' own patterns, copied (tests/test_directives.py checks that they still are):
# RE_OPTIONS splits a fence's options; RE_HL_LINES and RE_LINENUMS are what its default
# (highlight) validator accepts for `hl_lines` and `linenums`.
RE_OPTIONS = re.compile(
    r"""(?x)
    (?:
        (?P<key>[a-zA-Z][a-zA-Z0-9_]*)(?:=(?P<quot>"|')(?P<value>.*?)(?P=quot))?
    )
    """
)
RE_HL_LINES = re.compile(r"^(?P<hl_lines>\d+(?:-\d+)?(?:[ \t]+\d+(?:-\d+)?)*)$")
RE_LINENUMS = re.compile(
    r"(?P<linestart>[\d]+)(?:[ \t]+(?P<linestep>[\d]+))?(?:[ \t]+(?P<linespecial>[\d]+))?"
)
# One option of superfences' fence-line grammar (RE_NESTED_FENCE_START), read left to right: it
# locates the first unreadable option for an error message.
OPTION = re.compile(
    r"""[ \t]*(?P<key>[a-zA-Z][a-zA-Z0-9_]*)(?:=(?P<quot>"|')(?P<value>.*?)(?P=quot))?(?=[ \t]|$)"""
)
#: A fence: three or more backticks or tildes.
FENCE = re.compile(r"~{3,}|`{3,}")
_LANG = re.compile(r"[ \t]*\.?(?P<lang>[\w#.+-]+)(?=[\t ]|$)")
_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")
# Options separated by blanks, no quoted value containing its own quote: the common case, which
# superfences' fence-line grammar always reads (a sufficient test for `options_readable`).
_PLAIN_OPTION = r"""[a-zA-Z][a-zA-Z0-9_]*(?:="[^"\n]*"|='[^'\n]*')?"""
PLAIN_OPTIONS = re.compile(rf"[ \t]*{_PLAIN_OPTION}(?:[ \t]+{_PLAIN_OPTION})*[ \t]*")
#: Python-Markdown's tab length (MkDocs keeps the default) and superfences' prefix characters.
TAB_LENGTH = 4
PREFIX_CHARS = (">", " ", "\t")
#: The same characters as one string, for ``str.lstrip``; and how a fence (``FENCE``) begins.
PREFIX = "".join(PREFIX_CHARS)
FENCE_STARTS = ("```", "~~~")
#: What superfences' default validator accepts as options of a code fence (`use_pygments` on).
_CODE_OPTIONS: dict[str, re.Pattern[str] | None] = {
    "hl_lines": RE_HL_LINES,
    "linenums": RE_LINENUMS,
    "title": None,
    "title_mode": None,
}


def options_readable(text: str) -> bool:
    r"""Whether superfences' fence-line grammar reads ``text`` as options (at least one).

    The grammar is ``(?:[ \t]*KEY(?:=(["']).*?\1)?(?=[\t ]|$))+[ \t]*$``: a quoted value may
    end at any later matching quote followed by a blank. The regular expression backtracks
    exponentially over those choices on a line it does not match; this reads it in linear time
    (``reach[i]``: an option can end at ``i``; a value opened at ``opened[q]`` can end at any
    later ``q`` followed by a blank or the end). Plain options (``PLAIN_OPTIONS``) are read
    at once.
    """
    if PLAIN_OPTIONS.fullmatch(text):
        return True
    size = len(text)
    end = len(text.rstrip(" \t"))
    if end == 0:
        return False
    reach = [False] * (size + 1)
    reach[0] = True
    opened: dict[str, int] = {}
    for i in range(size + 1):
        if i and text[i - 1] in "\"'" and (i == size or text[i] in " \t"):
            start = opened.get(text[i - 1])
            if start is not None and start <= i - 1:
                reach[i] = True
        if not reach[i] or i == size:
            continue
        pos = i
        while pos < size and text[pos] in " \t":
            pos += 1
        m = _KEY.match(text, pos)
        if m is None:
            continue
        after = m.end()
        if after == size or text[after] in " \t":
            reach[after] = True
        elif text[after] == "=" and after + 1 < size and text[after + 1] in "\"'":
            quote = text[after + 1]
            opened.setdefault(quote, after + 2)
    return reach[end]


@dataclass(frozen=True)
class FenceHeader:
    """A fence's opening line as ``pymdownx.superfences`` reads it (its RE_NESTED_FENCE_START).

    ``lang`` is the language before the rest (without its leading dot); the rest is one of
    ``attrs`` (the inside of ``{...}``), ``options`` or ``unrecognized`` (which superfences
    refuses), or none of them when it is blank.
    """

    fence: str
    lang: str | None
    attrs: str | None = None
    options: str | None = None
    unrecognized: str | None = None


def _rest_of_header(text: str) -> tuple[str | None, str | None, str | None] | None:
    """``(attrs, options, unrecognized)`` for what follows the language, ``None`` if no match."""
    body = text.strip(" \t")
    if len(body) >= 2 and body[0] == "{" and body[-1] == "}":
        return body[1:-1], None, None
    if options_readable(text):
        return None, text.rstrip(" \t"), None
    if body and all(c in " \t" or not c.isspace() for c in text):
        return None, None, text.rstrip(" \t")
    if not body:
        return None, None, None
    return None


def read_fence_header(line: str, start: int = 0) -> FenceHeader | None:
    """Read ``line[start:]`` as superfences reads a fence's opening line, or ``None``.

    The result is that of superfences' RE_NESTED_FENCE_START (the language is tried first, then
    the attribute list, the options, the unrecognized rest), without its exponential
    backtracking on long option strings that do not match.
    """
    m = FENCE.match(line, start)
    if m is None:
        return None
    rest = line[m.end() :]
    lang = _LANG.match(rest)
    if lang is not None:
        found = _rest_of_header(rest[lang.end() :])
        if found is not None:
            return FenceHeader(m.group(), lang.group("lang"), *found)
    found = _rest_of_header(rest)
    return None if found is None else FenceHeader(m.group(), None, *found)


def attr_values(attrs: str) -> tuple[str, dict[str, str | None]]:
    """The first class and the key/value pairs of a fence's ``{...}``, as superfences reads them."""
    classes: list[str] = []
    values: dict[str, str | None] = {}
    for key, value in get_attrs(attrs.replace("\t", " " * TAB_LENGTH)):
        if key == ".":
            classes.append(value or "")
        elif key != "id":
            values[key] = value
    return (classes[0] if classes else ""), values


def opens_code(header: FenceHeader) -> bool:
    """Whether superfences opens a code fence (no aicraft directive) on ``header``.

    Mirrors its default setup: ``relaxed_headers`` off (an unrecognized rest abandons the
    fence) and the highlight validator with Pygments, which refuses options other than
    ``hl_lines``, ``linenums``, ``title`` and ``title_mode``.
    """
    if header.unrecognized:
        return False
    if header.attrs:
        _, values = attr_values(header.attrs)
        return not any(k in ("hl_lines", "linenums") and v is None for k, v in values.items())
    for m in RE_OPTIONS.finditer(header.options or ""):
        key, value = m.group("key"), m.group("value")
        if key not in _CODE_OPTIONS:
            return False
        check = _CODE_OPTIONS[key]
        if check is not None and not check.match(value if value is not None else key):
            return False
    return True


@dataclass
class OpenFence:
    """A fence superfences has opened, and what it has gathered so far (its state machine)."""

    start: int
    fence: str
    #: The prefix (indentation and quote markers) of the opening line, and its quote level.
    ws_len: int
    quote_level: int
    #: What the scanner makes of it: ``"code"``, ``"directive"`` or ``"refused"`` (an ``ai-``
    #: fence that is no directive for superfences: reported, and skipped as a fence).
    role: str
    lang: str = ""
    options: dict[str, str] = field(default_factory=dict)
    complaints: list[str] = field(default_factory=list)
    #: Why a refused fence is refused: ``(message, fix)``.
    problem: tuple[str, str] = ("", "")
    code: list[str] = field(default_factory=list)
    empty_lines: int = 0

    def step(self, line: str) -> str:
        """Take the next line: ``"close"``, ``"more"``, or why superfences abandons the fence.

        The rules of superfences' ``eval_fence`` and ``eval_quoted`` (its Quotes-extension mode
        aside), on a line whose tabs are already expanded.
        """
        taken = min(self.ws_len, len(line) - len(line.lstrip(PREFIX)))
        ws, content = line[:taken], line[taken:]
        quote_level = ws.count(">")
        fence = self.fence
        closes = content.startswith(fence) and not content[len(fence) :].strip(" \t")
        if self.quote_level:
            if quote_level > self.quote_level:
                return "it is quoted more deeply than the fence"
            if content == "":
                self.empty_lines += 1
            elif len(ws) < self.ws_len:
                return "it is less indented than the fence, or outside its quote"
            elif self.empty_lines and quote_level < self.quote_level:
                return "after a blank line, it is outside the fence's quote"
            elif closes:
                return "close"
            else:
                self.empty_lines = 0
        elif quote_level:
            return "it is a quote, and the fence is not in one"
        elif not (ws + content).strip():
            self.empty_lines += 1
        elif len(ws) != self.ws_len:
            return "it is less indented than the fence"
        elif closes:
            return "close"
        else:
            self.empty_lines = 0
        self.code.append(ws + content)
        return "more"


#: A line of spaces only, but the first (with the line break before it).
_SPACES_LINE = re.compile(r"\n +(?=\n|\Z)")


def markdown_lines(body: str) -> list[str]:
    """The page's lines as superfences gets them after Python-Markdown's NormalizeWhitespace.

    That preprocessor removes STX/ETX, expands tabs over the whole text (before any blockquote
    marker is taken off) and empties whitespace-only lines; none of it changes line numbers.
    """
    body = body.replace("\x02", "").replace("\x03", "").expandtabs(TAB_LENGTH)
    return _SPACES_LINE.sub("\n", body).split("\n")
