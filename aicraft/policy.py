"""Publishing rules from the config (``policy:``) checked against a scanned site.

Each violation names the directive's file and line, the rule and what to do; a frozen or strict
build fails on them, ``serve`` shows them on the page, ``aicraft check`` lists them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aicraft.errors import ConfigError, Problem

PLACEHOLDER_ALTS = frozenset({"image", "picture", "photo", "alt", "img", "illustration", "todo"})
MIN_ALT_CHARS = 8


@dataclass(frozen=True)
class Forbidden:
    """A regular expression that prompts must not match, and why."""

    pattern: re.Pattern[str]
    reason: str


@dataclass(frozen=True)
class Policy:
    """The site's publishing rules."""

    require_review: bool = False
    max_ai_share: float | None = None
    allowed_providers: tuple[str, ...] | None = None
    forbidden: tuple[Forbidden, ...] = ()
    require_alt: bool = True

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Policy:
        """Validate the ``policy:`` setting."""
        data = dict(data or {})
        known = {"require_review", "max_ai_share", "allowed_providers", "forbidden", "require_alt"}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(
                f"unknown policy rule(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(known))}"
            )
        share = data.get("max_ai_share")
        if share is not None:
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
                raise ConfigError("policy max_ai_share must be a share between 0 and 1, e.g. 0.3")
            share = float(share)
        providers = data.get("allowed_providers")
        if providers is not None:
            if not isinstance(providers, list) or not all(isinstance(p, str) for p in providers):
                raise ConfigError("policy allowed_providers must be a list of provider names")
            providers = tuple(providers)
        for flag in ("require_review", "require_alt"):
            if flag in data and not isinstance(data[flag], bool):
                raise ConfigError(f"policy {flag} must be true or false")
        return cls(
            require_review=bool(data.get("require_review", False)),
            max_ai_share=share,
            allowed_providers=providers,
            forbidden=_forbidden(data.get("forbidden")),
            require_alt=bool(data.get("require_alt", True)),
        )


def _forbidden(value: Any) -> tuple[Forbidden, ...]:
    """``forbidden`` as a list of patterns, of {pattern, reason} mappings, or a mapping."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        entries = [{"pattern": k, "reason": v} for k, v in value.items()]
    elif isinstance(value, list):
        entries = [v if isinstance(v, Mapping) else {"pattern": v} for v in value]
    else:
        raise ConfigError("policy forbidden must be a list of patterns or {pattern: reason}")
    rules = []
    for entry in entries:
        pattern = entry.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            raise ConfigError("each policy forbidden entry needs a pattern (a regex)")
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(
                f"policy forbidden pattern {pattern!r} is not a regex: {exc}"
            ) from None
        reason = str(entry.get("reason") or "forbidden by the site's policy")
        rules.append(Forbidden(compiled, reason))
    return tuple(rules)


@dataclass(frozen=True)
class Violation(Problem):
    """A broken publishing rule at a directive (or a page, line 1)."""

    rule: str = ""

    def __str__(self) -> str:
        return f"{super().__str__()} [policy: {self.rule}]"


@dataclass
class Subject:
    """What the policy looks at for one directive."""

    page: str
    line: int
    kind: str
    provider: str
    prompt: str
    alt: str | None
    review: str | None  # pending/approved/rejected/changed, None when not generated
    short: str = ""


def check(
    policy: Policy,
    subjects: list[Subject],
    page_shares: Mapping[str, float] | None = None,
) -> list[Violation]:
    """Every violation of ``policy`` by ``subjects`` and the pages' AI shares."""
    found: list[Violation] = []
    for s in subjects:
        if policy.allowed_providers is not None and s.provider not in policy.allowed_providers:
            allowed = ", ".join(policy.allowed_providers) or "none"
            found.append(
                Violation(
                    s.page,
                    s.line,
                    f"provider {s.provider!r} is not allowed (allowed: {allowed})",
                    "use an allowed provider or change policy.allowed_providers",
                    rule="allowed_providers",
                )
            )
        for rule in policy.forbidden:
            match = rule.pattern.search(s.prompt)
            if match:
                found.append(
                    Violation(
                        s.page,
                        s.line,
                        f"the prompt contains {match.group(0)!r}: {rule.reason}",
                        "rewrite the prompt",
                        rule="forbidden",
                    )
                )
        if policy.require_alt and s.kind == "image":
            alt = (s.alt or "").strip()
            if len(alt) < MIN_ALT_CHARS or alt.lower().strip(".") in PLACEHOLDER_ALTS:
                found.append(
                    Violation(
                        s.page,
                        s.line,
                        f"the image's alt text {alt!r} does not describe it",
                        "write alt text that tells a reader who cannot see the image what it shows",
                        rule="require_alt",
                    )
                )
        if policy.require_review and s.review is not None and s.review != "approved":
            what = {
                "pending": "is not reviewed",
                "rejected": "was rejected in review",
                "changed": "was edited after its approval",
            }.get(s.review, f"is {s.review}")
            found.append(
                Violation(
                    s.page,
                    s.line,
                    f"ai-{s.kind} {s.short} {what}",
                    f"review it: aicraft review show {s.short}; aicraft review approve {s.short}",
                    rule="require_review",
                )
            )
    if policy.max_ai_share is not None:
        for page, share in sorted((page_shares or {}).items()):
            if share > policy.max_ai_share + 1e-9:
                found.append(
                    Violation(
                        page,
                        1,
                        f"{share:.0%} of the page's words are AI-made, more than the "
                        f"{policy.max_ai_share:.0%} the policy allows",
                        "write more of the page yourself or remove AI passages",
                        rule="max_ai_share",
                    )
                )
    found.sort(key=lambda v: (v.file, v.line, v.rule))
    return found
