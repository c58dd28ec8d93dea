"""The directive scanner: what it finds, where, and how it explains mistakes."""

from __future__ import annotations

import pytest

from aicraft.directives import normalize_prompt, parse_options, scan, validate

SETTINGS = {"personas": {"critic": "You are a critic."}, "styles": {"haiku": "Haiku: {prompt}"}}


def test_finds_text_and_image_directives_with_exact_lines() -> None:
    text = (
        "---\ntitle: Frost\ndate: 2026-01-01\n---\n"
        "# Frost\n\n"
        "Some prose.\n\n"
        '```ai-text model="gpt-4o-mini" temperature="0.9" candidates="3"\n'
        "Write a four-line poem about the first frost.\n"
        "```\n\n"
        '```ai-image size="1024x768" alt="Frost on a bench" caption="The first frost"\n'
        "A watercolour of frost on a bench.\n"
        "```\n"
    )
    page = scan(text, "blog/posts/frost.md", SETTINGS)
    assert page.problems == []
    assert [(d.kind, d.line, d.end_line) for d in page.directives] == [
        ("text", 9, 11),
        ("image", 13, 15),
    ]
    first = page.directives[0]
    assert first.options == {"model": "gpt-4o-mini", "temperature": "0.9", "candidates": "3"}
    assert first.prompt == "Write a four-line poem about the first frost."
    assert "Some prose." in page.human_text
    assert "four-line poem" not in page.human_text


def test_examples_inside_longer_fences_and_code_blocks_are_left_alone() -> None:
    text = (
        "````markdown\n"
        '```ai-text model="x"\n'
        "An example, not a directive.\n"
        "```\n"
        "````\n"
        "\n"
        "~~~python\n"
        "```ai-image\n"
        "~~~\n"
        "\n"
        "```ai-text\n"
        "The real one.\n"
        "```\n"
    )
    page = scan(text, "p.md", SETTINGS)
    assert page.problems == []
    assert [(d.line, d.prompt) for d in page.directives] == [(11, "The real one.")]


def test_directives_inside_admonitions_lists_and_quotes_are_found_and_dedented() -> None:
    text = (
        "!!! note\n"
        "\n"
        '    ```ai-text label="in a note"\n'
        "    Indented prompt\n"
        "      with a nested indent.\n"
        "    ```\n"
        "\n"
        "> ```ai-text\n"
        "> Quoted prompt.\n"
        "> ```\n"
    )
    page = scan(text, "p.md", SETTINGS)
    assert page.problems == []
    assert [d.prompt for d in page.directives] == [
        "Indented prompt\n  with a nested indent.",
        "Quoted prompt.",
    ]
    assert [d.line for d in page.directives] == [3, 8]


@pytest.mark.parametrize(
    ("fence", "message"),
    [
        ("```ai-video\nx\n```", "unknown directive kind `ai-video`"),
        ('```ai-text colour="red"\nx\n```', "unknown option `colour`"),
        ('```ai-text temperature="hot"\nx\n```', "`temperature` must be a number"),
        ('```ai-text temperature="3"\nx\n```', "between 0 and 2"),
        ('```ai-text candidates="20"\nx\n```', "`candidates` must be between 1 and 8"),
        ('```ai-text persona="pirate"\nx\n```', "unknown persona 'pirate'"),
        ('```ai-text style="limerick"\nx\n```', "unknown style 'limerick'"),
        ('```ai-text context="site"\nx\n```', '`context` can only be "page"'),
        ('```ai-text show_prompt="maybe"\nx\n```', "`show_prompt` must be"),
        ('```ai-image alt="a"  size="big"\nx\n```', '`size` must look like "1024x768"'),
        ('```ai-image alt="a" size="10x10"\nx\n```', "sides must be between 16 and 4096"),
        ("```ai-image\nA cat.\n```", "an ai-image needs `alt` text"),
        ('```ai-image alt="a" temperature="1"\nx\n```', "unknown option `temperature`"),
        ("```ai-text model=gpt\nx\n```", "cannot read the options"),
        ('```ai-text { model="x" }\nx\n```', "options in braces are not supported"),
        ("```ai-text seed\nx\n```", "option `seed` has no value"),
        ('```ai-text seed="1" seed="2"\nx\n```', "given twice"),
        ("```ai-text\n\n```", "the directive has no prompt"),
        ("```ai-text\nnever closed\n", "never closed"),
        ("```ai-text\nThe closing fence is indented.\n  ```\n", "never closed"),
        ("> ```ai-text\nA lazy quote.\n> ```\n", "cut off at line 4: it is less indented"),
        ("```{.ai-text}\nx\n```", "the directive's kind is written in braces"),
        ('```ai-text label="a"seed="7"\nx\n```', "cannot tell where the value of `label` ends"),
        ('```ai-text\u00a0seed="1"\nx\n```', "unusual space (U+00A0)"),
        ('```ai-video seed="1"\nx\n```', "unknown directive kind `ai-video`"),
    ],
)
def test_bad_directives_give_located_errors_with_a_fix(fence: str, message: str) -> None:
    page = scan("# Title\n\n" + fence, "blog/post.md", SETTINGS)
    assert page.directives == []
    assert page.problems, "expected a problem"
    problem = page.problems[0]
    assert problem.file == "blog/post.md"
    assert problem.line == 3
    assert message in str(problem)
    if message not in ("cannot read the options", "options in braces are not supported"):
        assert "Fix:" in str(problem) or "keep one" in str(problem) or "write it as" in str(problem)


def test_all_problems_of_a_page_are_reported_not_just_the_first() -> None:
    text = '```ai-text colour="red"\nx\n```\n\n```ai-image\ny\n```\n\n```ai-text\nok\n```\n'
    page = scan(text, "p.md", SETTINGS)
    assert [p.line for p in page.problems] == [1, 5]
    assert len(page.directives) == 1


def test_option_parsing_matches_superfences() -> None:
    from pymdownx.superfences import RE_OPTIONS

    header = 'model="gpt-4o" alt=\'a "quoted" cat\' label="x=y"'
    ours, complaints = parse_options(header)
    theirs = {m.group("key"): m.group("value") for m in RE_OPTIONS.finditer(header)}
    assert complaints == []
    assert ours == theirs == {"model": "gpt-4o", "alt": 'a "quoted" cat', "label": "x=y"}


def test_the_copied_superfences_patterns_are_still_its_own() -> None:
    from pymdownx import superfences

    from aicraft import fences

    for ours, theirs in (
        (fences.RE_OPTIONS, superfences.RE_OPTIONS),
        (fences.RE_HL_LINES, superfences.RE_HL_LINES),
        (fences.RE_LINENUMS, superfences.RE_LINENUMS),
    ):
        assert (ours.pattern, ours.flags) == (theirs.pattern, theirs.flags)
    assert superfences.PREFIX_CHARS == fences.PREFIX_CHARS
    assert superfences.NESTED_FENCE_END == r"%s[ \t]*$"


def test_options_are_split_as_the_renderer_splits_them_or_refused() -> None:
    assert parse_options('label=\'say "hi" now\' seed="7"') == (
        {"label": 'say "hi" now', "seed": "7"},
        [],
    )
    options, complaints = parse_options('label="say "hi" now"')
    assert options == {"label": "say ", "hi": "hi", "now": "now"}  # what superfences reads
    assert complaints and "cannot tell where the value of `label` ends" in complaints[0]
    assert "label='...'" in complaints[0]


def test_a_backtick_in_an_option_is_read_as_the_renderer_reads_it() -> None:
    page = scan('```ai-text label="a `b` c"\nx\n```\n\n```ai-text\ny\n```\n', "p.md", SETTINGS)
    assert page.problems == []
    assert [(d.line, dict(d.options)) for d in page.directives] == [
        (1, {"label": "a `b` c"}),
        (5, {}),
    ]


def test_a_fence_line_superfences_would_backtrack_on_is_read_in_bounded_time() -> None:
    import time

    # RE_NESTED_FENCE_START needs about 2**n steps to refuse n options followed by junk.
    line = "```ai-text " + 'a="1" ' * 5000 + "%"
    start = time.monotonic()
    page = scan(f"{line}\nx\n```\n", "p.md", SETTINGS)
    assert time.monotonic() - start < 2
    assert [p.line for p in page.problems] == [1]
    assert "cannot read the options at `%`" in str(page.problems[0])


def test_prompt_normalisation_is_whitespace_insensitive() -> None:
    assert normalize_prompt("\n\n  line one  \r\n\tline two\n\n") == "line one\n  line two"
    assert normalize_prompt("a\r\nb  \n") == normalize_prompt("a\nb")
    assert normalize_prompt("    a\n    b\n") == "a\nb"


def test_validate_returns_typed_spec() -> None:
    spec, errors = validate(
        "image",
        {"size": "640x480", "alt": "A cat", "seed": "7", "show_prompt": "False"},
        "A cat.",
        SETTINGS,
    )
    assert errors == []
    assert spec is not None
    assert (spec.size, spec.seed, spec.show_prompt, spec.alt) == ((640, 480), 7, False, "A cat")


@pytest.mark.parametrize(
    "head",
    [
        "---\n\nAn introduction between two rules.\n\n---\n",  # no mapping: MkDocs renders it
        "---\ndate: 2024-13-45\n---\n",  # YAML that fails to load (ValueError): rendered too
    ],
)
def test_front_matter_is_only_what_mkdocs_takes_off(head: str) -> None:
    page = scan(head + "\n```ai-text\nPrompt\n```\n", "p.md", SETTINGS)
    assert page.problems == [] and page.meta == {}
    line = head.count("\n") + 2
    assert [(d.line, d.prompt) for d in page.directives] == [(line, "Prompt")]
    inside = scan("---\n```ai-text\nPrompt\n```\n---\n", "p.md", SETTINGS)
    assert [d.line for d in inside.directives] == [2]


def test_line_numbers_count_windows_line_endings_and_front_matter() -> None:
    text = "---\r\ntitle: x\r\n---\r\n\r\n```ai-text\r\nPrompt\r\n```\r\n"
    page = scan(text, "p.md", SETTINGS)
    assert [d.line for d in page.directives] == [5]
