"""The provider protocol, its request and result types, and the registry.

Providers are found through the entry point group ``aicraft.providers``; the built-in ones are
also registered here so that a source checkout works without being installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol, runtime_checkable

from aicraft.errors import ConfigError

ENTRY_POINT_GROUP = "aicraft.providers"

#: Output tokens a cost estimate assumes for a text request without ``max_tokens``. Under a
#: budget the engine sends this as the request's ``max_tokens``, so the estimate is a bound.
ASSUMED_MAX_OUTPUT_TOKENS = 4096

_BUILTIN: dict[str, str] = {
    "offline": "aicraft.providers.offline:OfflineProvider",
    "openai": "aicraft.providers.openai:OpenAIProvider",
}


@dataclass(frozen=True)
class TextRequest:
    """What a text generation asks for. ``key`` is the record key (use it to seed randomness)."""

    key: str
    prompt: str
    system: str | None = None
    model: str | None = None
    temperature: float | None = None
    seed: int | None = None
    max_tokens: int | None = None
    candidates: int = 1
    context: str | None = None


@dataclass(frozen=True)
class ImageRequest:
    """What an image generation asks for; ``size`` is (width, height) in pixels."""

    key: str
    prompt: str
    model: str | None = None
    size: tuple[int, int] = (1024, 1024)
    quality: str | None = None
    seed: int | None = None
    candidates: int = 1


@dataclass(frozen=True)
class Usage:
    """Tokens and money a call used; ``None`` where the provider does not say."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain mapping for the record's front matter."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
        }


@dataclass(frozen=True)
class TextResult:
    """One output per candidate, the exact model id that produced them, and the usage."""

    outputs: list[str]
    model: str
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class ImageResult:
    """Encoded image bytes (PNG) per candidate, the exact model id, and the usage."""

    images: list[bytes]
    model: str
    usage: Usage = field(default_factory=Usage)
    revised_prompt: str | None = None


@dataclass
class ProviderContext:
    """What a provider may use besides the request.

    ``settings`` are the site's aicraft settings as a mapping; ``corpus`` returns the site's
    human-written text (directive bodies and code excluded), built lazily on first call.
    """

    settings: Mapping[str, Any] = field(default_factory=dict)
    corpus: Callable[[], str] = lambda: ""


@runtime_checkable
class Provider(Protocol):
    """A source of generations.

    ``trained`` says whether the outputs come from a model trained on data (IPTC
    ``trainedAlgorithmicMedia``) or from a plain algorithm (``algorithmicMedia``);
    ``description`` is the truthful human label shown in credits.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    trained: ClassVar[bool]

    def default_model(self, kind: str) -> str:
        """The model used when neither directive nor config names one."""
        ...

    def generate_text(self, request: TextRequest) -> TextResult:
        """Generate ``request.candidates`` texts."""
        ...

    def generate_image(self, request: ImageRequest) -> ImageResult:
        """Generate ``request.candidates`` images, PNG-encoded."""
        ...


def _load(target: str) -> type:
    module_name, _, attr = target.partition(":")
    module = __import__(module_name, fromlist=[attr])
    return getattr(module, attr)


def available_providers() -> dict[str, str]:
    """Registered provider names mapped to their ``module:Class`` targets."""
    found = dict(_BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def provider_target(name: str, targets: Mapping[str, str] | None = None) -> str:
    """The ``module:Class`` registered under ``name`` (among ``targets``, default
    :func:`available_providers`), without importing it; a ConfigError naming the choices
    otherwise."""
    targets = available_providers() if targets is None else targets
    if name not in targets:
        choices = ", ".join(sorted(targets))
        raise ConfigError(f"unknown provider {name!r}; choose one of: {choices}")
    return targets[name]


def provider_class(name: str) -> type:
    """The class registered under ``name``; a ConfigError naming the choices otherwise."""
    return _load(provider_target(name))


def create_provider(name: str, context: ProviderContext) -> Provider:
    """Instantiate the provider registered under ``name``."""
    return provider_class(name)(context)
