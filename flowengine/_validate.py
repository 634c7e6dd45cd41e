"""Validation of everything a caller types in: phone numbers, emails, codes, ids, names.

Theory of operation
-------------------
Every public step checks its arguments here before a request is built, so bad input is a
local ``InvalidInputError`` and the flow is untouched. Each validator takes the value and
the name of the field, and returns the value to send (surrounding spaces removed, a
recovery code folded to upper case).

One rule is shared by all of them and by the flow-id checks of ``flowengine.Flow`` and
the stores: ``is_plain_text``. A value that will be shown to a person, logged, or
compared with what a person typed must not carry characters that are invisible or that move
the cursor: C0 and C1 controls and DEL (a newline forges a log line, ESC drives the
terminal), format characters (Unicode category ``Cf``: zero-width spaces and joiners, the
bidirectional overrides and isolates that make ``+1555…`` display as something else, the
byte-order mark, tag characters), lone surrogates (they cannot even be encoded), and the
line and paragraph separators. The check runs on the raw value, *before* the strip: a
trailing newline is refused, not quietly removed.

Messages never echo the value: a phone number or email address is personal data, and a
code or a password is a secret. They name the field and the rule that failed.

Passwords are the one exception to the character rule: a password is the user's secret and
opaque to us (an emoji password holds zero-width joiners), so only its length is checked;
the tenant decides what it may contain.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Final

from flowengine._errors import InvalidInputError

__all__ = [
    "authenticator_id",
    "email",
    "escape_recipient",
    "ip_address",
    "is_plain_text",
    "non_empty",
    "one_time_code",
    "phone_number",
    "plain_text",
    "recovery_code",
    "totp_code",
]

#: Auth0's own pattern for ``phone_number`` (``^\+[0-9]{1,15}$``): we refuse nothing the
#: tenant accepts, and leave the stricter reading of E.164 to the tenant and the carrier.
_PHONE: Final = re.compile(r"\+[0-9]{1,15}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: A top-level domain: letters, or an internationalized one in its punycode form (``xn--p1ai``).
_TLD = r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9](?:[A-Za-z0-9-]{0,57}[A-Za-z0-9])?)"
_EMAIL: Final = re.compile(rf"[^@\s\"<>()\[\],;:\\]{{1,64}}@(?:{_LABEL}\.)+{_TLD}")
_DIGITS: Final = re.compile(r"[0-9]{4,12}")
_TOTP: Final = re.compile(r"[0-9]{6}")
_RECOVERY: Final = re.compile(r"[A-Za-z0-9]{24}")
_AUTHENTICATOR_ID: Final = re.compile(r"[a-z][a-z0-9-]{1,30}\|[A-Za-z0-9_.-]{1,100}")

#: Unicode categories no typed identifier may contain (see the module docstring).
_HIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Fields whose value is the user's secret, opaque to us: length checks only.
_OPAQUE_FIELDS: Final = frozenset({"password"})

_HIDDEN_MESSAGE: Final = "must not contain control or invisible formatting characters"


def is_plain_text(value: str) -> bool:
    """False if ``value`` holds a control, format, surrogate or line-separator character.

    The one character rule of every input check (emails, phone numbers, usernames,
    connection names, flow ids, tenant domains).
    """
    # Fast path: printable text (the usual case) holds none of the hidden categories. What
    # is not printable may still be plain: a no-break space, a private-use character.
    if value.isprintable():
        return True
    if value.isascii():
        return False  # not printable ASCII: a C0 control or DEL
    return not any(unicodedata.category(ch) in _HIDDEN_CATEGORIES for ch in value)


def escape_recipient(value: str) -> str:
    """``value`` safe to print on a terminal: non-printable characters as ``\\x..``/``\\u....``.

    For the recipients (phone numbers, email addresses) the emulator and the command line
    show: what a hostile or mistyped address holds becomes visible instead of acting on the
    terminal. Printable letters of any script stay as they are; a backslash is doubled so the
    escaped form cannot be forged.
    """
    if value.isprintable() and "\\" not in value:
        return value
    return "".join(ch if ch.isprintable() and ch != "\\" else ascii(ch)[1:-1] for ch in value)


def _require_str(field: str, value: object) -> str:
    """``value`` stripped of surrounding spaces, after the character rule on the raw value."""
    if not isinstance(value, str):
        raise InvalidInputError(field, "must be a string")
    if not is_plain_text(value):
        raise InvalidInputError(field, _HIDDEN_MESSAGE)
    return value.strip()


def plain_text(value: object, field: str, *, max_len: int = 512) -> str:
    """A non-empty string of at most ``max_len`` characters that passes ``is_plain_text``."""
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise InvalidInputError(
            field, f"must be a non-empty string of at most {max_len} characters"
        )
    if not is_plain_text(value):
        raise InvalidInputError(field, _HIDDEN_MESSAGE)
    return value


def non_empty(value: object, field: str, *, max_len: int = 512) -> str:
    """A non-empty string of at most ``max_len`` characters, plain text unless a password.

    Usernames, connection (realm) names, audiences, scopes and tokens get the character
    rule; a ``password`` is opaque (see the module docstring).
    """
    if field in _OPAQUE_FIELDS:
        if not isinstance(value, str) or not value or len(value) > max_len:
            raise InvalidInputError(
                field, f"must be a non-empty string of at most {max_len} characters"
            )
        return value
    return plain_text(value, field, max_len=max_len)


def phone_number(value: object, field: str = "phone_number") -> str:
    """A phone number as Auth0 takes it: ``+`` then 1 to 15 ASCII digits."""
    v = _require_str(field, value)
    if not _PHONE.fullmatch(v):
        raise InvalidInputError(field, "must be in E.164 form: '+' and 1 to 15 digits, no spaces")
    return v


def email(value: object, field: str = "email") -> str:
    """An email address of ordinary shape, at most 254 characters (punycode TLDs included)."""
    v = _require_str(field, value)
    if len(v) > 254 or not _EMAIL.fullmatch(v):
        raise InvalidInputError(field, "is not a valid email address")
    return v


def one_time_code(value: object, field: str = "code") -> str:
    """A numeric one-time code (passwordless or binding code): 4 to 12 digits."""
    v = _require_str(field, value)
    if not _DIGITS.fullmatch(v):
        raise InvalidInputError(field, "must be 4 to 12 digits")
    return v


def totp_code(value: object, field: str = "otp") -> str:
    """A 6-digit TOTP code."""
    v = _require_str(field, value)
    if not _TOTP.fullmatch(v):
        raise InvalidInputError(field, "must be 6 digits")
    return v


def recovery_code(value: object, field: str = "recovery_code") -> str:
    """A 24-character recovery code; spaces and dashes are ignored, case is folded."""
    v = _require_str(field, value).replace(" ", "").replace("-", "")
    # Match before folding: "ß".upper() is "SS", so folding first would let 12 of them
    # pass as a 24-letter code.
    if not _RECOVERY.fullmatch(v):
        raise InvalidInputError(field, "must be 24 letters or digits")
    return v.upper()


def authenticator_id(value: object, field: str = "authenticator_id") -> str:
    """An authenticator id such as ``sms|dev_abc``."""
    v = _require_str(field, value)
    if not _AUTHENTICATOR_ID.fullmatch(v):
        raise InvalidInputError(field, "must look like 'sms|dev_...' (type, '|', id)")
    return v


def ip_address(value: object, field: str = "forwarded_for") -> str:
    """An IPv4 or IPv6 address (the end user's, for ``auth0-forwarded-for``), unscoped.

    An IPv6 zone (``fe80::1%eth0``) names an interface of the sender, not a remote user,
    and would carry free text into the header.
    """
    v = _require_str(field, value)
    if "%" in v:
        raise InvalidInputError(field, "must be an IPv4 or IPv6 address without a zone")
    try:
        return str(ipaddress.ip_address(v))
    except ValueError:
        raise InvalidInputError(field, "must be an IPv4 or IPv6 address") from None
