"""Tenant and client configuration: ``Auth0Config``, base-URL parsing, defaults.

Pure: no I/O. A bad tenant host or client id is a ``ConfigurationError`` when the
configuration is built, before any flow exists; its message never repeats the value.

The checks of what a caller types in at each step (phone numbers, emails, codes, ids)
live in ``flowengine._validate``; their names are re-exported here for the modules
that still import them from this one.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import attrs

from flowengine._client_auth import ASSERTION_ALGORITHMS, JWT_BEARER, load_private_key
from flowengine._errors import ConfigurationError
from flowengine._validate import (
    authenticator_id,
    email,
    escape_recipient,
    ip_address,
    is_plain_text,
    non_empty,
    one_time_code,
    phone_number,
    plain_text,
    recovery_code,
    totp_code,
)

__all__ = [
    "Auth0Config",
    "DEFAULT_REALM",
    "DEFAULT_SCOPE",
    "authenticator_id",
    "email",
    "escape_recipient",
    "ip_address",
    "is_loopback_host",
    "is_plain_text",
    "non_empty",
    "one_time_code",
    "parse_base_url",
    "phone_number",
    "plain_text",
    "recovery_code",
    "request_language",
    "totp_code",
]

DEFAULT_SCOPE = "openid profile offline_access"
DEFAULT_REALM = "Username-Password-Authentication"

_HOST = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::[0-9]{1,5})?"
)
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_CLIENT_ID = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
# A language range as Auth0 reads x-request-language: "fr", "fr-CA", "zh-Hant-TW".
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8}){0,4}")
_KEY_ID = re.compile(r"[\x21-\x7e]{1,256}")


def request_language(value: object, field: str = "request_language") -> str:
    """A language tag for ``x-request-language`` (``fr``, ``fr-CA``), or ``ConfigurationError``."""
    if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
        raise ConfigurationError(f"{field}: a language tag such as fr or fr-CA")
    return value


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ``::1``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_base_url(value: str) -> tuple[str, str]:
    """Return ``(base_url, domain)`` for a tenant host or a full base URL.

    ``https://`` always; ``http://`` only for loopback hosts (emulators). The
    base URL has no trailing slash, no path and no credentials, and is rebuilt
    from the parsed host and port rather than copied from the input.

    ``urlsplit`` silently drops tabs and newlines and strips leading control
    characters, so ``"https://exa\tmple.com"`` would name ``example.com``: the
    character rule of ``flowengine._validate.is_plain_text`` runs on the raw
    value first. An ``@`` anywhere is refused, even with an empty user name
    (``https://@host``), which ``urlsplit`` reports as no credentials at all.
    Messages never repeat the value.
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("domain: a tenant host such as example.eu.auth0.com is required")
    if not is_plain_text(value):
        raise ConfigurationError("domain: control or invisible characters are not allowed")
    value = value.strip(" ")
    if "@" in value:
        raise ConfigurationError("domain: credentials in the URL are not allowed")
    if "%" in value or any(ch.isspace() for ch in value):
        raise ConfigurationError("domain: not a host name (a space or '%' in it)")
    if "://" not in value:
        if not _HOST.fullmatch(value):
            raise ConfigurationError("domain: not a host name (give example.eu.auth0.com)")
        value = "https://" + value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ConfigurationError("domain: not a valid URL, or a port outside 1-65535") from None
    if parts.scheme not in ("https", "http"):
        raise ConfigurationError("domain: only https:// is allowed (http:// for loopback hosts)")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError("domain: credentials in the URL are not allowed")
    host = parts.hostname or ""
    if not host:
        raise ConfigurationError("domain: the URL has no host")
    if port is not None and not 1 <= port <= 65535:
        raise ConfigurationError("domain: the port is not a number from 1 to 65535")
    if not (_HOST_NAME.fullmatch(host) or _is_ip(host)):
        raise ConfigurationError("domain: the URL's host is not a valid host name")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigurationError(
            "domain: plain http:// is allowed only for loopback hosts; use https://"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError("domain: give the tenant's base URL without a path or query")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and (parts.scheme, port) not in (("https", 443), ("http", 80)):
        netloc = f"{netloc}:{port}"  # the default port names the same tenant: dropped
    return f"{parts.scheme}://{netloc}", netloc


@attrs.frozen
class Auth0Config:
    """Who we are to Auth0: the tenant, the application, and the defaults of a login.

    ``domain`` is a tenant host (``example.eu.auth0.com``) or a full base URL
    (``http://127.0.0.1:8080`` for an emulator). ``tenant_domain`` names the
    tenant in the MFA audience when it differs from the host the requests go
    to. ``client_secret`` is configuration: it never enters a snapshot, a log
    line or a repr. Leave it ``None`` for a public (native/SPA) application.

    ``private_key`` (a PEM private key, RSA for ``RS256``/``PS256``, P-256 for
    ``ES256``) switches the client to Private Key JWT: every call that carries
    client credentials sends a fresh signed ``client_assertion`` instead of a
    secret. ``key_id`` is the ``kid`` Auth0 gave the credential (optional). The
    key is checked here, then held only as a key object: never in a repr, a
    comparison, a snapshot or a message. ``request_language`` is sent as
    ``x-request-language`` on every call (Auth0 picks the email/SMS template
    language from it).
    """

    domain: str
    client_id: str
    client_secret: str | None = attrs.field(default=None, repr=False)
    audience: str | None = None
    scope: str = DEFAULT_SCOPE
    tenant_domain: str | None = None
    private_key: str | bytes | None = attrs.field(default=None, repr=False, eq=False)
    key_id: str | None = None
    algorithm: str = "RS256"
    request_language: str | None = None
    base_url: str = attrs.field(init=False)
    host: str = attrs.field(init=False)
    signing_key: object = attrs.field(init=False, default=None, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        base, host = parse_base_url(self.domain)
        object.__setattr__(self, "base_url", base)
        object.__setattr__(self, "host", host)
        if not isinstance(self.client_id, str) or not _CLIENT_ID.fullmatch(self.client_id):
            raise ConfigurationError("client_id: 1-128 letters, digits, '.', '_' or '-'")
        if self.client_secret is not None and (
            not isinstance(self.client_secret, str) or not self.client_secret
        ):
            raise ConfigurationError("client_secret: a non-empty string, or None for public apps")
        if self.tenant_domain is not None and (
            not isinstance(self.tenant_domain, str) or not _HOST.fullmatch(self.tenant_domain)
        ):
            raise ConfigurationError("tenant_domain: not a host name")
        for name in ("audience", "scope"):
            text = getattr(self, name)
            if text is not None and (not isinstance(text, str) or not is_plain_text(text)):
                raise ConfigurationError(
                    f"{name}: a string without control or invisible characters"
                )
        if self.request_language is not None:
            request_language(self.request_language)
        if self.algorithm not in ASSERTION_ALGORITHMS:
            raise ConfigurationError(f"algorithm: one of {', '.join(ASSERTION_ALGORITHMS)}")
        if self.key_id is not None and (
            not isinstance(self.key_id, str) or not _KEY_ID.fullmatch(self.key_id)
        ):
            raise ConfigurationError("key_id: 1-256 printable ASCII characters")
        if self.private_key is not None:
            if self.client_secret is not None:
                # Auth0: send a client_secret or a client_assertion, never both.
                raise ConfigurationError("give client_secret or private_key, not both")
            key = load_private_key(self.private_key, self.algorithm)
            object.__setattr__(self, "signing_key", key)
        elif self.key_id is not None:
            raise ConfigurationError("key_id: only with a private_key")

    @property
    def mfa_audience(self) -> str:
        """``https://<tenant>/mfa/``: the audience that yields an mfa_token."""
        return f"https://{self.tenant_domain or self.host}/mfa/"

    @staticmethod
    def is_mfa_audience(audience: object) -> bool:
        """True for any ``https://<host>/mfa/`` audience (custom domains included).

        Tokens minted for such an audience are an MFA-API credential, never a
        finished login, whatever host spells the tenant.
        """
        if not isinstance(audience, str):
            return False
        parts = urlsplit(audience.strip())
        return parts.scheme.lower() == "https" and parts.path.rstrip("/").lower() == "/mfa"

    @property
    def default_audience(self) -> str:
        """The audience the first factor asks for unless told otherwise."""
        return self.audience or self.mfa_audience

    @property
    def uses_private_key(self) -> bool:
        """True when the client authenticates with Private Key JWT."""
        return self.signing_key is not None

    @property
    def issuers(self) -> frozenset[str]:
        """The ``iss`` values that name this tenant: ``https://<host>/`` and the tenant domain.

        Both are names the application configured for the tenant (a custom domain
        and the canonical one); Auth0 signs tokens with the name it was reached by.
        """
        names = {self.host}
        if self.tenant_domain:
            names.add(self.tenant_domain)
        return frozenset(f"https://{name}/" for name in names)

    def client_auth(self) -> dict[str, str]:
        """The client-authentication fields that go into a request body.

        With a private key the body carries ``client_assertion_type`` only: the
        driver signs a fresh ``client_assertion`` into it just before each send
        (``flowengine._client_auth.sign_request``), because an assertion
        needs the clock and a random ``jti``, which this pure core never reads.
        """
        if self.signing_key is not None:
            return {"client_id": self.client_id, "client_assertion_type": JWT_BEARER}
        if self.client_secret is None:
            return {"client_id": self.client_id}
        return {"client_id": self.client_id, "client_secret": self.client_secret}
