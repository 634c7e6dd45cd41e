"""Typed input is plain text of the right shape: hidden characters refused everywhere, unechoed.

The character rule (no C0/C1 controls, DEL, format characters such as zero-width spaces and
bidirectional overrides, surrogates, line separators) is shared by every validator, the
flow-id checks of ``Flow.new`` and the stores, and the tenant domain. The property test
inserts one such character anywhere into a value each check otherwise accepts; the tables
pin the accepted edge cases (Auth0's phone pattern, punycode TLDs) and the refused ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowengine import _config, _validate
from flowengine._config import Auth0Config, parse_base_url
from flowengine._errors import ConfigurationError, FlowEngineError, InvalidInputError, StoreError
from flowengine._flow import Flow
from flowengine.cli._emulator_cmd import describe
from flowengine.cli._output import mask_address
from flowengine.stores._base import check_flow_id
from flowengine.testing._models import OutboxMessage
from tests.strategies import has_hidden

#: The characters the rule names, one by one, and the rest of their categories.
NAMED_HIDDEN = (
    [chr(c) for c in range(0x20)]
    + ["\x7f"]
    + [chr(c) for c in range(0x80, 0xA0)]
    + [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\ufeff", "\u00ad", "\u2060", "\u061c", "\U000e0001", "\U000e0041", "\u2028", "\u2029"]
)
hidden_chars = st.sampled_from(NAMED_HIDDEN) | st.characters(categories=["Cc", "Cf"])


def _config_domain(value: str) -> object:
    return Auth0Config(value, "app-id")


def _config_audience(value: str) -> object:
    return Auth0Config("tenant.example.auth0.com", "app-id", audience=value)


#: (name, check, a value the check accepts, the error it raises).
CHECKS: list[tuple[str, Callable[[str], object], str, type[FlowEngineError]]] = [
    ("phone_number", _validate.phone_number, "+15550100", InvalidInputError),
    ("email", _validate.email, "ada.lovelace@example.com", InvalidInputError),
    ("one_time_code", _validate.one_time_code, "12345678", InvalidInputError),
    ("totp_code", _validate.totp_code, "123456", InvalidInputError),
    ("recovery_code", _validate.recovery_code, "ABCDEFGHJKLMNPQRSTUVWXYZ", InvalidInputError),
    ("authenticator_id", _validate.authenticator_id, "sms|dev_abcdef", InvalidInputError),
    ("ip_address", _validate.ip_address, "203.0.113.77", InvalidInputError),
    ("username", lambda v: _validate.non_empty(v, "username"), "ada.lovelace", InvalidInputError),
    ("realm", lambda v: _validate.non_empty(v, "realm"), "Username-Password", InvalidInputError),
    ("scope", lambda v: _validate.non_empty(v, "scope"), "openid profile", InvalidInputError),
    ("token", lambda v: _validate.non_empty(v, "access_token"), "eyJhbGciOi", InvalidInputError),
    ("plain_text", lambda v: _validate.plain_text(v, "name"), "any name at all", InvalidInputError),
    ("Flow.new", lambda v: Flow.new(v, 1_800_000_000.0), "fl_0123456789abcdef", InvalidInputError),
    ("check_flow_id", check_flow_id, "fl_0123456789abcdef", StoreError),
    ("domain", _config_domain, "tenant.example.auth0.com", ConfigurationError),
    ("base_url", _config_domain, "https://tenant.example.auth0.com", ConfigurationError),
    ("audience", _config_audience, "https://api.example.com/", ConfigurationError),
]
CHECK_IDS = [name for name, *_ in CHECKS]


@pytest.mark.parametrize(("name", "check", "good", "error"), CHECKS, ids=CHECK_IDS)
def test_each_check_accepts_its_example(
    name: str, check: Callable[[str], object], good: str, error: type[FlowEngineError]
) -> None:
    """The example every hidden-character case is built from is itself accepted."""
    check(good)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), hidden=hidden_chars)
@pytest.mark.parametrize(("name", "check", "good", "error"), CHECKS, ids=CHECK_IDS)
def test_a_hidden_character_anywhere_is_refused_by_every_check(
    name: str,
    check: Callable[[str], object],
    good: str,
    error: type[FlowEngineError],
    data: st.DataObject,
    hidden: str,
) -> None:
    """One control or format character, at any position of an accepted value, is refused."""
    at = data.draw(st.integers(0, len(good)), label="position")
    value = good[:at] + hidden + good[at:]
    with pytest.raises(error) as caught:
        check(value)
    message = str(caught.value)
    assert hidden not in message and value not in message
    for piece in (good[:at], good[at:]):
        assert len(piece) < 5 or piece not in message, "the message echoes the input"


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=24))
def test_plain_text_agrees_with_an_independent_oracle(text: str) -> None:
    """``is_plain_text`` is exactly "no character of the hidden categories", on any text."""
    assert _validate.is_plain_text(text) is not has_hidden(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+1", "+1"),  # Auth0's pattern: '+' and 1 to 15 digits
        ("+0", "+0"),
        ("+123456789012345", "+123456789012345"),  # 15 digits
        ("  +15550100 ", "+15550100"),  # surrounding spaces are still stripped
    ],
)
def test_phone_numbers_follow_auth0s_pattern(value: str, expected: str) -> None:
    """What Auth0's ``^\\+[0-9]{1,15}$`` accepts, the library accepts too."""
    assert _validate.phone_number(value) == expected


@pytest.mark.parametrize(
    "value", ["+", "+1234567890123456", "+15550100\n", "\t+15550100", "+1555\u2066100"]
)
def test_phone_numbers_refused(value: str) -> None:
    """16 digits, no digit, or a control character (even a trailing newline) is refused."""
    with pytest.raises(InvalidInputError) as caught:
        _validate.phone_number(value)
    assert caught.value.field == "phone_number"


@pytest.mark.parametrize(
    "value",
    ["a@b.xn--p1ai", "ada@example.xn--80asehdb", "ada@sub.example.co.uk", "b.c+tag@example.org"],
)
def test_emails_accepted(value: str) -> None:
    """Ordinary addresses, punycode TLDs included, are accepted unchanged."""
    assert _validate.email(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "ada@example.xn--",
        "ada@example.xn--p1ai-",
        "ada@exa..mple.com",
        "ada@-example.com",
        "ada@example-.com",
        "ada\u200b@example.com",
        "ada@example.com\n",
        "ada\u202e@example.com",
    ],
)
def test_emails_refused(value: str) -> None:
    """Empty or hyphen-edged labels, and hidden characters, are refused."""
    with pytest.raises(InvalidInputError) as caught:
        _validate.email(value)
    assert caught.value.field == "email" and value.strip() not in str(caught.value)


@pytest.mark.parametrize(
    "value",
    [
        "exa\tmple.auth0.com",  # urlsplit would drop the tab and name example.auth0.com
        "https://exa\tmple.auth0.com",
        "https://example.auth0.com\n",
        "https://example.auth0.com\r\n",
        "\x01https://example.auth0.com",  # urlsplit strips leading C0 controls
        "https://exa\u200bmple.auth0.com",
        "user@tenant.example.auth0.com",
        "https://a@b",
        "https://@tenant.example.auth0.com",  # an empty user name: urlsplit sees none
        "https://user:@tenant.example.auth0.com",
        "https://[::1",  # urlsplit's own ValueError becomes a ConfigurationError
        "https://tenant\uff03example.com",
        "https://tenant.example.auth0.com%2f",
        "https://tenant.example.auth0.com\u3000",
    ],
)
def test_domains_refused(value: str) -> None:
    """A domain with what urlsplit would drop, or any userinfo, is a ConfigurationError."""
    with pytest.raises(ConfigurationError) as caught:
        parse_base_url(value)
    assert str(caught.value).startswith("domain: ")
    assert "tenant" not in str(caught.value) and "exa" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "base"),
    [
        ("Tenant.Example.Auth0.com", "https://tenant.example.auth0.com"),
        (" tenant.example.auth0.com ", "https://tenant.example.auth0.com"),
        ("https://tenant.example.auth0.com:443/", "https://tenant.example.auth0.com"),
        ("https://tenant.example.auth0.com:0443", "https://tenant.example.auth0.com"),
        ("https://tenant.example.auth0.com:8443", "https://tenant.example.auth0.com:8443"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://localhost:80", "http://localhost"),
    ],
)
def test_base_urls_are_rebuilt_from_host_and_port(value: str, base: str) -> None:
    """The base URL is made of the parsed host and port, not copied from the input."""
    assert parse_base_url(value)[0] == base


def test_config_refuses_hidden_characters_in_scope_and_tenant_domain() -> None:
    """A scope or tenant domain with a newline is refused when the config is built."""
    with pytest.raises(ConfigurationError):
        Auth0Config("tenant.example.auth0.com", "app-id", scope="openid\nprofile")
    with pytest.raises(ConfigurationError):
        Auth0Config("tenant.example.auth0.com", "app-id", tenant_domain="a.auth0.com\n")


def test_a_password_is_opaque() -> None:
    """A password keeps any character (an emoji password holds zero-width joiners)."""
    for password in ("p\u200dw\u200d\U0001f468\u200d\U0001f469", "tab\tinside", "\u202eabc"):
        assert _validate.non_empty(password, "password", max_len=1024) == password
    with pytest.raises(InvalidInputError):
        _validate.non_empty("", "password")


def test_recovery_code_folds_case_only_after_the_shape_check() -> None:
    """Twelve 'ß' would fold to 24 letters: refused, while a lower-case code is folded."""
    with pytest.raises(InvalidInputError):
        _validate.recovery_code("ß" * 12)
    assert _validate.recovery_code("abcd-efgh-jklm-npqr-stuv-wxyz") == "ABCDEFGHJKLMNPQRSTUVWXYZ"


@pytest.mark.parametrize("value", ["fe80::1%eth0", "fe80::1%25x", "::1%a,b"])
def test_forwarded_for_refuses_an_ipv6_zone(value: str) -> None:
    """An IPv6 zone would carry free text into the auth0-forwarded-for header."""
    with pytest.raises(InvalidInputError):
        _validate.ip_address(value)


def test_config_reexports_the_validators() -> None:
    """``_config`` still offers every validator under its old name, the same function."""
    for name in _validate.__all__:
        assert getattr(_config, name) is getattr(_validate, name)
    assert _validate.__all__ == sorted(_validate.__all__)
    assert _config.__all__ == sorted(_config.__all__)


# ------------------------------------------------------------------ printing recipients


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("+15550100", "+15550100"),
        ("ada@bücher.example", "ada@bücher.example"),
        ("+1\x1b[2J5550100", "+1\\x1b[2J5550100"),
        ("ada\u202emoc.elpmaxe@x.com", "ada\\u202emoc.elpmaxe@x.com"),
        ("a\nb", "a\\nb"),
        ("back\\slash", "back\\\\slash"),
        ("tag\U000e0041", "tag\\U000e0041"),
    ],
)
def test_escape_recipient(value: str, shown: str) -> None:
    """Printable text stays; controls and format characters become visible escapes."""
    assert _validate.escape_recipient(value) == shown


def test_emulator_outbox_line_escapes_the_recipient() -> None:
    """``flowengine emulator`` prints a hostile address as escapes, never raw ESC or RLO."""
    message: Any = OutboxMessage(
        channel="email",
        to="x\x1b]0;owned\x07\u202e@example.com",
        code="123456",
        purpose="passwordless",
        sent_at=0.0,
    )
    line = describe(message)
    assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line
    assert "x\\x1b]0;owned\\x07\\u202e@example.com" in line
    masked = mask_address("+1\x1b[2J5550100")
    assert "\x1b" not in masked
