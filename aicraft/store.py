"""The generation store: one Markdown record per key, images beside it.

Records live in ``<store>/<key16>.md``; image files in ``<store>/<key16>.png`` and
``<key16>-2.png``, ... Every write is atomic (temporary file in the same directory, fsync,
rename), images before their record, so a record on disk always has its images and a crash
never leaves a half-written file where a record is expected.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from aicraft.errors import StoreError
from aicraft.records import Record, is_key

_RECORD_NAME = re.compile(r"[0-9a-f]{16}\.md")
_IMAGE_NAME = re.compile(r"[0-9a-f]{16}(?:-[0-9]{1,2}|-edited)?\.(?:png|webp|jpg)")
#: Flags that open a store file without following a symbolic link, blocking on a FIFO or
#: leaking the descriptor into a child process (each is 0 where the platform lacks it).
_SAFE_OPEN = (
    getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
#: What open() with O_NOFOLLOW fails with on a symbolic link (ELOOP; EMLINK on FreeBSD).
_LINK_ERRNOS = (errno.ELOOP, errno.EMLINK)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def image_name(key: str, index: int, ext: str = "png") -> str:
    """The file name of candidate ``index`` (1-based) of an image record."""
    suffix = "" if index == 1 else f"-{index}"
    return f"{key[:16]}{suffix}.{ext}"


class Store:
    """Records by key in one directory. Thread-safe; reads are memoised per key."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self._cache: dict[str, Record | None] = {}
        self._lock = threading.Lock()
        #: Parses record front matter; set a :class:`~aicraft.cache.ParseCache`'s ``parse``
        #: to reuse what earlier builds parsed.
        self.parse: Callable[[str], Any] | None = None

    def record_path(self, key: str) -> Path:
        """Where the record of ``key`` lives."""
        if not is_key(key):
            raise StoreError(f"not a record key: {key!r}")
        return self.root / f"{key[:16]}.md"

    def file_path(self, name: str) -> Path:
        """Path of an image file of the store.

        Refuses a name that could leave the store (only ``<key16>[-N].png/.webp/.jpg`` are
        store file names) and a file that is a symbolic link: a link committed in place of an
        image would publish a file from anywhere on the machine that builds the site.
        """
        _check_image_name(name)
        path = self.root / name
        if path.is_symlink():
            raise StoreError(_symlink_message(path))
        return path

    def read_file(self, name: str) -> bytes:
        """The bytes of the store image ``name``, never through a symbolic link.

        Like :meth:`file_path`, and the file is opened with ``O_NOFOLLOW`` and must be a
        regular file, so a link swapped in after the check is refused too.
        """
        path = self.file_path(name)
        try:
            fd = os.open(path, os.O_RDONLY | _SAFE_OPEN)
        except OSError as exc:
            if exc.errno in _LINK_ERRNOS:
                raise StoreError(_symlink_message(path)) from None
            raise StoreError(f"{path}: cannot be read: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise StoreError(
                    f"{path}: not a regular file; replace it with the image file from version "
                    "control"
                )
            return handle.read()

    def get(self, key: str) -> Record | None:
        """The record of ``key``, or ``None``. A broken or mismatched file raises StoreError."""
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        path = self.record_path(key)
        record: Record | None = None
        if path.is_file():
            record = self._read(path)
            if record.key != key:
                raise StoreError(
                    f"{path}: its key {record.key[:16]}… does not match its file name; "
                    "restore the file from version control or delete it to regenerate"
                )
            self._check_images(path, record)
        with self._lock:
            self._cache[key] = record
        return record

    def _check_images(self, path: Path, record: Record) -> None:
        """Each image of ``record`` is in the store, is an image (by its header: no pixel is
        decoded) and, when the record pins its bytes, is the very file the model made."""
        from aicraft.images import ImageError, read_header

        pinned = record.image_sha256()
        for name in record.image_files:
            try:
                image = self.file_path(name)
            except StoreError as exc:
                raise StoreError(f"{path}: its image {name!r} cannot be used: {exc}") from None
            if not image.is_file():
                raise StoreError(
                    f"{path}: its image {name} is missing from the store; restore it from "
                    "version control, or delete the record and run `aicraft generate`"
                )
            source: bytes | Path = image
            if name in pinned:
                source = self.read_file(name)
                if hashlib.sha256(source).hexdigest() != pinned[name]:
                    made = (
                        "the human edit recorded"
                        if record.image_edit and name == record.image_edit["file"]
                        else "the image the model made"
                    )
                    raise StoreError(
                        f"{path}: its image {name} is not {made} (its sha256 differs from the "
                        "one the record keeps). A changed image cannot be published unless "
                        "its edit is disclosed: restore it from version control and edit the "
                        f"image with `aicraft edit-image {record.short} FILE`, or delete the "
                        "record and its images and run `aicraft generate`"
                    )
            try:
                read_header(source)
            except ImageError as exc:
                raise StoreError(
                    f"{path}: its image {name} is broken ({exc}); restore it from version "
                    "control, or delete the record and run `aicraft generate`"
                ) from None

    def read_short(self, short: str) -> Record:
        """Read the record file ``<short>.md`` (16 hex digits), whatever its key."""
        path = self.root / f"{short}.md"
        if not _RECORD_NAME.fullmatch(path.name) or not path.is_file():
            raise StoreError(f"no record file {path.name} in {self.root}")
        return self._read(path)

    def _read(self, path: Path) -> Record:
        # Bytes, decoded: read_text's universal newlines would turn a model's CR or CRLF in
        # the body into LF, and the record would then read as human-edited.
        if not path.is_file():  # a FIFO or a folder named like a record: never block on it
            raise StoreError(
                f"{path}: not a regular file; delete it, or restore the record from version control"
            )
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise StoreError(
                f"{path}: not UTF-8 text; restore the file from version control, or delete it "
                "and run `aicraft generate` to regenerate the item"
            ) from None
        except OSError as exc:
            raise StoreError(f"{path}: cannot be read: {exc.strerror}") from None
        return Record.loads(text, str(path), self.parse)

    def put(self, record: Record, images: dict[str, bytes] | None = None) -> Path:
        """Write a record (and its image files first), atomically."""
        for name, data in (images or {}).items():
            # Not file_path(): the rename replaces a symbolic link of that name, never its target.
            _check_image_name(name)
            atomic_write(self.root / name, data)
        path = self.record_path(record.key)
        atomic_write(path, record.dumps().encode("utf-8"))
        with self._lock:
            self._cache[record.key] = record
        return path

    def remove_image(self, name: str) -> None:
        """Delete the store image ``name`` (a store file name only; gone already is fine)."""
        _check_image_name(name)
        (self.root / name).unlink(missing_ok=True)

    def forget(self, key: str) -> None:
        """Drop the memoised read of ``key`` (after an outside change)."""
        with self._lock:
            self._cache.pop(key, None)

    def short_keys(self) -> list[str]:
        """Short keys (16 hex digits) of every record file present."""
        if not self.root.is_dir():
            return []
        return sorted(p.name[:16] for p in self.root.iterdir() if _RECORD_NAME.fullmatch(p.name))

    def records(self) -> tuple[list[Record], list[StoreError]]:
        """Every readable record, and an error for each file that is not."""
        found: list[Record] = []
        errors: list[StoreError] = []
        for short in self.short_keys():
            path = self.root / f"{short}.md"
            try:
                record = self._read(path)
            except StoreError as exc:
                errors.append(exc)
                continue
            if record.short != short:
                errors.append(
                    StoreError(
                        f"{path}: its key does not match its file name; restore the file from "
                        "version control or delete it to regenerate"
                    )
                )
                continue
            found.append(record)
        return found, errors

    def _remove_stale_temporaries(self) -> None:
        """Delete temporary files left by a killed writer (only called under the lock)."""
        for path in self.root.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                path.unlink()

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's lock file, so that two generating processes take turns.

        ``<store>/.lock`` is opened without following a symbolic link and must be a regular
        file: a link committed in its place cannot make aicraft create a file elsewhere.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / ".lock"
        fix = "delete it (aicraft creates it when needed; keep it out of version control)"
        if path.is_symlink():  # O_NOFOLLOW below is the real guard; this one also on Windows
            raise StoreError(f"{path}: the lock file is a symbolic link; {fix}")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | _SAFE_OPEN, 0o666)
        except OSError as exc:
            if exc.errno in _LINK_ERRNOS:
                raise StoreError(f"{path}: the lock file is a symbolic link; {fix}") from None
            raise StoreError(f"{path}: cannot open the lock file: {exc.strerror}; {fix}") from None
        handle = os.fdopen(fd, "r+b")
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise StoreError(f"{path}: the lock file is not a regular file; {fix}")
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows: no advisory lock
                yield
                return
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            self._remove_stale_temporaries()
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        finally:
            handle.close()


def _check_image_name(name: object) -> None:
    """A StoreError unless ``name`` is a store image's file name (so it cannot leave the store)."""
    if not isinstance(name, str) or not _IMAGE_NAME.fullmatch(name):
        raise StoreError(
            f"not a store file name: {name!r} (store images are named <key16>.png, "
            "<key16>-N.png or <key16>-edited.png, .webp or .jpg, in the store folder); "
            "correct the record's 'original', 'candidates' and 'image_edit', or restore it "
            "from version control"
        )


def _symlink_message(path: Path) -> str:
    """Why a store image that is a symbolic link is refused, and what to do."""
    return (
        f"{path} is a symbolic link; a store image must be a regular file in the store. "
        "Replace the link with the image file from version control"
    )
