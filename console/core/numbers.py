"""Caller-number normalisation (pure): one canonical form per phone for lookups."""

from __future__ import annotations

import re

_URI = re.compile(r"^(?:sips?:|tel:)?([^@;>]+)")
# ITU-T E.164: at most 15 digits after the '+', country code never starting with 0.
E164_MAX_DIGITS = 15


class ImplausibleNumber(ValueError):
    """The number has digits but cannot be an E.164 number; ``kept`` is it as it came."""

    def __init__(self, raw: str, kept: str) -> None:
        super().__init__(raw)
        self.kept = kept


def extract_user(value: str) -> str:
    """The user part of a SIP/tel URI or a plain number."""
    text = value.strip()
    if "<" in text:
        text = text[text.index("<") + 1 :]
    m = _URI.match(text)
    return m.group(1).strip() if m else text


def normalize(raw: str, country_code: str = "86") -> str:
    """Canonical number: '+<cc><national>' for public numbers, bare digits for extensions.

    Accepts +86 / 0086 / 86 prefixes, 0-prefixed trunk codes (010-1234 5678), 11-digit
    mobiles and short internal extensions. Raises ValueError when nothing usable is left,
    and its subclass ImplausibleNumber when the digits cannot form an E.164 number (more
    than 15 digits, country code 0): prefixing such a number would invent a wrong one.
    """
    user = extract_user(raw)
    number = _canonical(user, raw, country_code)
    if number.startswith("+") and (len(number) - 1 > E164_MAX_DIGITS or number[1] == "0"):
        raise ImplausibleNumber(raw, user.strip()[:64])
    return number


def _canonical(user: str, raw: str, country_code: str) -> str:
    """The '+<cc>...' or bare form of the user part, before the E.164 plausibility check."""
    plus = user.startswith("+")
    digits = re.sub(r"[^0-9]", "", user)
    if not digits:
        raise ValueError(raw)
    if plus:
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if len(digits) <= 6:
        return digits  # internal extension
    cc = country_code
    if cc == "86":
        if len(digits) == 11 and digits.startswith("1"):
            return "+86" + digits  # mobile
        if len(digits) == 13 and digits.startswith("861"):
            return "+" + digits
        if digits.startswith("0") and 10 <= len(digits) <= 12:
            return "+86" + digits[1:]  # landline with trunk prefix
        if len(digits) in (7, 8):
            return digits  # local landline without area code: keep as dialled
        return "+" + digits if digits.startswith(cc) else "+86" + digits
    if digits.startswith("0"):
        return "+" + cc + digits[1:]
    return "+" + cc + digits if not digits.startswith(cc) else "+" + digits


def mask(number: str) -> str:
    """A number with its middle digits hidden, for roles that do not need it."""
    if len(number) <= 6:
        return number
    return number[:-8] + "****" + number[-4:] if len(number) > 8 else number[:2] + "****"
