"""Error types shared by the engine, the CLI and the MkDocs plugin.

The core raises these; the adapters turn them into `click.ClickException` (CLI) or
`mkdocs.exceptions.PluginError` (plugin).
"""

from __future__ import annotations

from dataclasses import dataclass


class AicraftError(Exception):
    """Base class of every error aicraft reports to a user."""


@dataclass(frozen=True)
class Problem:
    """One located problem: where it is, what is wrong and how to fix it."""

    file: str
    line: int
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}: {self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class ProblemsError(AicraftError):
    """Several located problems reported together."""

    def __init__(self, headline: str, problems: list[Problem]):
        self.headline = headline
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        """The headline followed by one line per problem."""
        lines = [f"{self.headline} ({len(self.problems)}):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class DirectiveErrors(ProblemsError):
    """Malformed generation directives."""


class MissingGenerations(ProblemsError):
    """Directives without a stored record in frozen mode."""


class StoreError(AicraftError):
    """A record file that cannot be read or written."""


class ProviderError(AicraftError):
    """A provider failed to produce an output (the message is safe to show)."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


class ConfigError(AicraftError):
    """Invalid aicraft settings."""
