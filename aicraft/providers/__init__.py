"""Model providers: the protocol, the registry and the built-in providers."""

from __future__ import annotations

from aicraft.providers.base import (
    ImageRequest,
    ImageResult,
    Provider,
    ProviderContext,
    TextRequest,
    TextResult,
    Usage,
    available_providers,
    create_provider,
)

__all__ = [
    "ImageRequest",
    "ImageResult",
    "Provider",
    "ProviderContext",
    "TextRequest",
    "TextResult",
    "Usage",
    "available_providers",
    "create_provider",
]
