"""The ``openai`` provider against a local OpenAI-compatible server, through the real client."""

from __future__ import annotations

import io
import itertools
import json
import logging
import socket
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

from aicraft.errors import ConfigError, ProviderError
from aicraft.providers.base import (
    ImageRequest,
    Provider,
    ProviderContext,
    TextRequest,
    create_provider,
)
from aicraft.providers.openai import DEFAULT_PRICES, OpenAIProvider, estimate_cost, merge_prices

try:
    from openai_server import CHAT_PATH, IMAGES_PATH, Behavior, FakeOpenAI
except ImportError:  # tests/ imported as a package
    from tests.openai_server import CHAT_PATH, IMAGES_PATH, Behavior, FakeOpenAI

KEY = "sk-test-S3CRETkey0123456789abcdefXYZ"
KEY_ENV = "AICRAFT_TEST_OPENAI_KEY"


@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def make(server, monkeypatch):
    """Build a provider for ``server`` with tiny timeouts and backoff."""
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)

    def build(**settings: Any) -> OpenAIProvider:
        merged = {
            "base_url": server.base_url,
            "api_key_env": KEY_ENV,
            "timeout": 2,
            "max_retries": 2,
            "retry_backoff": 0.01,
            "retry_backoff_max": 0.05,
            **settings,
        }
        return OpenAIProvider(ProviderContext(settings=merged))

    return build


def text(prompt: str = "Write a line about frost.", **kw: Any) -> TextRequest:
    return TextRequest(key="k" * 64, prompt=prompt, **kw)


def image(prompt: str = "A frosty bench.", **kw: Any) -> ImageRequest:
    kw.setdefault("size", (64, 48))
    return ImageRequest(key="k" * 64, prompt=prompt, **kw)


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.size


def assert_safe(err: ProviderError) -> None:
    shown = f"{err} {err!r}"
    assert KEY not in shown
    assert "S3CRET" not in shown
    assert err.__cause__ is None
    assert err.__context__ is None or err.__suppress_context__


# Identity and configuration --------------------------------------------------------------


def test_identity_and_protocol(make):
    provider = make(model="gpt-4.1-mini", image_model="dall-e-3")
    assert isinstance(provider, Provider)
    assert (provider.name, provider.trained) == ("openai", True)
    assert provider.description == "OpenAI API (or a compatible server)"
    assert provider.default_model("text") == "gpt-4.1-mini"
    assert provider.default_model("image") == "dall-e-3"
    defaults = make(model=None, image_model=None)
    assert defaults.default_model("text") == "gpt-4o-mini"
    assert defaults.default_model("image") == "gpt-image-1"


def test_registry_creates_it(server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    context = ProviderContext(settings={"base_url": server.base_url, "api_key_env": KEY_ENV})
    provider = create_provider("openai", context)
    assert isinstance(provider, OpenAIProvider)
    assert provider.generate_text(text()).outputs


@pytest.mark.parametrize(
    "settings",
    [
        {"timeout": 0},
        {"timeout": "soon"},
        {"max_retries": -1},
        {"max_tokens_param": "tokens"},
        {"prices": {"m": {"input": -1, "output": 1}}},
        {"prices": {"m": {"inputs": 1}}},
        {"prices": {"m": {"images": {"low": {"1024x1024": "cheap"}}}}},
        {"prices": ["gpt-4o"]},
    ],
)
def test_bad_settings_are_config_errors(make, settings):
    with pytest.raises(ConfigError, match="openai"):
        make(**settings)


def test_missing_key_without_base_url_fails_clearly(monkeypatch):
    monkeypatch.delenv("AICRAFT_NO_SUCH_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    provider = OpenAIProvider(ProviderContext(settings={"api_key_env": "AICRAFT_NO_SUCH_KEY"}))
    with pytest.raises(ProviderError, match="AICRAFT_NO_SUCH_KEY") as info:
        provider.generate_text(text())
    assert info.value.retryable is False


def test_local_server_needs_no_key(server, monkeypatch):
    monkeypatch.delenv("AICRAFT_NO_SUCH_KEY", raising=False)
    settings = {"base_url": server.base_url, "api_key_env": "AICRAFT_NO_SUCH_KEY"}
    provider = OpenAIProvider(ProviderContext(settings=settings))
    assert provider.generate_text(text()).outputs
    assert server.api_requests()[0].header("Authorization") == "Bearer not-needed"


def test_base_url_from_environment(server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    provider = OpenAIProvider(ProviderContext(settings={"api_key_env": KEY_ENV}))
    provider.generate_text(text())
    assert len(server.api_requests(CHAT_PATH)) == 1


# Text ---------------------------------------------------------------------------------------


def test_text_reports_exact_model_usage_and_cost(server, make):
    result = make().generate_text(text())
    assert result.model == "gpt-4o-mini-2024-07-18"  # the server's answer, not the request
    assert len(result.outputs) == 1 and result.outputs[0].startswith("Fake answer 1")
    (request,) = server.api_requests(CHAT_PATH)
    assert request.body["model"] == "gpt-4o-mini"
    assert request.header("Authorization") == f"Bearer {KEY}"
    usage = result.usage
    assert usage.input_tokens and usage.output_tokens
    expected = (usage.input_tokens * 0.15 + usage.output_tokens * 0.60) / 1_000_000
    assert usage.cost_usd == pytest.approx(expected)


def test_unknown_model_has_no_cost(make):
    result = make().generate_text(text(model="llama-3.1-8b-local"))
    assert result.model == "llama-3.1-8b-local"
    assert result.usage.input_tokens is not None
    assert result.usage.cost_usd is None


def test_price_overrides(make):
    prices = {"llama-3.1-8b-local": {"input": 1.0, "output": 2.0}, "gpt-4o-mini": None}
    provider = make(prices=prices)
    local = provider.generate_text(text(model="llama-3.1-8b-local")).usage
    expected = (local.input_tokens * 1.0 + local.output_tokens * 2.0) / 1_000_000
    assert local.cost_usd == pytest.approx(expected)
    assert provider.generate_text(text()).usage.cost_usd is None  # removed from the table


def test_missing_usage_gives_unknown_tokens_and_cost(server, make):
    server.script(Behavior(usage=False))
    usage = make().generate_text(text()).usage
    assert (usage.input_tokens, usage.output_tokens, usage.cost_usd) == (None, None, None)


def test_candidates_use_n(server, make):
    result = make().generate_text(text(candidates=3))
    assert len(result.outputs) == 3 and len(set(result.outputs)) == 3
    (request,) = server.api_requests(CHAT_PATH)
    assert request.body["n"] == 3


def test_server_that_ignores_n_is_called_until_all_candidates_exist(server, make):
    server.default = Behavior.ignores_n()
    result = make().generate_text(text(candidates=3, seed=7))
    assert len(result.outputs) == 3 and len(set(result.outputs)) == 3
    bodies = [r.body for r in server.api_requests(CHAT_PATH)]
    assert [b.get("n") for b in bodies] == [3, 2, None]
    assert [b["seed"] for b in bodies] == [7, 8, 9]
    single = make().generate_text(text()).usage
    assert result.usage.output_tokens == 3 * single.output_tokens


def test_parameters_reach_the_server(server, make):
    request = text(
        prompt="Write a haiku.",
        system="You are a gardening columnist.",
        temperature=0.3,
        seed=42,
        max_tokens=50,
        context="The first frost came early this year.",
    )
    make().generate_text(request)
    (sent,) = server.api_requests(CHAT_PATH)
    body = sent.body
    assert (body["temperature"], body["seed"], body["max_tokens"]) == (0.3, 42, 50)
    assert "max_completion_tokens" not in body  # a compatible server gets max_tokens
    assert "n" not in body
    system, user = body["messages"]
    assert system == {"role": "system", "content": "You are a gardening columnist."}
    assert user["role"] == "user"
    content = user["content"]
    assert "<<<BEGIN PAGE TEXT>>>\nThe first frost came early this year.\n<<<END PAGE TEXT>>>" in (
        content
    )
    assert content.endswith("Write a haiku.")
    assert content.index("<<<END PAGE TEXT>>>") < content.index("Write a haiku.")


def test_unset_parameters_are_not_sent(server, make):
    make().generate_text(text())
    body = server.api_requests(CHAT_PATH)[0].body
    assert set(body) == {"model", "messages"}
    assert body["messages"] == [{"role": "user", "content": "Write a line about frost."}]


def test_max_completion_tokens_setting(server, make):
    make(max_tokens_param="max_completion_tokens").generate_text(text(max_tokens=20))
    body = server.api_requests(CHAT_PATH)[0].body
    assert body["max_completion_tokens"] == 20 and "max_tokens" not in body


def test_rejected_max_tokens_parameter_switches_once(server, make):
    server.rejected_params = {"max_tokens"}
    provider = make()
    assert provider.generate_text(text(max_tokens=20)).outputs
    assert provider.generate_text(text(max_tokens=20)).outputs
    bodies = [r.body for r in server.api_requests(CHAT_PATH)]
    assert ["max_tokens" in b for b in bodies] == [True, False, False]
    assert [b.get("max_completion_tokens") for b in bodies] == [None, 20, 20]


def test_length_with_text_is_kept(make):
    result = make().generate_text(text(max_tokens=3))
    assert len(result.outputs[0].split()) == 3


@pytest.mark.parametrize(
    ("behavior", "match", "retryable"),
    [
        (Behavior.empty_output(), "empty output", True),
        (Behavior(content="   \n"), "empty output", True),
        (Behavior.content_filter(), "content filter", False),
        (Behavior.refused("I can't write that."), "refused: I can't write that", False),
        (Behavior(null_content=True, finish_reason="length"), "token limit", False),
    ],
)
def test_unusable_outputs_are_errors(server, make, behavior, match, retryable):
    server.script(behavior)
    with pytest.raises(ProviderError, match=match) as info:
        make().generate_text(text(max_tokens=5))
    assert info.value.retryable is retryable
    assert len(server.api_requests()) == 1


# Retries -------------------------------------------------------------------------------------


def test_429_honours_retry_after_then_succeeds(server, make):
    server.script(Behavior.rate_limited(retry_after=1))
    result = make(retry_backoff=0.01).generate_text(text())
    assert result.outputs
    first, second = server.api_requests(CHAT_PATH)
    assert second.arrived - first.arrived >= 1.0


def test_retry_after_ms_is_honoured(server, make):
    server.script(Behavior.rate_limited(retry_after=None, headers={"retry-after-ms": "300"}))
    make().generate_text(text())
    first, second = server.api_requests(CHAT_PATH)
    assert second.arrived - first.arrived >= 0.3


def test_too_long_retry_after_fails_at_once(server, make):
    server.script(Behavior.rate_limited(retry_after=3600))
    with pytest.raises(ProviderError, match="3600 s") as info:
        make().generate_text(text())
    assert info.value.retryable is True
    assert len(server.api_requests()) == 1


def test_5xx_are_retried(server, make):
    server.script(
        Behavior.server_error(500), Behavior.server_error(502), Behavior.server_error(503)
    )
    assert make(max_retries=3).generate_text(text()).outputs
    assert len(server.api_requests(CHAT_PATH)) == 4


def test_backoff_grows(server, make):
    server.script(*[Behavior.server_error(500)] * 3)
    make(max_retries=3, retry_backoff=0.1, retry_backoff_max=1).generate_text(text())
    times = [r.arrived for r in server.api_requests()]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # waits are drawn from [base/2, base] with base 0.1, 0.2, 0.4
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2
    assert gaps[2] > gaps[0]


def test_exhausted_retries_say_how_many_attempts(server, make):
    server.default = Behavior.server_error(503)
    with pytest.raises(ProviderError, match=r"after 3 attempts.*HTTP 503") as info:
        make(max_retries=2).generate_text(text())
    assert info.value.retryable is True
    assert len(server.api_requests()) == 3


def test_401_is_not_retried_and_names_the_variable(server, make):
    server.script(Behavior.auth_error())
    with pytest.raises(ProviderError, match="authentication failed") as info:
        make().generate_text(text())
    assert KEY_ENV in str(info.value)
    assert info.value.retryable is False
    assert_safe(info.value)
    assert len(server.api_requests()) == 1


def test_wrong_key_echoed_by_the_server_is_scrubbed(server, make):
    server.api_key = "sk-the-right-key-000000"  # the server answers "Incorrect API key: <key>"
    with pytest.raises(ProviderError, match="authentication failed") as info:
        make().generate_text(text())
    assert_safe(info.value)
    assert "sk-the-right-key" not in str(info.value)
    assert len(server.api_requests()) == 1


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_pass_the_message_and_are_not_retried(server, make, status):
    server.script(Behavior.bad_request("Invalid value for 'size'.", status=status))
    with pytest.raises(ProviderError, match=rf"HTTP {status}.*Invalid value for 'size'") as info:
        make().generate_text(text())
    assert info.value.retryable is False
    assert len(server.api_requests()) == 1


def test_insufficient_quota_is_not_retried(server, make):
    server.script(Behavior.quota_exceeded())
    with pytest.raises(ProviderError, match="quota"):
        make().generate_text(text())
    assert len(server.api_requests()) == 1


def test_x_should_retry_false_is_obeyed(server, make):
    server.script(Behavior.server_error(500, headers={"x-should-retry": "false"}))
    with pytest.raises(ProviderError, match="HTTP 500"):
        make().generate_text(text())
    assert len(server.api_requests()) == 1


def test_timeouts_are_retried_then_fail_clearly(server, make):
    server.default = Behavior.slow(2.0)
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"after 2 attempts.*timed out after 0.2 s") as info:
        make(timeout=0.2, max_retries=1).generate_text(text())
    assert time.monotonic() - started < 1.5
    assert info.value.retryable is True
    assert len(server.api_requests()) == 2


def test_timeout_then_success(server, make):
    server.script(Behavior.slow(1.0))
    assert make(timeout=0.2).generate_text(text()).outputs
    assert len(server.api_requests()) == 2


def test_connection_errors_are_retried_then_fail(make):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = make(base_url=f"http://user:pw@127.0.0.1:{port}/v1", max_retries=1)
    with pytest.raises(ProviderError, match="after 2 attempts: could not connect") as info:
        provider.generate_text(text())
    assert "pw" not in str(info.value)
    assert info.value.retryable is True


# Never leak the key ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "behavior",
    [
        Behavior.echo_authorization(),
        Behavior.echo_authorization(status=401),
        Behavior.echo_authorization(status=400),
        Behavior.echo_authorization(status=429, retry_after=0),
        Behavior.echo_authorization(status=500),
        Behavior.refused(f"Refusing, your key is {KEY}"),
        Behavior.bad_request(f"Bad header: Authorization: Bearer {KEY}"),
        Behavior.bad_request("Key sk-proj-AbCdEf0123456789 is not valid"),
    ],
)
def test_the_key_never_appears_in_errors(server, make, behavior):
    server.default = behavior
    with pytest.raises(ProviderError) as info:
        make(max_retries=1).generate_text(text())
    assert_safe(info.value)
    assert "sk-proj-AbCdEf" not in str(info.value)


def test_echoed_key_in_the_output_is_refused(server, make):
    server.script(Behavior.echo_authorization())
    with pytest.raises(ProviderError, match="contains the API key") as info:
        make().generate_text(text())
    assert_safe(info.value)
    assert info.value.retryable is False


# Not shaped like an OpenAI key: only scrubbing by value can hide it.
LOCAL_TOKEN = "local-token-7f3a9c2e5b1d40688aa"


@pytest.mark.parametrize("key", [KEY, LOCAL_TOKEN])
def test_a_model_id_that_echoes_the_key_is_scrubbed(server, make, monkeypatch, key):
    monkeypatch.setenv(KEY_ENV, key)
    server.script(Behavior(model=f"gpt-4o-mini-{key}"))
    result = make().generate_text(text())
    assert key not in result.model
    assert result.model.startswith("gpt-4o-mini-") and "[redacted]" in result.model


@pytest.mark.parametrize("key", [KEY, LOCAL_TOKEN])
def test_a_key_in_an_image_urls_path_is_scrubbed_from_errors_and_logs(
    server, make, monkeypatch, caplog, key
):
    caplog.set_level(logging.DEBUG, logger="aicraft")
    monkeypatch.setenv(KEY_ENV, key)
    with socket.socket() as sock:  # a port nobody listens on: a transient failure, retried
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for url in (
        f"{server.root_url}/files/{key}/image.png",  # 404: fails at once
        f"http://127.0.0.1:{port}/files/{key}/image.png",  # retried, then fails
    ):
        body = json.dumps({"created": 1, "data": [{"url": url}]}).encode()
        server.script(Behavior(raw_body=body))
        with pytest.raises(ProviderError, match="/files/") as info:
            make(max_retries=1).generate_image(image())
        assert key not in f"{info.value} {info.value!r}"
        assert info.value.__cause__ is None and info.value.__context__ is None
    assert any("retrying" in r.getMessage() for r in caplog.records)
    assert [r.getMessage() for r in caplog.records if key in r.getMessage()] == []


# Concurrency ---------------------------------------------------------------------------------


def test_one_provider_serves_several_threads(server, make):
    server.latency = 0.1
    provider = make()
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = provider.generate_text(text(prompt=f"prompt {i}")).outputs[0]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert all(f"prompt {i}" in results[i] for i in range(8))
    assert server.max_in_flight > 1


# Images -------------------------------------------------------------------------------------


def test_images_b64(server, make):
    result = make().generate_image(image(candidates=2))
    assert result.model == "gpt-image-1"
    assert [png_size(data) for data in result.images] == [(64, 48), (64, 48)]
    assert result.images[0] != result.images[1]
    (sent,) = server.api_requests(IMAGES_PATH)
    assert sent.body == {
        "model": "gpt-image-1",
        "prompt": "A frosty bench.",
        "size": "64x48",
        "n": 2,
    }
    usage = result.usage
    assert usage.input_tokens and usage.output_tokens
    expected = (usage.input_tokens * 5.0 + usage.output_tokens * 40.0) / 1_000_000
    assert usage.cost_usd == pytest.approx(expected)


def test_image_quality_is_sent(server, make):
    make().generate_image(image(quality="low"))
    assert server.api_requests(IMAGES_PATH)[0].body["quality"] == "low"


def test_images_url_answer_is_downloaded_without_credentials(server, make):
    server.script(Behavior.url_answer())
    result = make().generate_image(image())
    assert png_size(result.images[0]) == (64, 48)
    (download,) = [r for r in server.requests if r.path.startswith("/files/")]
    assert download.header("Authorization") is None


def test_image_url_with_wrong_content_type_is_rejected(server, make):
    server.script(Behavior.url_answer(content_type="text/html"))
    with pytest.raises(ProviderError, match="content-type 'text/html'"):
        make().generate_image(image())


def test_image_url_larger_than_the_limit_is_rejected(server, make):
    server.script(Behavior.url_answer())
    with pytest.raises(ProviderError, match="larger than 100 bytes"):
        make(max_image_bytes=100).generate_image(image())


def test_jpeg_is_converted_to_png(server, make):
    server.script(Behavior(image="jpeg"))
    result = make().generate_image(image())
    assert png_size(result.images[0]) == (64, 48)


@pytest.mark.parametrize("kind", ["invalid", "garbage"])
def test_invalid_image_bytes_are_rejected(server, make, kind):
    server.script(Behavior.invalid_image(kind))
    with pytest.raises(ProviderError, match="invalid image bytes"):
        make().generate_image(image())


@pytest.mark.parametrize("answer", [None, "url"])
def test_decompression_bomb_is_rejected_before_decoding(server, make, answer):
    server.script(Behavior.bomb_image(image_answer=answer))
    started = time.monotonic()
    with pytest.raises(ProviderError, match="10000x10000 pixels") as info:
        make().generate_image(image())
    assert info.value.retryable is False
    assert time.monotonic() - started < 2


def test_image_server_that_ignores_n(server, make):
    server.default = Behavior.ignores_n()
    result = make().generate_image(image(candidates=3))
    assert len(result.images) == 3
    assert [r.body["n"] for r in server.api_requests(IMAGES_PATH)] == [3, 2, 1]


def test_dall_e_3_one_image_per_call_and_table_cost(server, make):
    result = make().generate_image(image(model="dall-e-3", size=(1024, 1024), candidates=2))
    bodies = [r.body for r in server.api_requests(IMAGES_PATH)]
    assert [b["n"] for b in bodies] == [1, 1]
    assert all(b["response_format"] == "b64_json" for b in bodies)
    assert result.model == "dall-e-3"
    assert result.usage.cost_usd == pytest.approx(0.08)  # 2 x standard 1024x1024


def test_image_errors_are_retried_like_text(server, make):
    server.script(Behavior.rate_limited(retry_after=0), Behavior.server_error(502))
    assert make().generate_image(image()).images
    assert len(server.api_requests(IMAGES_PATH)) == 3


# Cost estimates -----------------------------------------------------------------------------


def test_estimate_text():
    cost = estimate_cost("text", "gpt-4o-mini", prompt_chars=1000, max_tokens=500, candidates=2)
    assert cost == pytest.approx(((1032 * 2) * 0.15 + (500 * 2) * 0.60) / 1_000_000)
    snapshot = estimate_cost("text", "gpt-4o-mini-2024-07-18", 1000, 500, 2)
    assert snapshot == cost
    assert estimate_cost("text", "no-such-model", 1000, 500, 1) is None
    assert estimate_cost("text", "gpt-4o", 10) > 0  # max_tokens unknown: an assumed bound


def test_estimate_image():
    low = estimate_cost("image", "dall-e-3", size=(1024, 1024), quality="standard", candidates=3)
    assert low == pytest.approx(0.12)
    dearest = estimate_cost("image", "dall-e-3", size="1024x1024")
    assert dearest == pytest.approx(0.08)  # no quality named: the dearest
    assert estimate_cost("image", "dall-e-3", size=(640, 480)) is None
    assert estimate_cost("image", "dall-e-3", size=(1024, 1024), quality="ultra") is None
    high = estimate_cost("image", "gpt-image-1", prompt_chars=100, size=(1024, 1024))
    assert high == pytest.approx(0.167 + 132 * 5.0 / 1_000_000)


def test_estimate_uses_overrides():
    prices = {"my-model": {"input": 1.0, "output": 1.0}}
    assert estimate_cost("text", "my-model", 968, 1000, prices=prices) == pytest.approx(0.002)
    assert estimate_cost("text", "gpt-4o-mini", 10, 10, prices={"gpt-4o-mini": None}) is None
    assert merge_prices(prices)["gpt-4o"] == DEFAULT_PRICES["gpt-4o"]


def test_provider_estimate_is_an_upper_bound(server, make):
    provider = make()
    request = text(system="Be brief.", max_tokens=30, candidates=2, context="Some page text.")
    estimate = provider.estimate_cost(request)
    actual = provider.generate_text(request).usage.cost_usd
    assert estimate is not None and actual is not None and estimate >= actual
    assert provider.estimate_cost(image(size=(1024, 1024), quality="low")) > 0
    assert provider.estimate_cost(text(model="no-such-model")) is None


def test_provider_estimate_accepts_an_engine_item(make):
    provider = make()
    spec = SimpleNamespace(kind="text", max_tokens=30, candidates=2, size=None, quality=None)
    item = SimpleNamespace(
        key="k", spec=spec, model=None, prompt="Hi.", system="Be brief.", context="Page."
    )
    expected = provider.estimate_cost(
        text(prompt="Hi.", system="Be brief.", context="Page.", max_tokens=30, candidates=2)
    )
    assert provider.estimate_cost(item) == expected
    spec = SimpleNamespace(kind="image", candidates=1, size=None, quality="high", max_tokens=None)
    item = SimpleNamespace(key="k", spec=spec, model="dall-e-3", prompt="A bench.")
    assert provider.estimate_cost(item) is None  # dall-e-3 has no "high" quality
    item.spec.quality = "hd"
    assert provider.estimate_cost(item) == pytest.approx(0.08)
