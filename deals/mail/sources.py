"""Split an uploaded or imported file (.eml, .mbox, .ics) into raw messages."""

from __future__ import annotations

import mailbox
import os
import re
from collections.abc import Iterator
from pathlib import Path

from .parsing import MAX_MESSAGE_BYTES
from .types import MailTooLarge, MailUnreadable

KINDS = (".eml", ".mbox", ".ics")
_FROM_ESCAPE = re.compile(rb"(?m)^>(>*From )")


def file_kind(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix == ".mbx":
        return ".mbox"
    if suffix not in KINDS:
        raise MailUnreadable(f"Expected an .eml, .mbox or .ics file, not {suffix or name!r}.")
    return suffix


def read_capped(path: str | os.PathLike) -> bytes:
    size = os.path.getsize(path)
    if size > MAX_MESSAGE_BYTES:
        raise MailTooLarge(f"{Path(path).name} is larger than {MAX_MESSAGE_BYTES} bytes.")
    return Path(path).read_bytes()


def raw_messages(path: str | os.PathLike, kind: str) -> Iterator[bytes | Exception]:
    """Each message's bytes, one at a time (an mbox is never read whole into memory);
    a message over the cap is yielded as its error, so the others still import."""
    if kind != ".mbox":
        try:
            yield read_capped(path)
        except MailTooLarge as exc:
            yield exc
        return
    box = mailbox.mbox(os.fspath(path), create=False)
    try:
        for key in box.iterkeys():
            # The mailbox module's own table of contents: sizes without reading messages.
            start, stop = box._toc[key]  # type: ignore[attr-defined]
            if stop - start > MAX_MESSAGE_BYTES:
                yield MailTooLarge(f"message {key + 1} is over the size cap")  # type: ignore[operator]
                continue
            # mboxrd escapes body lines starting "From " as ">From "; undo one level.
            yield _FROM_ESCAPE.sub(rb"\1", box.get_bytes(key, from_=False))
    finally:
        box.close()
