"""Small value types shared by the mail parser, the calendar reader and matching."""

from __future__ import annotations

from dataclasses import dataclass


class MailTooLarge(ValueError):
    """The message is over the size cap."""


class MailUnreadable(ValueError):
    """Not a mail message or calendar file we can read."""


class MailRefused(Exception):
    """The drop will not take this mail (a stranger, a deal the sender may not see)."""

    def __init__(self, message: str, *, smtp_code: int = 550):
        super().__init__(message)
        self.smtp_code = smtp_code


@dataclass(slots=True)
class Person:
    name: str
    address: str  # lower-cased addr-spec

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address
