"""What aicraft tells readers, editors, search engines and regulators about AI-made content.

This module is pure (no MkDocs): the adapters hand it records and where they are published, and
get back the vocabulary values, the per-page summary, HTML fragments and the ledger. Every
external vocabulary lives here and nowhere else, so the young standards can be followed in one
place (see ``DISCLOSURE.md``):

- IPTC Digital Source Type URIs (and the C2PA text type);
- schema.org ``digitalSourceType`` enumeration members (JSON-LD);
- the W3C AI Content Disclosure CG draft: ``ai-disclosure`` values and attribute names;
- IBM AI Attribution (AIA) statements, short and long form;
- the IETF draft ``AI-Disclosure`` HTTP header modes.

Choices where the standards leave room (all documented where they are made):

- *Edits.* A record whose published body differs from the model's output is "human-edited"; its
  size is the share of published words that differ (:func:`edit_share`). An image a human edited
  (``aicraft edit-image``) is too; its size is the share of pixels that differ, and an edit that
  changed the size (a crop, a resize) is disclosed as such, counted as a stylistic edit.
- *Source type.* A trained model's output is ``trainedAlgorithmicMedia``; once a human edited it,
  ``compositeWithTrainedAlgorithmicMedia``. The offline provider (a Markov chain and procedural
  drawing, no training data) is ``algorithmicMedia`` whether edited or not: IPTC has no code for
  "algorithmic media with human edits" (``compositeSynthetic`` is about mixing several elements,
  ``humanEdits`` about non-generative edits of captured media), so the edit is disclosed by the
  edit share, the badge and the AIA statement instead of a different source type.
- *AIA.* See :func:`aia_statement` (items) and :attr:`PageDisclosure.level` (pages).
- *AI share of a page.* See :class:`PageDisclosure`.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any
from urllib.parse import urljoin

from aicraft import __version__
from aicraft.directives import Spec
from aicraft.errors import ConfigError
from aicraft.records import Record, is_sha256, sha256_text

# -- vocabularies ----------------------------------------------------------------------------

#: IPTC Digital Source Type vocabulary (note: ``http``, as IPTC publishes the URIs).
IPTC_DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
#: Made by a model trained on data: our text and image generations.
IPTC_TRAINED = IPTC_DIGITAL_SOURCE_TYPE + "trainedAlgorithmicMedia"
#: A trained model's output that a human then edited.
IPTC_COMPOSITE_TRAINED = IPTC_DIGITAL_SOURCE_TYPE + "compositeWithTrainedAlgorithmicMedia"
#: Made by an algorithm without training data: the offline provider.
IPTC_ALGORITHMIC = IPTC_DIGITAL_SOURCE_TYPE + "algorithmicMedia"
#: Edited by humans with non-generative tools.
IPTC_HUMAN_EDITS = IPTC_DIGITAL_SOURCE_TYPE + "humanEdits"
#: XMP namespace of the IPTC Extension schema (``Iptc4xmpExt:DigitalSourceType`` and friends).
IPTC_XMP_NS = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
#: C2PA's type for trained-model output that is not media; used for generated text.
C2PA_TRAINED_DATA = "http://c2pa.org/digitalsourcetype/trainedAlgorithmicData"

#: The value of ``Record.source_type`` for outputs of an algorithm without training data.
RECORD_ALGORITHMIC = "algorithmicMedia"

#: IPTC URI -> schema.org ``IPTCDigitalSourceEnumeration`` member (for JSON-LD).
SCHEMA_ORG_SOURCE_TYPES = {
    IPTC_TRAINED: "https://schema.org/TrainedAlgorithmicMediaDigitalSource",
    IPTC_COMPOSITE_TRAINED: "https://schema.org/CompositeWithTrainedAlgorithmicMediaDigitalSource",
    IPTC_ALGORITHMIC: "https://schema.org/AlgorithmicMediaDigitalSource",
}

#: W3C AI Content Disclosure CG draft values of the ``ai-disclosure`` attribute.
HUMAN_ONLY = "human-only"
#: A human reviewed it before publication.
AI_ASSISTED = "ai-assisted"
#: No human review.
AI_AUTONOMOUS = "ai-autonomous"
DISCLOSURE_VALUES = (HUMAN_ONLY, AI_ASSISTED, AI_AUTONOMOUS)

#: IBM AI Attribution statement version suffix.
AIA_VERSION = "v1.0"
#: The AIA statement of work without any AI.
AIA_NO_AI = f"AIA No AI {AIA_VERSION}"
#: Where the AIA vocabulary is explained (linked from the page footer).
AIA_INFO_URL = "https://aiattribution.github.io/"
#: Levels a page may declare in its ``authorship:`` front matter, with their reader-facing names.
AIA_LEVELS = {
    "EAI": "entirely AI",
    "PAI": "primarily AI",
    "HAb": "human-AI blend",
    "Ph": "primarily human",
    "none": "no AI",
}
#: The long-form words of every AIA code.
AIA_WORDS = {
    "EAI": "Entirely AI",
    "PAI": "Primarily AI",
    "HAb": "Human-AI blend",
    "Ph": "Primarily human",
    "Se": "Stylistic edits",
    "Ce": "Content edits",
    "Nc": "New content",
    "Hin": "Human-initiated",
    "Ain": "AI-initiated",
    "R": "Reviewed",
    "Nr": "Not reviewed",
}
#: Contribution codes in the order they are joined (``SeNc``).
AIA_CONTRIBUTIONS = ("Se", "Ce", "Nc")
#: Items: edited less than this share of words is still "primarily AI" (``PAI``), else ``HAb``.
AIA_PRIMARILY_AI_BELOW = 0.5
#: Items: edits below this share are stylistic (``Se``), from it on content edits (``Ce``).
AIA_CONTENT_EDITS_FROM = 0.2
#: Pages: an AI share of words above this is ``PAI`` (mirrors the item rule).
AIA_PAGE_PRIMARILY_AI_ABOVE = 0.5
#: Pages: an AI share of words from this up to ``AIA_PAGE_PRIMARILY_AI_ABOVE`` is ``HAb``;
#: below it ``Ph``.
AIA_PAGE_BLEND_FROM = 0.25
#: The share of a page's own prose counted as AI-written for each declared level.
DECLARED_AI_SHARE = {"EAI": 1.0, "PAI": 0.75, "HAb": 0.5, "Ph": 0.1, "none": 0.0}

#: IETF draft ``AI-Disclosure`` response header (draft-abaris-aicdh).
HEADER_NAME = "AI-Disclosure"
HEADER_NONE = "none"
HEADER_AI_MODIFIED = "ai-modified"
HEADER_AI_ORIGINATED = "ai-originated"
HEADER_MACHINE_GENERATED = "machine-generated"
HEADER_MODES = (HEADER_NONE, HEADER_AI_MODIFIED, HEADER_AI_ORIGINATED, HEADER_MACHINE_GENERATED)

#: Identifier and version of the ``ai-disclosures.json`` format (documented in the README).
LEDGER_SCHEMA = "urn:aicraft:schema:ai-disclosures:1"
LEDGER_SCHEMA_VERSION = "1.1"  # 1.1: pages' shown_from_other_pages
#: The C2PA state of an image that was not signed.
C2PA_NOT_SIGNED = "not signed"

# -- words, edits, review ----------------------------------------------------------------------

_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)


def words(text: str) -> list[str]:
    """The words of a text (for word counts and edit shares)."""
    return _WORD.findall(text)


@functools.lru_cache(maxsize=256)
def _edit_share(original: str, published: str) -> float:
    before, after = words(original), words(published)
    if before == after:
        return 0.0
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    return 1.0 - same / max(len(before), len(after), 1)


def edit_share(original: str, published: str) -> float:
    """Share (0..1) of the published words that differ from the original output."""
    return _edit_share(original, published)


def review_state(record: Record, content_sha256: str | None = None) -> tuple[str, str]:
    """``(status, human text)``: approved only when the approval matches what is published.

    Statuses: ``approved``, ``changed`` (approved, then edited), ``rejected``, ``pending``.
    An approval stores the sha256 of what was approved: the text as published, or the picked
    image file's bytes. For text the sha256 is computed here; for an image pass the file's
    ``content_sha256`` to check it (without it, the approval is taken as recorded, since this
    module reads no files). An approval without a sha256 binds to no content and is no
    approval: the item is ``pending``.
    """
    review = record.review or {}
    status = review.get("status") or "pending"
    if status == "approved":
        approved = review.get("sha256")
        if not is_sha256(approved):
            return "pending", "not yet reviewed"
        published = content_sha256
        if published is None and record.kind == "text":
            published = sha256_text(record.body)
        if published is not None and approved != published:
            return "changed", "changed since approval, not yet re-reviewed"
        who = review.get("by") or "an editor"
        when = _iso(review.get("at"))[:10]
        return "approved", f"reviewed by {who}" + (f" on {when}" if when else "")
    if status == "rejected":
        return "rejected", "rejected in review"
    return "pending", "not yet reviewed"


def is_reviewed(record: Record, content_sha256: str | None = None) -> bool:
    """Whether a human approved exactly what is published (see :func:`review_state`)."""
    return review_state(record, content_sha256)[0] == "approved"


def disclosure_value(record: Record, content_sha256: str | None = None) -> str:
    """W3C draft ``ai-disclosure``: ``ai-assisted`` once a human reviewed it, else autonomous."""
    return AI_ASSISTED if is_reviewed(record, content_sha256) else AI_AUTONOMOUS


def is_trained(record: Record) -> bool:
    """Whether the record comes from a model trained on data (not the offline algorithm)."""
    return record.source_type != RECORD_ALGORITHMIC


def measured_edit(record: Record) -> float | None:
    """How much a human changed (0..1): the share of the published words of a text, or of the
    pixels of an image; ``None`` when unedited or not measurable (an image edit that changed
    its size: a crop or a resize)."""
    if not record.edited:
        return None
    if record.kind == "image":
        changed = (record.image_edit or {}).get("changed")
        return None if changed is None else float(changed)
    return edit_share(record.original, record.body)


def edit_fraction(record: Record) -> float:
    """Share (0..1) of the published words (or image pixels) a human changed; 0.0 when not
    edited, and for a crop or resize, which changes no pixel's content (a stylistic edit)."""
    return measured_edit(record) or 0.0


def edit_percent_text(record: Record) -> str | None:
    """``"23%"`` for an edited record (``"under 1%"`` for a tiny edit), ``"cropped or
    resized"`` for an image edit that changed the size, None when unedited."""
    if not record.edited:
        return None
    share = measured_edit(record)
    return "cropped or resized" if share is None else _percent(share)


# -- one item ----------------------------------------------------------------------------------


def element_id(record: Record) -> str:
    """The HTML id of a rendered item (``ai-<key16>``)."""
    return f"ai-{record.short}"


def ledger_anchor(record_or_short: Record | str) -> str:
    """The id of an item's row on the ledger page (``ledger-<key16>``)."""
    short = record_or_short.short if isinstance(record_or_short, Record) else record_or_short
    return f"ledger-{short[:16]}"


def source_type_uri(record: Record) -> str:
    """The IPTC digital source type of the item as published.

    Trained model: ``trainedAlgorithmicMedia``, or ``compositeWithTrainedAlgorithmicMedia`` once
    a human edited the text. Offline provider: ``algorithmicMedia`` even when edited (no IPTC
    code fits better; the edit is disclosed by the edit share, badge and AIA statement).
    """
    if not is_trained(record):
        return IPTC_ALGORITHMIC
    return IPTC_COMPOSITE_TRAINED if record.edited else IPTC_TRAINED


def c2pa_source_type(record: Record) -> str:
    """The digital source type of the *creation* (a C2PA ``c2pa.created`` action).

    Trained-model text: C2PA's ``trainedAlgorithmicData`` (AI output that is not media); images:
    the IPTC URI; offline output: IPTC ``algorithmicMedia``. Human edits are later actions and do
    not change how the item was created, so this ignores them (unlike :func:`source_type_uri`).
    """
    if not is_trained(record):
        return IPTC_ALGORITHMIC
    return C2PA_TRAINED_DATA if record.kind == "text" else IPTC_TRAINED


def schema_org_source_type(record: Record) -> str:
    """The schema.org ``digitalSourceType`` member matching :func:`source_type_uri`."""
    return SCHEMA_ORG_SOURCE_TYPES[source_type_uri(record)]


def _item_contributions(record: Record) -> list[str]:
    if not record.edited:
        return ["Nc"]
    edit = "Ce" if edit_fraction(record) >= AIA_CONTENT_EDITS_FROM else "Se"
    return [edit, "Nc"]


def _item_level(record: Record) -> str:
    if not record.edited:
        return "EAI"
    return "PAI" if edit_fraction(record) < AIA_PRIMARILY_AI_BELOW else "HAb"


def _format_aia(
    level: str, contributions: Sequence[str], reviewed: bool, models: Sequence[str], long: bool
) -> str:
    review = "R" if reviewed else "Nr"
    model_text = ", ".join(m for m in models if m)
    if long:
        parts = [AIA_WORDS[level], *(AIA_WORDS[c] for c in contributions)]
        parts += [AIA_WORDS["Hin"], AIA_WORDS[review]]
        if model_text:
            parts.append(model_text)
        body = ", ".join(parts)
    else:
        parts = [level, "".join(contributions), "Hin", review]
        if model_text:
            parts.append(model_text)
        body = " ".join(parts)
    return f"AIA {body} {AIA_VERSION}"


def aia_statement(
    record: Record,
    long: bool = False,
    content_sha256: str | None = None,
    *,
    reviewed: bool | None = None,
) -> str:
    """The IBM AI Attribution statement of one item.

    - P: ``EAI`` unedited; ``PAI`` when a human changed less than 50 % of the words
      (:data:`AIA_PRIMARILY_AI_BELOW`); ``HAb`` from 50 % on.
    - C: ``Nc`` (the model made new content); when edited, ``Se`` (stylistic edits, under 20 %
      of the words, :data:`AIA_CONTENT_EDITS_FROM`) or ``Ce`` (content edits) before it:
      ``SeNc``, ``CeNc``. (This records the human edits of the new content, as the project's
      disclosure issue asks; IBM's own wording describes what the AI did.)
    - I: ``Hin``: a human wrote the directive's prompt.
    - R: ``R`` when an approval matches what is published, else ``Nr``.
    - the exact model id the provider reported.

    ``long`` gives the long form, e.g.
    ``AIA Entirely AI, New content, Human-initiated, Not reviewed, aicraft-markov-1 v1.0``.
    ``content_sha256``: see :func:`review_state`. ``reviewed``, when the caller already knows
    (from :func:`review_state` with the same ``content_sha256``), saves checking it again.
    """
    if reviewed is None:
        reviewed = is_reviewed(record, content_sha256)
    return _format_aia(
        _item_level(record), _item_contributions(record), reviewed, [record.model], long
    )


def badge_text(record: Record) -> str:
    """The badge that opens an item's credit.

    "AI-generated text/image" for trained models, "Machine-generated ..." for the offline
    algorithm, "AI-assisted text, human-edited N%" once a human edited it.
    """
    noun = "image" if record.kind == "image" else "text"
    percent = edit_percent_text(record)
    if percent is not None:
        percent = f"({percent})" if measured_edit(record) is None else percent
        return f"AI-assisted {noun}, human-edited {percent}"
    maker = "AI-generated" if is_trained(record) else "Machine-generated"
    return f"{maker} {noun}"


def picked_by_human(record: Record) -> bool:
    """Whether a human chose the published candidate.

    The engine publishes the first candidate; a different ``picked`` number, or a ``picked_by``
    entry in the record's review (for ``aicraft pick``), shows that a human chose.
    """
    return record.picked != 1 or bool((record.review or {}).get("picked_by"))


def candidates_text(record: Record) -> str | None:
    """``"candidate 2 of 3, chosen by Ed Itor"`` when there were candidates, else None.

    Until a human chose, it says so (``"candidate 1 of 3, not chosen by a human"``) instead of
    claiming a choice nobody made.
    """
    count = len(record.candidates)
    if count <= 1:
        return None
    if not picked_by_human(record):
        return f"candidate {record.picked} of {count}, not chosen by a human"
    who = (record.review or {}).get("picked_by") or "a human"
    return f"candidate {record.picked} of {count}, chosen by {who}"


def provider_name(record: Record) -> str:
    """The provider as readers should see it (its truthful label, else its name)."""
    return record.provider_label or record.provider


def credit_text(
    record: Record,
    label: str | None = None,
    content_sha256: str | None = None,
    *,
    review_text: str | None = None,
) -> str:
    """The credit as one line of plain text (JSON-LD ``creditText``, ledger, terminal).

    ``review_text``, when the caller already has it (the second value of
    :func:`review_state` with the same ``content_sha256``), saves checking the review again.
    """
    parts = [badge_text(record)]
    if label:
        parts.append(label)
    parts += [record.model, provider_name(record)]
    candidates = candidates_text(record)
    if candidates:
        parts.append(candidates)
    if review_text is None:
        review_text = review_state(record, content_sha256)[1]
    parts.append(review_text)
    return " · ".join(parts)


@dataclass(frozen=True)
class PublishedItem:
    """A record and where it is published.

    ``page_url`` is the page's URL as the site publishes it (relative to the site root, as
    MkDocs' ``page.url``, or absolute); ``element_id`` defaults to the rendered id
    ``ai-<key16>``. ``show_prompt`` is the resolved setting (directive, else site). For images,
    ``content_url`` is the published image file's URL and ``content_sha256`` its sha256 (for
    text both are derived from the record); ``c2pa`` is the image's C2PA validation state.
    """

    record: Record
    page_src: str = ""
    page_url: str = ""
    page_title: str = ""
    element_id: str = ""
    show_prompt: bool = True
    label: str | None = None
    alt: str | None = None
    caption: str | None = None
    c2pa: str = C2PA_NOT_SIGNED
    content_url: str | None = None
    content_sha256: str | None = None

    def __post_init__(self) -> None:
        if not self.element_id:
            object.__setattr__(self, "element_id", element_id(self.record))

    @classmethod
    def from_spec(
        cls,
        record: Record,
        spec: Spec,
        *,
        page_src: str = "",
        page_url: str = "",
        page_title: str = "",
        show_prompts: bool = True,
        c2pa: str = C2PA_NOT_SIGNED,
        content_url: str | None = None,
        content_sha256: str | None = None,
    ) -> PublishedItem:
        """The item of a directive: presentation options from its spec, prompts resolved."""
        return cls(
            record=record,
            page_src=page_src,
            page_url=page_url,
            page_title=page_title,
            show_prompt=spec.show_prompt if spec.show_prompt is not None else show_prompts,
            label=spec.label,
            alt=spec.alt,
            caption=spec.caption,
            c2pa=c2pa,
            content_url=content_url,
            content_sha256=content_sha256,
        )

    @property
    def url(self) -> str:
        """The item's own URL: ``page_url#element_id``."""
        return f"{self.page_url}#{self.element_id}"

    @functools.cached_property
    def review(self) -> tuple[str, str]:
        """``(status, human text)`` of the item's review (see :func:`review_state`)."""
        return review_state(self.record, self.content_sha256)

    @property
    def reviewed(self) -> bool:
        """Whether a human approved exactly what is published."""
        return self.review[0] == "approved"

    @property
    def disclosure_value(self) -> str:
        """The item's ``ai-disclosure`` value."""
        return AI_ASSISTED if self.reviewed else AI_AUTONOMOUS

    def aia(self, long: bool = False) -> str:
        """The item's AIA statement (see :func:`aia_statement`)."""
        return self._aia_long if long else self._aia_short

    @functools.cached_property
    def _aia_short(self) -> str:
        return aia_statement(self.record, False, reviewed=self.reviewed)

    @functools.cached_property
    def _aia_long(self) -> str:
        return aia_statement(self.record, True, reviewed=self.reviewed)

    @functools.cached_property
    def credit(self) -> str:
        """The item's credit as plain text (see :func:`credit_text`)."""
        return credit_text(self.record, self.label, review_text=self.review[1])

    @functools.cached_property
    def ai_words(self) -> int:
        """Words of this text item as the model wrote them (human-changed words excluded)."""
        if self.record.kind != "text":
            return 0
        return round(self.word_count * (1.0 - edit_fraction(self.record)))

    @functools.cached_property
    def word_count(self) -> int:
        """All published words of this item (0 for images)."""
        return len(words(self.record.body)) if self.record.kind == "text" else 0


def _setting(settings: Any, name: str) -> Any:
    if settings is None:
        return None
    if isinstance(settings, Mapping):
        return settings.get(name)
    return getattr(settings, name, None)


def _iso(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def ledger_entry(
    item: PublishedItem,
    settings: Any = None,
    file_sha256: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """One item of the ledger (``ai-disclosures.json``), every field of DISCLOSURE.md section 3.

    ``settings`` (a :class:`~aicraft.config.Settings` or a mapping) gives
    ``editorial_responsibility``. For an image without ``item.content_sha256``, ``file_sha256``
    is called with the image's file name. A private prompt (``show_prompt`` false) is ``null``;
    its sha256 is always given.
    """
    record = item.record
    image = record.kind == "image"
    if image:
        content_sha = item.content_sha256
        if content_sha is None and file_sha256 is not None:
            content_sha = file_sha256(record.published_image)
    else:
        content_sha = item.content_sha256 or sha256_text(record.body)
    measured = measured_edit(record) if record.edited else 0.0  # None: a crop or resize
    # The item's own review, AIA and credit hold unless an image's sha256 came from
    # ``file_sha256`` (for text, ``review_state`` hashes the body itself when not given it).
    same = not image or content_sha == item.content_sha256
    if same:
        state, state_text = item.review
        aia, aia_long, credit = item.aia(), item.aia(long=True), item.credit
    else:
        state, state_text = review_state(record, content_sha)
        reviewed = state == "approved"
        aia = aia_statement(record, False, reviewed=reviewed)
        aia_long = aia_statement(record, True, reviewed=reviewed)
        credit = credit_text(record, item.label, review_text=state_text)
    review = record.review or {}
    decided = state in ("approved", "rejected")
    return {
        "id": record.short,
        "key": record.key,
        "page": item.page_src,
        "page_url": item.page_url,
        "page_title": item.page_title,
        "element_id": item.element_id,
        "url": item.url,
        "kind": record.kind,
        "content_sha256": content_sha,
        "source_type": source_type_uri(record),
        "c2pa_source_type": c2pa_source_type(record),
        "ai_disclosure": AI_ASSISTED if state == "approved" else AI_AUTONOMOUS,
        "aia": aia,
        "aia_long": aia_long,
        "provider": record.provider,
        "provider_label": provider_name(record),
        "trained_model": is_trained(record),
        "model": record.model,
        "requested_model": record.requested_model,
        "prompt": record.prompt if item.show_prompt else None,
        "prompt_private": not item.show_prompt,
        "prompt_sha256": sha256_text(record.prompt),
        "system_prompt": record.system if item.show_prompt else None,
        "system_prompt_sha256": sha256_text(record.system) if record.system else None,
        "created": _iso(record.created) or None,
        "review_status": state,
        "review_text": state_text,
        "reviewed_by": review.get("by") if decided else None,
        "reviewed_at": (_iso(review.get("at")) or None) if decided else None,
        "editorial_responsibility": _setting(settings, "editorial_responsibility"),
        "human_edited": record.edited,
        "edit_share": None if measured is None else round(measured, 4),
        "candidates": max(len(record.candidates), 1),
        "picked": record.picked,
        "picked_by_human": picked_by_human(record) if len(record.candidates) > 1 else None,
        "label": item.label,
        "badge": badge_text(record),
        "credit": credit,
        "alt": item.alt if image else None,
        "caption": item.caption if image else None,
        "image": record.published_image if image else None,
        "image_url": item.content_url if image else None,
        "c2pa": item.c2pa if image else None,
    }


# -- one page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authorship:
    """A page's own declaration of AI use outside directives (``authorship:`` front matter).

    Either a string (the statement) or a mapping with ``statement`` and ``level`` (EAI, PAI,
    HAb, Ph or none), and optionally ``model`` (text or list), ``reviewed`` (a human reviewed
    the AI-made prose; default false) and ``contributions`` (AIA codes such as ``SeCe``;
    default ``Nc``).
    """

    statement: str = ""
    level: str | None = None
    models: tuple[str, ...] = ()
    reviewed: bool = False
    contributions: tuple[str, ...] = ("Nc",)

    @classmethod
    def parse(cls, value: Any) -> Authorship | None:
        """The declaration of a page's front matter value; None when there is none.

        Raises ConfigError for a value that is neither text nor a mapping, or an unknown level
        or contribution code.
        """
        if value is None or value == "" or value == {}:
            return None
        if isinstance(value, str):
            return cls(statement=value.strip())
        if not isinstance(value, Mapping):
            raise ConfigError(
                "'authorship' must be a text or a mapping with 'level' and 'statement'"
            )
        level = value.get("level")
        if level is not None:
            canonical = {k.lower(): k for k in AIA_LEVELS}
            level = canonical.get(str(level).strip().lower())
            if level is None:
                raise ConfigError(
                    f"'authorship' level {value.get('level')!r} is unknown; use one of "
                    + ", ".join(AIA_LEVELS)
                )
        models = value.get("model") or value.get("models") or ()
        if not isinstance(models, list | tuple):
            models = (models,)
        contributions = value.get("contributions") or ("Nc",)
        if isinstance(contributions, str):
            text = contributions.replace(" ", "")
            tokens = tuple(re.findall(r"[A-Z][a-z]", text))
            contributions = tokens if "".join(tokens) == text else (contributions,)
        elif not isinstance(contributions, list | tuple):
            contributions = (contributions,)
        unknown = [c for c in contributions if c not in AIA_CONTRIBUTIONS]
        if unknown:
            raise ConfigError(
                f"'authorship' contributions {unknown!r} are unknown; use Se, Ce and/or Nc"
            )
        statement = str(value.get("statement") or "").strip()
        if level is None and not statement:
            return None
        return cls(
            statement=statement,
            level=level,
            models=tuple(str(m) for m in models),
            reviewed=bool(value.get("reviewed", False)),
            contributions=tuple(c for c in AIA_CONTRIBUTIONS if c in contributions),
        )

    @property
    def meaning(self) -> str | None:
        """The level for readers ("entirely AI"), or None without a level."""
        return AIA_LEVELS.get(self.level) if self.level else None

    @property
    def ai_share(self) -> float | None:
        """The share of the page's prose counted as AI-written; None without a level."""
        return DECLARED_AI_SHARE.get(self.level) if self.level else None

    @property
    def declares_ai(self) -> bool:
        """Whether the declaration says AI wrote some of the prose."""
        return bool(self.level) and self.level != "none"


@dataclass(frozen=True)
class PageDisclosure:
    """What is AI-made on one page: its items and its own declaration.

    The AI share of words is ``(AI words of the AI text items + declared AI words of the
    prose) / (all words of the AI text items + the prose's words)``:

    - an AI text item counts the words the model wrote that are still published, i.e. its words
      times ``1 - edit share`` (the words a human changed are the human's);
    - the page's own prose (``prose_words``, outside directives) counts as AI-written by its
      declared level: EAI 100 %, PAI 75 %, HAb 50 %, Ph 10 %, none 0 %
      (:data:`DECLARED_AI_SHARE`); undeclared prose counts as human. A declaration without a
      level cannot be quantified: the prose counts as human and the share is a minimum
      (:attr:`share_is_minimum`);
    - images are items, not words.
    """

    items: tuple[PublishedItem, ...] = ()
    prose_words: int = 0
    authorship: Authorship | None = None
    page_src: str = ""
    page_url: str = ""
    title: str = ""

    # -- counts --------------------------------------------------------------------------------
    @property
    def counts(self) -> dict[str, int]:
        """Items by kind, e.g. ``{"text": 2, "image": 1}`` (kinds without items left out)."""
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.record.kind] = counts.get(item.record.kind, 0) + 1
        return counts

    @functools.cached_property
    def total_words(self) -> int:
        """All words of the page: its prose plus its AI text items."""
        return self.prose_words + sum(item.word_count for item in self.items)

    @functools.cached_property
    def ai_words(self) -> int:
        """Words counted as AI-written (see the class docstring)."""
        declared = self.authorship.ai_share if self.authorship else None
        prose = round(self.prose_words * declared) if declared else 0
        return prose + sum(item.ai_words for item in self.items)

    @property
    def share_is_minimum(self) -> bool:
        """Whether prose declared without a level may hold AI words the share cannot count."""
        return (
            self.authorship is not None and self.authorship.level is None and self.prose_words > 0
        )

    @functools.cached_property
    def ai_share(self) -> float | None:
        """AI words / all words; None when there are no words or nothing can be said."""
        if not self.items and (self.authorship is None or self.authorship.level is None):
            return None
        total = self.total_words
        if not total:
            return None
        return self.ai_words / total

    @property
    def models(self) -> list[str]:
        """Exact model ids of the items, then models the declaration names (no repeats)."""
        return list(self._models)

    @functools.cached_property
    def _models(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for model in [item.record.model for item in self.items] + list(
            self.authorship.models if self.authorship else ()
        ):
            if model:
                seen.setdefault(model, None)
        return tuple(seen)

    @functools.cached_property
    def review_counts(self) -> dict[str, int]:
        """Items by review status (``approved``, ``changed``, ``rejected``, ``pending``)."""
        counts: dict[str, int] = {}
        for item in self.items:
            state = item.review[0]
            counts[state] = counts.get(state, 0) + 1
        return counts

    @property
    def reviewed(self) -> int:
        """How many items a human approved as published."""
        return self.review_counts.get("approved", 0)

    @functools.cached_property
    def review_summary(self) -> str:
        """E.g. ``"2 of 3 reviewed"`` (with changed/rejected items named); "" without items."""
        total = len(self.items)
        if not total:
            return ""
        counts = self.review_counts
        if self.reviewed == total:
            text = "all reviewed" if total > 1 else "reviewed"
        elif not self.reviewed:
            text = "not yet reviewed" if total == 1 else f"none of {total} reviewed yet"
        else:
            text = f"{self.reviewed} of {total} reviewed"
        extra = []
        if counts.get("changed"):
            extra.append(f"{counts['changed']} changed since approval")
        if counts.get("rejected"):
            extra.append(f"{counts['rejected']} rejected")
        return text + (f" ({', '.join(extra)})" if extra else "")

    # -- attribution ---------------------------------------------------------------------------
    @property
    def _prose_is_ai(self) -> bool:
        return bool(self.authorship and self.authorship.declares_ai)

    @functools.cached_property
    def level(self) -> str | None:
        """The page's AIA proportion code, or None when it cannot be told.

        Without items it is the declared level (``none`` for "no AI"). With items, from the AI
        share of words ``s``: ``EAI`` when every word (or, with no words, every item) is AI-made
        and nothing was edited; ``PAI`` when ``s > 50 %`` (like an item edited less than half);
        ``HAb`` when ``25 % <= s <= 50 %``; ``Ph`` below. Each declared prose weight (EAI 100 %,
        PAI 75 %, HAb 50 %, Ph 10 %) falls in the band of its own level.
        """
        if not self.items:
            return self.authorship.level if self.authorship else None
        edited = any(item.record.edited for item in self.items)
        total = self.total_words
        if not edited and (not total or self.ai_words >= total):
            return "EAI"
        share = self.ai_words / total
        if share > AIA_PAGE_PRIMARILY_AI_ABOVE:
            return "PAI"
        if share >= AIA_PAGE_BLEND_FROM:
            return "HAb"
        return "Ph"

    @property
    def contributions(self) -> list[str]:
        """The AIA contribution codes of the items and the declared prose, in order."""
        return list(self._contributions)

    @functools.cached_property
    def _contributions(self) -> tuple[str, ...]:
        found: set[str] = set()
        for item in self.items:
            found.update(_item_contributions(item.record))
        if self._prose_is_ai and self.authorship:
            found.update(self.authorship.contributions)
        return tuple(c for c in AIA_CONTRIBUTIONS if c in found) or ("Nc",)

    @functools.cached_property
    def all_reviewed(self) -> bool:
        """Every item approved as published, and declared AI prose declared reviewed."""
        items_ok = all(item.reviewed for item in self.items)
        prose_ok = not self._prose_is_ai or bool(self.authorship and self.authorship.reviewed)
        return items_ok and prose_ok

    def aia(self, long: bool = False) -> str | None:
        """The page's AIA statement (``AIA No AI v1.0`` for a declared ``none``), or None."""
        return self._aia_long if long else self._aia_short

    def _aia(self, long: bool) -> str | None:
        level = self.level
        if level is None:
            return None
        if level == "none":
            return AIA_NO_AI
        return _format_aia(level, self._contributions, self.all_reviewed, self._models, long)

    @functools.cached_property
    def _aia_short(self) -> str | None:
        return self._aia(False)

    @functools.cached_property
    def _aia_long(self) -> str | None:
        return self._aia(True)

    @functools.cached_property
    def disclosure_value(self) -> str | None:
        """The ``ai-disclosure`` value that holds for the whole page, else None (mixed).

        Every part must agree: each item's own value, and the page's prose if it has any — as
        declared (``none``: human-only; EAI: ai-assisted when declared reviewed, else
        ai-autonomous; PAI/HAb/Ph: ai-assisted, a human wrote part of it), human-only when
        undeclared, unknown (so no page value) when declared without a level. A page of human
        prose with AI items is therefore mixed: the items carry their own attributes.
        """
        values = {item.disclosure_value for item in self.items}
        if self.prose_words > 0 or not self.items:
            prose = self._prose_value()
            if prose is None:
                return None
            values.add(prose)
        return values.pop() if len(values) == 1 else None

    def _prose_value(self) -> str | None:
        if self.authorship is None:
            return HUMAN_ONLY if self.items else None
        level = self.authorship.level
        if level is None:
            return None
        if level == "none":
            return HUMAN_ONLY
        if level == "EAI" and not self.authorship.reviewed:
            return AI_AUTONOMOUS
        return AI_ASSISTED

    @property
    def header_mode(self) -> str | None:
        """The IETF draft ``AI-Disclosure`` mode of the page, or None when it cannot be told.

        ``none`` (declared no AI, no items), ``machine-generated`` (entirely AI and nothing
        reviewed), ``ai-originated`` (entirely or primarily AI, with human edits or review),
        ``ai-modified`` (human-AI blend or primarily human).
        """
        level = self.level
        if level is None:
            return None
        if level == "none":
            return HEADER_NONE
        if level == "EAI":
            nothing_reviewed = not any(item.reviewed for item in self.items) and not (
                self._prose_is_ai and self.authorship and self.authorship.reviewed
            )
            return HEADER_MACHINE_GENERATED if nothing_reviewed else HEADER_AI_ORIGINATED
        if level == "PAI":
            return HEADER_AI_ORIGINATED
        return HEADER_AI_MODIFIED


def page_disclosure(
    items: Iterable[PublishedItem],
    prose_words: int = 0,
    authorship: Any = None,
    *,
    page_src: str = "",
    page_url: str = "",
    title: str = "",
) -> PageDisclosure | None:
    """The disclosure of one page, or None when it has no AI items and no declaration.

    ``prose_words`` is the word count (:func:`words`) of the page's own prose outside
    directives; ``authorship`` its front matter value (raw, or an :class:`Authorship`).
    """
    items = tuple(items)
    declared = authorship if isinstance(authorship, Authorship) else Authorship.parse(authorship)
    if not items and declared is None:
        return None
    return PageDisclosure(
        items=items,
        prose_words=max(int(prose_words), 0),
        authorship=declared,
        page_src=page_src,
        page_url=page_url,
        title=title,
    )


def _percent(share: float) -> str:
    value = round(share * 100)
    if value == 0 and share > 0:
        return "under 1%"
    if value == 100 and share < 1:
        return "over 99%"
    return f"{value}%"


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _models_text(page: PageDisclosure) -> str:
    """``gpt-4o-mini from OpenAI; aicraft-markov-1 from aicraft offline (...)``."""
    groups: dict[str, list[str]] = {}
    for item in page.items:
        models = groups.setdefault(provider_name(item.record), [])
        if item.record.model not in models:
            models.append(item.record.model)
    parts = [f"{_join(models)} from {provider}" for provider, models in groups.items()]
    item_models = {item.record.model for item in page.items}
    declared = [m for m in page.models if m not in item_models]
    if declared:
        parts.append(f"{_join(declared)} (declared by the page)")
    return "; ".join(parts)


def _share_text(page: PageDisclosure) -> str | None:
    share = page.ai_share
    if share is None:
        return None
    text = f"{_percent(share)} ({page.ai_words:,} of {page.total_words:,} words)"
    if page.share_is_minimum:
        return (
            f"at least {text}; the page's own prose is not counted, its declaration gives no level"
        )
    if page.authorship and page.authorship.meaning and page.prose_words:
        text += f", counting the page's own prose as declared ({page.authorship.meaning})"
    return text


def _authorship_html(authorship: Authorship) -> str:
    level = ""
    if authorship.meaning:
        level = f' <span class="aicraft-authorship-level">({escape(authorship.meaning)})</span>'
    statement = escape(authorship.statement) if authorship.statement else ""
    if not statement and not level:
        return ""
    return (
        '<p class="aicraft-banner-authorship"><strong>How this page was written:</strong> '
        f"{statement}{level}</p>"
    )


def banner_html(
    page: PageDisclosure | None, ledger_href: str | None = None, elsewhere: int = 0
) -> str:
    """The banner near the top of a page, summing up what on it is AI-made ("" for None).

    Items (by kind), the AI share of the words, the models, the review state, the page's
    authorship declaration, and a link to the ledger. Kept out of the search index.
    ``elsewhere``: AI-made things the page also shows from other pages (a listing's excerpts,
    a theme's credited thumbnails); a page declared free of AI is then not "No AI on this page".
    """
    if page is None:
        return ""
    facts: list[str] = []
    counts = page.counts
    if page.items:
        kinds = [
            _plural(n, "text passage" if kind == "text" else kind) for kind, n in counts.items()
        ]
        facts.append(
            f"{_plural(len(page.items), 'AI-made item')}, marked where they appear: {_join(kinds)}"
            if len(page.items) > 1
            else f"1 AI-made item, marked where it appears: {kinds[0]}"
        )
    has_ai = bool(page.items) or bool(page.authorship and page.authorship.declares_ai)
    share = _share_text(page)
    if share and has_ai:
        facts.append(f"AI share of the words: {share}")
    models = _models_text(page)
    if models:
        facts.append(f"Made with {models}")
    if page.items:
        facts.append(f"Editorial review: {page.review_summary}")
    if elsewhere > 0:
        has_ai = True
        facts.append(elsewhere_text(elsewhere))
    facts_html = "".join(f"<li>{escape(fact)}</li>" for fact in facts)
    if has_ai:
        title = "AI on this page"
    elif page.authorship and page.authorship.level == "none":
        title = "No AI on this page"
    else:
        title = "How this page was made"
    parts = [f'<p class="aicraft-banner-title"><strong>{title}</strong></p>']
    if facts_html:
        parts.append(f'<ul class="aicraft-banner-facts">{facts_html}</ul>')
    if page.authorship:
        parts.append(_authorship_html(page.authorship))
    if ledger_href:
        parts.append(
            f'<p class="aicraft-banner-link"><a href="{escape(ledger_href)}">'
            "How we use AI: the ledger</a></p>"
        )
    aia = page.aia()
    data = f' data-aia="{escape(aia)}"' if aia else ""
    share_value = page.ai_share
    if share_value is not None:
        data += f' data-ai-share="{share_value:.4f}"'
    if elsewhere > 0:
        data += f' data-ai-items-elsewhere="{elsewhere}"'
    return (
        '<aside class="aicraft-banner" data-search-exclude role="note" aria-label="AI disclosure"'
        f"{data}>{''.join(parts)}</aside>"
    )


def elsewhere_text(items: int) -> str:
    """The banner's words for AI-made things a page shows from other pages."""
    return (
        f"Shown from other pages (excerpts, pictures): {_plural(items, 'AI-made item')}, "
        f"each marked where {'it appears' if items == 1 else 'they appear'}"
    )


def listing_banner_html(items: int, ledger_href: str | None = None) -> str:
    """The banner of a page that only shows other pages' AI-made things (a blog index of
    excerpts, an archive, a cover of credited thumbnails): how many, each credited where it
    appears."""
    if items <= 0:
        return ""
    link = ""
    if ledger_href:
        link = (
            f' <a class="aicraft-banner-link" href="{escape(ledger_href)}">'
            "How we use AI: the ledger</a>"
        )
    return (
        '<aside class="aicraft-banner aicraft-banner--listing" data-search-exclude role="note" '
        f'aria-label="AI disclosure" data-ai-items="{items}">'
        '<p class="aicraft-banner-title"><strong>AI on this page</strong></p>'
        f"<p>{elsewhere_text(items)}.{link}</p></aside>"
    )


def place_banner(html: str, banner: str) -> str:
    """Insert the banner into a page's content HTML: right after the first ``<h1>`` when that
    comes before the first AI item, else at the very start (so always before the first item and
    never inside an admonition or tab that holds one)."""
    if not banner:
        return html
    end = html.find("</h1>")
    first = html.find('class="aicraft aicraft-')
    if end >= 0 and (first < 0 or end < first):
        end += len("</h1>")
        return html[:end] + banner + html[end:]
    return banner + html


def footer_html(page: PageDisclosure | None) -> str:
    """The page's AIA statement for the foot of the article (short form, long form as title)."""
    aia = page.aia() if page else None
    if not page or not aia:
        return ""
    long = page.aia(long=True) or aia
    return (
        f'<p class="aicraft-aia" data-search-exclude data-aia="{escape(aia)}">'
        f'<a href="{escape(AIA_INFO_URL)}" rel="noopener">AI Attribution</a>: '
        f'<abbr title="{escape(long)}">{escape(aia)}</abbr></p>'
    )


def shown_value(page: PageDisclosure | None, elsewhere: Sequence[str] = ()) -> str | None:
    """The ``ai-disclosure`` value that holds for everything a page shows, else None (mixed).

    ``elsewhere``: the values of what the page also shows from other pages (excerpts, a
    theme's thumbnails; "" where unknown): they must agree with the page's own value too.
    """
    value = page.disclosure_value if page else None
    if not value or any(other != value for other in elsewhere):
        return None
    return value


def meta_tag(page: PageDisclosure | None, elsewhere: Sequence[str] = ()) -> str:
    """``<meta name="ai-disclosure" content="...">`` when one value holds for all the page
    shows (:func:`shown_value`), else ""."""
    value = shown_value(page, elsewhere)
    if not value:
        return ""
    return f'<meta name="ai-disclosure" content="{escape(value)}">'


def ai_disclosure_header(page: PageDisclosure | None) -> str | None:
    """The value of the IETF draft ``AI-Disclosure`` header for a page (``mode=...``), or None."""
    mode = page.header_mode if page else None
    return f"mode={mode}" if mode else None


def headers_file(pages: Iterable[PageDisclosure], base_path: str = "/") -> str:
    """A ``_headers`` file (Netlify, Cloudflare Pages) setting ``AI-Disclosure`` per page.

    ``base_path`` is the site's path on its host; page URLs must be relative to the site root.
    """
    base = "/" + base_path.strip("/") + "/" if base_path.strip("/") else "/"
    blocks = []
    for page in pages:
        value = ai_disclosure_header(page)
        if value is None or "://" in page.page_url:
            continue
        path = base + page.page_url.lstrip("/")
        if any(ch in path for ch in "\r\n"):
            continue
        blocks.append(f"{path}\n  {HEADER_NAME}: {value}\n")
    return "".join(blocks)


# -- JSON-LD -----------------------------------------------------------------------------------


def script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` as ``\\u`` escapes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _absolute(site_url: str | None, url: str) -> str:
    if "://" in url:
        return url
    if site_url:
        return urljoin(site_url if site_url.endswith("/") else site_url + "/", url.lstrip("/"))
    return "/" + url.lstrip("/")


# An element id that ``urljoin`` keeps as written in a fragment (see :func:`_absolute_item`).
_PLAIN_FRAGMENT = re.compile(r"[A-Za-z0-9_-]+")


def _absolute_item(
    site_url: str | None, item: PublishedItem, page_url: str, page_absolute: str
) -> str:
    """``_absolute(site_url, item.url)``, from ``page_absolute`` (``_absolute(site_url,
    page_url)``) when the item is on that page.

    ``urljoin`` is slow next to everything else JSON-LD needs, and gives
    ``urljoin(base, page + "#" + id) == urljoin(base, page) + "#" + id`` when the page URL is
    not empty (after its leading slashes) and holds no ``#``, and the id is plain.
    """
    if (
        item.page_url == page_url
        and item.element_id
        and "#" not in page_url
        and page_url.lstrip("/")
        and _PLAIN_FRAGMENT.fullmatch(item.element_id)
    ):
        return f"{page_absolute}#{item.element_id}"
    return _absolute(site_url, item.url)


def _organization(name: str, url: str | None = None) -> dict[str, Any]:
    org: dict[str, Any] = {"@type": "Organization", "name": name}
    if url:
        org["url"] = url
    return org


def _person(author: str | Mapping[str, Any]) -> dict[str, Any] | None:
    if isinstance(author, str):
        name, url = author.strip(), None
    else:
        name, url = str(author.get("name") or "").strip(), author.get("url")
    if not name:
        return None
    person: dict[str, Any] = {"@type": "Person", "name": name}
    if isinstance(url, str) and url:
        person["url"] = url
    return person


def _software(record: Record) -> dict[str, Any]:
    return {
        "@type": "SoftwareApplication",
        "name": record.model,
        "provider": _organization(provider_name(record)),
    }


def json_ld(
    page: PageDisclosure | None,
    site_name: str,
    site_url: str | None = None,
    authors: Sequence[str | Mapping[str, Any]] = (),
    editor: str | None = None,
) -> str:
    """A ``<script type="application/ld+json">`` with the page as a schema.org ``Article``.

    The author is the human authors given (names, or mappings with ``name`` and ``url``, as in
    Material's blog ``.authors.yml``); without one, the organisation holding editorial
    responsibility (``editor``), else the site. A model is never an author: it is the
    ``creator`` (a ``SoftwareApplication``) of the AI parts only. AI images are
    ``associatedMedia`` ``ImageObject``s, AI text items ``hasPart`` ``CreativeWork``s, each with
    its ``digitalSourceType``. "" for None.
    """
    if page is None:
        return ""
    people = [p for p in (_person(a) for a in authors) if p]
    if not people:
        people = [_organization(editor or site_name, None if editor else site_url)]
    page_absolute = _absolute(site_url, page.page_url)
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": page.title or site_name,
        "url": page_absolute,
        "author": people,
        "publisher": _organization(editor or site_name, site_url),
    }
    if site_name:
        website: dict[str, Any] = {"@type": "WebSite", "name": site_name}
        if site_url:
            website["url"] = site_url
        doc["isPartOf"] = website
    if page.authorship and page.authorship.declares_ai:
        source = IPTC_TRAINED if page.authorship.level == "EAI" else IPTC_COMPOSITE_TRAINED
        doc["digitalSourceType"] = SCHEMA_ORG_SOURCE_TYPES[source]
    texts, images = [], []
    for item in page.items:
        record = item.record
        item_url = _absolute_item(site_url, item, page.page_url, page_absolute)
        part: dict[str, Any] = {
            "@type": "ImageObject" if record.kind == "image" else "CreativeWork",
            "@id": item_url,
            "url": item_url,
            "digitalSourceType": schema_org_source_type(record),
            "creditText": item.credit,
            "creator": _software(record),
        }
        if record.created:
            part["dateCreated"] = _iso(record.created)
        if record.kind == "image":
            if item.content_url:
                part["contentUrl"] = _absolute(site_url, item.content_url)
            if item.caption:
                part["caption"] = item.caption
            if item.alt:
                part["description"] = item.alt
            name = item.caption or item.label
            if name:
                part["name"] = name
            images.append(part)
        else:
            part["name"] = item.label or badge_text(record)
            texts.append(part)
    if texts:
        doc["hasPart"] = texts
    if images:
        doc["associatedMedia"] = images
    return f'<script type="application/ld+json">{script_json(doc)}</script>'


# -- site-wide: the ledger ---------------------------------------------------------------------


def methodology(settings: Any = None) -> str:
    """A short, honest statement of how the ledger is made."""
    responsible = _setting(settings, "editorial_responsibility")
    text = (
        "This ledger lists every item made through an aicraft generation directive (ai-text, "
        "ai-image) in this site's pages; aicraft does not detect AI use outside directives, "
        "which appears here only where a page declares it in its authorship front matter. "
        "Each item keeps its prompt (or, where prompts are private, the prompt's sha256), the "
        "exact model the provider reported and the time it was made. 'Human-edited N%' is the "
        "share of the published words that differ from the model's original output (a "
        "word-level comparison). A page's AI share of words counts the words of its AI text "
        "items still as the model wrote them, plus its own prose weighted by its declared "
        "level (entirely AI 100%, primarily AI 75%, human-AI blend 50%, primarily human 10%; "
        "undeclared prose counts as human); images are counted as items, not words. "
        "'Reviewed' means an editor approved exactly the published text or image; an approval "
        "stops counting as soon as the item changes. Items of aicraft's built-in offline "
        "provider are made by a Markov chain over the site's own pages and by procedural "
        "drawing code, not by a trained model, and are marked as algorithmic media."
    )
    if responsible:
        text += f" Editorial responsibility: {responsible}."
    return text


def page_summary(page: PageDisclosure, elsewhere: Sequence[str] = ()) -> dict[str, Any]:
    """A page's entry in ``ai-disclosures.json``; ``elsewhere`` as for :func:`shown_value`."""
    share = page.ai_share
    authorship = None
    if page.authorship:
        authorship = {
            "level": page.authorship.level,
            "statement": page.authorship.statement,
            "models": list(page.authorship.models),
            "reviewed": page.authorship.reviewed,
        }
    return {
        "url": page.page_url,
        "page": page.page_src,
        "title": page.title,
        "aia": page.aia(),
        "aia_long": page.aia(long=True),
        "ai_disclosure": shown_value(page, elsewhere),
        "ai_share": None if share is None else round(share, 4),
        "ai_share_is_minimum": page.share_is_minimum,
        "words": {"total": page.total_words, "ai": page.ai_words},
        "models": page.models,
        "review": page.review_summary,
        "authorship": authorship,
        "items": [item.record.short for item in page.items],
        "shown_from_other_pages": len(elsewhere),
    }


def _page_groups(
    entries: Sequence[Mapping[str, Any]], pages: Sequence[PageDisclosure]
) -> list[tuple[PageDisclosure | None, str, str, list[Mapping[str, Any]]]]:
    """``(page, url, title, entries)`` per page: the given pages first, then the rest."""
    by_url: dict[str, list[Mapping[str, Any]]] = {}
    titles: dict[str, str] = {}
    for entry in entries:
        url = str(entry.get("page_url") or "")
        by_url.setdefault(url, []).append(entry)
        titles.setdefault(url, str(entry.get("page_title") or entry.get("page") or url))
    groups: list[tuple[PageDisclosure | None, str, str, list[Mapping[str, Any]]]] = []
    seen: set[str] = set()
    for page in pages:
        seen.add(page.page_url)
        title = page.title or titles.get(page.page_url) or page.page_src or page.page_url
        groups.append((page, page.page_url, title, by_url.get(page.page_url, [])))
    for url, group in by_url.items():
        if url not in seen:
            groups.append((None, url, titles[url], group))
    return groups


def ledger_document(
    entries: Sequence[Mapping[str, Any]],
    settings: Any = None,
    generated_at: str | None = None,
    pages: Sequence[PageDisclosure] = (),
    elsewhere: Mapping[str, Sequence[str]] | None = None,
    listings: Sequence[tuple[str, str, str]] = (),
) -> dict[str, Any]:
    """The ``ai-disclosures.json`` document: versioned schema, methodology, items, pages.

    ``entries`` come from :func:`ledger_entry`; ``pages`` (optional) add each page's AIA
    statement, AI share and declaration, and declared-only pages; ``elsewhere`` (by page
    source path) what each page also shows from other pages (:func:`shown_value`);
    ``listings`` the ``(src, url, title)`` of pages with nothing of their own that show other
    pages' AI items (a blog index, an archive), listed after the others.
    ``generated_at`` is passed in (not read from the clock) so builds can be reproducible.
    """
    elsewhere = elsewhere or {}
    page_list = []
    for page, url, title, group in _page_groups(entries, pages):
        if page is not None:
            page_list.append(page_summary(page, elsewhere.get(page.page_src, ())))
        else:
            page_list.append(
                {
                    "url": url,
                    "page": group[0].get("page") if group else "",
                    "title": title,
                    "aia": None,
                    "aia_long": None,
                    "ai_disclosure": None,
                    "ai_share": None,
                    "ai_share_is_minimum": False,
                    "words": None,
                    "models": sorted({str(e.get("model")) for e in group}),
                    "review": None,
                    "authorship": None,
                    "items": [e.get("id") for e in group],
                    "shown_from_other_pages": 0,
                }
            )
    for src, url, title in listings:
        shown = elsewhere.get(src, ())
        values = set(shown)
        page_list.append(
            {
                "url": url,
                "page": src,
                "title": title,
                "aia": None,
                "aia_long": None,
                "ai_disclosure": values.pop() if len(values) == 1 and "" not in values else None,
                "ai_share": None,
                "ai_share_is_minimum": False,
                "words": None,
                "models": [],
                "review": None,
                "authorship": None,
                "items": [],
                "shown_from_other_pages": len(shown),
            }
        )
    return {
        "schema": LEDGER_SCHEMA,
        "schema_version": LEDGER_SCHEMA_VERSION,
        "generator": f"aicraft {__version__}",
        "generated": generated_at,
        "editorial_responsibility": _setting(settings, "editorial_responsibility"),
        "methodology": methodology(settings),
        "vocabularies": {
            "source_type": IPTC_DIGITAL_SOURCE_TYPE,
            "c2pa_source_type": "C2PA (http://c2pa.org/digitalsourcetype/) for text, else IPTC",
            "ai_disclosure": "W3C AI Content Disclosure Community Group draft: "
            + ", ".join(DISCLOSURE_VALUES),
            "aia": f"IBM AI Attribution {AIA_VERSION} ({AIA_INFO_URL})",
        },
        "items": [dict(entry) for entry in entries],
        "pages": page_list,
    }


def _default_href(page_url: str, fragment: str) -> str:
    return f"{page_url}#{fragment}" if fragment else page_url


def _edits_text(entry: Mapping[str, Any]) -> str:
    parts = []
    if entry.get("human_edited"):
        share = entry.get("edit_share")
        size = "(cropped or resized)" if share is None else _percent(float(share))
        parts.append(f"human-edited {size}")
    else:
        parts.append("none")
    candidates = int(entry.get("candidates") or 1)
    if candidates > 1:
        chosen = "chosen by a human" if entry.get("picked_by_human") else "not chosen by a human"
        parts.append(f"candidate {entry.get('picked')} of {candidates}, {chosen}")
    return "; ".join(parts)


def _prompt_cell(entry: Mapping[str, Any]) -> str:
    prompt = entry.get("prompt")
    if prompt is None:
        digest = str(entry.get("prompt_sha256") or "")
        return (
            f'<span class="aicraft-ledger-private" title="sha256 {escape(digest)}">'
            f"private (sha256 {escape(digest[:12])}…)</span>"
        )
    prompt = str(prompt)
    if len(prompt) <= 120 and "\n" not in prompt:
        return f"<code>{escape(prompt)}</code>"
    return (
        f"<details><summary>{escape(prompt[:80].splitlines()[0])}…</summary>"
        f'<pre class="aicraft-ledger-prompt"><code>{escape(prompt)}</code></pre></details>'
    )


def _row(entry: Mapping[str, Any], row_id: str, href: Callable[[str, str], str]) -> str:
    link = href(str(entry.get("page_url") or ""), str(entry.get("element_id") or ""))
    name = entry.get("label") or entry.get("caption") or f"{entry.get('kind')} {entry.get('id')}"
    kind = str(entry.get("kind") or "")
    if kind == "image":
        kind += f" (C2PA: {entry.get('c2pa') or C2PA_NOT_SIGNED})"
    model = f"<code>{escape(str(entry.get('model') or ''))}</code>"
    requested = entry.get("requested_model")
    if requested and requested != entry.get("model"):
        model += f" (requested {escape(str(requested))})"
    model += f"<br>{escape(str(entry.get('provider_label') or entry.get('provider') or ''))}"
    aia, aia_long = str(entry.get("aia") or ""), str(entry.get("aia_long") or "")
    cells = [
        f'<a href="{escape(link)}">{escape(str(name))}</a>',
        escape(kind),
        model,
        escape(str(entry.get("review_text") or entry.get("review_status") or "")),
        escape(_edits_text(entry)),
        f'<abbr title="{escape(aia_long)}">{escape(aia)}</abbr>',
        _prompt_cell(entry),
    ]
    key = escape(str(entry.get("key") or ""))
    return (
        f'<tr id="{escape(row_id)}" data-aicraft-ledger-key="{key}">'
        + "".join(f"<td>{cell}</td>" for cell in cells)
        + "</tr>"
    )


_LEDGER_HEAD = (
    "<thead><tr>"
    + "".join(
        f'<th scope="col">{name}</th>'
        for name in ("Item", "Kind", "Model", "Review", "Edits", "AI Attribution", "Prompt")
    )
    + "</tr></thead>"
)


def ledger_html(
    entries: Sequence[Mapping[str, Any]],
    pages: Sequence[PageDisclosure] = (),
    methodology_text: str | None = None,
    href: Callable[[str, str], str] | None = None,
) -> str:
    """The HTML body of the ledger page: methodology, then per page a heading and a table.

    Each row has ``id="ledger-<key16>"`` (``-2``, ``-3`` ... when a record is published more
    than once) and links to the item. ``href(page_url, fragment)`` makes link targets (the
    MkDocs adapter makes them relative to the ledger page); by default ``page_url#fragment``.
    The output has no blank lines, so Markdown keeps it as one raw HTML block.
    """
    href = href or _default_href
    out = ['<div class="aicraft-ledger">']
    if methodology_text:
        out.append(f'<p class="aicraft-ledger-methodology">{escape(methodology_text)}</p>')
    groups = _page_groups(entries, pages)
    if not groups:
        out.append('<p class="aicraft-ledger-empty">No AI-made items are published.</p>')
    used: dict[str, int] = {}
    for index, (page, url, title, group) in enumerate(groups, start=1):
        out.append(f'<section class="aicraft-ledger-page" id="ledger-page-{index}">')
        out.append(f'<h2><a href="{escape(href(url, ""))}">{escape(title)}</a></h2>')
        facts = []
        if page is not None:
            aia = page.aia()
            if aia:
                long = page.aia(long=True) or aia
                facts.append(f'<abbr title="{escape(long)}">{escape(aia)}</abbr>')
            share = _share_text(page)
            if share:
                facts.append(escape(f"AI share: {share}"))
            if page.authorship:
                declared = " ".join(
                    part
                    for part in (
                        page.authorship.statement,
                        f"({page.authorship.meaning})" if page.authorship.meaning else "",
                    )
                    if part
                )
                if declared:
                    facts.append(escape(f"Declared: {declared}"))
        if facts:
            out.append(f'<p class="aicraft-ledger-page-facts">{" · ".join(facts)}</p>')
        if group:
            rows = []
            for entry in group:
                anchor = ledger_anchor(str(entry.get("id") or ""))
                used[anchor] = used.get(anchor, 0) + 1
                row_id = anchor if used[anchor] == 1 else f"{anchor}-{used[anchor]}"
                rows.append(_row(entry, row_id, href))
            out.append(
                f'<table class="aicraft-ledger-table">{_LEDGER_HEAD}'
                f"<tbody>{''.join(rows)}</tbody></table>"
            )
        else:
            out.append('<p class="aicraft-ledger-none">No generated items on this page.</p>')
        out.append("</section>")
    out.append("</div>")
    return "\n".join(out)


#: The columns of :func:`ledger_csv`, in order.
CSV_COLUMNS = (
    "id", "page", "page_url", "element_id", "url", "kind", "model", "requested_model",
    "provider", "provider_label", "source_type", "c2pa_source_type", "ai_disclosure", "aia",
    "review_status", "reviewed_by", "reviewed_at", "editorial_responsibility", "human_edited",
    "edit_share", "candidates", "picked", "picked_by_human", "label", "alt", "caption", "image",
    "c2pa", "created", "content_sha256", "prompt_private", "prompt", "prompt_sha256", "key",
)  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def _csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text, never evaluates.

    Prompts, labels and model ids are untrusted: one reading ``=HYPERLINK(...)`` would be run by
    Excel or LibreOffice. Such text gets a leading ``'`` (OWASP's advice), numbers stay numbers.
    """
    cell = _cell(value)
    if cell.startswith(_FORMULA_START) and not isinstance(value, (int, float)):
        return "'" + cell
    return cell


def ledger_csv(entries: Iterable[Mapping[str, Any]]) -> str:
    """The ledger as CSV: a header row (:data:`CSV_COLUMNS`), then one row per item.

    Text that a spreadsheet would run as a formula is prefixed with ``'`` (see
    :func:`_csv_cell`); the JSON ledger keeps every value exactly.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow([_csv_cell(entry.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue()


_TABLE_COLUMNS = (
    ("ID", "id", 16),
    ("PAGE", "url", 44),
    ("KIND", "kind", 5),
    ("MODEL", "model", 28),
    ("REVIEW", "review_status", 8),
    ("EDITED", "edit_share", 6),
    ("AIA", "aia", 60),
)


def _table_value(entry: Mapping[str, Any], key: str) -> str:
    if key == "edit_share":
        if not entry.get("human_edited"):
            return "-"
        share = entry.get(key)
        return "size" if share is None else _percent(float(share))
    return " ".join(_cell(entry.get(key)).split())


def ledger_table(entries: Sequence[Mapping[str, Any]]) -> str:
    """The ledger as plain-text columns for a terminal (long values cut with an ellipsis)."""
    if not entries:
        return "No AI-made items.\n"
    rows = [[_table_value(entry, key) for _, key, _ in _TABLE_COLUMNS] for entry in entries]
    widths = []
    for index, (title, _, limit) in enumerate(_TABLE_COLUMNS):
        widths.append(min(max([len(title)] + [len(row[index]) for row in rows]), limit))

    def line(values: Sequence[str]) -> str:
        cells = []
        for value, width in zip(values, widths, strict=True):
            if len(value) > width:
                value = value[: width - 1] + "…"
            cells.append(value.ljust(width))
        return "  ".join(cells).rstrip()

    lines = [line([title for title, _, _ in _TABLE_COLUMNS])]
    lines += [line(row) for row in rows]
    return "\n".join(lines) + "\n"


__all__ = [
    "AIA_LEVELS",
    "AIA_NO_AI",
    "AIA_WORDS",
    "AI_ASSISTED",
    "AI_AUTONOMOUS",
    "C2PA_TRAINED_DATA",
    "CSV_COLUMNS",
    "HEADER_MODES",
    "HEADER_NAME",
    "HUMAN_ONLY",
    "IPTC_ALGORITHMIC",
    "IPTC_COMPOSITE_TRAINED",
    "IPTC_TRAINED",
    "IPTC_XMP_NS",
    "LEDGER_SCHEMA",
    "LEDGER_SCHEMA_VERSION",
    "SCHEMA_ORG_SOURCE_TYPES",
    "Authorship",
    "PageDisclosure",
    "PublishedItem",
    "ai_disclosure_header",
    "aia_statement",
    "badge_text",
    "banner_html",
    "c2pa_source_type",
    "candidates_text",
    "credit_text",
    "disclosure_value",
    "edit_fraction",
    "edit_percent_text",
    "edit_share",
    "element_id",
    "elsewhere_text",
    "footer_html",
    "headers_file",
    "json_ld",
    "ledger_anchor",
    "ledger_csv",
    "ledger_document",
    "ledger_entry",
    "ledger_html",
    "ledger_table",
    "measured_edit",
    "meta_tag",
    "methodology",
    "page_disclosure",
    "page_summary",
    "place_banner",
    "review_state",
    "schema_org_source_type",
    "shown_value",
    "source_type_uri",
    "words",
]
