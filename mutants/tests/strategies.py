"""Reusable hypothesis strategies for flowengine's tests: inputs good, wrong and garbage.

The "kind" strategies (``code_kinds``...) draw what a user would type: the right code
(resolved by the test at run time, since only the tenant knows it), a wrong one of
the right shape, or garbage the API must refuse before any request.
"""

from __future__ import annotations

import string
import unicodedata

from hypothesis import strategies as st

#: E.164 as the library documents it: '+', a non-zero digit, then 6 to 14 digits.
valid_phones = st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)

#: Phone numbers the API must refuse: no '+', letters, too long, spaces, hidden characters.
BAD_PHONES = (
    "",
    "   ",
    "+",
    "15550100",
    "+1555O100",
    "+1-555-0100",
    "+1 555 0100",
    "+1234567890123456",
    "++15550100",
    "+15550100\n+15550101",
    "+15550100\n",
    "\t+15550100",
    "+1555\u200b0100",
    "\u202e+15550100",
    "tel:+15550100",
    "+\uff11\uff15\uff15\uff15\uff10\uff11\uff10\uff10",  # full-width digits
)

#: The Unicode categories no typed identifier may hold: controls, format characters,
#: surrogates, line and paragraph separators (an oracle written apart from the library's).
HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")


def has_hidden(value: str) -> bool:
    """True if ``value`` holds a character of :data:`HIDDEN_CATEGORIES`."""
    return any(unicodedata.category(ch) in HIDDEN_CATEGORIES for ch in value)


def is_e164(value: str) -> bool:
    """Auth0's pattern ``^\\+[0-9]{1,15}$`` after a strip, with nothing hidden in the raw text."""
    v = value.strip()
    digits = v[1:]
    return (
        not has_hidden(value)
        and v.startswith("+")
        and 1 <= len(digits) <= 15
        and all(ch in "0123456789" for ch in digits)
    )


bad_phones = st.sampled_from(BAD_PHONES)
#: Bad phone numbers from a wider space (slower to draw).
any_bad_phones = bad_phones | st.text(max_size=20).filter(lambda s: not is_e164(s))

valid_emails = st.sampled_from(
    ("ada@example.com", "b.c+tag@mail.example.org", "x_y@sub.example.co.uk")
)
#: Email addresses the API must refuse.
BAD_EMAILS = (
    "",
    "ada",
    "ada@",
    "@example.com",
    "ada@example",
    "ada @example.com",
    "ada@exa mple.com",
    "ada@@example.com",
    "<ada@example.com>",
    "ada@example.com, bob@example.com",
    "a" * 65 + "@example.com",
    "ada@" + "x" * 250 + ".com",
    "ada@example.c",
)
bad_emails = st.sampled_from(BAD_EMAILS)

#: A one-time code of the usual shape: six digits (cheap to draw, unlike a regex).
code_digits = st.integers(0, 999_999).map(lambda n: f"{n:06d}")
#: Typed garbage: never 4-12 ASCII digits (after the strip the API does).
BAD_CODES = (
    "",
    " ",
    "12 34 56",
    "abcdef",
    "\uff11\uff12\uff13\uff14\uff15\uff16",  # full-width digits
    "123",
    "1234567890123",
    "0x1234",
    "12345\u0000",
)
garbage_codes = st.sampled_from(BAD_CODES)
#: Garbage codes drawn from a wider space (slower to draw: for input tests, not state machines).
any_garbage_codes = st.sampled_from(BAD_CODES) | st.text(
    alphabet=string.ascii_letters + string.punctuation + " ", min_size=1, max_size=12
)
#: What a user types for a code: the right one, a wrong one, or garbage.
code_kinds = st.sampled_from(("right", "wrong", "wrong", "garbage"))

#: Authenticator ids the API must refuse before any request.
BAD_AUTHENTICATOR_IDS = (
    "",
    "sms",
    "|dev_abc",
    "sms|",
    "SMS|dev_abc",
    "sms dev_abc",
    "sms|dev abc",
    "sms|dev_abc/../x",
    "1sms|dev_abc",
    "sms|" + "a" * 101,
)

#: Store URLs open_store must refuse with a ConfigurationError.
BAD_STORE_URLS = (
    "",
    "memory",
    "memory:extra",
    "mysql://localhost/flows",
    "sqlite:",
    "sqlite://host/flows.db",
    "sqlite:///tmp/flows.db?mode=ro",
    "sqlite:///tmp/dir/",
    "redis://localhost:99999/0",
    "redis://localhost:0/0",
    "redis://localhost/abc",
    "redis:localhost",
    "redis://localhost/0#frag",
    "redis://localhost/0?bogus_option=1",
    "redis://user:hunter2-secret@localhost:notaport/0",
    "://nothing",
)

#: Tenant domains / base URLs Auth0Config must refuse with a ConfigurationError.
BAD_BASE_URLS = (
    "",
    "http://example.com",
    "http://tenant.example.auth0.com",
    "ftp://tenant.example.auth0.com",
    "https://tenant.example.auth0.com/path",
    "https://tenant.example.auth0.com/?q=1",
    "https://tenant.example.auth0.com/#frag",
    "https://user:pass@tenant.example.auth0.com",
    "https://",
    "tenant example.com",
    "javascript:alert(1)",
    "file:///etc/passwd",
)

#: Clock jumps past Auth0's deadlines (code 180 s, MFA code 300 s, mfa_token 600 s),
#: and short ones around the 5 s push poll interval.
clock_jumps = st.sampled_from((181.0, 301.0, 601.0, 4.0, 5.0, 30.0))

#: Factors the enroll step accepts, and how its address argument is given.
factors = st.sampled_from(("sms", "voice", "email", "otp", "push"))
address_kinds = st.sampled_from(("valid", "valid", "omitted", "invalid", "extra"))

#: The tenant's push behaviour: polls answered pending, then approve / reject / never.
push_scripts = st.tuples(st.integers(0, 3), st.sampled_from(("approve", "reject", "never")))

#: The user's enrollment before the login.
profiles = st.sampled_from(("new", "new", "sms", "voice", "email", "otp", "push"))
