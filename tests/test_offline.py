"""The built-in offline provider: Markov-chain text and procedural images."""

from __future__ import annotations

import colorsys
import io
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from aicraft.errors import ProviderError
from aicraft.providers.base import (
    ImageRequest,
    Provider,
    ProviderContext,
    TextRequest,
    create_provider,
)
from aicraft.providers.offline import (
    IMAGE_MODEL,
    MIN_CORPUS_WORDS,
    TEXT_MODEL,
    OfflineProvider,
    palette_for,
)

SENTENCES = [
    "The first frost arrived early this year, silvering the lawn before the dahlias had "
    "finished flowering.",
    "Most gardeners know the feeling of stepping outside on a still October morning and finding "
    "every leaf edged with white.",
    "Frost is not the enemy it is often made out to be.",
    "A hard frost sweetens parsnips and kale, breaks up heavy clay, and kills many of the pests "
    "that would otherwise overwinter in the soil.",
    "What frost does punish is carelessness.",
    "Tender plants left out too long will blacken overnight, and pots of soaked compost can "
    "crack as the water inside them freezes.",
    "The garden bench by the east wall catches the low sun at dawn, and on frosty mornings it "
    "glitters like sugar.",
    "We keep a thermometer there, and a notebook, because the dates of the first and last "
    "frosts are worth recording.",
    "Over ten years the notebook has shown a slow shift: the first frost now comes almost two "
    "weeks later than it did.",
    "That matters for anyone who sows broad beans in autumn or plants garlic before the ground "
    "hardens.",
    "Our neighbour, who has tended the allotment beside ours for forty years, still plants by "
    "the moon and by the hawthorn.",
    "She says the garden tells you what it needs if you are patient enough to watch it.",
    "In winter the beds look bare, but under the mulch the soil is alive with worms and fungi.",
    "A thick layer of leaf mould protects the roots of perennials and feeds the soil slowly "
    "through the cold months.",
    "We rake the fallen leaves from the paths into wire cages, where they rot down into dark "
    "crumbly mould by the following autumn.",
    "Nothing in a garden is wasted if you give it time.",
    "The robin follows the spade along every new trench, waiting for the worms to surface.",
    "Birds are the best pest control a gardener can have, and a garden with berries, seed heads "
    "and water will keep them close.",
    "We leave the teasels standing until spring, for the goldfinches.",
    "The pond freezes over on the coldest nights, so we float a ball on it to keep a small "
    "patch of water open.",
    "In the greenhouse, the geraniums and the lemon tree wait out the winter in a dim, cool "
    "corner.",
    "They need little water and no feed until the light returns in February.",
    "Seed catalogues arrive in the dark weeks after Christmas, full of promises and bright "
    "photographs.",
    "Every year we order too many tomatoes and not enough beans.",
    "Planning the vegetable plot is one of the quiet pleasures of winter.",
    "We draw the beds on squared paper and move the crops around so that no family grows in "
    "the same place two years running.",
    "Crop rotation keeps the soil healthy and stops diseases from building up.",
    "By March the days are longer and the soil begins to warm.",
    "The first seeds go into trays on the kitchen windowsill: chillies, sweet peppers and early "
    "lettuce.",
    "Watching them germinate never loses its magic.",
    "A garden is a conversation between a person and a place, carried on over many seasons.",
    "The weather has the loudest voice in that conversation, and frost has the final word each "
    "autumn.",
    "When the dahlias blacken we lift the tubers, dry them in the shed, and store them in boxes "
    "of dry compost.",
    "It is a small ritual that marks the end of the growing year.",
    "Then the garden rests, and so, for a few weeks, do we.",
]
LIST_ITEM = "See our seed suppliers and the catalogue."
# Markdown as a site's pages hold it: a heading, paragraphs, a list, a link and inline code.
CORPUS = (
    "# Notes from the garden\n\n"
    + "\n\n".join(" ".join(SENTENCES[i : i + 4]) for i in range(0, len(SENTENCES), 4))
    + "\n\n- See [our seed suppliers](https://example.org/x) and `pip install` the catalogue.\n"
)
WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
CORPUS_WORDS = {w.lower() for w in WORD.findall(" ".join([*SENTENCES, LIST_ITEM, "Notes"]))}
NOT_PROSE = {"https", "example", "org", "x", "pip", "install"}
SENTENCE_STARTS = {WORD.findall(s)[0].lower() for s in SENTENCES}


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?…])\s", text.strip(), maxsplit=1)[0]


@pytest.fixture
def provider() -> OfflineProvider:
    return OfflineProvider(ProviderContext(corpus=lambda: CORPUS))


def text(provider: OfflineProvider, prompt: str, key: str = "k", **options: object) -> list[str]:
    result = provider.generate_text(TextRequest(key=key, prompt=prompt, **options))  # type: ignore[arg-type]
    assert result.model == TEXT_MODEL
    return result.outputs


def image(prompt: str, size: tuple[int, int] = (256, 192), key: str = "k", **options: object):
    provider = OfflineProvider(ProviderContext())
    return provider.generate_image(ImageRequest(key=key, prompt=prompt, size=size, **options))  # type: ignore[arg-type]


def mean_rgb(png: bytes) -> tuple[float, float, float]:
    r, g, b = ImageStat.Stat(Image.open(io.BytesIO(png)).convert("RGB")).mean
    return r, g, b


# -- identity and labels -------------------------------------------------------------------------


def test_it_is_a_registered_untrained_provider():
    provider = create_provider("offline", ProviderContext(corpus=lambda: CORPUS))
    assert isinstance(provider, OfflineProvider)
    assert isinstance(provider, Provider)
    assert provider.name == "offline"
    assert provider.trained is False
    assert "no trained model" in provider.description
    assert provider.default_model("text") == TEXT_MODEL == "aicraft-markov-1"
    assert provider.default_model("image") == IMAGE_MODEL == "aicraft-procedural-1"


def test_model_label_is_truthful_when_another_model_is_requested(provider):
    result = provider.generate_text(
        TextRequest(key="k", prompt="A note on frost", model="gpt-4o-mini")
    )
    assert result.model == TEXT_MODEL
    assert result.usage.input_tokens is None and result.usage.output_tokens is None
    assert result.usage.cost_usd == 0.0
    pictures = image("Frost at dawn", model="gpt-image-1")
    assert pictures.model == IMAGE_MODEL
    assert pictures.usage.cost_usd == 0.0


# -- text ----------------------------------------------------------------------------------------


def test_same_request_gives_the_same_text_in_a_new_provider(provider):
    again = OfflineProvider(ProviderContext(corpus=lambda: CORPUS))
    for prompt in ("A note on frost", "Write a haiku about the robin"):
        assert text(provider, prompt, candidates=2) == text(again, prompt, candidates=2)


def test_same_request_gives_the_same_text_in_another_process(provider):
    """Python salts str hashes per process: output must not depend on them."""
    root, tests = str(Path(__file__).parents[1]), str(Path(__file__).parent)
    code = (
        f"import sys; sys.path[:0] = [{root!r}, {tests!r}];"
        "from test_offline import CORPUS;"
        "from aicraft.providers.base import ProviderContext, TextRequest;"
        "from aicraft.providers.offline import OfflineProvider;"
        "p = OfflineProvider(ProviderContext(corpus=lambda: CORPUS));"
        "r = p.generate_text(TextRequest(key='k', prompt='A note on frost', candidates=2));"
        "sys.stdout.write('\\x00'.join(r.outputs))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert out.split("\x00") == text(provider, "A note on frost", candidates=2)


def test_another_key_gives_another_text(provider):
    prompt = "A note about the garden in winter"
    outputs = {text(provider, prompt, key=f"key-{i}")[0] for i in range(4)}
    assert len(outputs) == 4


def test_candidates_are_distinct(provider):
    for prompt, options in [
        ("A note about the garden in winter", {}),
        ("Write a four-line poem about the first frost", {"temperature": 0.9}),
        ("Describe the pond", {"temperature": 0}),
    ]:
        outputs = text(provider, prompt, candidates=3, **options)
        assert len(outputs) == 3
        assert len(set(outputs)) == 3, outputs


def test_text_uses_only_words_of_the_corpus(provider):
    prompts = [
        "A note about the garden in winter",
        "Write a four-line poem about the first frost",
        "Tell me about quantum physics",
        "A haiku about the robin",
    ]
    for prompt in prompts:
        for temperature in (0, 0.7, 1.5):
            for output in text(provider, prompt, candidates=2, temperature=temperature):
                assert set(words(output)) <= CORPUS_WORDS, output
                # Link targets and code of the corpus do not leak into the chain.
                assert not NOT_PROSE & set(words(output)), output


def test_text_starts_from_a_word_of_the_prompt(provider):
    for key in ("a", "b", "c"):
        for prompt, word in [
            ("Tell me about the robin.", "robin"),
            ("Something on the pond, please", "pond"),
            ("Write about tomatoes", "tomatoes"),
        ]:
            output = text(provider, prompt, key=key)[0]
            assert word in words(first_sentence(output)), output


def test_prefers_the_rarer_prompt_word(provider):
    # "garden" occurs often in the corpus, "goldfinches" once.
    output = text(provider, "The garden and the goldfinches")[0]
    assert "goldfinches" in words(first_sentence(output))


def test_without_a_known_prompt_word_text_opens_like_a_corpus_sentence(provider):
    for key in ("a", "b", "c", "d"):
        output = text(provider, "Quantum chromodynamics", key=key)[0]
        assert words(output)[0] in SENTENCE_STARTS
        assert output[0].isupper()


def test_default_length_is_a_paragraph_ending_at_a_sentence_end(provider):
    for key in ("a", "b", "c", "d", "e"):
        output = text(provider, "A note about the garden in winter", key=key)[0]
        assert 45 <= len(words(output)) <= 110, output
        assert output.rstrip().endswith((".", "!", "?")), output


@pytest.mark.parametrize("limit", [3, 8, 15, 40, 250])
def test_max_tokens_bounds_the_number_of_words(provider, limit):
    for key in ("a", "b", "c"):
        output = text(provider, "A note about the garden in winter", key=key, max_tokens=limit)[0]
        count = len(words(output))
        assert 1 <= count <= limit, output
        if limit >= 15:
            assert count >= limit // 2, output


def test_max_tokens_bounds_poems_too(provider):
    output = text(provider, "Write six lines about the robin", max_tokens=20)[0]
    assert len(words(output)) <= 20


@pytest.mark.parametrize(
    ("prompt", "lines"),
    [
        ("Write a four-line poem about the first frost, for a gardening magazine.", 4),
        ("A haiku about the robin", 3),
        ("A poem about winter", 4),
        ("Write six lines about seeds", 6),
        ("Write 2 lines on compost", 2),
        ("A limerick about the greenhouse", 5),
    ],
)
def test_poems_have_the_requested_number_of_lines(provider, prompt, lines):
    for output in text(provider, prompt, candidates=2):
        rows = output.split("\n")
        assert len(rows) == lines, output
        for row in rows:
            assert row.strip() and row.lstrip()[0].isupper(), output
            assert len(words(row)) <= 14, output
        assert not any(row.endswith(" ") for row in rows), output  # lines, not hard breaks
        assert rows[-1].endswith((".", "!", "?")), output


def test_prose_is_not_laid_out_as_lines(provider):
    output = text(provider, "A note about the garden in winter")[0]
    assert "\n" not in output


def test_temperature_zero_follows_the_most_frequent_successor():
    often = "The old dog sleeps by the warm fire."
    rarely = "The old dog runs across the wet field."
    filler = " ".join(SENTENCES[:12])
    corpus = " ".join([often] * 12 + [rarely, filler])
    provider = OfflineProvider(ProviderContext(corpus=lambda: corpus))
    greedy = [first_sentence(text(provider, "the dog", key=k, temperature=0)[0]) for k in "abcdef"]
    assert all("dog sleeps" in s.lower() for s in greedy), greedy
    hot = [first_sentence(text(provider, "the dog", key=k, temperature=5)[0]) for k in "abcdefgh"]
    assert any("dog runs" in s.lower() for s in hot), hot


def test_small_corpus_gives_an_honest_placeholder():
    corpus = "The garden is quiet in winter and the beds rest. " * 8  # 80 words
    provider = OfflineProvider(ProviderContext(corpus=lambda: corpus))
    assert MIN_CORPUS_WORDS > 80
    result = provider.generate_text(TextRequest(key="k", prompt="Frost", candidates=2))
    assert result.model == TEXT_MODEL
    assert len(result.outputs) == 2
    for output in result.outputs:
        assert "80 words" in output
        assert "offline" in output and "Markov" in output


def test_empty_corpus_gives_the_placeholder():
    provider = OfflineProvider(ProviderContext())
    output = provider.generate_text(TextRequest(key="k", prompt="Frost")).outputs[0]
    assert "only 0 words" in output


def test_corpus_is_read_once_even_from_many_threads():
    calls: list[int] = []
    lock = threading.Lock()

    def corpus() -> str:
        with lock:
            calls.append(1)
        time.sleep(0.05)
        return CORPUS

    provider = OfflineProvider(ProviderContext(corpus=corpus))
    requests = [TextRequest(key=f"k{i % 4}", prompt="The garden in winter") for i in range(24)]
    with ThreadPoolExecutor(8) as pool:
        outputs = list(pool.map(lambda r: provider.generate_text(r).outputs[0], requests))
    assert len(calls) == 1
    assert outputs[:4] == outputs[4:8]


def test_invalid_candidates_raise_provider_error(provider):
    with pytest.raises(ProviderError):
        provider.generate_text(TextRequest(key="k", prompt="Frost", candidates=0))


# -- images --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(768, 512), (512, 768), (16, 16), (300, 97)])
def test_images_are_pngs_of_the_requested_size(size):
    result = image("A quiet pine forest in the morning", size=size, candidates=2)
    assert len(result.images) == 2
    for png in result.images:
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        img = Image.open(io.BytesIO(png))
        assert img.format == "PNG"
        assert img.size == size


def test_same_request_gives_the_same_image_and_other_keys_or_candidates_differ():
    prompt = "Waves on the ocean at sunset"
    first = image(prompt, key="k", candidates=2).images
    assert first == image(prompt, key="k", candidates=2).images
    assert first[0] != first[1]
    assert image(prompt, key="other").images[0] != first[0]
    assert image(prompt, key="k", seed=7).images[0] != first[0]


def test_a_red_prompt_paints_red():
    for key in ("a", "b", "c"):
        r, g, b = mean_rgb(image("A bold red abstract composition", key=key).images[0])
        assert r > g + 40 and r > b + 40, (r, g, b)
        hue = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)[0]
        assert hue < 0.05 or hue > 0.95, hue


def test_a_frosty_prompt_paints_cool_blues():
    for key in ("a", "b", "c"):
        r, g, b = mean_rgb(image("frost ice blue", key=key).images[0])
        assert b > r + 30 and b >= g, (r, g, b)


def test_mood_words_choose_the_palette():
    def warm(colour: tuple[int, int, int]) -> bool:
        return colour[0] > colour[2]

    assert sum(map(warm, palette_for("Fire and flames in autumn"))) >= 5
    assert sum(map(warm, palette_for("Frost and ice in winter"))) == 0
    forest = palette_for("A pine forest")
    assert all(g >= r and g >= b for r, g, b in forest[2:5])  # green ground
    night = palette_for("Stars at night")
    assert sum(night[0]) < 150  # a dark sky


def test_palette_without_known_words_comes_from_the_prompt():
    one, two = palette_for("An essay on taxes"), palette_for("A story about trains")
    assert len(one) == 6 and all(len(c) == 3 and all(0 <= v <= 255 for v in c) for c in one)
    assert one == palette_for("An essay on taxes")
    assert one != two


def test_images_stay_small():
    for prompt in (
        "A soft watercolour of frost on a wooden garden bench at dawn.",
        "A bonfire with flames and embers",
        "A city skyline at night by the sea",
        "A meadow of flowers in summer",
    ):
        png = image(prompt, size=(768, 512)).images[0]
        assert len(png) < 400_000, (prompt, len(png))


@pytest.mark.parametrize("size", [(15, 512), (512, 8), (4097, 100), (0, 0), (-5, 64)])
def test_invalid_sizes_raise_provider_error(size):
    with pytest.raises(ProviderError, match="px"):
        image("Frost", size=size)


def test_malformed_size_raises_provider_error():
    with pytest.raises(ProviderError):
        image("Frost", size="large")  # type: ignore[arg-type]
