"""The exact outcome of each input check: its field name, its message, its edges and output.

The messages are user-facing (``InvalidInputError`` is what a caller shows for a bad
field), so they are pinned word for word here, with the default field name each validator
reports. The length limits are pinned at their edges (the longest accepted value and one
character more), and the normalisations (a recovery code's spaces and dashes, an IP
address's canonical form, an escaped recipient) by their result. Written against the
mutants ``scripts/mutation flowengine/_validate.py`` found surviving.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowengine import _validate
from flowengine._errors import InvalidInputError

HIDDEN = "must not contain control or invisible formatting characters"

#: (validator with its default field, that field, a value of the wrong shape, its message).
VALIDATORS: list[tuple[Callable[[object], str], str, str, str]] = [
    (
        _validate.phone_number,
        "phone_number",
        "+1 555 0100",
        "must be in E.164 form: '+' and 1 to 15 digits, no spaces",
    ),
    (_validate.email, "email", "ada.example.com", "is not a valid email address"),
    (_validate.one_time_code, "code", "123", "must be 4 to 12 digits"),
    (_validate.totp_code, "otp", "12345", "must be 6 digits"),
    (
        _validate.recovery_code,
        "recovery_code",
        "ABCDEFGHJKLMNPQRSTUVWXY",
        "must be 24 letters or digits",
    ),
    (
        _validate.authenticator_id,
        "authenticator_id",
        "sms-dev_abcdef",
        "must look like 'sms|dev_...' (type, '|', id)",
    ),
    (_validate.ip_address, "forwarded_for", "203.0.113.256", "must be an IPv4 or IPv6 address"),
]
VALIDATOR_IDS = [field for _, field, *_ in VALIDATORS]


def _refusal(check: Callable[..., object], *args: object, **kwargs: object) -> tuple[str, str]:
    """The field and message of the ``InvalidInputError`` that ``check(*args)`` raises."""
    with pytest.raises(InvalidInputError) as caught:
        check(*args, **kwargs)
    return caught.value.field, str(caught.value)


@pytest.mark.parametrize(("check", "field", "bad", "message"), VALIDATORS, ids=VALIDATOR_IDS)
def test_a_value_of_the_wrong_shape_names_the_default_field_and_the_rule(
    check: Callable[[object], str], field: str, bad: str, message: str
) -> None:
    """A misshapen value is refused with the validator's default field and its exact rule."""
    assert _refusal(check, bad) == (field, f"{field}: {message}")


@pytest.mark.parametrize(("check", "field", "bad", "message"), VALIDATORS, ids=VALIDATOR_IDS)
def test_a_value_that_is_not_a_string_is_refused_as_such(
    check: Callable[[object], str], field: str, bad: str, message: str
) -> None:
    """A number or None where a string belongs is refused with "must be a string"."""
    for value in (15550100, None, b"+15550100"):
        assert _refusal(check, value) == (field, f"{field}: must be a string")


@pytest.mark.parametrize(("check", "field", "bad", "message"), VALIDATORS, ids=VALIDATOR_IDS)
def test_a_hidden_character_names_the_default_field_and_the_character_rule(
    check: Callable[[object], str], field: str, bad: str, message: str
) -> None:
    """A trailing newline is refused under the validator's field with the character rule."""
    assert _refusal(check, "12\n") == (field, f"{field}: {HIDDEN}")


@pytest.mark.parametrize(("check", "field", "bad", "message"), VALIDATORS, ids=VALIDATOR_IDS)
def test_a_field_name_given_by_the_caller_is_the_one_reported(
    check: Callable[[object], str], field: str, bad: str, message: str
) -> None:
    """``field=`` replaces the default name in the error and its message."""
    assert _refusal(check, bad, "mine") == ("mine", f"mine: {message}")


def test_a_zoned_ipv6_address_names_the_zone_rule() -> None:
    """An IPv6 zone is refused with its own message, under the forwarded_for field."""
    assert _refusal(_validate.ip_address, "fe80::1%eth0") == (
        "forwarded_for",
        "forwarded_for: must be an IPv4 or IPv6 address without a zone",
    )


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("203.0.113.77", "203.0.113.77"),
        (" 2001:DB8:0:0::1 ", "2001:db8::1"),
        ("::ffff:192.0.2.1", "::ffff:c000:201"),
    ],
)
def test_an_ip_address_is_returned_in_its_canonical_form(value: str, canonical: str) -> None:
    """The header carries the parsed address's canonical text, not the typed one."""
    assert _validate.ip_address(value) == canonical


def _email_of_length(n: int) -> str:
    local = "a" * 64
    tail = ".example.com"
    middle = n - len(local) - 1 - len(tail)
    labels = []
    while middle > 0:
        size = min(63, middle)
        if middle - size == 1:  # a label needs one character plus its dot
            size -= 2
        labels.append("b" * size)
        middle -= size + 1
    value = f"{local}@{'.'.join(labels)}{tail}"
    assert len(value) == n
    return value


def test_an_email_address_is_at_most_254_characters() -> None:
    """254 characters of an ordinary shape pass; 255 are refused, with the usual message."""
    longest = _email_of_length(254)
    assert _validate.email(longest) == longest
    assert _refusal(_validate.email, _email_of_length(255)) == (
        "email",
        "email: is not a valid email address",
    )


def test_plain_text_length_limit_edges() -> None:
    """512 characters by default, else ``max_len``: the limit itself passes, one more fails."""
    assert _validate.plain_text("n" * 512, "name") == "n" * 512
    assert _refusal(_validate.plain_text, "n" * 513, "name") == (
        "name",
        "name: must be a non-empty string of at most 512 characters",
    )
    assert _validate.plain_text("n" * 8, "name", max_len=8) == "n" * 8
    assert _refusal(_validate.plain_text, "n" * 9, "name", max_len=8) == (
        "name",
        "name: must be a non-empty string of at most 8 characters",
    )


@pytest.mark.parametrize("value", [None, 42, b"bytes", ["a"], ""])
def test_plain_text_refuses_what_is_not_a_non_empty_string(value: object) -> None:
    """Not a string, or empty, is refused with the length rule (never a TypeError)."""
    assert _refusal(_validate.plain_text, value, "name") == (
        "name",
        "name: must be a non-empty string of at most 512 characters",
    )


def test_plain_text_refuses_a_hidden_character_with_the_character_rule() -> None:
    """A control character in plain text is refused under its field with the character rule."""
    assert _refusal(_validate.plain_text, "a\x1bb", "name") == ("name", f"name: {HIDDEN}")


def test_non_empty_length_limit_edges() -> None:
    """``non_empty`` keeps plain_text's limits: 512 by default, its own ``max_len`` when given."""
    assert _validate.non_empty("u" * 512, "username") == "u" * 512
    assert _refusal(_validate.non_empty, "u" * 513, "username") == (
        "username",
        "username: must be a non-empty string of at most 512 characters",
    )
    assert _validate.non_empty("u" * 10, "username", max_len=10) == "u" * 10
    assert _refusal(_validate.non_empty, "u" * 11, "username", max_len=10) == (
        "username",
        "username: must be a non-empty string of at most 10 characters",
    )


def test_a_password_has_only_the_length_rule_with_its_edges() -> None:
    """A password of exactly ``max_len`` passes, one more or none is refused by the length rule."""
    assert _validate.non_empty("p" * 512, "password") == "p" * 512
    assert _validate.non_empty("p\u200d" * 5, "password", max_len=10) == "p\u200d" * 5
    for value in ("p" * 11, "", None):
        assert _refusal(_validate.non_empty, value, "password", max_len=10) == (
            "password",
            "password: must be a non-empty string of at most 10 characters",
        )
    assert _refusal(_validate.non_empty, "p" * 513, "password") == (
        "password",
        "password: must be a non-empty string of at most 512 characters",
    )


def test_a_recovery_code_may_be_typed_in_groups_separated_by_spaces() -> None:
    """Spaces inside a recovery code, as printed on the card, are dropped before the check."""
    assert _validate.recovery_code("abcd efgh jklm npqr stuv wxyz") == "ABCDEFGHJKLMNPQRSTUVWXYZ"
    assert _validate.recovery_code("ABCD-EFGH JKLM-NPQR STUV-WXYZ") == "ABCDEFGHJKLMNPQRSTUVWXYZ"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("bü\ncher", "bü\\ncher"),
        ("ада\u200b@пример.рф", "ада\\u200b@пример.рф"),
        ("a'b\"c\x00", "a'b\"c\\x00"),
    ],
)
def test_escape_recipient_keeps_printable_letters_next_to_an_escape(value: str, shown: str) -> None:
    """Once one character needs escaping, the printable ones (any script) still stay as typed."""
    assert _validate.escape_recipient(value) == shown
