"""What every reading step shares: file and cell errors, formula prefixes, date formats."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection");
# tab and carriage return are included because Excel strips them and reads what follows.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Our own export escapes such cells with a leading single quote; reading them back undoes it.
ESCAPE_PREFIX = "'"
PHONE_RE = re.compile(r"^\+?[\d\s().\-/]{3,}(\s*(x|ext\.?)\s*\d+)?$", re.IGNORECASE)

DATE_FORMATS = {
    "iso": "ISO, year first (2026-12-31)",
    "dmy": "Day first (31/12/2026)",
    "mdy": "Month first (12/31/2026)",
}


class ImportFileError(Exception):
    """The file as a whole cannot be read (size, encoding, no header): nothing is imported."""

    def __init__(self, message: str, field: str = "file"):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_validation_error(self) -> ValidationError:
        return ValidationError({self.field: [self.message]})


class CellError(Exception):
    """One cell is unusable; the message says why in plain words."""
