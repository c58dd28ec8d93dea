"""One settings schema for the MkDocs plugin and the CLI.

The plugin declares its ``config_scheme`` from :data:`FIELDS`, and both adapters build a
:class:`Settings` with :meth:`Settings.from_mapping`, which does the real validation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from aicraft.errors import ConfigError

MODES = ("auto", "frozen", "refresh")


@dataclass(frozen=True)
class Settings:
    """aicraft's settings, as written under ``plugins: - aicraft:`` in mkdocs.yml."""

    provider: str = "auto"
    model: str | None = None
    image_model: str | None = None
    mode: str | None = None
    store: str = "generations"
    concurrency: int = 8
    budget_usd: float | None = None
    personas: dict[str, str] = field(default_factory=dict)
    styles: dict[str, str] = field(default_factory=dict)
    show_prompts: bool = True
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 120.0
    max_retries: int = 4
    retry_backoff: float = 1.0
    retry_backoff_max: float = 30.0
    max_retry_after: float = 120.0
    max_tokens_param: str = "auto"
    max_image_bytes: int = 50_000_000
    max_image_pixels: int = 40_000_000
    prices: dict[str, Any] = field(default_factory=dict)
    editorial_responsibility: str | None = None
    policy: dict[str, Any] = field(default_factory=dict)
    ledger: str = "ai-disclosures/"
    image_widths: list[int] = field(default_factory=lambda: [480, 960])
    image_rights: str | None = None
    c2pa: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    #: Directory of mkdocs.yml; relative paths (``store``) are resolved against it.
    base_dir: str = "."

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], base_dir: str | os.PathLike[str] = "."
    ) -> Settings:
        """Validate ``data`` (unknown keys, types, ranges) and build the settings."""
        known = {f.name: f for f in fields(cls) if f.name != "base_dir"}
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known:
                raise ConfigError(
                    f"unknown aicraft setting {name!r}; known settings: {', '.join(sorted(known))}"
                )
            if value is None:
                continue
            values[name] = _check(name, value)
        settings = cls(**values, base_dir=str(base_dir))
        settings._check_store_is_inside()
        return settings

    def _check_store_is_inside(self) -> None:
        """Refuse a store outside the site's folder (``../x``, an absolute path, a link out).

        aicraft creates, locks and writes the store, and deletes stale ``.*.tmp`` files in it:
        a setting that a pull request can change must not point it at another folder.
        """
        base = Path(self.base_dir).resolve()
        store = self.store_path
        if base not in store.parents:
            raise ConfigError(
                f"aicraft setting 'store' ({self.store!r}) resolves to {store}, which is not a "
                f"folder inside the site's folder {base}; set `store:` under `plugins: - aicraft:` "
                "in mkdocs.yml to a folder inside the site, such as 'generations' (the default)"
            )

    def as_mapping(self) -> dict[str, Any]:
        """The settings as a plain dict (what providers receive)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def store_path(self) -> Path:
        """The generation store's directory, absolute."""
        return (Path(self.base_dir) / self.store).resolve()

    def resolved_mode(self, environ: Mapping[str, str] | None = None) -> str:
        """The mode in force.

        ``AICRAFT_MODE`` (set by the CLI's ``--frozen/--no-frozen``) wins, then the ``mode``
        setting, then ``frozen`` when ``CI`` is set, else ``auto``.
        """
        environ = os.environ if environ is None else environ
        mode = environ.get("AICRAFT_MODE") or self.mode or ""
        if not mode:
            mode = "frozen" if _truthy(environ.get("CI")) else "auto"
        if mode not in MODES:
            raise ConfigError(f"unknown mode {mode!r}; use one of: {', '.join(MODES)}")
        return mode

    def resolved_budget(self, environ: Mapping[str, str] | None = None) -> float | None:
        """The spending cap in USD: ``AICRAFT_BUDGET_USD`` (the CLI's ``--budget``), else the
        ``budget_usd`` setting, else None (no cap)."""
        environ = os.environ if environ is None else environ
        raw = environ.get("AICRAFT_BUDGET_USD")
        if raw:
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(f"AICRAFT_BUDGET_USD must be a number, not {raw!r}") from None
            if value < 0:
                raise ConfigError("the budget cannot be negative")
            return value
        return None if self.budget_usd is None else float(self.budget_usd)

    def resolved_provider(
        self, requested: str | None, environ: Mapping[str, str] | None = None
    ) -> str:
        """The provider a directive uses: its own, else the site's; ``auto`` picks one.

        ``auto`` is ``openai`` when an API key or a base URL is configured, else ``offline``.
        ``AICRAFT_PROVIDER`` in the environment overrides the site's setting.
        """
        environ = os.environ if environ is None else environ
        name = requested or environ.get("AICRAFT_PROVIDER") or self.provider
        if name == "auto":
            has_openai = (
                environ.get(self.api_key_env) or self.base_url or environ.get("OPENAI_BASE_URL")
            )
            name = "openai" if has_openai else "offline"
        return name


def _truthy(value: str | None) -> bool:
    return bool(value) and value.strip().lower() not in ("0", "false", "no", "off")


_TYPES: dict[str, tuple[type, ...]] = {
    "provider": (str,),
    "model": (str,),
    "image_model": (str,),
    "mode": (str,),
    "store": (str,),
    "concurrency": (int,),
    "budget_usd": (int, float),
    "personas": (dict,),
    "styles": (dict,),
    "show_prompts": (bool,),
    "base_url": (str,),
    "api_key_env": (str,),
    "timeout": (int, float),
    "max_retries": (int,),
    "retry_backoff": (int, float),
    "retry_backoff_max": (int, float),
    "max_retry_after": (int, float),
    "max_tokens_param": (str,),
    "max_image_bytes": (int,),
    "max_image_pixels": (int,),
    "prices": (dict,),
    "editorial_responsibility": (str,),
    "policy": (dict,),
    "ledger": (str,),
    "image_widths": (list,),
    "image_rights": (str,),
    "c2pa": (dict,),
    "enabled": (bool,),
}

#: (name, python types) for every setting, used by the plugin's config_scheme.
FIELDS: tuple[tuple[str, tuple[type, ...]], ...] = tuple(_TYPES.items())


def _check(name: str, value: Any) -> Any:
    types = _TYPES[name]
    if isinstance(value, bool) and bool not in types:
        raise ConfigError(f"aicraft setting {name!r} must be {types[0].__name__}, not a boolean")
    if not isinstance(value, types):
        raise ConfigError(
            f"aicraft setting {name!r} must be {types[0].__name__}, not {type(value).__name__}"
        )
    if name == "mode" and value not in MODES:
        raise ConfigError(f"aicraft setting 'mode' must be one of {', '.join(MODES)}")
    if name == "concurrency" and not 1 <= value <= 256:
        raise ConfigError("aicraft setting 'concurrency' must be between 1 and 256")
    if name == "budget_usd" and value < 0:
        raise ConfigError("aicraft setting 'budget_usd' cannot be negative")
    if name in ("personas", "styles"):
        for key, text in value.items():
            if not isinstance(key, str) or not isinstance(text, str):
                raise ConfigError(f"aicraft setting {name!r} maps names to texts")
        if name == "styles":
            for key, text in value.items():
                if "{prompt}" not in text:
                    raise ConfigError(
                        f"style {key!r} must contain {{prompt}} where the directive's prompt goes"
                    )
    if name == "image_widths" and not all(
        isinstance(w, int) and not isinstance(w, bool) and 16 <= w <= 8192 for w in value
    ):
        raise ConfigError("aicraft setting 'image_widths' must list widths in pixels (16-8192)")
    if name == "ledger" and (
        not value.endswith("/") or value.startswith("/") or ".." in value.split("/")
    ):
        raise ConfigError("aicraft setting 'ledger' must be a folder path like 'ai-disclosures/'")
    if name == "c2pa":
        unknown = set(value) - {"cert", "key", "ta_url", "training_mining"}
        if unknown or not {"cert", "key"} <= set(value):
            raise ConfigError(
                "aicraft setting 'c2pa' needs 'cert' and 'key' (PEM paths), and may have "
                "'ta_url' and 'training_mining'"
            )
    if name == "policy":
        from aicraft.policy import Policy

        Policy.from_mapping(value)
    if name == "store" and (not value.strip() or "\0" in value):
        raise ConfigError("aicraft setting 'store' must name a directory")
    return value
