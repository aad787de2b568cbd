"""Text as the FEC takes it: printable ASCII, trimmed to each field's length.

Names are transliterated, never dropped: `José Núñez` becomes `Jose Nunez`, `Łukasz` `Lukasz`,
`Дмитрий` `Dmitriy`. The standard library's decomposition (NFKD) handles accents only; letters
such as ß, Ł, Ø and whole non-Latin scripts need a table, which `anyascii` provides.
"""

from __future__ import annotations

import re
import unicodedata

# The FEC's lengths (fecfile-validate's INDIVIDUAL_RECEIPT and INDIVIDUAL_REFUNDS schemas).
LAST_NAME = 30
FIRST_NAME = 20
MIDDLE_NAME = 20
STREET = 34
CITY = 30
STATE = 2
ZIP = 9
EMPLOYER = 38
OCCUPATION = 38
PURPOSE = 100
MEMO = 100
# What the FEC expects when a donor did not give employer or occupation despite best efforts.
INFORMATION_REQUESTED = "INFORMATION REQUESTED"

_NOT_PRINTABLE = re.compile(r"[^ -~]")


def ascii_text(value: str | None) -> str:
    """`value` in printable ASCII with single spaces; never empty when `value` has a letter."""
    if not value:
        return ""
    from anyascii import anyascii

    text = anyascii(unicodedata.normalize("NFC", value))
    text = " ".join(_NOT_PRINTABLE.sub(" ", text).split())
    if not text and value.strip():
        # A character with no transliteration at all: keep a mark rather than drop the name.
        text = "?"
    return text


def fit(value: str | None, length: int) -> str:
    """ASCII, cut to `length` characters (a trailing space left by the cut is removed)."""
    return ascii_text(value)[:length].rstrip()


def wrap(text: str, length: int) -> tuple[str, str]:
    """`text` split into what fits in `length` (at a space if there is one) and the rest."""
    if len(text) <= length:
        return text, ""
    cut = text.rfind(" ", 0, length + 1)
    if cut <= 0:
        cut = length
    return text[:cut].rstrip(), text[cut:].strip()


def first_and_middle(first_name: str) -> tuple[str, str | None]:
    """A first name over the FEC's 20 characters keeps its first words; the rest go to the
    middle name (`Maria Guadalupe Fernanda` → `Maria Guadalupe`, `Fernanda`)."""
    first, rest = wrap(ascii_text(first_name), FIRST_NAME)
    return first, (rest[:MIDDLE_NAME].rstrip() or None)


def last_name(value: str) -> str:
    """A last name in ASCII, cut to the FEC's 30 characters."""
    return fit(value, LAST_NAME)


def streets(line1: str, line2: str | None) -> tuple[str, str | None]:
    """Street lines of 34 characters: the apartment line is street 2, and a street 1 that is
    too long carries over to the front of street 2 instead of losing its end."""
    first, overflow = wrap(ascii_text(line1), STREET)
    second = " ".join(part for part in (overflow, ascii_text(line2)) if part)
    return first, (second[:STREET].rstrip() or None)


def zip_code(value: str) -> str:
    """5 or 9 digits as given (ZIP+4 kept, its hyphen dropped)."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) in (5, 9):
        return digits
    return fit(value, ZIP)


def state(value: str) -> str:
    """A two-letter state code in capitals."""
    return fit(value, STATE).upper()


def employer_or_occupation(value: str | None, length: int) -> str:
    """As the donor gave it, or the FEC's `INFORMATION REQUESTED` when it is missing or a
    placeholder the FEC rejects (`N/A`, `None`, initials): never the placeholder itself."""
    from chalicelib.compliance.best_efforts import is_placeholder

    if is_placeholder(value):
        return INFORMATION_REQUESTED
    return fit(value, length) or INFORMATION_REQUESTED
