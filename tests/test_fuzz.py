"""Property-based tests of the directive scanner (``aicraft.directives.scan``).

Documents are generated from building blocks (prose, headings, code fences of every length, char
and info string, directives with valid and invalid options, admonitions, content tabs, lists and
block quotes around them, unclosed fences, CRLF, tabs, unicode), and the generator knows where
every directive is. The properties:

- the scanner never crashes, whatever the text;
- it finds exactly the directives that were put there, with the line of their opening fence
  (line numbers round-trip), and never one inside another code block;
- every malformed directive gives a located :class:`~aicraft.errors.Problem` (the page's file,
  the directive's line), and nothing else does;
- it agrees with the renderer: ``pymdownx.superfences``, configured as the plugin configures it,
  formats exactly the directives the scanner found, in the same order and with the same options
  and prompt (else a directive would be generated but never shown, or shown but never generated).

Example counts are modest and the runs derandomised, so the file is quick and CI is
deterministic; ``AICRAFT_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py`` searches further.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any

import markdown
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from pymdownx.superfences import RE_NESTED_FENCE_START

from aicraft.directives import (
    KINDS,
    PageScan,
    normalize_prompt,
    scan,
    validate,
)
from aicraft.errors import Problem
from aicraft.fences import read_fence_header

# Hypothesis' caches go to the temporary folder, not into the repository.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "aicraft-hypothesis"))
EXAMPLES = int(os.environ.get("AICRAFT_FUZZ_EXAMPLES", "0")) or None
FUZZ = settings(
    max_examples=EXAMPLES or 300,
    deadline=None,
    derandomize=EXAMPLES is None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
FILE = "blog/posts/fuzzed.md"
SETTINGS: dict[str, Any] = {"personas": {"critic": "You are a critic."}, "styles": {}}


# -- building blocks ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Expected:
    """A directive the generator placed: where (0-based, within its block) and what."""

    line: int
    end_line: int
    kind: str
    valid: bool
    options: dict[str, str] = field(default_factory=dict)
    prompt: str = ""


@dataclass
class Block:
    """Lines of Markdown and the directives in them."""

    lines: list[str]
    expected: list[Expected] = field(default_factory=list)

    def shifted(self, by: int) -> list[Expected]:
        return [
            Expected(e.line + by, e.end_line + by, e.kind, e.valid, e.options, e.prompt)
            for e in self.expected
        ]


# Words: ASCII, accented and CJK letters, RTL script, emoji, zero-width and bidi controls,
# Markdown emphasis and inline code. Never a line break (line numbers are the oracle).
# (Tabs inside prompts have their own tests below: in a quote, the prompt depends on the prefix.)
_ODD = ["\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "é", "ß", "中文", "עברית", "🙂"]
word = st.one_of(
    st.text(
        alphabet=st.characters(
            codec="utf-8",
            exclude_categories=("Cc", "Cs", "Zl", "Zp"),
            exclude_characters="`~>\\",
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(_ODD),
    st.sampled_from(["*em*", "**strong**", "`code`", "``a`b``", "[link](https://x.org)", "a~b"]),
)
LEADS = ["The", "A", "Frost", "We", "Light", "Über", "Poets", "Gardens"]


@st.composite
def prose_line(draw: st.DrawFn) -> str:
    """A prose line that is never a fence, list item, heading, quote or HTML block."""
    words = draw(st.lists(word, min_size=0, max_size=8))
    tail = " ".join(words).replace("\n", " ").replace("\r", " ")
    return f"{draw(st.sampled_from(LEADS))} {tail}".rstrip()


@st.composite
def prose(draw: st.DrawFn) -> Block:
    return Block(draw(st.lists(prose_line(), min_size=1, max_size=3)))


@st.composite
def heading(draw: st.DrawFn) -> Block:
    level = draw(st.integers(1, 6))
    return Block([f"{'#' * level} {draw(prose_line())}"])


fence_char = st.sampled_from("`~")
trailing = st.sampled_from(["", " ", "  ", "\t", " \t"])

# Valid option values, by option (the generator only writes values without double quotes).
label_text = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters='"`\\'
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() and not s.startswith(" ") and not s.endswith(" "))
TEXT_OPTIONS = {
    "label": label_text,
    "temperature": st.sampled_from(["0", "0.5", "1", "1.25", "2"]),
    "seed": st.integers(0, 2**31).map(str),
    "max_tokens": st.integers(1, 200_000).map(str),
    "candidates": st.integers(1, 8).map(str),
    "show_prompt": st.sampled_from(["true", "false", "True"]),
    "context": st.just("page"),
    "persona": st.just("critic"),
    "model": st.sampled_from(["gpt-4o-mini", "llama3.2", "x.y_z-1"]),
}
IMAGE_OPTIONS = {
    "label": label_text,
    "caption": label_text,
    "seed": st.integers(0, 2**31).map(str),
    "candidates": st.integers(1, 8).map(str),
    "size": st.tuples(st.integers(16, 4096), st.integers(16, 4096)).map(lambda s: f"{s[0]}x{s[1]}"),
    "quality": st.sampled_from(["auto", "low", "medium", "high", "standard", "hd"]),
    "show_prompt": st.sampled_from(["true", "false"]),
}
# Ways to break a directive; each is always an error.
BREAKAGES = [
    "unknown-option",
    "bad-temperature",
    "bare-key",
    "twice",
    "unreadable",
    "no-alt",
    "no-prompt",
    "bad-size",
    "unknown-persona",
    "wrong-kind-option",
]


@st.composite
def options_for(draw: st.DrawFn, kind: str) -> dict[str, str]:
    table = TEXT_OPTIONS if kind == "text" else IMAGE_OPTIONS
    names = draw(st.lists(st.sampled_from(sorted(table)), unique=True, max_size=4))
    chosen = {name: draw(table[name]) for name in names}
    if kind == "image":
        chosen["alt"] = draw(label_text)
    return chosen


def _option_text(options: dict[str, str], sep: str) -> str:
    return "".join(f'{sep}{key}="{value}"' for key, value in options.items())


@st.composite
def directive(draw: st.DrawFn, fence: str | None = None, allow_broken: bool = True) -> Block:
    """A directive; sometimes broken in one of the BREAKAGES ways (then expected invalid)."""
    if fence is None:
        fence = draw(fence_char) * draw(st.integers(3, 5))
    kind = draw(st.sampled_from(["text", "image"]))
    options = draw(options_for(kind))
    prompt_lines = draw(st.lists(prose_line(), min_size=1, max_size=3))
    indent = draw(st.sampled_from(["", "", "  "]))  # the prompt may be indented as a whole
    prompt_lines = [indent + line for line in prompt_lines]
    breakage = draw(st.one_of(st.none(), st.sampled_from(BREAKAGES))) if allow_broken else None
    sep = draw(st.sampled_from([" ", " ", "  ", "\t"]))
    extra = ""
    if breakage == "unknown-option":
        options["colour"] = "red"
    elif breakage == "bad-temperature":
        options.pop("temperature", None)
        if kind == "text":
            options["temperature"] = draw(st.sampled_from(["3", "-1", "hot", "nan"]))
        else:
            options["quality"] = "ultra"
    elif breakage == "bare-key":
        extra = f"{sep}seed"
    elif breakage == "twice":
        options.pop("seed", None)
        extra = f'{sep}seed="1"{sep}seed="2"'
    elif breakage == "unreadable":
        extra = f"{sep}model=gpt"
    elif breakage == "no-alt":
        if kind == "image":
            options.pop("alt")
        else:
            options["alt"] = "only for images"
    elif breakage == "no-prompt":
        prompt_lines = draw(st.sampled_from([[], [""], ["", "  "]]))
    elif breakage == "bad-size":
        options.pop("size", None)
        options["size" if kind == "image" else "max_tokens"] = draw(
            st.sampled_from(["big", "10x10", "5000x20", "0"])
        )
    elif breakage == "unknown-persona":
        options.pop("persona", None)
        if kind == "text":
            options["persona"] = "pirate"
        else:
            options["style"] = "nouveau"
    elif breakage == "wrong-kind-option":
        options["temperature" if kind == "image" else "size"] = "1"
    lang = draw(st.sampled_from(["ai-", "ai-", ".ai-"])) + kind
    gap = draw(st.sampled_from(["", "", " ", "\t"]))
    opener = f"{fence}{gap}{lang}{_option_text(options, sep)}{extra}{draw(trailing)}"
    lines = [opener, *prompt_lines, fence + draw(trailing)]
    prompt = normalize_prompt("\n".join(prompt_lines))
    valid = breakage is None
    if valid:  # the generator's own options must be valid: check them the product's way
        spec, errors = validate(kind, options, prompt, SETTINGS)
        assert spec is not None, errors
    return Block(lines, [Expected(0, len(lines) - 1, kind, valid, options, prompt)])


@st.composite
def unknown_kind(draw: st.DrawFn) -> Block:
    """```ai-video and friends: a located problem, never a directive."""
    fence = draw(fence_char) * draw(st.integers(3, 5))
    lang = draw(st.sampled_from(["ai-video", "ai-audio", "ai-", "ai-Text", "ai-text2"]))
    lines = [f"{fence}{lang}", draw(prose_line()), fence]
    return Block(lines, [Expected(0, 2, "?", False)])


@st.composite
def code_fence(draw: st.DrawFn) -> Block:
    """A fenced code block that is no directive; its content may show directive examples."""
    char = draw(fence_char)
    length = draw(st.integers(3, 6))
    fence = char * length
    info = draw(
        st.sampled_from(
            ["", "python", "markdown", "text", "ai", "aitext", "pre-ai-text", 'console title="x"']
        )
    )
    content: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        choice = draw(st.integers(0, 3))
        if choice == 0:
            content.append(draw(prose_line()))
        elif choice == 1:
            content.append("")
        else:
            # An example directive with a fence that cannot close this one: the other char,
            # or the same char with another length (superfences closes on the exact fence).
            inner_char = draw(fence_char)
            lengths = [n for n in range(3, 8) if inner_char != char or n != length]
            inner = inner_char * draw(st.sampled_from(lengths))
            example = draw(directive(fence=inner))
            content.extend(example.lines)
            if choice == 3:  # and sometimes an opening fence with an info string alone
                content.append(f"{fence}ai-text")
    return Block([f"{fence}{info}", *content, fence + draw(trailing)])


@st.composite
def unclosed(draw: st.DrawFn, broken: bool = True) -> Block:
    """A fence never closed: it runs to the end of the page (so it comes last)."""
    fence = draw(fence_char) * draw(st.integers(3, 5))
    rest = draw(st.lists(prose_line(), max_size=2))
    if broken and draw(st.booleans()):
        return Block([f"{fence}ai-text", *rest], [Expected(0, 0, "text", False)])
    # An unclosed code block swallows even a well-formed directive after it.
    swallowed = draw(directive(allow_broken=broken))
    return Block([f"{fence}python", *rest, "", *swallowed.lines])


def _indent(block: Block, prefix: str) -> Block:
    """Indent every non-blank line (blank lines stay empty)."""
    return Block([prefix + line if line.strip() else "" for line in block.lines], block.expected)


@st.composite
def container(draw: st.DrawFn, children: st.SearchStrategy[Block]) -> Block:
    """Blocks inside an admonition, a collapsible, a content tab, a list item or a quote."""
    inner = draw(st.lists(children, min_size=1, max_size=3))
    body = _join(inner)
    kind = draw(st.sampled_from(["admonition", "details", "tab", "list", "olist", "quote"]))
    if kind == "quote":
        prefix = draw(st.sampled_from(["> ", ">", "> "]))
        quoted = Block(
            [prefix + line if line else prefix.rstrip() for line in body.lines], body.expected
        )
        return quoted
    indent = draw(st.sampled_from(["    ", "    ", "\t"]))
    header = {
        "admonition": '!!! note "A note"',
        "details": "??? tip",
        "tab": '=== "Tab one"',
        "list": "- An item",
        "olist": "1. First",
    }[kind]
    gap = [""] if kind in ("list", "olist") or draw(st.booleans()) else []
    inside = _indent(body, indent)
    head = [header, *gap]
    return Block(
        [*head, *inside.lines],
        [
            Expected(
                e.line + len(head), e.end_line + len(head), e.kind, e.valid, e.options, e.prompt
            )
            for e in inside.expected
        ],
    )


def _join(blocks: list[Block]) -> Block:
    lines: list[str] = []
    expected: list[Expected] = []
    for block in blocks:
        if lines:
            lines.append("")
        expected.extend(block.shifted(len(lines)))
        lines.extend(block.lines)
    return Block(lines, expected)


def blocks(broken: bool) -> st.SearchStrategy[Block]:
    """Any block, nested two deep; ``broken``: with malformed directives among them."""
    leaves = [prose(), heading(), directive(allow_broken=broken), code_fence()]
    if broken:
        leaves += [directive(), unknown_kind()]
    leaf = st.one_of(*leaves)
    return st.one_of(leaf, leaf, container(leaf), container(st.one_of(leaf, container(leaf))))


@dataclass(frozen=True)
class Document:
    text: str
    expected: tuple[Expected, ...]
    body_start: int  # lines of front matter

    @property
    def valid(self) -> list[Expected]:
        return [e for e in self.expected if e.valid]

    @property
    def invalid(self) -> list[Expected]:
        return [e for e in self.expected if not e.valid]


@st.composite
def documents(draw: st.DrawFn, broken: bool = True) -> Document:
    """A page from building blocks, and where its directives are."""
    parts = draw(st.lists(blocks(broken), max_size=6))
    if draw(st.integers(0, 4)) == 0:
        parts.append(draw(unclosed(broken)))
    doc = _join(parts)
    front: list[str] = []
    if draw(st.booleans()):
        front = ["---", f"title: {draw(st.sampled_from(['Frost', 'Ünïcode', '中文']))}", "---", ""]
    lines = front + doc.lines
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    shifted = Block(doc.lines, doc.expected).shifted(len(front))
    return Document(text, tuple(shifted), len(front))


# -- the renderer, as the plugin configures it --------------------------------------------------
class Renderer:
    """Python-Markdown with superfences, aicraft's two custom fences and the usual containers.

    The formatter records what superfences hands to aicraft (kind, options, normalised prompt);
    the validator keeps every option, as the plugin's does.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], str]] = []
        fences = [
            {"name": name, "class": "aicraft", "validator": self._validator, "format": self._format}
            for name in KINDS
        ]
        self.md = markdown.Markdown(
            extensions=[
                "admonition",
                "pymdownx.details",
                "pymdownx.superfences",
                "pymdownx.tabbed",
                "attr_list",
                "md_in_html",
            ],
            extension_configs={
                "pymdownx.superfences": {"custom_fences": fences},
                "pymdownx.tabbed": {"alternate_style": True},
            },
        )

    @staticmethod
    def _validator(
        language: str, inputs: dict[str, str], options: dict[str, str], *args: Any
    ) -> bool:
        options.update(inputs)
        return True

    def _format(
        self, src: str, language: str, _cls: str, options: dict[str, str], *a: Any, **k: Any
    ) -> str:
        self.calls.append((KINDS[language], dict(options), normalize_prompt(src)))
        return "<div>directive</div>"

    def directives(self, text: str, body_start: int = 0) -> list[tuple[str, dict[str, str], str]]:
        """The directives superfences formats in ``text`` (front matter lines skipped)."""
        self.calls = []
        self.md.reset()
        self.md.convert("\n".join(text.replace("\r\n", "\n").split("\n")[body_start:]))
        return self.calls


_RENDERER = Renderer()


def rendered_directives(text: str, body_start: int = 0) -> list[tuple[str, dict[str, str], str]]:
    """What superfences hands to aicraft's formatter: (kind, options, normalised prompt)."""
    return _RENDERER.directives(text, body_start)


def _valid_only(calls: list[tuple[str, dict[str, str], str]]) -> list[tuple[str, dict, str]]:
    return [c for c in calls if validate(c[0], c[1], c[2], SETTINGS)[0] is not None]


def _check_located(page: PageScan, text: str) -> None:
    total = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    for problem in page.problems:
        assert isinstance(problem, Problem)
        assert problem.file == FILE
        assert 1 <= problem.line <= total, problem
        assert problem.message
    for found in page.directives:
        assert found.file == FILE
        assert 1 <= found.line < found.end_line <= total


# -- properties ---------------------------------------------------------------------------------
@FUZZ
@given(st.text(max_size=400))
def test_the_scanner_never_crashes_on_arbitrary_text(text: str) -> None:
    page = scan(text, FILE, SETTINGS)
    _check_located(page, text)


fence_soup = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "```",
                "````",
                "~~~",
                "```ai-text",
                "~~~ai-image",
                "```ai-text label='x'",
                "> ```",
                "    ```ai-text",
                "\t```",
                "---",
                "!!! note",
                "```{.ai-text}",
                "```ai-text {x}",
                '```ai-image alt="a',
                '```ai-text\tseed="1"',
                "",
                "   ",
                "\r",
                "> > ~~~~",
            ]
        ),
        st.text(max_size=20),
    ),
    max_size=30,
).map("\n".join)


@FUZZ
@given(fence_soup)
def test_the_scanner_never_crashes_on_fence_soup(text: str) -> None:
    page = scan(text, FILE, SETTINGS)
    _check_located(page, text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for found in page.directives:  # the reported line is the directive's opening fence
        assert re.match(r"^[ \t>]*(`{3,}|~{3,})[ \t]*\.?ai-" + found.kind, lines[found.line - 1])


@FUZZ
@given(documents())
@example(
    Document(
        "````markdown\n```ai-text\nAn example.\n```\n````\n\n```ai-text\nReal.\n```\n",
        (Expected(6, 8, "text", True, {}, "Real."),),
        0,
    )
)
def test_directives_are_found_exactly_where_they_were_put(doc: Document) -> None:
    page = scan(doc.text, FILE, SETTINGS)
    _check_located(page, doc.text)
    found = [(d.line, d.end_line, d.kind, dict(d.options), d.prompt) for d in page.directives]
    wanted = [(e.line + 1, e.end_line + 1, e.kind, e.options, e.prompt) for e in doc.valid]
    assert found == wanted


@FUZZ
@given(documents())
def test_every_malformed_directive_gives_a_located_problem_and_nothing_else_does(
    doc: Document,
) -> None:
    page = scan(doc.text, FILE, SETTINGS)
    problem_lines = {p.line for p in page.problems}
    assert problem_lines == {e.line + 1 for e in doc.invalid}, [str(p) for p in page.problems]
    lines = doc.text.replace("\r\n", "\n").split("\n")
    for problem in page.problems:  # each points at the fence line of a directive
        assert re.match(r"^[ \t>]*(`{3,}|~{3,})[ \t]*\.?ai-", lines[problem.line - 1]), problem


@FUZZ
@given(documents(broken=False))
def test_the_scanner_agrees_with_the_renderer(doc: Document) -> None:
    page = scan(doc.text, FILE, SETTINGS)
    scanned = [(d.kind, dict(d.options), d.prompt) for d in page.directives]
    assert _valid_only(rendered_directives(doc.text, doc.body_start)) == scanned


# -- disagreements the properties above once found (each was an xfail; kept as regressions) -----
def _agree(text: str) -> None:
    page = scan(text, FILE, SETTINGS)
    scanned = [(d.kind, dict(d.options), d.prompt) for d in page.directives]
    assert _valid_only(rendered_directives(text)) == scanned


INDENTATION_CASES = {
    "closing-fence-indented": "```ai-text\nA prompt.\n  ```\n",
    "lazy-blockquote": "> ```ai-text\nA prompt.\n```\n",
    "under-indented-line-in-admonition": "!!! note\n    ```ai-text\n    A prompt\nout\n    ```\n",
}


@pytest.mark.parametrize("case", sorted(INDENTATION_CASES))
def test_scanner_and_renderer_agree_on_indentation_edge_cases(case: str) -> None:
    _agree(INDENTATION_CASES[case])


@pytest.mark.parametrize("case", sorted(INDENTATION_CASES))
def test_a_directive_the_renderer_abandons_is_a_located_problem(case: str) -> None:
    text = INDENTATION_CASES[case]
    page = scan(text, FILE, SETTINGS)
    opening = next(i for i, line in enumerate(text.split("\n"), 1) if "ai-text" in line)
    assert [p.line for p in page.problems] == [opening]
    assert "never closed" in str(page.problems[0]) or "cut off" in str(page.problems[0])


def test_a_tab_in_a_quoted_prompt_gives_the_same_prompt_as_the_renderer() -> None:
    _agree("> ```ai-text\n> The \t end.\n> ```\n")


def test_a_tab_in_an_unquoted_prompt_gives_the_same_prompt_as_the_renderer() -> None:
    _agree("```ai-text\nThe \t end.\n```\n\n!!! note\n    ```ai-text\n    A\tb \t c\n    ```\n")


def test_a_backtick_in_an_option_is_a_directive_or_a_problem() -> None:
    text = '```ai-text label="a `quoted` word"\nA prompt.\n```\n\n```ai-text\nThe next.\n```\n'
    page = scan(text, FILE, SETTINGS)
    if page.problems:
        assert [p.line for p in page.problems] == [1]
        assert [d.line for d in page.directives] == [5]
    else:
        _agree(text)


def test_attribute_list_fences_are_directives_or_problems() -> None:
    text = "```{.ai-text}\nA prompt.\n```\n"
    page = scan(text, FILE, SETTINGS)
    assert rendered_directives(text), "superfences formats it as a directive"
    assert page.directives or [p.line for p in page.problems] == [1]


def test_a_value_containing_its_own_quote_is_read_as_the_renderer_reads_it() -> None:
    text = '```ai-text label="a"seed="7"\nA prompt.\n```\n'
    page = scan(text, FILE, SETTINGS)
    if page.problems:  # refusing it is fine too
        assert [p.line for p in page.problems] == [1] and page.directives == []
    else:
        _agree(text)


@pytest.mark.parametrize(
    "info", ['python foo="x"', 'python hl_lines="x"', "python linenums=1", 'python title="x"']
)
def test_a_code_fence_hides_directives_only_if_the_renderer_opens_it(info: str) -> None:
    # superfences abandons a code fence whose options its highlight validator refuses (or
    # cannot read): the directive shown inside it as an example is then a real one.
    text = f"```{info}\n```ai-text\nInside.\n```\n```\n"
    _agree(text)
    assert len(scan(text, FILE, SETTINGS).directives) == (0 if "title" in info else 1)


# -- the scanner reads fences as superfences does ---------------------------------------------
header_rest = st.lists(
    st.sampled_from(
        [*"`~ \t.{}=\"'ab-_#+1x", "\u00a0", "\u3000", "\x0b", "ai-text", "seed", "label=", "é"]
    ),
    max_size=14,
).map("".join)


@FUZZ
@given(header_rest, st.sampled_from(["", "```", "~~~~", "`", "~~"]))
def test_the_fence_line_is_read_as_superfences_reads_it(rest: str, fence: str) -> None:
    line = fence + rest
    m = RE_NESTED_FENCE_START.match(line)
    header = read_fence_header(line)
    if m is None:
        assert header is None, line
        return
    assert header is not None, line
    ours = (header.fence, header.lang, header.attrs, header.options, header.unrecognized)
    assert ours == m.group("fence", "lang", "attrs", "options", "unrecognized"), line


_PREFIXES = [
    "",
    "",
    "",
    " ",
    "  ",
    "    ",
    "\t",
    "> ",
    ">",
    "> > ",
    "    > ",
    ">    ",
    "  >",
    " \t",
]
_INFOS = [
    "ai-text",
    'ai-image alt="x"',
    ".ai-text",
    " ai-text",
    'ai-text seed="1"',
    "ai-text label='a \"b\" c'",
    'ai-text label="a`b`"',
    "ai-text\t",
    'ai-text\tseed="2"',
    'ai-text label="x\ty"',
]
_OTHER_INFOS = [
    "",
    "python",
    'python title="x"',
    'python foo="x"',
    'python hl_lines="1 2"',
    'python hl_lines="x"',
    "{.python}",
    "python {.x}",
    "text x",
    "{.ai-text}",
    "ai-video",
    'ai-text label="a"seed="7"',
]
_BODIES = ["A prompt.", "", "  ", "x\ty", "!!! note", "- item", "<div>", "    code", "\t\tz", "---"]
_FENCES = ["```", "~~~", "````"]


@st.composite
def fenced_block(draw: st.DrawFn) -> list[str]:
    """A directive-like fence whose lines are now and then indented or quoted otherwise."""
    prefix = draw(st.sampled_from(_PREFIXES))

    def some_prefix() -> str:
        return prefix if draw(st.integers(0, 4)) else draw(st.sampled_from(_PREFIXES))

    fence = draw(st.sampled_from(_FENCES))
    if draw(st.integers(0, 3)) == 0:
        return [some_prefix() + fence + draw(st.sampled_from(_OTHER_INFOS))]
    if draw(st.integers(0, 3)) == 0:
        return [some_prefix() + draw(st.sampled_from(_BODIES))]
    lines = [prefix + fence + draw(st.sampled_from(_INFOS))]
    lines += [
        some_prefix() + draw(st.sampled_from(_BODIES)) for _ in range(draw(st.integers(0, 3)))
    ]
    return [*lines, some_prefix() + fence + draw(trailing)]


fenced_page = st.lists(fenced_block(), max_size=8).map(
    lambda blocks: "\n".join(line for block in blocks for line in block)
)


@FUZZ
@given(fenced_page)
def test_a_page_without_problems_is_read_as_the_renderer_reads_it(text: str) -> None:
    page = scan(text, FILE, SETTINGS)
    _check_located(page, text)
    if not page.problems:  # else the user is told to fix the page first
        scanned = [(d.kind, dict(d.options), d.prompt) for d in page.directives]
        assert _valid_only(rendered_directives(text)) == scanned
