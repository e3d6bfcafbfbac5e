"""PII detection: checksummed pattern detectors plus libphonenumber for phone numbers.

Detected types: ``email``, ``phone`` (phonenumbers' ``PhoneNumberMatcher``, VALID leniency,
default region US), ``credit_card`` (13–19 digits with a known issuer prefix and a valid Luhn
checksum), ``iban`` (country length + ISO 13616 mod-97 check), ``ip_address`` (IPv4 and IPv6,
validated by :mod:`ipaddress`), ``us_ssn`` (``AAA-GG-SSSS`` with the SSA's never-issued ranges
excluded) and ``url``. Spans that overlap keep the more specific detector (checksummed ones
first), so a card number is never also a phone number. Precision and recall on the labelled set
in ``tests/data/pii_labelled.jsonl`` are measured by ``tests/unit/test_metrics_pii.py``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

VERSION = "1"

PII_TYPES: tuple[str, ...] = (
    "email",
    "phone",
    "credit_card",
    "iban",
    "ip_address",
    "us_ssn",
    "url",
)


@dataclass(frozen=True, slots=True)
class PiiSpan:
    type: str
    start: int
    end: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "start": self.start, "end": self.end}


_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
_URL = re.compile(r"(?<![\w@])(?:(?:https?|ftp)://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_SSN = re.compile(r"(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])")

# ISO 13616 lengths for the countries most often seen (unknown countries are not reported).
_IBAN_LENGTHS = {
    "AD": 24,
    "AE": 23,
    "AT": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BR": 29,
    "CH": 21,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "EE": 20,
    "ES": 24,
    "FI": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IS": 26,
    "IT": 27,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "ME": 22,
    "MT": 31,
    "MU": 30,
    "NL": 18,
    "NO": 15,
    "PK": 24,
    "PL": 28,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "SA": 24,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "TN": 24,
    "TR": 26,
    "UA": 29,
}

_CARD_PREFIXES = re.compile(
    r"^(?:4\d{12}(?:\d{3}){0,2}"  # Visa 13/16/19
    r"|5[1-5]\d{14}|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)\d{12}"  # Mastercard
    r"|3[47]\d{13}"  # American Express
    r"|6(?:011|5\d\d|4[4-9]\d)\d{12,15}"  # Discover
    r"|3(?:0[0-5]|[68]\d)\d{11,16}"  # Diners
    r"|35(?:2[89]|[3-8]\d)\d{12,15}"  # JCB
    r"|(?:5[06-8]|6\d)\d{10,17})$"  # Maestro
)

# Checksummed and structured detectors win overlaps over looser ones.
_PRIORITY = {
    t: i
    for i, t in enumerate(("email", "url", "iban", "credit_card", "us_ssn", "ip_address", "phone"))
}


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    iban = iban.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _ssn_valid(area: str, group: str, serial: str) -> bool:
    return not (area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000")


def _candidates(text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    for m in _EMAIL.finditer(text):
        spans.append(PiiSpan("email", m.start(), m.end(), m.group()))
    for m in _URL.finditer(text):
        url = m.group().rstrip(".,;:!?)]}'\"")
        if len(url) > 8:
            spans.append(PiiSpan("url", m.start(), m.start() + len(url), url))
    for m in _IBAN.finditer(text):
        if iban_valid(m.group()):
            spans.append(PiiSpan("iban", m.start(), m.end(), m.group()))
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if _CARD_PREFIXES.match(digits) and luhn_valid(digits):
            spans.append(PiiSpan("credit_card", m.start(), m.end(), m.group()))
    for m in _SSN.finditer(text):
        if _ssn_valid(m.group(1), m.group(3), m.group(4)):
            spans.append(PiiSpan("us_ssn", m.start(), m.end(), m.group()))
    for m in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        spans.append(PiiSpan("ip_address", m.start(), m.end(), m.group()))
    if ":" in text:
        for m in _IPV6.finditer(text):
            candidate = m.group()
            if candidate.count(":") < 2 or not any(c.isalnum() for c in candidate):
                continue
            try:
                ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            spans.append(PiiSpan("ip_address", m.start(), m.end(), candidate))
    spans.extend(_phones(text))
    return spans


def _phones(text: str) -> list[PiiSpan]:
    if sum(ch.isdigit() for ch in text) < 7:
        return []
    import phonenumbers

    out = []
    for match in phonenumbers.PhoneNumberMatcher(text, "US", phonenumbers.Leniency.VALID):
        out.append(PiiSpan("phone", match.start, match.end, match.raw_string))
    return out


def find_pii(text: str) -> list[PiiSpan]:
    """Non-overlapping PII spans in ``text``, in order of position."""
    kept: list[PiiSpan] = []
    for span in sorted(_candidates(text), key=lambda s: (_PRIORITY[s.type], s.start)):
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def pii_metrics(text: str) -> dict[str, tuple[float, Any]]:
    """``pii_count`` (detail: spans without the matched text) and ``pii_types`` (number of
    distinct types; detail: the types and their counts)."""
    spans = find_pii(text)
    counts: dict[str, int] = {}
    for s in spans:
        counts[s.type] = counts.get(s.type, 0) + 1
    return {
        "pii_count": (float(len(spans)), {"spans": [s.as_dict() for s in spans]}),
        "pii_types": (float(len(counts)), {"types": dict(sorted(counts.items()))}),
    }
