"""Resolve directives to records: scan, find what is missing, generate it, look records up.

The engine knows nothing of MkDocs: adapters hand it ``(src_uri, markdown)`` pairs and ask for
records by key. Generation happens once per build, before any page is rendered.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from aicraft.config import Settings
from aicraft.directives import PageScan, Spec, scan, validate
from aicraft.errors import (
    AicraftError,
    ConfigError,
    MissingGenerations,
    Problem,
    ProviderError,
    StoreError,
)
from aicraft.policy import Subject
from aicraft.providers.base import (
    ASSUMED_MAX_OUTPUT_TOKENS,
    ImageRequest,
    Provider,
    ProviderContext,
    TextRequest,
    available_providers,
    create_provider,
    provider_target,
)
from aicraft.records import Record, canonical_json, compute_key, sha256_text, utc_now
from aicraft.store import Store, image_name

DEFAULT_IMAGE_SIZE = (1024, 1024)
_SECRET_NAME = re.compile(r"(?:KEY|TOKEN|SECRET|PASSWORD)$", re.IGNORECASE)
MAX_TEXT_OUTPUT_CHARS = 100_000
SOURCE_TYPE_TRAINED = "trainedAlgorithmicMedia"
SOURCE_TYPE_ALGORITHMIC = "algorithmicMedia"


@dataclass(frozen=True)
class Item:
    """A directive resolved to its key: what to generate, for whom, where it was found."""

    key: str
    spec: Spec
    provider: str
    model: str | None
    prompt: str
    system: str | None
    params: dict[str, Any]
    page: str
    line: int
    context: str | None = None

    @property
    def location(self) -> str:
        """``page:line`` of the directive."""
        return f"{self.page}:{self.line}"


@dataclass
class SiteScan:
    """Every page's directives resolved to items, and every problem found on the way."""

    pages: dict[str, PageScan] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def used_keys(self) -> set[str]:
        """The keys of every directive of the site."""
        return {item.key for item in self.items}


@dataclass
class Failure:
    """A generation that did not produce a record."""

    item: Item
    message: str

    def __str__(self) -> str:
        return f"{self.item.location}: {self.message}"


@dataclass
class Report:
    """What a generation run did."""

    generated: list[Item] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)
    cost_usd: float = 0.0
    interrupted: bool = False


class Progress:
    """Progress callbacks of a generation run; the default does nothing."""

    def start(self, total: int) -> None:
        """Called once with the number of items to generate."""

    def advance(self, item: Item, error: str | None, cost: float) -> None:
        """Called when one item finished (``error`` is None on success)."""

    def finish(self, report: Report) -> None:
        """Called once at the end."""


def _carry_history(record: Record, previous: Record) -> None:
    """Keep the review history of the record a refresh replaces, and say so in it: who
    reviewed or edited the old output stays on record (its approval does not carry over)."""
    history = list((previous.review or {}).get("history") or [])
    history.append(
        {
            "action": "regenerated",
            "at": utc_now(),
            "note": f"replaced the output {previous.model} made on {previous.created}",
        }
    )
    record.review["history"] = history


def _signature(kind: str, options: Mapping[str, str], prompt: str) -> str:
    return canonical_json([kind, sorted(options.items()), prompt])


class Engine:
    """Scans a site, generates what is missing, and answers record lookups by key."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None):
        self.settings = settings
        self.environ = dict(os.environ if environ is None else environ)
        self.store = Store(settings.store_path)
        self._providers: dict[str, Provider] = {}
        self._provider_names: dict[str, str] | None = None
        self._provider_lock = threading.Lock()
        self._corpus: str | None = None
        self._corpus_lock = threading.Lock()
        self._by_signature: dict[str, list[Item]] = {}
        self.scan_result: SiteScan | None = None

    # -- providers ---------------------------------------------------------------------------
    def provider(self, name: str) -> Provider:
        """The provider instance called ``name`` (created once per engine)."""
        with self._provider_lock:
            if name not in self._providers:
                context = ProviderContext(settings=self.settings.as_mapping(), corpus=self.corpus)
                self._providers[name] = create_provider(name, context)
            return self._providers[name]

    def _check_provider(self, name: str) -> None:
        """A ConfigError naming the choices when no provider is registered as ``name``."""
        if self._provider_names is None:
            self._provider_names = available_providers()
        provider_target(name, self._provider_names)

    def corpus(self) -> str:
        """The site's human-written prose (outside directives and code), for the offline chain.

        Joined on first use: a build that generates nothing offline never holds the copy.
        """
        with self._corpus_lock:
            if self._corpus is None:
                pages = self.scan_result.pages.values() if self.scan_result else ()
                self._corpus = "\n\n".join(page.human_text for page in pages)
            return self._corpus

    # -- resolution --------------------------------------------------------------------------
    def resolve(self, spec: Spec, page: str, line: int, page_text: str | None = None) -> Item:
        """Turn a validated directive into an :class:`Item` with its key.

        Raises ConfigError when the provider is unknown.
        """
        settings = self.settings
        provider_name = settings.resolved_provider(spec.provider, self.environ)
        configured = settings.image_model if spec.kind == "image" else settings.model
        model = spec.model or configured
        if model:
            # Creating a provider may import its client library (``openai``: ~0.35 s) and
            # build a client: a build that calls nothing should not pay for that.
            self._check_provider(provider_name)
        else:
            model = self.provider(provider_name).default_model(spec.kind)
        prompt = spec.prompt
        if spec.style:
            prompt = settings.styles[spec.style].replace("{prompt}", prompt)
        system = settings.personas[spec.persona] if spec.persona else None
        context = page_text if spec.context == "page" else None
        params: dict[str, Any] = {"candidates": spec.candidates}
        if spec.kind == "text":
            params.update(temperature=spec.temperature, seed=spec.seed, max_tokens=spec.max_tokens)
        else:
            width, height = spec.size or DEFAULT_IMAGE_SIZE
            params.update(size=f"{width}x{height}", quality=spec.quality, seed=spec.seed)
        if context is not None:
            params["context_sha256"] = sha256_text(context)
        material = {
            "kind": spec.kind,
            "provider": provider_name,
            "model": model,
            "prompt": prompt,
            "system": system,
            **params,
        }
        return Item(
            key=compute_key(material),
            spec=spec,
            provider=provider_name,
            model=model,
            prompt=prompt,
            system=system,
            params=params,
            page=page,
            line=line,
            context=context,
        )

    def scan(self, pages: Iterable[tuple[str, str]]) -> SiteScan:
        """Scan every page (``(src_uri, markdown)`` pairs) and resolve its directives."""
        result = SiteScan()
        settings_map = self.settings.as_mapping()
        for src, text in sorted(pages):
            result.pages[src] = scan(text, src, settings_map)
        self._corpus = None  # joined when a provider asks for it (only the offline one does)
        self._by_signature = {}
        for page in result.pages.values():
            result.problems.extend(page.problems)
            for directive in page.directives:
                spec, _ = validate(
                    directive.kind, directive.options, directive.prompt, settings_map
                )
                assert spec is not None  # the scanner only keeps valid directives
                try:
                    item = self.resolve(spec, page.file, directive.line, page.human_text)
                except ConfigError as exc:
                    result.problems.append(
                        Problem(page.file, directive.line, str(exc), "fix the `provider` option")
                    )
                    continue
                result.items.append(item)
                sig = _signature(directive.kind, directive.options, directive.prompt)
                self._by_signature.setdefault(sig, []).append(item)
        result.problems.sort(key=lambda p: (p.file, p.line))
        self.scan_result = result
        return result

    def item_for(
        self, kind: str, options: Mapping[str, str], prompt: str, spec: Spec, page: str | None
    ) -> Item:
        """The item of a directive met while rendering (pages and blog excerpts alike).

        Directives found by :meth:`scan` are matched by their text, preferring the page being
        rendered; anything else is resolved afresh.
        """
        found = self._by_signature.get(_signature(kind, options, prompt), [])
        for item in found:
            if item.page == page:
                return item
        if found:
            return found[0]
        return self.resolve(spec, page or "<unknown>", 0)

    def same_item_everywhere(self, kind: str, options: Mapping[str, str], prompt: str) -> bool:
        """Whether a directive's text stands for one item on every page that has it.

        False when it was not found by :meth:`scan`, or when copies of it on different pages
        are different items (``context="page"``).
        """
        found = self._by_signature.get(_signature(kind, options, prompt), [])
        return len({item.key for item in found}) == 1

    # -- store -------------------------------------------------------------------------------
    def record(self, key: str) -> Record | None:
        """The stored record of ``key`` or None (StoreError for a broken record)."""
        return self.store.get(key)

    def missing(self, site: SiteScan) -> tuple[list[Item], list[Problem]]:
        """Items without a record (one per key), and problems with unreadable records."""
        seen: set[str] = set()
        missing: list[Item] = []
        problems: list[Problem] = []
        for item in site.items:
            if item.key in seen:
                continue
            seen.add(item.key)
            try:
                if self.store.get(item.key) is None:
                    missing.append(item)
            except StoreError as exc:
                problems.append(Problem(item.page, item.line, str(exc)))
        return missing, problems

    def require_complete(self, site: SiteScan) -> None:
        """Frozen mode: raise MissingGenerations listing every directive without a record."""
        missing, problems = self.missing(site)
        located = [
            Problem(
                i.page,
                i.line,
                f"no stored generation for this ai-{i.spec.kind} (key {i.key[:16]})",
                "run `aicraft generate` and commit the store",
            )
            for i in missing
        ]
        if located or problems:
            raise MissingGenerations(
                "Missing generations (frozen mode calls no provider)", problems + located
            )

    # -- review and policy -------------------------------------------------------------------
    def subjects(self, site: SiteScan) -> list[Subject]:
        """What the publishing policy looks at: every directive with its review state."""
        from aicraft.review import content_sha256, state

        subjects = []
        for item in site.items:
            review: str | None = None
            short = item.key[:16]
            try:
                record = self.store.get(item.key)
            except StoreError:
                record = None
            if record is not None:
                try:
                    review = state(record, content_sha256(record, self.store))
                except (OSError, StoreError):
                    review = "pending"
            subjects.append(
                Subject(
                    page=item.page,
                    line=item.line,
                    kind=item.spec.kind,
                    provider=item.provider,
                    prompt=item.prompt,
                    alt=item.spec.alt,
                    review=review,
                    short=short,
                )
            )
        return subjects

    def orphans(self, site: SiteScan) -> list[str]:
        """Short keys of stored records that no directive of the site uses."""
        used = {key[:16] for key in site.used_keys()}
        return [short for short in self.store.short_keys() if short not in used]

    # -- generation --------------------------------------------------------------------------
    def _replaced(self, key: str) -> Record | None:
        """The record a refresh replaces, if it can be read."""
        try:
            return self.store.get(key)
        except StoreError:
            return None

    def generate(
        self,
        items: list[Item],
        progress: Progress | None = None,
        budget_usd: float | None = None,
        refresh: bool = False,
    ) -> Report:
        """Generate ``items`` concurrently, writing each record as soon as it is finished.

        Under the store's lock, items another process has generated meanwhile are skipped
        (unless ``refresh``). With a budget, no call is started whose estimated cost would pass
        it; items of unknown cost are not started at all.
        """
        progress = progress or Progress()
        report = Report()
        budget = self.settings.resolved_budget(self.environ) if budget_usd is None else budget_usd
        with self.store.lock():
            todo = []
            for item in items:
                self.store.forget(item.key)
                if refresh or self.store.get(item.key) is None:
                    todo.append(item)
            progress.start(len(todo))
            lock = threading.Lock()
            reserved = 0.0

            def admit(item: Item) -> str | None:
                nonlocal reserved
                if budget is None:
                    return None
                estimate = self.estimate(item)
                if estimate is None:
                    return (
                        f"not started: the cost of model {item.model!r} is unknown and a "
                        "budget is set; add the model to `prices`"
                    )
                with lock:
                    if report.cost_usd + reserved + estimate > budget + 1e-12:
                        return (
                            f"not started: it could cost up to ${estimate:.4f}, which would pass "
                            f"the budget of ${budget:.2f}"
                        )
                    reserved += estimate
                return None

            def run(item: Item) -> float:
                nonlocal reserved
                estimate = (self.estimate(item) or 0.0) if budget is not None else 0.0
                try:
                    record, images = self._generate_one(item, bounded=budget is not None)
                    previous = self._replaced(item.key) if refresh else None
                    if previous is not None:
                        _carry_history(record, previous)
                    self.store.put(record, images)
                    if previous is not None and previous.image_edit:
                        self.store.remove_image(previous.image_edit["file"])
                    return float(record.usage.get("cost_usd") or 0.0)
                finally:
                    if budget is not None:
                        with lock:
                            reserved -= estimate

            queue = deque(todo)
            stop = threading.Event()

            def finished(item: Item, error: str | None, cost: float) -> None:
                with lock:
                    if error is None:
                        report.cost_usd += cost
                        report.generated.append(item)
                    else:
                        report.failed.append(Failure(item, error))
                    progress.advance(item, error, cost)

            def worker() -> None:
                # Each worker takes the next item itself as soon as it is free: no round trip
                # through the main thread between one call and the next.
                while not stop.is_set():
                    with lock:
                        if not queue:
                            return
                        item = queue.popleft()
                    refusal = admit(item)
                    if refusal:
                        with lock:
                            report.skipped.append(Failure(item, refusal))
                            progress.advance(item, refusal, 0.0)
                        continue
                    try:
                        cost = run(item)
                    except AicraftError as exc:
                        finished(item, self.scrub(str(exc)), 0.0)
                    except Exception as exc:  # a provider bug must not lose other work
                        finished(item, self.scrub(f"{type(exc).__name__}: {exc}"), 0.0)
                    else:
                        finished(item, None, cost)

            workers = max(1, min(self.settings.concurrency, len(todo)))
            executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aicraft")
            try:
                futures = [executor.submit(worker) for _ in range(workers)]
                wait(futures)
                for future in futures:
                    future.result()  # a bug in the loop itself is not swallowed
            except KeyboardInterrupt:
                # Items being generated finish and are stored; no new one starts.
                report.interrupted = True
                stop.set()
                executor.shutdown(wait=True, cancel_futures=True)
                raise
            finally:
                stop.set()
                executor.shutdown(wait=True, cancel_futures=True)
                progress.finish(report)
        return report

    def scrub(self, message: str) -> str:
        """``message`` without the value of any secret-looking environment variable.

        Providers scrub their own errors; this catches what escapes them (a bug, a library's
        exception quoting a request): variables named ``*KEY``, ``*TOKEN``, ``*SECRET`` or
        ``*PASSWORD`` with a value of 8 characters or more.
        """
        for environ in (self.environ, os.environ):
            for name, value in environ.items():
                if len(value) >= 8 and _SECRET_NAME.search(name) and value in message:
                    message = message.replace(value, "[redacted]")
        return message

    def estimate(self, item: Item) -> float | None:
        """Upper bound of an item's cost in USD, or None when unknown."""
        provider = self.provider(item.provider)
        estimator: Callable[..., float | None] | None = getattr(provider, "estimate_cost", None)
        if estimator is None:
            return 0.0 if not provider.trained else None
        return estimator(self.request(item))

    def request(self, item: Item, bounded: bool = False) -> TextRequest | ImageRequest:
        """The provider request of an item.

        ``bounded`` (a budget is set): a text request without ``max_tokens`` asks for at most
        :data:`ASSUMED_MAX_OUTPUT_TOKENS`, the output its cost estimate assumed, so the
        estimate is an upper bound of what the call can cost.
        """
        spec = item.spec
        if spec.kind == "text":
            max_tokens = spec.max_tokens
            if max_tokens is None and bounded:
                max_tokens = ASSUMED_MAX_OUTPUT_TOKENS
            return TextRequest(
                key=item.key,
                prompt=item.prompt,
                system=item.system,
                model=item.model,
                temperature=spec.temperature,
                seed=spec.seed,
                max_tokens=max_tokens,
                candidates=spec.candidates,
                context=item.context,
            )
        return ImageRequest(
            key=item.key,
            prompt=item.prompt,
            model=item.model,
            size=spec.size or DEFAULT_IMAGE_SIZE,
            quality=spec.quality,
            seed=spec.seed,
            candidates=spec.candidates,
        )

    def _generate_one(self, item: Item, bounded: bool = False) -> tuple[Record, dict[str, bytes]]:
        provider = self.provider(item.provider)
        spec = item.spec
        # Only priced calls need the bound (and the offline chain's length must not change).
        request = self.request(item, bounded and hasattr(provider, "estimate_cost"))
        images: dict[str, bytes] = {}
        if isinstance(request, TextRequest):
            text_result = provider.generate_text(request)
            outputs = [o.strip() for o in text_result.outputs]
            if len(outputs) < spec.candidates or not all(outputs):
                raise ProviderError("the provider returned empty output")
            for output in outputs:
                if len(output) > MAX_TEXT_OUTPUT_CHARS:
                    raise ProviderError(
                        f"the output is longer than {MAX_TEXT_OUTPUT_CHARS} characters"
                    )
            model, usage = text_result.model, text_result.usage
            original, body = outputs[0], outputs[0]
            candidates = outputs if len(outputs) > 1 else []
        else:
            image_result = provider.generate_image(request)
            if len(image_result.images) < spec.candidates:
                raise ProviderError("the provider returned fewer images than asked for")
            for index, data in enumerate(image_result.images[: spec.candidates], start=1):
                images[image_name(item.key, index)] = data
            model, usage = image_result.model, image_result.usage
            candidates = list(images)
            original, body = candidates[0], ""
            digests = [hashlib.sha256(data).hexdigest() for data in images.values()]
        record = Record(
            key=item.key,
            kind=spec.kind,
            provider=item.provider,
            provider_label=provider.description,
            model=model,
            requested_model=item.model,
            source_type=SOURCE_TYPE_TRAINED if provider.trained else SOURCE_TYPE_ALGORITHMIC,
            prompt=item.prompt,
            system=item.system,
            params=item.params,
            created=utc_now(),
            source={"page": item.page, "line": item.line},
            usage=usage.as_dict(),
            candidates=candidates,
            picked=1,
            original=original,
            body=body,
        )
        if images:  # pin the bytes the model made (text digests itself)
            record.original_sha256, record.candidates_sha256 = digests[0], digests
        return record, images
