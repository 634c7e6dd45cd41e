"""The leak scanner finds what it must and nothing else (so a zero from it means something)."""

from __future__ import annotations

from tests.leaks.scanner import Scanner

CODE = "042917"
TOKEN = "Fe26.2*SERVER_1800000000*abcdef0123456789"


def found(*texts: str | bytes, secrets: frozenset[str] = frozenset({CODE, TOKEN})) -> list[str]:
    """Scan ``texts`` without recording figures."""
    scanner = Scanner()
    for i, text in enumerate(texts):
        scanner.add(f"text{i}", text)
    return scanner.scan(set(secrets), figures=False)


def test_finds_a_token_in_text_and_in_bytes() -> None:
    """A token inside a log line or a raw file is found, with its label."""
    assert found(f"event={{'mfa_token': '{TOKEN}'}}") == ["text0: a 41-character secret x1"]
    assert found(b"\x00\x01" + TOKEN.encode() + b"\xff") == ["text0: a 41-character secret x1"]


def test_finds_a_code_as_a_whole_number_only() -> None:
    """A code counts alone or between non-digits, never inside a longer digit run."""
    assert found(f"otp={CODE}") and found(f'"{CODE}"') and found(CODE)
    assert not found(f"at=1800{CODE}.0", f"seq=9{CODE}", f"{CODE}1")


def test_reports_never_show_the_secret() -> None:
    """The report names where and how long, not what."""
    report = found(f"leak {TOKEN} and {CODE}")
    assert report and all(TOKEN not in r and CODE not in r for r in report)


def test_short_values_are_not_scanned() -> None:
    """Values under six characters would match by chance: they are left out."""
    assert not found("pin 1234 ok", secrets=frozenset({"1234"}))
