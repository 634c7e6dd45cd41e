"""Look for secret values in everything a test captured: texts, reprs, files, store dumps.

A secret made only of digits (a one-time code) counts only as a whole run of digits, so
a code cannot be "found" inside a timestamp. Failure messages name where a secret was
found and its length, never the secret itself.
"""

from __future__ import annotations

import re
from collections import Counter

from tests.summary import record

#: Shorter values (4-5 digit codes) would match by chance; the emulator's codes have 6.
MIN_SECRET = 6


def _pattern(secret: str) -> re.Pattern[bytes]:
    """A byte pattern for ``secret`` (a code only as a whole run of digits)."""
    raw = re.escape(secret.encode("utf-8"))
    if secret.isdigit():
        return re.compile(rb"(?<![0-9])" + raw + rb"(?![0-9])")
    return re.compile(raw)


class Scanner:
    """Collects labelled texts and bytes, then counts the secrets in them."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes]] = []

    def add(self, label: str, value: str | bytes) -> None:
        """Add one text (or raw bytes) under ``label``."""
        data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        self.items.append((label, data))

    def add_error(self, exc: BaseException) -> None:
        """Add an exception's message and repr."""
        self.add(f"str({type(exc).__name__})", str(exc))
        self.add(f"repr({type(exc).__name__})", repr(exc))

    def add_repr(self, obj: object) -> None:
        """Add an object's repr."""
        self.add(f"repr({type(obj).__name__})", repr(obj))

    def scan(self, secrets: set[str], *, figures: bool = True) -> list[str]:
        """Where each secret occurs (label and length only); records the figures."""
        wanted = sorted(s for s in secrets if len(s) >= MIN_SECRET)
        patterns = [_pattern(s) for s in wanted]
        found: Counter[str] = Counter()
        blob = b"\x00".join(data for _, data in self.items)
        if any(p.search(blob) for p in patterns):  # one pass in the common, clean case
            for label, data in self.items:
                for secret, pattern in zip(wanted, patterns, strict=True):
                    hits = len(pattern.findall(data))
                    if hits:
                        found[f"{label}: a {len(secret)}-character secret"] += hits
        size = sum(len(data) for _, data in self.items)
        if not figures:
            return [f"{where} x{n}" for where, n in found.items()]
        record(
            "secrets",
            occurrences=sum(found.values()),
            scanned_bytes=size,
            texts=len(self.items),
        )
        return [f"{where} x{n}" for where, n in found.items()]
