"""Run ``mkdocs`` or ``aicraft`` with proposed fixes applied in this process only.

The benchmarks use it to measure what a fix would bring before it is made in the package
(nothing under ``aicraft/`` is changed; the fixes are monkeypatches that live here)::

    python benchmarks/what_if.py yaml,words,format mkdocs build -q -f mkdocs.yml -d site
    python benchmarks/what_if.py yaml aicraft generate -f mkdocs.yml

The first argument is a comma-separated list of fixes (or ``all``), the second the program
(``mkdocs`` or ``aicraft``), the rest its arguments. The fixes:

``yaml``
    Parse and write record files and page front matter with libyaml (``yaml.CSafeLoader``,
    and a ``yaml.CSafeDumper`` subclass with the same literal-block representer) instead of
    the pure-Python ``yaml.safe_load``/``SafeDumper``: ``records.py`` ``Record.loads`` and
    ``Record.dumps``, ``directives.py`` ``scan``. Same documents, same output text (checked
    on the benchmark's records), about 9x faster to parse and 5x faster to write.
``words``
    Count each text's words once (``disclosure.words`` memoised): the page disclosure's
    ``level``, ``aia()``, ``ai_share``, banner, footer, JSON-LD and ledger each recount the
    words of every item of the page.
``format``
    Memoise the superfences formatter's result per (fence body, language, options), and per
    page being rendered too when the same fence text is found on several pages: Material
    renders a post's whole Markdown again for each listing that shows its excerpt, so the
    formatter re-validates, re-normalises and re-keys the same directive 4-5 times.
``provider``
    Do not create a provider to compute a key when the model is known (directive ``model``,
    or the site's ``model``/``image_model``): ``Engine.resolve`` creates the provider only for
    its ``default_model``, and creating the ``openai`` one imports the ``openai`` package
    (about 0.35 s) in every build, even one that calls nothing. (The stand-in skips the
    unknown-provider check that creating the provider also makes; a real fix would check
    the name against the registry.) Changes nothing for an ``offline`` site without ``model``.
"""

from __future__ import annotations

import functools
import sys
import types
from typing import Any

import yaml

FIXES = ("yaml", "words", "format", "provider")


def _c_yaml() -> types.ModuleType:
    """A stand-in for the ``yaml`` module whose ``safe_load`` uses libyaml."""
    proxy = types.ModuleType("yaml_with_libyaml")
    proxy.__dict__.update(yaml.__dict__)

    def safe_load(stream: Any) -> Any:
        return yaml.load(stream, Loader=yaml.CSafeLoader)

    proxy.safe_load = safe_load  # type: ignore[attr-defined]
    return proxy


def fix_yaml() -> None:
    """libyaml for records (read and write) and front matter."""
    from aicraft import directives, records

    class Dumper(yaml.CSafeDumper):
        """``records._Dumper`` on libyaml."""

    Dumper.add_representer(str, records._str_representer)
    records._Dumper = Dumper  # type: ignore[misc]
    records.yaml = _c_yaml()  # type: ignore[attr-defined]
    directives.yaml = _c_yaml()  # type: ignore[attr-defined]


def fix_words() -> None:
    """Count the words of each text once."""
    from aicraft import disclosure, publication

    cached = functools.lru_cache(maxsize=None)(disclosure.words)
    disclosure.words = cached  # type: ignore[assignment]
    publication.words = cached  # type: ignore[attr-defined]


def fix_format() -> None:
    """One formatter call per directive and page, however often Material renders it."""
    from aicraft import plugin

    original = plugin.AicraftPlugin._format
    memo: dict[tuple[Any, ...], str] = {}
    pages_of: dict[tuple[str, str], set[str]] = {}

    def _format(
        self: Any,
        src: str,
        language: str,
        class_name: str,
        options: dict[str, str],
        md: Any,
        **kwargs: Any,
    ) -> str:
        if not pages_of and self.site is not None:  # fence text -> pages it is found on
            for page in self.site.pages.values():
                for d in page.directives:
                    pages_of.setdefault((d.kind, d.prompt), set()).add(page.file)
        fence = (src, language, tuple(sorted(options.items())))
        key = fence
        if len(pages_of.get((language.removeprefix("ai-"), src.strip()), ())) > 1:
            key = (*fence, self._page)  # the same text on several pages: keep them apart
        html = memo.get(key)
        if html is None:
            html = memo[key] = original(self, src, language, class_name, options, md, **kwargs)
        return html

    plugin.AicraftPlugin._format = _format  # type: ignore[method-assign]


def fix_provider() -> None:
    """Create a provider in ``Engine.resolve`` only if its default model is needed."""
    from aicraft import engine

    original = engine.Engine.resolve

    def resolve(self: Any, spec: Any, page: str, line: int, page_text: str | None = None) -> Any:
        real = self.provider

        class Deferred:
            """Stands for the provider; creates it only to ask its default model."""

            def __init__(self, name: str) -> None:
                self.name = name

            def default_model(self, kind: str) -> str:
                return str(real(self.name).default_model(kind))

        self.provider = Deferred  # shadows the method for this call only
        try:
            return original(self, spec, page, line, page_text)
        finally:
            del self.provider

    engine.Engine.resolve = resolve  # type: ignore[method-assign]


def apply(names: str) -> list[str]:
    """Apply the comma-separated fixes (``all`` for every one); return their names."""
    chosen = list(FIXES) if names == "all" else [n for n in names.split(",") if n]
    for name in chosen:
        if name not in FIXES:
            raise SystemExit(f"unknown fix {name!r}; known: {', '.join(FIXES)}, all")
        globals()[f"fix_{name}"]()
    return chosen


def main(argv: list[str] | None = None) -> int:
    """``what_if.py FIXES PROGRAM ARGS...``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[1] not in ("mkdocs", "aicraft"):
        raise SystemExit(__doc__)
    apply(argv[0])
    program, args = argv[1], argv[2:]
    sys.argv = [program, *args]
    if program == "mkdocs":
        from mkdocs.__main__ import cli

        cli()
    else:
        from aicraft.cli import main as aicraft_main

        aicraft_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
