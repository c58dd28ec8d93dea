"""A local, scriptable OpenAI-compatible HTTP server for tests and benchmarks.

Standard library only (plus Pillow for the images). It listens on ``127.0.0.1`` on a free port,
serves from daemon threads, and never touches the network beyond that socket::

    from openai_server import Behavior, FakeOpenAI

    with FakeOpenAI() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")
        server.script(Behavior.rate_limited(retry_after=1), Behavior.server_error(502))
        client.chat.completions.create(model="gpt-4o-mini", messages=[...])
        assert len(server.api_requests()) == 3

Endpoints
    ``POST /v1/chat/completions``
        Honours ``n``, ``max_completion_tokens``/``max_tokens`` (one "token" is one word here:
        the text is cut and ``finish_reason`` becomes ``"length"``), ``seed`` and ``temperature``
        (they change the text). The text is deterministic, derived from the last user message.
        The reported ``model`` is mapped through ``model_aliases`` (``"gpt-4o-mini"`` is reported
        as ``"gpt-4o-mini-2024-07-18"``, the way the real API reports a dated snapshot).
        ``usage`` counts words (+3 per message) as tokens.
    ``POST /v1/images/generations``
        PNGs of the requested ``size`` (``"WxH"``; ``"auto"`` is 1024x1024), one colour pair
        per prompt and index, as ``b64_json`` unless ``response_format`` is ``"url"`` (or a
        behaviour forces ``url``): then ``url`` points at ``GET /files/<name>`` on this server.
        Models whose name starts with ``gpt-image`` also get a ``usage`` block.
    ``GET /v1/models``
        The known models (the keys and values of ``model_aliases``).

Faults
    Every ``POST`` to an API endpoint takes the next :class:`Behavior` from the queue filled by
    :meth:`FakeOpenAI.script`; when the queue is empty it uses :attr:`FakeOpenAI.default`,
    which is a ``Behavior``, a callable ``(RecordedRequest) -> Behavior | None`` or ``None``
    (normal answers). ``GET`` requests (models, files) never consume behaviours. See the
    ``Behavior`` class methods for the ready-made faults (429 with ``Retry-After``, 5xx, slow
    answers for client timeouts, 401/400 with an OpenAI error body, empty output, content
    filter, refusal, invalid or oversized images, ``url`` answers, echoing the Authorization
    header, ignoring ``n``).

Observation
    :attr:`FakeOpenAI.requests` lists every request (method, path, headers, JSON body, arrival
    and finish time on ``time.monotonic()``); :attr:`FakeOpenAI.max_in_flight` is the highest
    number of requests handled at the same time. ``latency`` adds a delay to every API call.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import functools
import hashlib
import io
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageDraw

DEFAULT_MODEL_ALIASES: dict[str, str] = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-image-1": "gpt-image-1",
    "dall-e-3": "dall-e-3",
}
"""Requested model -> the model id the fake reports (others are reported as requested)."""

CHAT_PATH = "/v1/chat/completions"
IMAGES_PATH = "/v1/images/generations"
MODELS_PATH = "/v1/models"
FILES_PREFIX = "/files/"
API_PATHS = (CHAT_PATH, IMAGES_PATH)

BOMB_SIDE = 10_000
"""Side of the ``"bomb"`` image: 10000x10000 = 100 megapixels, about 12 KB as a 1-bit PNG."""


@dataclass(frozen=True)
class Behavior:
    """How the server answers one API request. The defaults give a normal answer.

    Fields combine: ``Behavior(delay=0.2, choices=1)`` answers late *and* ignores ``n``.
    """

    status: int | None = None
    """Answer with this HTTP error status and an OpenAI-style error body."""
    message: str | None = None
    """The error message (``error.message``) for ``status``."""
    error_type: str | None = None
    """``error.type`` for ``status`` (a sensible default is derived from the status)."""
    error_code: str | None = None
    """``error.code`` for ``status`` (e.g. ``"insufficient_quota"``)."""
    retry_after: float | str | None = None
    """Value of the ``Retry-After`` header (seconds, or an HTTP date as a string)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra response headers."""
    delay: float = 0.0
    """Seconds to wait before answering; more than the client's timeout makes it time out."""
    content: str | None = None
    """Text of every choice instead of the generated one (``""`` = empty output)."""
    null_content: bool = False
    """Send ``message.content = null``."""
    finish_reason: str | None = None
    """``finish_reason`` of every choice (e.g. ``"content_filter"``)."""
    refusal: str | None = None
    """``message.refusal`` (content becomes null)."""
    choices: int | None = None
    """Number of choices/images returned whatever ``n`` asked (1 = a server that ignores n)."""
    model: str | None = None
    """Reported model id instead of the alias mapping."""
    usage: bool = True
    """Include ``usage`` in the answer."""
    image: str | None = None
    """Image payload: ``"invalid"`` (truncated PNG), ``"garbage"`` (not an image at all),
    ``"bomb"`` (a valid 100-megapixel PNG), ``"jpeg"`` (a JPEG instead of a PNG)."""
    image_answer: str | None = None
    """Force the image answer form: ``"url"`` or ``"b64_json"``."""
    sign_images: Callable[[bytes], bytes] | None = None
    """Applied to each image's bytes before they are sent: e.g. to add the provider's own C2PA
    manifest, as OpenAI does."""
    file_content_type: str | None = None
    """Content-Type with which ``/files/...`` serves the image of a ``url`` answer."""
    echo_auth: bool = False
    """Put the request's Authorization header into the text (or into the error message)."""
    raw_body: bytes | None = None
    """Send these bytes verbatim as the body (with ``status`` or 200)."""

    # Ready-made faults -------------------------------------------------------------------

    @classmethod
    def rate_limited(cls, retry_after: float | str | None = 1, **kw: Any) -> Behavior:
        """HTTP 429 with a ``Retry-After`` header (``None``: without the header)."""
        kw.setdefault("message", "Rate limit reached for requests. Please try again later.")
        return cls(status=429, retry_after=retry_after, error_type="requests", **kw)

    @classmethod
    def quota_exceeded(cls) -> Behavior:
        """HTTP 429 the way OpenAI reports an account without credit (not worth retrying)."""
        return cls(
            status=429,
            message="You exceeded your current quota, please check your plan and billing details.",
            error_type="insufficient_quota",
            error_code="insufficient_quota",
        )

    @classmethod
    def server_error(cls, status: int = 500, **kw: Any) -> Behavior:
        """A 5xx answer (500, 502, 503, ...)."""
        kw.setdefault("message", "The server had an error while processing your request.")
        return cls(status=status, **kw)

    @classmethod
    def slow(cls, delay: float, **kw: Any) -> Behavior:
        """Answer normally, but only after ``delay`` seconds (a timeout if above the client's)."""
        return cls(delay=delay, **kw)

    @classmethod
    def auth_error(cls, **kw: Any) -> Behavior:
        """HTTP 401 as OpenAI sends it for a wrong key."""
        kw.setdefault("message", "Incorrect API key provided. You can find your API key at ...")
        return cls(
            status=401, error_type="invalid_request_error", error_code="invalid_api_key", **kw
        )

    @classmethod
    def bad_request(
        cls, message: str = "Invalid request.", status: int = 400, **kw: Any
    ) -> Behavior:
        """HTTP 400 (or another 4xx) with ``message``."""
        return cls(status=status, message=message, error_type="invalid_request_error", **kw)

    @classmethod
    def empty_output(cls) -> Behavior:
        """A choice with an empty text."""
        return cls(content="")

    @classmethod
    def content_filter(cls) -> Behavior:
        """``finish_reason: "content_filter"`` and no text."""
        return cls(finish_reason="content_filter", null_content=True)

    @classmethod
    def refused(cls, text: str = "I'm sorry, but I can't help with that.") -> Behavior:
        """A refusal (``message.refusal``, null content)."""
        return cls(refusal=text)

    @classmethod
    def invalid_image(cls, kind: str = "invalid") -> Behavior:
        """Image bytes that are not a valid image (``"invalid"`` or ``"garbage"``)."""
        return cls(image=kind)

    @classmethod
    def bomb_image(cls, **kw: Any) -> Behavior:
        """A valid PNG of 100 megapixels (a decompression bomb)."""
        return cls(image="bomb", **kw)

    @classmethod
    def url_answer(cls, content_type: str | None = None, **kw: Any) -> Behavior:
        """Answer images with ``url`` (served by this server) instead of ``b64_json``."""
        return cls(image_answer="url", file_content_type=content_type, **kw)

    @classmethod
    def echo_authorization(cls, **kw: Any) -> Behavior:
        """Echo the Authorization header in the text, or in the error message with ``status``."""
        return cls(echo_auth=True, **kw)

    @classmethod
    def ignores_n(cls, **kw: Any) -> Behavior:
        """Return one choice (or image) whatever ``n`` is."""
        return cls(choices=1, **kw)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. Times are ``time.monotonic()`` values."""

    index: int
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    arrived: float
    behavior: Behavior | None = None
    finished: float | None = None

    def header(self, name: str) -> str | None:
        """A header value, looked up case-insensitively."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


BehaviorSource = Behavior | Callable[[RecordedRequest], Behavior | None] | None


class FakeOpenAI:
    """An OpenAI-compatible server on ``127.0.0.1:<free port>`` for the duration of a test.

    Use it as a context manager (or call :meth:`start` and :meth:`close`). ``api_key``, when set,
    makes the server answer 401 to requests without ``Authorization: Bearer <api_key>``;
    ``rejected_params`` lists body parameters answered with a 400 "Unsupported parameter"
    (e.g. ``{"max_tokens"}`` imitates OpenAI's reasoning models). Attributes may be changed
    while the server runs.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        default: BehaviorSource = None,
        model_aliases: Mapping[str, str] | None = None,
        api_key: str | None = None,
        rejected_params: set[str] | None = None,
    ) -> None:
        self.latency = latency
        self.default: BehaviorSource = default
        self.model_aliases = dict(DEFAULT_MODEL_ALIASES if model_aliases is None else model_aliases)
        self.api_key = api_key
        self.rejected_params: set[str] = set(rejected_params or ())
        self.files: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self._queue: collections.deque[Behavior] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Life cycle --------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        """Bind a free port and serve from a daemon thread."""
        if self._httpd is not None:
            return self
        handler = functools.partial(_Handler, self)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False  # type: ignore[attr-defined]
        self._httpd = httpd
        self._stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; delayed answers still pending are abandoned."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The base URL an OpenAI client needs: ``http://127.0.0.1:PORT/v1``."""
        return f"{self.root_url}/v1"

    # Scripting ---------------------------------------------------------------------------

    def script(self, *behaviors: Behavior) -> None:
        """Queue behaviours, used one per API request in order before ``default`` applies."""
        with self._lock:
            self._queue.extend(behaviors)

    def pending(self) -> int:
        """Behaviours queued and not used yet."""
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        """Forget requests, queued behaviours, files and the in-flight maximum."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self.files.clear()
            self._max_in_flight = self._in_flight

    # Observation -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    def api_requests(self, path: str | None = None) -> list[RecordedRequest]:
        """The ``POST`` API requests (optionally only those to ``path``, e.g. ``CHAT_PATH``)."""
        return [
            r
            for r in self.requests
            if r.method == "POST" and r.path in API_PATHS and (path is None or r.path == path)
        ]

    @property
    def max_in_flight(self) -> int:
        """The largest number of requests that were being handled at the same time."""
        with self._lock:
            return self._max_in_flight

    @property
    def in_flight(self) -> int:
        """Requests being handled right now."""
        with self._lock:
            return self._in_flight

    # Internals used by the handler -------------------------------------------------------

    def _record(self, method: str, path: str, headers: dict[str, str], body: Any) -> int:
        with self._lock:
            index = len(self._requests)
            self._requests.append(
                RecordedRequest(index, method, path, headers, body, time.monotonic())
            )
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            return index

    def _update(self, index: int, **changes: Any) -> RecordedRequest:
        with self._lock:
            record = replace(self._requests[index], **changes)
            self._requests[index] = record
            return record

    def _done(self, index: int) -> None:
        with self._lock:
            self._in_flight -= 1
            if index < len(self._requests):
                self._requests[index] = replace(self._requests[index], finished=time.monotonic())

    def _next_behavior(self, record: RecordedRequest) -> Behavior:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            source = self.default
        if source is None:
            return Behavior()
        if isinstance(source, Behavior):
            return source
        return source(record) or Behavior()

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _reported_model(self, requested: str, behavior: Behavior) -> str:
        if behavior.model is not None:
            return behavior.model
        return self.model_aliases.get(requested, requested)


# Content generation ---------------------------------------------------------------------


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def fake_text(prompt: str, index: int = 0, seed: Any = None, temperature: Any = None) -> str:
    """The deterministic text the server writes for ``prompt`` as choice ``index``."""
    snippet = " ".join(prompt.split())[:60]
    tag = _digest(prompt, index, seed, temperature)[:8]
    return f"Fake answer {index + 1} to: {snippet} [{tag}]"


def _color(digest: str, offset: int) -> tuple[int, int, int]:
    return (
        int(digest[offset : offset + 2], 16),
        int(digest[offset + 2 : offset + 4], 16),
        int(digest[offset + 4 : offset + 6], 16),
    )


def fake_png(prompt: str, size: tuple[int, int], index: int = 0, fmt: str = "PNG") -> bytes:
    """A small deterministic picture of ``size`` for ``prompt`` (PNG unless ``fmt`` says)."""
    digest = _digest(prompt, index)
    width, height = size
    image = Image.new("RGB", size, _color(digest, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        (width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=_color(digest, 6)
    )
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@functools.lru_cache(maxsize=1)
def bomb_png() -> bytes:
    """A valid 1-bit PNG of ``BOMB_SIDE`` x ``BOMB_SIDE`` pixels (about 12 KB)."""
    out = io.BytesIO()
    Image.new("1", (BOMB_SIDE, BOMB_SIDE)).save(out, "PNG")
    return out.getvalue()


def _parse_size(value: Any) -> tuple[int, int]:
    if not value or value == "auto":
        return (1024, 1024)
    width, _, height = str(value).lower().partition("x")
    size = (int(width), int(height))
    if not (0 < size[0] <= 4096 and 0 < size[1] <= 4096):
        raise ValueError(f"size {value!r} out of range")
    return size


def _count_words(text: str) -> int:
    return len(text.split())


# HTTP handler ---------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeOpenAI/1.0"
    # Headers and body go out in two writes: with Nagle's algorithm on, the body waits for the
    # client's delayed ACK (40 ms on Linux), a stall no real API server has.
    disable_nagle_algorithm = True

    def __init__(self, fake: FakeOpenAI, *args: Any, **kwargs: Any) -> None:
        self.fake = fake
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # Plumbing ----------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

    def _json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers=headers)

    def _error(
        self,
        status: int,
        message: str,
        error_type: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if error_type is None:
            error_type = "server_error" if status >= 500 else "invalid_request_error"
        body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
        self._json(status, body, headers)

    def _read_body(self) -> tuple[Any, str | None]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None, None
        try:
            return json.loads(raw), None
        except ValueError as exc:
            return raw.decode("utf-8", "replace"), f"invalid JSON body: {exc}"

    # Verbs -------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        index = self.fake._record("GET", path, dict(self.headers.items()), None)
        try:
            if path == MODELS_PATH:
                names = sorted(set(self.fake.model_aliases) | set(self.fake.model_aliases.values()))
                data = [
                    {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}
                    for name in names
                ]
                self._json(200, {"object": "list", "data": data})
            elif path.startswith(FILES_PREFIX) and path[len(FILES_PREFIX) :] in self.fake.files:
                data, content_type = self.fake.files[path[len(FILES_PREFIX) :]]
                self._send(200, data, content_type)
            else:
                self._error(404, f"Unknown path {path}", code="not_found")
        finally:
            self.fake._done(index)

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        body, body_error = self._read_body()
        index = self.fake._record("POST", path, dict(self.headers.items()), body)
        try:
            self._post(index, path, body, body_error)
        finally:
            self.fake._done(index)

    def _post(self, index: int, path: str, body: Any, body_error: str | None) -> None:
        fake = self.fake
        if path not in API_PATHS:
            self._error(404, f"Unknown path {path}", code="not_found")
            return
        auth = self.headers.get("Authorization") or ""
        if fake.api_key is not None and auth != f"Bearer {fake.api_key}":
            key = auth.removeprefix("Bearer ")
            self._error(401, f"Incorrect API key provided: {key}.", code="invalid_api_key")
            return
        behavior = fake._next_behavior(fake._update(index))
        fake._update(index, behavior=behavior)
        fake._sleep(fake.latency + behavior.delay)
        if fake._stopping.is_set():
            return
        if behavior.raw_body is not None:
            self._send(behavior.status or 200, behavior.raw_body)
            return
        if behavior.status is not None:
            headers = dict(behavior.headers)
            if behavior.retry_after is not None:
                headers["Retry-After"] = str(behavior.retry_after)
            message = behavior.message or f"Error {behavior.status}"
            if behavior.echo_auth:
                message += f" (you sent Authorization: {auth})"
            self._error(behavior.status, message, behavior.error_type, behavior.error_code, headers)
            return
        if body_error is not None or not isinstance(body, dict):
            self._error(400, body_error or "The body must be a JSON object.")
            return
        rejected = sorted(name for name in fake.rejected_params if name in body)
        if rejected:
            self._error(
                400,
                f"Unsupported parameter: '{rejected[0]}' is not supported with this model.",
                code="unsupported_parameter",
            )
            return
        if path == CHAT_PATH:
            self._chat(body, behavior, auth)
        else:
            self._images(body, behavior)

    # Endpoints ---------------------------------------------------------------------------

    def _chat(self, body: dict[str, Any], behavior: Behavior, auth: str) -> None:
        model = body.get("model")
        messages = body.get("messages")
        if not isinstance(model, str) or not isinstance(messages, list) or not messages:
            self._error(400, "'model' and a non-empty 'messages' list are required.")
            return
        texts = [_message_text(m.get("content")) for m in messages if isinstance(m, dict)]
        prompt = next(
            (
                _message_text(m.get("content"))
                for m in reversed(messages)
                if isinstance(m, dict) and m.get("role") == "user"
            ),
            texts[-1] if texts else "",
        )
        n = int(body.get("n") or 1)
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        count = behavior.choices if behavior.choices is not None else n
        choices = []
        completion_tokens = 0
        for i in range(count):
            text = fake_text(prompt, i, body.get("seed"), body.get("temperature"))
            finish = "stop"
            if behavior.echo_auth:
                text = f"You sent Authorization: {auth}"
            if behavior.content is not None:
                text = behavior.content
            if isinstance(limit, int) and _count_words(text) > limit:
                text = " ".join(text.split()[:limit])
                finish = "length"
            content: str | None = text
            if behavior.null_content or behavior.refusal is not None:
                content = None
            completion_tokens += _count_words(content or behavior.refusal or "")
            choices.append(
                {
                    "index": i,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": behavior.refusal,
                    },
                    "finish_reason": behavior.finish_reason or finish,
                    "logprobs": None,
                }
            )
        payload: dict[str, Any] = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.fake._reported_model(model, behavior),
            "system_fingerprint": "fp_fake",
            "choices": choices,
        }
        if behavior.usage:
            prompt_tokens = sum(_count_words(t) + 3 for t in texts)
            payload["usage"] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
        self._json(200, payload, behavior.headers)

    def _images(self, body: dict[str, Any], behavior: Behavior) -> None:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            self._error(400, "'prompt' is required.")
            return
        try:
            size = _parse_size(body.get("size"))
        except ValueError as exc:
            self._error(400, f"Invalid 'size': {exc}.")
            return
        model = str(body.get("model") or "dall-e-2")
        n = int(body.get("n") or 1)
        count = behavior.choices if behavior.choices is not None else n
        answer = behavior.image_answer or (
            "url" if body.get("response_format") == "url" else "b64_json"
        )
        data = []
        for i in range(count):
            image, content_type = self._image_bytes(prompt, size, i, behavior)
            if behavior.sign_images is not None:
                image = behavior.sign_images(image)
            if answer == "url":
                name = f"{uuid.uuid4().hex}.png"
                self.fake.files[name] = (image, behavior.file_content_type or content_type)
                data.append({"url": f"{self.fake.root_url}{FILES_PREFIX}{name}"})
            else:
                data.append({"b64_json": base64.b64encode(image).decode("ascii")})
        payload: dict[str, Any] = {"created": int(time.time()), "data": data}
        if behavior.usage and model.startswith("gpt-image"):
            input_tokens = _count_words(prompt) + 3
            # gpt-image-1 bills a 1024x1024 image as 272/1056/4160 output tokens by quality.
            per_image = {"low": 272, "medium": 1056, "high": 4160}.get(
                str(body.get("quality") or "auto"), 4160
            )
            output_tokens = per_image * count
            payload["usage"] = {
                "input_tokens": input_tokens,
                "input_tokens_details": {"text_tokens": input_tokens, "image_tokens": 0},
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            }
        self._json(200, payload, behavior.headers)

    @staticmethod
    def _image_bytes(
        prompt: str, size: tuple[int, int], index: int, behavior: Behavior
    ) -> tuple[bytes, str]:
        if behavior.image == "bomb":
            return bomb_png(), "image/png"
        if behavior.image == "garbage":
            return b"this is not an image, just some bytes", "image/png"
        if behavior.image == "jpeg":
            return fake_png(prompt, size, index, "JPEG"), "image/jpeg"
        png = fake_png(prompt, size, index)
        if behavior.image == "invalid":
            return png[: max(60, len(png) // 2)], "image/png"
        return png, "image/png"
