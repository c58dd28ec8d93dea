"""The built-in offline provider: no network, no trained model, fully deterministic.

Text comes from a word-level Markov chain (order 2, backing off to order 1) built over the site's
own human-written prose; images are procedural generative art drawn with Pillow, their palette and
shapes chosen from the words of the prompt. Outputs depend only on the request (its ``key``,
``seed`` and candidate index, hashed with sha256) and on the corpus, so the same request gives
byte-identical output in every run and process.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import itertools
import math
import random
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from PIL import Image, ImageDraw, ImageFilter

from aicraft.directives import INLINE_MARKUP
from aicraft.errors import ProviderError
from aicraft.providers.base import (
    ImageRequest,
    ImageResult,
    ProviderContext,
    TextRequest,
    TextResult,
    Usage,
)

TEXT_MODEL = "aicraft-markov-1"
IMAGE_MODEL = "aicraft-procedural-1"

MIN_CORPUS_WORDS = 150
"""Below this many words of prose the Markov chain only parrots; a placeholder is returned."""

DEFAULT_MIN_WORDS = 60
DEFAULT_MAX_WORDS = 110
MIN_IMAGE_SIDE = 16
MAX_IMAGE_SIDE = 4096

RGB = tuple[int, int, int]
_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------
# Deterministic randomness
# --------------------------------------------------------------------------------------------


def _rng(*parts: object) -> random.Random:
    """A random generator seeded from the sha256 of ``parts`` (never Python's salted hash)."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def _pick(rng: random.Random, items: Sequence[_T]) -> _T:
    return items[int(rng.random() * len(items))]


# --------------------------------------------------------------------------------------------
# Text: corpus preparation and the Markov chain
# --------------------------------------------------------------------------------------------

_WORD = r"[^\W_]+(?:['’\-][^\W_]+)*"
_WORD_RE = re.compile(_WORD)
_TOKEN_RE = re.compile(rf"({_WORD})|([.!?…]+)|([,;:])|(—|–|\s--?\s)")
_PUNCT_RE = re.compile(r"^(.*?)([,;:.!?…]| —)?$", re.S)
_TERMINAL = (".", "!", "?")
_BEGIN = "\x02"
_END = "\x03"

_BLOCK_START_RE = re.compile(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|\d{1,3}[.)]\s+|>\s?)")
_SKIP_LINE_RE = re.compile(r"^\s*(?:\||!!!|\?\?\?|={3,}|-{3,}|\*{3,}|_{3,}|:::)")


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS = _word_set(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves one two three four five six seven eight nine ten eleven twelve first"""
)
_INSTRUCTION_WORDS = _word_set(
    """write writing written poem poems poetry verse verses haiku haikus stanza stanzas line
    lines limerick sonnet couplet quatrain tercet paragraph paragraphs sentence sentences word
    words short long brief describe description summary summarise summarize article essay text
    blog post intro introduction story tone style magazine newsletter please generate create
    compose make give tell list rhyme rhyming using use reader readers page"""
)
_LINE_END_AVOID = _word_set(
    """a an the and or but of to in on at by for with from as its their our your his her my"""
)
_NUMBER_WORDS = {
    "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "sixteen": 16,
    "twenty": 20,
}  # fmt: skip
_NUM = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
_N_LINES_RE = re.compile(rf"\b{_NUM}[\s-]+lines?\b")
_N_PARAGRAPHS_RE = re.compile(rf"\b{_NUM}[\s-]+paragraphs?\b")
_POEM_RE = re.compile(
    r"\b(poem|poems|poetry|verse|verses|haiku|haikus|stanza|stanzas|limerick|sonnet|couplet|"
    r"quatrain|tercet|lines)\b"
)
_FIXED_FORMS = {"haiku": 3, "haikus": 3, "limerick": 5, "sonnet": 14, "couplet": 2,
                "quatrain": 4, "tercet": 3}  # fmt: skip


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBER_WORDS[text]


def _split_token(token: str) -> tuple[str, str]:
    match = _PUNCT_RE.match(token)
    assert match is not None
    return match.group(1), match.group(2) or ""


def _key(word: str) -> str:
    return word.lower().replace("’", "'")


def _prose_units(corpus: str) -> list[str]:
    """Blocks of prose: paragraphs, headings and list items, with Markdown syntax removed."""
    text = corpus
    for pattern, repl in INLINE_MARKUP:
        text = pattern.sub(repl, text)
    units: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if not line.strip() or _SKIP_LINE_RE.match(line):
            if current:
                units.append(" ".join(current))
                current = []
            continue
        match = _BLOCK_START_RE.match(line)
        if match:
            if current:
                units.append(" ".join(current))
            current = [line[match.end() :]]
        else:
            current.append(line)
    if current:
        units.append(" ".join(current))
    return [re.sub(r"[*_~=^]+", " ", unit) for unit in units]


def _sentences(unit: str) -> list[list[str]]:
    """Sentences of one unit as lists of surface tokens (word plus trailing punctuation)."""
    sentences: list[list[str]] = []
    current: list[str] = []
    for match in _TOKEN_RE.finditer(unit):
        word, terminal, comma, dash = match.groups()
        if word:
            current.append(word)
        elif not current:
            continue
        elif terminal:
            mark = "?" if "?" in terminal else "!" if "!" in terminal else "."
            current[-1] = _split_token(current[-1])[0] + mark
            sentences.append(current)
            current = []
        elif comma or dash:
            core = _split_token(current[-1])[0]
            current[-1] = core + (comma if comma else " —")
    if len(current) >= 6:  # an unpunctuated run long enough to be prose, not a heading
        current[-1] = _split_token(current[-1])[0] + "."
        sentences.append(current)
    return [s for s in sentences if len(s) >= 3]


@dataclass
class _Chain:
    """Word-level Markov chain over sentences, forwards and backwards, orders 2 and 1."""

    sentences: list[list[str]] = field(default_factory=list)
    fwd2: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    fwd1: dict[str, dict[str, int]] = field(default_factory=dict)
    bwd2: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    bwd1: dict[str, dict[str, int]] = field(default_factory=dict)
    occurrences: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)
    parts: dict[str, tuple[str, str]] = field(default_factory=dict)
    words: int = 0

    @classmethod
    def build(cls, corpus: str) -> _Chain:
        """Tokenise ``corpus`` and count its transitions."""
        chain = cls()
        mid_forms: dict[str, dict[str, int]] = {}
        start_forms: dict[str, str] = {}
        for unit in _prose_units(corpus):
            for surface in _sentences(unit):
                tokens: list[str] = []
                for pos, tok in enumerate(surface):
                    core, punct = _split_token(tok)
                    key = _key(core)
                    if pos == 0:
                        start_forms.setdefault(key, core)
                    else:
                        forms = mid_forms.setdefault(key, {})
                        forms[core] = forms.get(core, 0) + 1
                    lower = key + punct
                    chain.parts[lower] = (key, punct)
                    tokens.append(lower)
                    chain.counts[key] = chain.counts.get(key, 0) + 1
                    chain.occurrences.setdefault(key, []).append((len(chain.sentences), pos))
                chain.sentences.append(tokens)
                chain.words += len(tokens)
                chain._count(tokens)
        for key, core in start_forms.items():
            # Seen only at sentence starts: lower-case it unless it is an acronym or similar.
            chain.display[key] = core if any(c.isupper() for c in core[1:]) else key
        for key, forms in mid_forms.items():
            chain.display[key] = max(forms.items(), key=lambda kv: kv[1])[0]
        return chain

    def _count(self, tokens: list[str]) -> None:
        padded = [_BEGIN, _BEGIN, *tokens, _END]
        for a, b, c in zip(padded, padded[1:], padded[2:], strict=False):
            _inc(self.fwd2.setdefault((a, b), {}), c)
            _inc(self.fwd1.setdefault(b, {}), c)
        back = [_END, _END, *reversed(tokens), _BEGIN]
        for a, b, c in zip(back, back[1:], back[2:], strict=False):
            _inc(self.bwd2.setdefault((a, b), {}), c)
            _inc(self.bwd1.setdefault(b, {}), c)

    # -- walking ------------------------------------------------------------------------------

    def forward(
        self,
        a: str,
        b: str,
        rng: random.Random,
        temp: float,
        limit: int,
        behind: Sequence[str] = (),
    ) -> tuple[list[str], bool]:
        """Tokens following the state ``(a, b)``, and whether the sentence came to its end.

        ``behind`` are the sentence's tokens so far, whose word pairs are not to be repeated.
        """
        visited = set(itertools.pairwise(behind))
        return _walk(self.fwd2, self.fwd1, a, b, _END, rng, temp, limit, visited)

    def backward(
        self, later: str, word: str, rng: random.Random, temp: float, limit: int
    ) -> tuple[list[str], bool]:
        """Tokens preceding ``word`` (followed by ``later``) back to a sentence start, in reading
        order, and whether the walk reached that start."""
        out, complete = _walk(self.bwd2, self.bwd1, later, word, _BEGIN, rng, temp, limit)
        out.reverse()
        return out, complete

    def sentence(
        self, anchor: str | None, rng: random.Random, temp: float
    ) -> tuple[list[str], bool]:
        """One sentence (through a random occurrence of ``anchor`` when given) and whether it
        ended naturally rather than at the length limit."""
        limit = 40
        if anchor is None or anchor not in self.occurrences:
            tokens, complete = self.forward(_BEGIN, _BEGIN, rng, temp, limit)
        else:
            occ = self.occurrences[anchor]
            index, pos = occ[int(rng.random() * len(occ))]
            source = self.sentences[index]
            tok = source[pos]
            later = source[pos + 1] if pos + 1 < len(source) else _END
            before, started = self.backward(later, tok, rng, temp, limit // 2)
            prev = before[-1] if before else _BEGIN
            room = limit - len(before) - 1
            after, complete = self.forward(prev, tok, rng, temp, room, [*before, tok])
            tokens = [*before, tok, *after]
            complete = complete and started
        return _close(tokens, self), complete

    def split(self, token: str) -> tuple[str, str]:
        """A token's (lower-case word, trailing punctuation)."""
        return self.parts.get(token) or _split_token(token)

    def render(self, tokens: Sequence[str], starts: Sequence[bool]) -> str:
        """Tokens as text; a token flagged in ``starts`` is capitalised."""
        pieces = []
        for tok, start in zip(tokens, starts, strict=True):
            core, punct = self.split(tok)
            form = self.display.get(core, core)
            if start and form:
                form = form[0].upper() + form[1:]
            pieces.append(form + punct)
        return " ".join(pieces)


def _walk(
    table2: dict[tuple[str, str], dict[str, int]],
    table1: dict[str, dict[str, int]],
    a: str,
    b: str,
    stop: str,
    rng: random.Random,
    temp: float,
    limit: int,
    visited: set[tuple[str, str]] | None = None,
) -> tuple[list[str], bool]:
    """Sample successors of the state ``(a, b)`` until ``stop`` (or a dead end).

    Order 2 where it offers a way forward; order 1 (the last word alone) where the pair was
    never seen, or where every order-2 successor leads back to a pair already passed in this
    sentence (so that greedy sampling does not run in circles). Returns the tokens and whether
    ``stop`` was reached within ``limit``.
    """
    out: list[str] = []
    visited = visited or set()
    visited.add((a, b))
    while len(out) < limit:
        order2 = table2.get((a, b), {})
        order1 = table1.get(b, {})
        if not order2 and not order1:
            return out, True
        fresh = {t: c for t, c in order2.items() if (b, t) not in visited}
        if not fresh:
            fresh = {t: c for t, c in order1.items() if (b, t) not in visited}
        nxt = _sample(fresh or order2 or order1, rng, temp)
        if nxt == stop:
            return out, True
        out.append(nxt)
        a, b = b, nxt
        visited.add((a, b))
    return out, False


def _inc(counter: dict[str, int], key: str) -> None:
    counter[key] = counter.get(key, 0) + 1


def _close(tokens: list[str], chain: _Chain) -> list[str]:
    """End a sentence with terminal punctuation (a walk cut off by its limit has none),
    not on a dangling article or preposition."""
    if tokens and not tokens[-1].endswith(_TERMINAL):
        while len(tokens) > 1 and chain.split(tokens[-1])[0] in _LINE_END_AVOID:
            tokens.pop()
        tokens[-1] = chain.split(tokens[-1])[0] + "."
    return tokens


def _sample(dist: dict[str, int], rng: random.Random, temperature: float) -> str:
    """Pick a successor: weights ``count ** (1/T)``; T near 0 picks the most frequent one."""
    if len(dist) == 1:
        return next(iter(dist))
    items = list(dist.items())
    if temperature <= 0.05:
        best = max(count for _, count in items)
        tied = [tok for tok, count in items if count == best]
        return tied[int(rng.random() * len(tied))]
    inverse = 1.0 / temperature
    weights = [float(count) ** inverse for _, count in items]
    threshold = rng.random() * sum(weights)
    for (tok, _), weight in zip(items, weights, strict=True):
        threshold -= weight
        if threshold < 0:
            return tok
    return items[-1][0]


@dataclass(frozen=True)
class _Layout:
    """How the prompt wants its text laid out."""

    lines: int | None = None  # a poem of this many lines
    haiku: bool = False
    paragraphs: int = 1


def _layout_for(prompt: str) -> _Layout:
    text = prompt.lower()
    haiku = bool(re.search(r"\bhaikus?\b", text))
    match = _N_LINES_RE.search(text)
    if match:
        return _Layout(lines=max(1, min(40, _number(match.group(1)))), haiku=haiku)
    poem = _POEM_RE.search(text)
    if poem:
        return _Layout(lines=_FIXED_FORMS.get(poem.group(1), 4), haiku=haiku)
    match = _N_PARAGRAPHS_RE.search(text)
    if match:
        return _Layout(paragraphs=max(1, min(10, _number(match.group(1)))))
    return _Layout()


def _anchor_words(chain: _Chain, text: str, limit: int = 6) -> list[str]:
    """Content words of ``text`` that the corpus knows, rarer and longer ones first."""
    found: list[str] = []
    for raw in _WORD_RE.findall(text):
        word = _key(raw)
        if len(word) < 3 or word in _STOPWORDS or word in _INSTRUCTION_WORDS:
            continue
        for variant in (word, word[:-1] if word.endswith("s") else word + "s"):
            if variant in chain.occurrences and variant not in found:
                found.append(variant)
                break
    order = {w: i for i, w in enumerate(found)}
    found.sort(key=lambda w: (math.log(1 + chain.counts[w]) - 0.12 * len(w), order[w]))
    return found[:limit]


class _Writer:
    """Assembles one candidate's text from chain sentences."""

    def __init__(self, chain: _Chain, anchors: list[str], rng: random.Random, temp: float):
        self.chain = chain
        self.anchors = anchors
        self.rng = rng
        self.temp = temp
        self.seen: list[tuple[str, ...]] = []
        self.used: list[str] = []  # anchors already written about

    def _anchor(self) -> str | None:
        """Now and then steer a sentence through a prompt word, preferring unused ones."""
        fresh = [a for a in self.anchors if a not in self.used]
        if fresh and self.rng.random() < 0.4:
            return fresh[0]
        if self.anchors and self.rng.random() < 0.12:
            return _pick(self.rng, self.anchors)
        return None

    def next_sentence(self, first_anchor: str | None, room: int | None) -> list[str] | None:
        """A fresh sentence (not yet used) of at most ``room`` words; None if none is found.

        Sentences the chain cut off at its length limit are taken only when nothing else fits.
        """
        for attempt in range(14):
            anchor = first_anchor if first_anchor is not None else self._anchor()
            tokens, complete = self.chain.sentence(anchor, self.rng, self.temp)
            if not complete and attempt < 10:
                continue
            if tokens and (room is None or len(tokens) <= room) and tuple(tokens) not in self.seen:
                self.seen.append(tuple(tokens))
                if anchor is not None:
                    self.used.append(anchor)
                return tokens
        return None

    def truncated(self, first_anchor: str | None, room: int) -> list[str]:
        """A sentence cut to ``room`` words, ending in an ellipsis (honestly cut off)."""
        tokens = self.chain.sentence(first_anchor, self.rng, self.temp)[0][:room]
        tokens[-1] = self.chain.split(tokens[-1])[0] + "…"
        return tokens

    def sentences(
        self, first_anchor: str | None, target: int, cap: int, floor: int
    ) -> list[list[str]]:
        """Sentences totalling at least ``target`` words where possible, never over ``cap``."""
        out: list[list[str]] = []
        count = 0
        anchor = first_anchor
        while count < target and len(out) < 400:
            tokens = self.next_sentence(anchor, cap - count)
            if tokens is None:
                if count < floor or not out:
                    out.append(self.truncated(anchor, cap - count))
                break
            anchor = None
            out.append(tokens)
            count += len(tokens)
        return out

    def prose(self, first_anchor: str | None, max_words: int | None, paragraphs: int) -> str:
        """Prose paragraphs."""
        if max_words:
            target = cap = max_words
            floor = math.ceil(0.6 * max_words)
        else:
            cap = DEFAULT_MAX_WORDS * paragraphs
            target = self.rng.randint(DEFAULT_MIN_WORDS + 10, DEFAULT_MAX_WORDS - 15) * paragraphs
            floor = DEFAULT_MIN_WORDS * paragraphs
        sentences = self.sentences(first_anchor, target, cap, floor)
        total = sum(len(s) for s in sentences)
        if paragraphs == 1 and total > 1.3 * DEFAULT_MAX_WORDS:
            paragraphs = round(total / DEFAULT_MAX_WORDS)
        per_paragraph = total / paragraphs
        blocks: list[list[str]] = [[]]
        words = 0
        for tokens in sentences:
            if blocks[-1] and words >= per_paragraph * len(blocks) and len(blocks) < paragraphs:
                blocks.append([])
            blocks[-1].append(self.chain.render(tokens, [i == 0 for i in range(len(tokens))]))
            words += len(tokens)
        return "\n\n".join(" ".join(block) for block in blocks)

    def poem(self, first_anchor: str | None, layout: _Layout, max_words: int | None) -> str:
        """Short lines, joined with Markdown hard line breaks."""
        n = layout.lines or 4
        if max_words:
            n = min(n, max_words)
        ranges = [(2, 4), (3, 6), (2, 4)] if layout.haiku and n == 3 else [(4, 8)] * n
        if max_words:
            share = max(1, max_words // n)
            ranges = [(min(lo, share), min(hi, share)) for lo, hi in ranges]
        stretch = 0 if max_words else 5
        first: list[str] = []
        for _ in range(4):  # a few tries for a last line that ends where a sentence does
            self.seen, self.used = [], []
            lines, natural = self._lines(first_anchor, ranges, stretch)
            if natural:
                return "\n".join(lines)
            first = first or lines
        return "\n".join(first)

    def _lines(
        self, first_anchor: str | None, ranges: list[tuple[int, int]], stretch: int
    ) -> tuple[list[str], bool]:
        """Cut a stream of chain sentences into lines of the given (min, max) word ranges;
        also say whether the last line ends at a sentence end."""
        need = sum(hi for _, hi in ranges) + stretch + 5
        stream: list[str] = []
        starts: list[bool] = []
        anchor = first_anchor
        while len(stream) < need:
            tokens = self.next_sentence(anchor, None) or self.chain.sentence(None, self.rng, 1)[0]
            anchor = None
            stream.extend(tokens)
            starts.extend(i == 0 for i in range(len(tokens)))
        lines: list[str] = []
        pos = 0
        natural = False
        for index, (lo, hi) in enumerate(ranges):
            last = index == len(ranges) - 1
            length = self._line_length(stream, pos, lo, hi, last, stretch)
            tokens = stream[pos : pos + length]
            flags = [True, *starts[pos + 1 : pos + length]]
            if last:
                natural = tokens[-1].endswith(_TERMINAL)
                tokens = _close(list(tokens), self.chain)
            lines.append(self.chain.render(tokens, flags[: len(tokens)]))
            pos += length
        return lines, natural

    def _line_length(
        self, stream: list[str], pos: int, lo: int, hi: int, last: bool, stretch: int
    ) -> int:
        """Where to break a line: at punctuation if possible (the last line at a sentence end,
        allowed ``stretch`` words more to reach one), never after an article or preposition."""
        ends = _TERMINAL if last else (*_TERMINAL, ",", ";", ":", "—")
        natural = [n for n in range(lo, hi + 1) if stream[pos + n - 1].endswith(ends)]
        if natural:
            return natural[-1] if last or self.rng.random() < 0.5 else natural[0]
        if last:
            for n in range(hi + 1, hi + stretch + 1):
                if stream[pos + n - 1].endswith(_TERMINAL):
                    return n
        fine = [
            n
            for n in range(lo, hi + 1)
            if self.chain.split(stream[pos + n - 1])[0] not in _LINE_END_AVOID
        ]
        return _pick(self.rng, fine) if fine else self.rng.randint(lo, hi)


# --------------------------------------------------------------------------------------------
# Images: palettes and procedural composition
# --------------------------------------------------------------------------------------------

WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)

_COLOURS: dict[str, RGB] = {
    "red": (204, 38, 38), "crimson": (170, 20, 50), "scarlet": (222, 36, 30),
    "maroon": (112, 22, 32), "burgundy": (122, 24, 48), "ruby": (170, 16, 60),
    "orange": (240, 130, 40), "amber": (245, 168, 40), "tangerine": (247, 133, 35),
    "yellow": (245, 208, 60), "lemon": (248, 226, 90), "gold": (218, 168, 48),
    "golden": (224, 174, 56), "green": (58, 150, 80), "emerald": (30, 140, 100),
    "olive": (120, 130, 50), "lime": (150, 200, 60), "mint": (160, 220, 190),
    "sage": (150, 175, 140), "jade": (40, 160, 120), "teal": (30, 130, 140),
    "turquoise": (60, 190, 190), "cyan": (60, 190, 220), "aqua": (80, 200, 210),
    "blue": (48, 98, 200), "azure": (70, 150, 230), "cobalt": (30, 70, 170),
    "navy": (20, 36, 90), "sapphire": (24, 64, 160), "indigo": (62, 50, 140),
    "violet": (140, 80, 190), "purple": (120, 60, 150), "lavender": (180, 160, 220),
    "lilac": (200, 160, 210), "plum": (120, 50, 100), "magenta": (200, 50, 150),
    "pink": (240, 150, 180), "rose": (228, 110, 140), "coral": (245, 120, 100),
    "peach": (250, 190, 150), "salmon": (240, 140, 120), "brown": (130, 85, 50),
    "ochre": (204, 140, 50), "sienna": (160, 82, 45), "rust": (172, 70, 40),
    "copper": (184, 115, 51), "bronze": (176, 130, 60), "tan": (210, 180, 140),
    "beige": (225, 210, 180), "cream": (245, 235, 210), "ivory": (250, 245, 230),
    "white": (245, 245, 245), "silver": (190, 195, 205), "grey": (128, 128, 135),
    "gray": (128, 128, 135), "charcoal": (54, 56, 62), "black": (22, 22, 26),
}  # fmt: skip


@dataclass(frozen=True)
class _Theme:
    """Palette (sky top, sky bottom, far, mid, near, accent) and the shapes a mood calls for,
    its signature shape first (the one it adds to a scene led by another theme)."""

    palette: tuple[RGB, RGB, RGB, RGB, RGB, RGB]
    features: tuple[str, ...]
    sky: bool = False  # a time of day / weather: it colours the sky of a mixed scene


_THEMES: dict[str, _Theme] = {
    "frost": _Theme(
        ((170, 202, 232), (234, 243, 250), (196, 218, 238), (138, 176, 214), (82, 124, 174),
         (255, 255, 255)),
        ("snow", "crystals", "ridges"),
    ),
    "dawn": _Theme(
        ((98, 86, 152), (252, 184, 138), (232, 146, 146), (172, 96, 122), (78, 50, 84),
         (255, 216, 150)),
        ("glow", "disc", "streaks", "ridges"),
        sky=True,
    ),
    "forest": _Theme(
        ((190, 220, 204), (238, 242, 222), (140, 178, 140), (82, 134, 92), (34, 80, 56),
         (218, 196, 112)),
        ("trees", "ridges"),
    ),
    "garden": _Theme(
        ((210, 230, 204), (246, 244, 230), (170, 204, 150), (102, 158, 96), (50, 108, 66),
         (232, 120, 140)),
        ("flowers", "leaves", "ridges"),
    ),
    "flower": _Theme(
        ((248, 222, 230), (252, 244, 236), (200, 220, 170), (120, 170, 100), (58, 118, 70),
         (226, 86, 128)),
        ("flowers", "leaves"),
    ),
    "night": _Theme(
        ((10, 16, 46), (44, 56, 112), (48, 60, 108), (30, 38, 80), (14, 18, 44),
         (250, 240, 204)),
        ("stars", "ridges"),
        sky=True,
    ),
    "ocean": _Theme(
        ((160, 210, 226), (228, 244, 242), (92, 176, 184), (38, 138, 156), (14, 88, 114),
         (246, 240, 218)),
        ("waves", "disc"),
    ),
    "fire": _Theme(
        ((58, 14, 20), (200, 64, 30), (226, 92, 38), (244, 146, 48), (255, 206, 90),
         (255, 236, 170)),
        ("flames", "glow", "embers"),
    ),
    "autumn": _Theme(
        ((244, 210, 166), (252, 236, 206), (214, 142, 80), (190, 84, 48), (118, 52, 36),
         (232, 170, 42)),
        ("leaves", "ridges"),
    ),
    "desert": _Theme(
        ((238, 196, 148), (250, 232, 200), (226, 170, 110), (204, 136, 80), (158, 94, 54),
         (236, 98, 62)),
        ("dunes", "glow", "disc"),
    ),
    "music": _Theme(
        ((36, 30, 72), (92, 62, 122), (122, 92, 172), (220, 90, 130), (250, 180, 90),
         (120, 222, 222)),
        ("bars", "arcs"),
    ),
    "city": _Theme(
        ((58, 68, 110), (232, 172, 142), (112, 110, 142), (70, 72, 102), (36, 38, 58),
         (255, 208, 120)),
        ("skyline", "glow"),
    ),
    "mountain": _Theme(
        ((146, 186, 220), (226, 236, 244), (160, 178, 204), (104, 124, 156), (54, 68, 94),
         (250, 250, 252)),
        ("peaks",),
    ),
    "storm": _Theme(
        ((70, 78, 94), (152, 160, 170), (110, 118, 132), (80, 88, 102), (46, 52, 64),
         (204, 214, 228)),
        ("rain", "clouds", "ridges"),
        sky=True,
    ),
    "summer": _Theme(
        ((112, 182, 236), (222, 240, 250), (150, 200, 124), (98, 168, 82), (58, 118, 52),
         (255, 218, 92)),
        ("disc", "clouds", "ridges"),
        sky=True,
    ),
}  # fmt: skip

_THEME_WORDS: dict[str, str] = {
    word: theme
    for theme, words in {
        "frost": "frost frosty frosted ice icy winter wintry snow snowy snowfall frozen cold chill "
        "glacier glacial rime december january",
        "dawn": "dawn sunrise sunset dusk morning evening twilight daybreak",
        "forest": "forest forests wood woods woodland tree trees pine pines oak jungle",
        "garden": "garden gardens gardening plant plants fern ferns meadow grass spring herb "
        "herbs vegetable vegetables greenhouse",
        "flower": "flower flowers floral bloom blooms blossom blossoms petal petals roses tulip "
        "tulips daisy daisies",
        "night": "night nights midnight space star stars starry galaxy cosmos cosmic moon moonlit "
        "nocturnal",
        "ocean": "ocean oceans sea seas wave waves water river lake coast beach tide harbour "
        "harbor shore sail boat",
        "fire": "fire fires flame flames ember embers blaze burning bonfire candle hearth",
        "autumn": "autumn autumnal fall harvest october november",
        "desert": "desert deserts sand sandy dune dunes canyon arid",
        "music": "music musical rhythm rhythms song songs melody jazz beat beats sound chord "
        "concert dance",
        "city": "city cities street streets building buildings urban town skyline architecture",
        "mountain": "mountain mountains peak peaks alps alpine summit cliff cliffs",
        "storm": "storm storms rain rainy cloud clouds cloudy fog foggy thunder drizzle",
        "summer": "summer sunny sunshine noon july august",
    }.items()
    for word in words.split()
}
_FEATURE_WORDS: dict[str, str] = {
    "circle": "discs", "circles": "discs", "disc": "discs", "discs": "discs", "orb": "discs",
    "orbs": "discs", "round": "discs", "bubbles": "discs", "moon": "disc", "sun": "disc",
    "planet": "disc", "grid": "grid", "geometric": "grid", "pattern": "grid", "squares": "grid",
    "tiles": "grid", "mosaic": "grid", "dots": "dots", "confetti": "dots", "spots": "dots",
    "snowflake": "crystals", "snowflakes": "crystals", "crystal": "crystals", "leaf": "leaves",
    "leaves": "leaves", "foliage": "leaves", "hill": "ridges", "hills": "ridges",
    "valley": "ridges", "landscape": "ridges",
}  # fmt: skip
MAX_FEATURES = 6
_SOFT_WORDS = _word_set(
    """watercolour watercolor soft pastel misty mist hazy haze dreamy gentle delicate"""
)
_DEPTH = (
    "glow", "stars", "streaks", "clouds", "disc", "discs", "arcs", "peaks", "ridges", "dunes",
    "skyline", "waves", "trees", "grid", "bars", "flames", "leaves", "flowers", "crystals",
    "rain", "snow", "embers", "dots",
)  # fmt: skip
_GROUND = ("peaks", "dunes", "ridges")  # at most one of these, in this order of preference
_FALLBACK_COMPOSITIONS = (
    ("disc", "ridges"), ("discs", "dots"), ("disc", "waves"), ("discs", "arcs"),
    ("glow", "dunes"), ("streaks", "peaks"),
)  # fmt: skip


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    t = max(0.0, min(1.0, t))
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, max(0.0, min(1.0, s)), max(0.0, min(1.0, v)))
    return (round(r * 255), round(g * 255), round(b * 255))


def _shift(colour: RGB, dh: float, ds: float = 0.0, dv: float = 0.0) -> RGB:
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in colour))
    return _hsv(h + dh, s + ds, v + dv)


def _prompt_words(prompt: str) -> list[str]:
    return [_key(w) for w in re.findall(r"[^\W\d_]+", prompt)]


@dataclass
class _Scene:
    palette: list[RGB]
    features: list[str]
    sun: RGB  # colour of a sun or moon disc and its glow
    soft: bool = False
    moon: bool = False


def _scene_for(prompt: str) -> _Scene:
    words = _prompt_words(prompt)
    colours: list[RGB] = []
    themes: list[str] = []
    extra: list[str] = []
    for word in words:
        if word in _COLOURS and _COLOURS[word] not in colours:
            colours.append(_COLOURS[word])
        theme = _THEME_WORDS.get(word)
        if theme and theme not in themes:
            themes.append(theme)
        feature = _FEATURE_WORDS.get(word)
        if feature and feature not in extra:
            extra.append(feature)
    digest = hashlib.sha256(" ".join(words).encode("utf-8")).digest()

    if themes:
        sky_theme = next((t for t in themes if _THEMES[t].sky), themes[0])
        land_theme = next((t for t in themes if not _THEMES[t].sky), themes[0])
        sky, land = _THEMES[sky_theme].palette, _THEMES[land_theme].palette
        palette = [sky[0], sky[1], land[2], land[3], land[4], land[5]]
        if colours:
            palette[5] = colours[0]
            palette[3] = _mix(palette[3], colours[0], 0.55)
            palette[4] = _mix(palette[4], colours[1] if len(colours) > 1 else colours[0], 0.35)
        sun = sky[5] if _THEMES[sky_theme].sky else palette[5]
        # The main themes' shapes first, then one signature shape of each further theme.
        features: list[str] = []
        for theme in dict.fromkeys([land_theme, sky_theme]):
            features += [f for f in _THEMES[theme].features if f not in features]
        for theme in themes:
            signature = next((f for f in _THEMES[theme].features if f not in features), None)
            if signature and signature not in features and len(features) < MAX_FEATURES:
                features.append(signature)
    else:
        palette = _colour_palette(colours) if colours else _hash_palette(digest)
        sun = palette[5]
        features = []
    features += [f for f in extra if f not in features]
    if not features or set(features) <= {"dots", "crystals"}:
        features += _FALLBACK_COMPOSITIONS[digest[2] % len(_FALLBACK_COMPOSITIONS)]
    ground = next((g for g in _GROUND if g in features), None)
    features = [f for f in features if f not in _GROUND or f == ground]
    if "disc" in features and "discs" in features:
        features.remove("discs")
    features.sort(key=_DEPTH.index)
    soft = any(w in _SOFT_WORDS for w in words)
    if "pastel" in words:
        palette = [_mix(c, WHITE, 0.3) for c in palette]
    moon = "moon" in words or "moonlit" in words
    return _Scene(palette, features, sun=sun, soft=soft, moon=moon)


def _colour_palette(colours: list[RGB]) -> list[RGB]:
    c1 = colours[0]
    c2 = colours[1] if len(colours) > 1 else _shift(c1, 0.025, -0.1, 0.08)
    c3 = colours[2] if len(colours) > 2 else c1
    return [
        _mix(c1, WHITE, 0.55),
        _mix(c1, WHITE, 0.82),
        _mix(c2, WHITE, 0.3),
        c1,
        _mix(c3, BLACK, 0.45),
        c2 if len(colours) > 1 else _mix(c1, WHITE, 0.25),
    ]


def _hash_palette(digest: bytes) -> list[RGB]:
    hue = digest[0] / 256
    accent_shift = (0.5, 0.33, 0.08, 0.58)[digest[1] % 4]
    return [
        _hsv(hue + 0.02, 0.30, 0.90),
        _hsv(hue - 0.03, 0.12, 0.98),
        _hsv(hue + 0.06, 0.30, 0.80),
        _hsv(hue + 0.10, 0.48, 0.62),
        _hsv(hue + 0.14, 0.58, 0.36),
        _hsv(hue + accent_shift, 0.62, 0.95),
    ]


def palette_for(prompt: str) -> list[RGB]:
    """The six colours an image for ``prompt`` is painted with.

    In order: sky top, sky bottom, far, middle and near ground, accent. Colour words in the prompt
    (``red``, ``gold``, ...) and mood or scene words (``frost``, ``dawn``, ``forest``, ``night``,
    ``ocean``, ...) choose them; a prompt with neither gets a harmonious palette derived from
    its sha256.
    """
    return list(_scene_for(prompt).palette)


def _rgba(colour: RGB, alpha: float) -> tuple[int, int, int, int]:
    return (*colour, max(0, min(255, round(alpha * 255))))


class _Painter:
    """Draws a scene's features on an RGB canvas (at a supersampling scale)."""

    def __init__(self, scene: _Scene, width: int, height: int, rng: random.Random):
        self.scene = scene
        self.pal = scene.palette
        self.w, self.h = width, height
        self.u = min(width, height)
        self.rng = rng
        self.horizon = height * rng.uniform(0.56, 0.68)
        self.img = Image.new("RGB", (width, height), scene.palette[1])
        self.draw = ImageDraw.Draw(self.img, "RGBA")
        self.sun: tuple[float, float, float] | None = None

    # -- helpers ------------------------------------------------------------------------------

    def paste(self, layer: Image.Image, x: int = 0, y: int = 0) -> None:
        """Composite an RGBA ``layer`` over the canvas with its top left at (x, y), clipped."""
        box = layer.getbbox()
        if box is None:
            return
        left, top = max(0, x + box[0]), max(0, y + box[1])
        right, bottom = min(self.w, x + box[2]), min(self.h, y + box[3])
        if right <= left or bottom <= top:
            return
        part = layer.crop((left - x, top - y, right - x, bottom - y))
        self.img.paste(part, (left, top), part)

    def layer(self) -> tuple[Image.Image, ImageDraw.ImageDraw]:
        """A transparent full-size layer and a draw on it (shapes within replace, not blend)."""
        layer = Image.new("RGBA", (self.w, self.h), (0, 0, 0, 0))
        return layer, ImageDraw.Draw(layer)

    def radial(self, cx: float, cy: float, rx: float, ry: float, colour: RGB, alpha: float) -> None:
        """A soft radial glow of ``colour`` fading out at radii (rx, ry)."""
        size = (max(2, round(2 * rx)), max(2, round(2 * ry)))
        peak = alpha * 255
        mask = Image.radial_gradient("L").point(
            lambda v: round(peak * max(0.0, 1 - v / 181) ** 1.6)
        )
        mask = mask.resize(size, Image.Resampling.BILINEAR)
        patch = Image.new("RGBA", size, (*colour, 0))
        patch.putalpha(mask)
        self.paste(patch, round(cx - rx), round(cy - ry))

    def vgradient(self, stops: Sequence[tuple[float, RGB]], top: int, bottom: int) -> Image.Image:
        """A vertical gradient strip through colour ``stops`` (position 0..1, colour)."""
        height = max(1, bottom - top)
        column = Image.new("RGB", (1, height))
        data = []
        for y in range(height):
            t = y / max(1, height - 1)
            for (p0, c0), (p1, c1) in itertools.pairwise(stops):
                if t <= p1 or (p1, c1) == stops[-1]:
                    local = (t - p0) / (p1 - p0) if p1 > p0 else 1.0
                    local = local * local * (3 - 2 * local)
                    data.append(_mix(c0, c1, local))
                    break
        column.putdata(data)
        return column.resize((self.w, height), Image.Resampling.NEAREST)

    def profile(self, n: int, kind: str) -> list[float]:
        """A ridge line as n heights in 0..1 (soft hills, jagged peaks or dunes)."""
        rng = self.rng
        if kind == "peaks":
            # Alternating peaks and saddles joined by straight slopes, with a little roughness.
            knots = [(0.0, rng.uniform(0.1, 0.5))]
            x = 0.0
            while x < 1.0:
                x += rng.uniform(0.1, 0.22)
                high = len(knots) % 2 == 1
                knots.append((x, rng.uniform(0.55, 1.0) if high else rng.uniform(0.05, 0.4)))
            out = []
            k = 0
            for i in range(n):
                x = i / (n - 1)
                while knots[k + 1][0] < x:
                    k += 1
                (x0, y0), (x1, y1) = knots[k], knots[k + 1]
                v = y0 + (y1 - y0) * (x - x0) / (x1 - x0)
                out.append(v + rng.uniform(-0.02, 0.02))
            return out
        f1, f2, f3 = rng.uniform(0.5, 1.3), rng.uniform(1.8, 3.2), rng.uniform(4.5, 7.5)
        p1, p2, p3 = rng.random(), rng.random(), rng.random()
        out = []
        for i in range(n):
            x = i / (n - 1)
            if kind == "dunes":
                a = 2 * math.pi * (x * f1 + p1)
                v = 0.5 + 0.38 * math.sin(a) + 0.12 * math.sin(2 * a + 0.8)
            else:
                v = (
                    0.5
                    + 0.28 * math.sin(2 * math.pi * (x * f1 + p1))
                    + 0.14 * math.sin(2 * math.pi * (x * f2 + p2))
                    + 0.06 * math.sin(2 * math.pi * (x * f3 + p3))
                )
            out.append(v)
        return out

    # -- features -----------------------------------------------------------------------------

    def sky(self) -> None:
        top, bottom = self.pal[0], self.pal[1]
        ground = any(f in self.scene.features for f in (*_GROUND, "waves", "skyline", "trees"))
        end = round(self.horizon) if ground else self.h
        middle = _mix(top, bottom, 0.6)
        self.img.paste(self.vgradient([(0.0, top), (0.55, middle), (1.0, bottom)], 0, end))

    def glow(self) -> None:
        cx = self.w * self.rng.uniform(0.3, 0.7)
        self.sun = self.sun or (
            cx,
            self.horizon - self.u * 0.06,
            self.u * self.rng.uniform(0.08, 0.12),
        )
        self.radial(self.sun[0], self.horizon, self.w * 0.75, self.h * 0.55, self.scene.sun, 0.5)

    def disc(self) -> None:
        rng = self.rng
        if self.sun is None:
            r = self.u * rng.uniform(0.08, 0.14)
            low = "glow" in self.scene.features
            cy = (
                self.horizon - r * rng.uniform(0.2, 0.9)
                if low
                else self.h * rng.uniform(0.16, 0.34)
            )
            self.sun = (
                self.w * rng.choice([rng.uniform(0.18, 0.4), rng.uniform(0.6, 0.82)]),
                cy,
                r,
            )
        cx, cy, r = self.sun
        colour = _mix(self.scene.sun, WHITE, 0.45) if self.scene.moon else self.scene.sun
        self.radial(cx, cy, r * 2.6, r * 2.6, colour, 0.32)
        layer, draw = self.layer()
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_rgba(colour, 0.95))
        if self.scene.moon:
            off = r * 0.45
            draw.ellipse(
                (cx - r + off, cy - r - off * 0.4, cx + r + off, cy + r - off * 0.4),
                fill=(0, 0, 0, 0),
            )
        self.paste(layer)

    def discs(self) -> None:
        rng = self.rng
        count = rng.randint(3, 5)
        colours = [self.pal[2], self.pal[3], self.pal[5], self.pal[4]]
        for i in range(count):
            r = self.u * rng.uniform(0.1, 0.28)
            cx, cy = self.w * rng.uniform(0.15, 0.85), self.h * rng.uniform(0.2, 0.75)
            colour = colours[i % len(colours)]
            self.draw.ellipse(
                (cx - r, cy - r, cx + r, cy + r), fill=_rgba(colour, rng.uniform(0.55, 0.8))
            )
        r = self.u * rng.uniform(0.2, 0.35)
        cx, cy = self.w * rng.uniform(0.25, 0.75), self.h * rng.uniform(0.3, 0.6)
        self.draw.ellipse(
            (cx - r, cy - r, cx + r, cy + r),
            outline=_rgba(self.pal[4], 0.6),
            width=max(1, round(self.u / 160)),
        )

    def stars(self) -> None:
        rng = self.rng
        scale = max(1.0, self.u / 700)
        count = round(170 * self.w * self.h / (self.u * self.u))
        colour = _mix(self.scene.sun, WHITE, 0.5)
        for _ in range(count):
            x, y = rng.uniform(0, self.w), self.horizon * rng.random() ** 1.3
            big = rng.random() < 0.08
            r = scale * (rng.uniform(1.8, 3.2) if big else rng.uniform(0.6, 1.5))
            if big:
                self.draw.ellipse(
                    (x - 3 * r, y - 3 * r, x + 3 * r, y + 3 * r), fill=_rgba(colour, 0.12)
                )
            self.draw.ellipse(
                (x - r, y - r, x + r, y + r), fill=_rgba(colour, rng.uniform(0.5, 1.0))
            )

    def streaks(self) -> None:
        rng = self.rng
        colour = _mix(self.scene.sun, WHITE, 0.35)
        for _ in range(rng.randint(4, 7)):
            length = self.w * rng.uniform(0.2, 0.55)
            x = self.w * rng.uniform(-0.1, 0.9)
            y = self.horizon * rng.uniform(0.15, 0.8)
            thick = self.u * rng.uniform(0.008, 0.022)
            self.draw.rounded_rectangle(
                (x, y, x + length, y + thick),
                radius=thick / 2,
                fill=_rgba(colour, rng.uniform(0.25, 0.45)),
            )

    def clouds(self) -> None:
        rng = self.rng
        storm = self.pal[0][2] < 110 and self.pal[0][0] < 110
        base = self.pal[2] if storm else _mix(self.pal[1], WHITE, 0.7)
        for _ in range(rng.randint(3, 5)):
            layer, draw = self.layer()
            cx, cy = self.w * rng.uniform(0.05, 0.95), self.horizon * rng.uniform(0.15, 0.6)
            width = self.u * rng.uniform(0.25, 0.5)
            height = width * 0.22
            draw.rounded_rectangle(
                (cx - width / 2, cy, cx + width / 2, cy + height),
                radius=height / 2,
                fill=_rgba(base, 1),
            )
            for _ in range(rng.randint(3, 5)):
                bx = cx + rng.uniform(-0.35, 0.35) * width
                br = height * rng.uniform(0.6, 1.3)
                draw.ellipse(
                    (bx - br, cy + height * 0.6 - 2 * br, bx + br, cy + height * 0.6),
                    fill=_rgba(base, 1),
                )
            self.paste(_fade(layer, rng.uniform(0.7, 0.9)))

    def arcs(self) -> None:
        rng = self.rng
        cx, cy = self.w * rng.uniform(0.1, 0.3), self.h * rng.uniform(0.3, 0.5)
        width = max(1, round(self.u / 110))
        for i in range(rng.randint(6, 9)):
            r = self.u * (0.08 + 0.07 * i)
            alpha = 0.75 * (1 - i / 10)
            self.draw.arc(
                (cx - r, cy - r, cx + r, cy + r),
                -60,
                60,
                fill=_rgba(self.pal[5], alpha),
                width=width,
            )

    def ridges(self, kind: str = "ridges") -> None:
        rng = self.rng
        n = rng.randint(3, 4)
        limit = self.horizon + self.h * 0.05 if "waves" in self.scene.features else self.h * 0.9
        if "trees" in self.scene.features:
            limit = min(limit, self.horizon + self.h * 0.08)
        sky_bottom = self.pal[1]
        points_n = 160
        for i in range(n):
            t = i / (n - 1)
            base = self.horizon - self.h * 0.02 + (limit - self.horizon) * t
            amp = self.u * ((0.26 - 0.07 * t) if kind == "peaks" else (0.07 + 0.05 * t))
            colour = _mix(_mix(self.pal[2], self.pal[4], t), sky_bottom, 0.4 * (1 - t))
            heights = self.profile(points_n, kind)
            line = [(self.w * j / (points_n - 1), base - amp * v) for j, v in enumerate(heights)]
            self.draw.polygon([(0, self.h), *line, (self.w, self.h)], fill=colour)
            if kind == "peaks" and i < n - 1:
                snow_line = base - amp * 0.6
                under = [(x, max(y, min(snow_line, y + amp * 0.22))) for x, y in line]
                cap = _mix(self.pal[5], colour, 0.15 + 0.3 * t)
                self.draw.polygon([*line, *reversed(under)], fill=cap)
            if kind == "dunes":
                crest = _mix(colour, WHITE, 0.35)
                self.draw.line(line, fill=_rgba(crest, 0.55), width=max(1, round(self.u / 260)))
            if i < n - 1:
                band = round(self.h * 0.12)
                mask = Image.linear_gradient("L").resize((self.w, band)).point(lambda v: v * 0.35)
                mist = Image.new("RGBA", (self.w, band), (*sky_bottom, 0))
                mist.putalpha(mask)
                self.paste(mist, 0, round(base - band * 0.6))

    def peaks(self) -> None:
        self.ridges("peaks")

    def dunes(self) -> None:
        self.ridges("dunes")

    def waves(self) -> None:
        rng = self.rng
        top = round(self.horizon)
        self.draw.rectangle((0, top, self.w, self.h), fill=self.pal[2])
        n = rng.randint(5, 7)
        foam = max(1, round(self.u / 240))
        for i in range(n):
            t = i / (n - 1)
            base = top + (self.h - top) * (0.06 + 0.86 * t)
            amp = self.u * (0.008 + 0.028 * t)
            wavelength = self.w * rng.uniform(0.18, 0.32) * (1 - 0.4 * t)
            phase, phase2 = rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)
            line = []
            for j in range(161):
                x = self.w * j / 160
                a = 2 * math.pi * x / wavelength + phase
                line.append((x, base + amp * math.sin(a) + 0.35 * amp * math.sin(2.3 * a + phase2)))
            colour = _mix(self.pal[2], self.pal[4], t)
            self.draw.polygon([(0, self.h), *line, (self.w, self.h)], fill=colour)
            self.draw.line(line, fill=_rgba(self.pal[5], 0.35 + 0.4 * t), width=foam)

    def skyline(self) -> None:
        rng = self.rng
        base = self.horizon + self.h * 0.04 if "waves" in self.scene.features else self.h
        for row in range(2):
            colour = _mix(self.pal[2], self.pal[1], 0.25) if row == 0 else self.pal[4]
            x = -self.u * rng.uniform(0, 0.05)
            while x < self.w:
                width = self.u * rng.uniform(0.06, 0.13)
                height = base * rng.uniform(0.28, 0.55) * (1.15 - 0.3 * row)
                top = base - height
                self.draw.rectangle((x, top, x + width, base), fill=colour)
                if rng.random() < 0.3:
                    self.draw.rectangle(
                        (x + width * 0.3, top - height * 0.08, x + width * 0.7, top), fill=colour
                    )
                if row == 1:
                    self._windows(x, top, width, base)
                x += width * rng.uniform(0.85, 1.05)

    def _windows(self, x: float, top: float, width: float, base: float) -> None:
        rng = self.rng
        size = self.u * 0.014
        step_x, step_y = size * 2.2, size * 2.6
        cols = max(1, int((width - size) / step_x))
        margin = (width - (cols - 1) * step_x - size) / 2
        y = top + size * 1.5
        while y + size < base - size:
            for c in range(cols):
                if rng.random() < 0.3:
                    wx = x + margin + c * step_x
                    self.draw.rectangle(
                        (wx, y, wx + size, y + size * 1.3), fill=_rgba(self.pal[5], 0.9)
                    )
            y += step_y

    def trees(self) -> None:
        rng = self.rng
        rows = 3
        for row in range(rows):
            t = row / (rows - 1)
            baseline = self.horizon + (self.h - self.horizon) * (0.1 + 0.45 * t)
            colour = _mix(_mix(self.pal[3], self.pal[4], t), self.pal[1], 0.3 * (1 - t))
            height = self.u * (0.13 + 0.12 * t)
            heights = self.profile(80, "ridges")
            ground = [
                (self.w * j / 79, baseline - self.u * 0.03 * v) for j, v in enumerate(heights)
            ]
            self.draw.polygon([(0, self.h), *ground, (self.w, self.h)], fill=colour)
            x = -height * 0.2
            while x < self.w + height * 0.2:
                h = height * rng.uniform(0.7, 1.15)
                ground_y = ground[max(0, min(79, round(x / self.w * 79)))][1] + h * 0.04
                half = h * 0.24
                for k in range(3):
                    top = ground_y - h + k * h * 0.22
                    bottom = top + h * 0.42
                    spread = half * (0.6 + 0.25 * k)
                    self.draw.polygon(
                        [(x, top), (x - spread, bottom), (x + spread, bottom)], fill=colour
                    )
                x += half * rng.uniform(1.1, 2.6)

    def _leaf(
        self, x: float, y: float, length: float, angle: float, colour: RGB, alpha: float
    ) -> None:
        ca, sa = math.cos(angle), math.sin(angle)
        outline = []
        for side in (1, -1):
            steps = range(13) if side == 1 else range(12, -1, -1)
            for k in steps:
                s = k / 12
                px, py = length * s, side * length * 0.26 * math.sin(math.pi * s) ** 0.85
                outline.append((x + px * ca - py * sa, y + px * sa + py * ca))
        self.draw.polygon(outline, fill=_rgba(colour, alpha))
        rib = _mix(colour, WHITE, 0.35)
        self.draw.line(
            [(x, y), (x + length * 0.9 * ca, y + length * 0.9 * sa)],
            fill=_rgba(rib, 0.6),
            width=max(1, round(length / 40)),
        )

    def leaves(self) -> None:
        rng = self.rng
        drifting = [self.pal[5], self.pal[3], self.pal[2], _mix(self.pal[5], self.pal[3], 0.5)]
        foliage = [self.pal[2], self.pal[3], self.pal[4]]
        for _ in range(rng.randint(14, 22)):
            if rng.random() < 0.4:  # foliage rising from the bottom edge
                length = self.u * rng.uniform(0.1, 0.2)
                x, y = self.w * rng.random(), self.h * rng.uniform(0.9, 1.05)
                angle = -math.pi / 2 + rng.uniform(-0.9, 0.9)
                colour = _pick(rng, foliage)
            else:  # leaves drifting
                length = self.u * rng.uniform(0.06, 0.12)
                x, y = self.w * rng.random(), self.h * rng.uniform(0.08, 0.8)
                angle = rng.uniform(0, 2 * math.pi)
                colour = _pick(rng, drifting)
            self._leaf(x, y, length, angle, colour, 0.9)

    def flowers(self) -> None:
        rng = self.rng
        stem = max(1, round(self.u / 170))
        for _ in range(rng.randint(5, 9)):
            r = self.u * rng.uniform(0.035, 0.07)
            x, y = self.w * rng.uniform(0.06, 0.94), self.h * rng.uniform(0.5, 0.85)
            self.draw.line(
                [(x, y), (x + rng.uniform(-0.05, 0.05) * self.u, self.h)],
                fill=_rgba(self.pal[4], 0.9),
                width=stem,
            )
            self._leaf(x, y + (self.h - y) * 0.5, r * 1.4, -rng.uniform(0.3, 1.2), self.pal[3], 0.9)
            petals = rng.randint(5, 7)
            turn = rng.random() * math.pi
            petal_colour = _mix(self.pal[5], WHITE, rng.uniform(0, 0.3))
            for k in range(petals):
                angle = turn + 2 * math.pi * k / petals
                self._petal(x, y, r, angle, petal_colour)
            heart = _mix(self.pal[5], (250, 206, 86), 0.75)
            self.draw.ellipse((x - r * 0.28, y - r * 0.28, x + r * 0.28, y + r * 0.28), fill=heart)

    def _petal(self, x: float, y: float, r: float, angle: float, colour: RGB) -> None:
        ca, sa = math.cos(angle), math.sin(angle)
        points = []
        for k in range(17):
            a = 2 * math.pi * k / 16
            px, py = r * 0.5 * (1 + math.cos(a)), r * 0.32 * math.sin(a)
            points.append((x + px * ca - py * sa, y + px * sa + py * ca))
        self.draw.polygon(points, fill=_rgba(colour, 0.92))

    def grid(self) -> None:
        rng = self.rng
        cols = rng.randint(6, 9)
        cell = self.w / cols
        rows = math.ceil(self.h / cell)
        colours = [self.pal[2], self.pal[3], self.pal[4], self.pal[5]]
        pad = cell * 0.12
        for row in range(rows):
            for col in range(cols):
                x0, y0 = col * cell + pad, row * cell + pad
                x1, y1 = x0 + cell - 2 * pad, y0 + cell - 2 * pad
                fill = _rgba(colours[int(rng.random() * 4)], 0.8)
                shape = rng.random()
                if shape < 0.4:
                    self.draw.ellipse((x0, y0, x1, y1), fill=fill)
                elif shape < 0.7:
                    start = 90 * int(rng.random() * 4)
                    box = (x0, y0, x1 + (x1 - x0), y1 + (y1 - y0))
                    self.draw.pieslice(box, start, start + 90, fill=fill)
                else:
                    self.draw.rounded_rectangle((x0, y0, x1, y1), radius=cell * 0.08, fill=fill)

    def bars(self) -> None:
        rng = self.rng
        n = rng.randint(24, 44)
        centre = self.horizon
        step = self.w / n
        width = step * 0.62
        phase, phase2 = rng.uniform(0, 6.3), rng.uniform(0, 6.3)
        stops = [self.pal[3], self.pal[5], self.pal[2]]
        for i in range(n):
            wave = abs(0.6 * math.sin(i * 0.45 + phase) + 0.4 * math.sin(i * 0.13 + phase2))
            height = self.h * 0.42 * (0.12 + 0.88 * wave) * rng.uniform(0.8, 1.0)
            t = i / (n - 1)
            colour = (
                _mix(stops[0], stops[1], t * 2) if t < 0.5 else _mix(stops[1], stops[2], t * 2 - 1)
            )
            x = i * step + (step - width) / 2
            self.draw.rounded_rectangle(
                (x, centre - height, x + width, centre), radius=width / 2, fill=_rgba(colour, 0.92)
            )
            self.draw.rounded_rectangle(
                (x, centre + step * 0.2, x + width, centre + height * 0.45),
                radius=width / 2,
                fill=_rgba(colour, 0.3),
            )

    def flames(self) -> None:
        rng = self.rng
        self.radial(self.w / 2, self.h, self.w * 0.7, self.h * 0.5, self.pal[4], 0.45)
        n = rng.randint(7, 11)
        for i in range(n):
            t = i / (n - 1)
            colour = _mix(self.pal[2], self.pal[4], t)
            x = self.w * rng.uniform(0.1, 0.9)
            width = self.u * rng.uniform(0.12, 0.24) * (1 - 0.3 * t)
            height = self.h * rng.uniform(0.35, 0.72) * (1 - 0.35 * t)
            sway = width * rng.uniform(-0.9, 0.9)
            wobble, phase = rng.uniform(0.1, 0.2), rng.uniform(0, 6.3)
            left, right = [], []
            for k in range(25):
                s = k / 24
                cx = x + sway * s * s + wobble * width * math.sin(2 * math.pi * 1.4 * s + phase)
                half = width / 2 * (1 - s) ** 1.1
                y = self.h + width * 0.1 - height * s
                left.append((cx - half, y))
                right.append((cx + half, y))
            self.draw.polygon([*left, *reversed(right)], fill=_rgba(colour, 0.85))

    def _particles(
        self,
        count: int,
        sizes: tuple[float, float],
        colour: RGB,
        alphas: tuple[float, float],
        top: float = 0.0,
    ) -> None:
        rng = self.rng
        for _ in range(count):
            x, y = self.w * rng.random(), self.h * rng.uniform(top, 1.0)
            r = self.u * rng.uniform(*sizes)
            self.draw.ellipse(
                (x - r, y - r, x + r, y + r), fill=_rgba(colour, rng.uniform(*alphas))
            )

    def snow(self) -> None:
        self._particles(self.rng.randint(90, 140), (0.002, 0.007), WHITE, (0.5, 0.9))

    def embers(self) -> None:
        self._particles(self.rng.randint(30, 60), (0.002, 0.006), self.pal[5], (0.6, 1.0))

    def dots(self) -> None:
        rng = self.rng
        colours = [self.pal[2], self.pal[3], self.pal[5]]
        for _ in range(rng.randint(40, 80)):
            x, y = self.w * rng.random(), self.h * rng.random()
            r = self.u * rng.uniform(0.004, 0.02)
            fill = _rgba(colours[int(rng.random() * 3)], rng.uniform(0.5, 0.85))
            self.draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)

    def crystals(self) -> None:
        rng = self.rng
        layer, draw = self.layer()
        colour = _rgba(self.pal[5], 0.85)
        for _ in range(rng.randint(4, 8)):
            cx, cy = self.w * rng.random(), self.h * rng.uniform(0.05, 0.9)
            r = self.u * rng.uniform(0.03, 0.075)
            width = max(1, round(r / 14))
            turn = rng.random() * math.pi / 3
            for k in range(6):
                a = turn + k * math.pi / 3
                tip = (cx + r * math.cos(a), cy + r * math.sin(a))
                draw.line([(cx, cy), tip], fill=colour, width=width)
                for along in (0.5, 0.75):
                    bx, by = cx + r * along * math.cos(a), cy + r * along * math.sin(a)
                    for side in (-1, 1):
                        b = a + side * math.pi / 4
                        length = r * 0.28 * (1.2 - along)
                        draw.line(
                            [(bx, by), (bx + length * math.cos(b), by + length * math.sin(b))],
                            fill=colour,
                            width=width,
                        )
        self.paste(layer)

    def rain(self) -> None:
        rng = self.rng
        colour = self.pal[5]
        width = max(1, round(self.u / 500))
        for _ in range(rng.randint(110, 180)):
            x, y = self.w * rng.uniform(-0.1, 1.0), self.h * rng.random()
            length = self.u * rng.uniform(0.03, 0.07)
            self.draw.line(
                [(x, y), (x + length * 0.25, y + length)],
                fill=_rgba(colour, rng.uniform(0.3, 0.55)),
                width=width,
            )

    def paint(self) -> Image.Image:
        """Draw the sky and every feature, back to front; return the canvas."""
        self.sky()
        painters: dict[str, Callable[[], None]] = {name: getattr(self, name) for name in _DEPTH}
        for feature in self.scene.features:
            painters[feature]()
        return self.img


def _fade(layer: Image.Image, opacity: float) -> Image.Image:
    alpha = layer.getchannel("A").point(lambda v: round(v * opacity))
    layer.putalpha(alpha)
    return layer


def _check_size(size: object) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in size)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ProviderError(
            f"image size must be a pair (width, height) of integers, not {size!r}"
        ) from None
    for side, value in (("width", width), ("height", height)):
        if not MIN_IMAGE_SIDE <= value <= MAX_IMAGE_SIDE:
            raise ProviderError(
                f"image {side} {value} px is out of range: the offline provider draws images "
                f"from {MIN_IMAGE_SIDE} to {MAX_IMAGE_SIDE} px on each side"
            )
    return width, height


def render_image(prompt: str, size: tuple[int, int], rng: random.Random) -> bytes:
    """Paint the prompt's scene at ``size`` and return it PNG-encoded."""
    width, height = _check_size(size)
    scene = _scene_for(prompt)
    scale = 2 if width * height <= 1_100_000 else 1
    img = _Painter(scene, width * scale, height * scale, rng).paint()
    if scale > 1:
        img = img.reduce(scale)
    if scene.soft:
        img = img.filter(ImageFilter.GaussianBlur(max(0.6, min(width, height) / 500)))
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# The provider
# --------------------------------------------------------------------------------------------


class OfflineProvider:
    """Built-in provider without network or trained model.

    Text is a Markov chain over the site's own human-written prose (``context.corpus()``);
    images are procedural generative art whose palette and shapes follow the prompt's words.
    Every output is labelled with the offline model ids, whatever model a directive names.
    """

    name: ClassVar[str] = "offline"
    trained: ClassVar[bool] = False
    description: ClassVar[str] = (
        "aicraft offline (Markov chain text, procedural images; no trained model)"
    )

    def __init__(self, context: ProviderContext | None = None):
        self.context = context or ProviderContext()
        self._chain: _Chain | None = None
        self._lock = threading.Lock()

    def default_model(self, kind: str) -> str:
        """``aicraft-procedural-1`` for images, ``aicraft-markov-1`` for every text kind
        (``text``, and later ``summary`` or ``alt``)."""
        return IMAGE_MODEL if kind == "image" else TEXT_MODEL

    def chain(self) -> _Chain:
        """The Markov chain over the corpus, built once (thread-safe) on first use."""
        if self._chain is None:
            with self._lock:
                if self._chain is None:
                    self._chain = _Chain.build(self.context.corpus() or "")
        return self._chain

    def generate_text(self, request: TextRequest) -> TextResult:
        """``request.candidates`` texts from the corpus' Markov chain, shaped by the prompt."""
        count = _candidates(request.candidates)
        chain = self.chain()
        usage = Usage(input_tokens=None, output_tokens=None, cost_usd=0.0)
        if chain.words < MIN_CORPUS_WORDS:
            text = (
                f"*[aicraft offline provider: this site has only {chain.words} words of prose "
                "outside its directives, too few for its Markov chain. Add more prose, or "
                "configure a model provider.]*"
            )
            return TextResult(outputs=[text] * count, model=TEXT_MODEL, usage=usage)
        temperature = 1.0 if request.temperature is None else max(0.0, float(request.temperature))
        max_words = request.max_tokens if request.max_tokens and request.max_tokens > 0 else None
        layout = _layout_for(request.prompt)
        anchors = _anchor_words(chain, request.prompt)
        if not anchors and request.context:
            anchors = _anchor_words(chain, request.context)
        outputs: list[str] = []
        for index in range(count):
            first = anchors[index % min(3, len(anchors))] if anchors else None
            text = ""
            for attempt in range(6):
                rng = _rng("text", request.key, request.seed, index, attempt)
                writer = _Writer(chain, anchors, rng, temperature)
                if layout.lines:
                    text = writer.poem(first, layout, max_words)
                else:
                    text = writer.prose(first, max_words, layout.paragraphs)
                if text not in outputs:
                    break
                if anchors:
                    first = anchors[(index + attempt + 1) % len(anchors)]
            outputs.append(text)
        return TextResult(outputs=outputs, model=TEXT_MODEL, usage=usage)

    def generate_image(self, request: ImageRequest) -> ImageResult:
        """``request.candidates`` procedural PNG images of exactly ``request.size``."""
        count = _candidates(request.candidates)
        _check_size(request.size)
        images = [
            render_image(request.prompt, request.size, _rng("image", request.key, request.seed, i))
            for i in range(count)
        ]
        return ImageResult(images=images, model=IMAGE_MODEL, usage=Usage(cost_usd=0.0))


def _candidates(value: int) -> int:
    if not isinstance(value, int) or value < 1:
        raise ProviderError(f"candidates must be a positive integer, not {value!r}")
    return value
