"""Tenant and client configuration, and validation of everything a caller types in.

Pure: no I/O. Every check here runs before a request is built, so bad input is
a local ``InvalidInputError`` (or ``ConfigurationError``) and the flow is untouched.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import attrs

from flowengine._errors import ConfigurationError, InvalidInputError

DEFAULT_SCOPE = "openid profile offline_access"
DEFAULT_REALM = "Username-Password-Authentication"

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_EMAIL = re.compile(
    r"[^@\s\"<>()\[\],;:\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}"
)
_DIGITS = re.compile(r"[0-9]{4,12}")
_TOTP = re.compile(r"[0-9]{6}")
_RECOVERY = re.compile(r"[A-Za-z0-9]{24}")
_AUTHENTICATOR_ID = re.compile(r"[a-z][a-z0-9-]{1,30}\|[A-Za-z0-9_.-]{1,100}")
_HOST = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::[0-9]{1,5})?"
)
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_CLIENT_ID = re.compile(r"[A-Za-z0-9_.\-]{1,128}")


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
    base URL has no trailing slash and no path.
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("domain: a tenant host such as example.eu.auth0.com is required")
    value = value.strip()
    if "://" not in value:
        if not _HOST.fullmatch(value):
            raise ConfigurationError(f"domain: {value!r} is not a host name")
        value = "https://" + value
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http"):
        raise ConfigurationError(f"domain: scheme {parts.scheme!r} is not allowed; use https://")
    if parts.username or parts.password:
        raise ConfigurationError("domain: credentials in the URL are not allowed")
    host = parts.hostname or ""
    if not host:
        raise ConfigurationError("domain: the URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError("domain: the port is not a number from 1 to 65535") from None
    if port is not None and not 1 <= port <= 65535:
        raise ConfigurationError("domain: the port is not a number from 1 to 65535")
    if not (_HOST_NAME.fullmatch(host) or _is_ip(host)):
        raise ConfigurationError(f"domain: {host!r} is not a valid host name")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigurationError(
            f"domain: plain http:// is allowed only for loopback hosts, not {host!r}; use https://"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError("domain: give the tenant's base URL without a path or query")
    netloc = parts.netloc.lower()
    if (parts.scheme, port) in (("https", 443), ("http", 80)):
        netloc = netloc.rsplit(":", 1)[0]  # the default port names the same tenant
    return f"{parts.scheme}://{netloc}", netloc


@attrs.frozen
class Auth0Config:
    """Who we are to Auth0: the tenant, the application, and the defaults of a login.

    ``domain`` is a tenant host (``example.eu.auth0.com``) or a full base URL
    (``http://127.0.0.1:8080`` for an emulator). ``tenant_domain`` names the
    tenant in the MFA audience when it differs from the host the requests go
    to. ``client_secret`` is configuration: it never enters a snapshot, a log
    line or a repr. Leave it ``None`` for a public (native/SPA) application.
    """

    domain: str
    client_id: str
    client_secret: str | None = attrs.field(default=None, repr=False)
    audience: str | None = None
    scope: str = DEFAULT_SCOPE
    tenant_domain: str | None = None
    base_url: str = attrs.field(init=False)
    host: str = attrs.field(init=False)

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
        if self.tenant_domain is not None and not _HOST.fullmatch(self.tenant_domain):
            raise ConfigurationError("tenant_domain: not a host name")

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

    def client_auth(self) -> dict[str, str]:
        """The client-authentication fields that go into a request body."""
        if self.client_secret is None:
            return {"client_id": self.client_id}
        return {"client_id": self.client_id, "client_secret": self.client_secret}


# ------------------------------------------------------------------- inputs


def _require_str(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(field, "must be a string")
    return value.strip()


def phone_number(value: object, field: str = "phone_number") -> str:
    """An E.164 phone number: ``+`` then 7 to 15 digits."""
    v = _require_str(field, value)
    if not _E164.fullmatch(v):
        raise InvalidInputError(field, "must be in E.164 form: '+' and 7 to 15 digits, no spaces")
    return v


def email(value: object, field: str = "email") -> str:
    """An email address of ordinary shape, at most 254 characters."""
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
    v = _require_str(field, value).replace(" ", "").replace("-", "").upper()
    if not _RECOVERY.fullmatch(v):
        raise InvalidInputError(field, "must be 24 letters or digits")
    return v


def authenticator_id(value: object, field: str = "authenticator_id") -> str:
    """An authenticator id such as ``sms|dev_abc``."""
    v = _require_str(field, value)
    if not _AUTHENTICATOR_ID.fullmatch(v):
        raise InvalidInputError(field, "must look like 'sms|dev_...' (type, '|', id)")
    return v


def ip_address(value: object, field: str = "forwarded_for") -> str:
    """An IPv4 or IPv6 address (the end user's, for ``auth0-forwarded-for``)."""
    v = _require_str(field, value)
    try:
        return str(ipaddress.ip_address(v))
    except ValueError:
        raise InvalidInputError(field, "must be an IPv4 or IPv6 address") from None


def non_empty(value: object, field: str, *, max_len: int = 512) -> str:
    """A non-empty string of at most ``max_len`` characters."""
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise InvalidInputError(
            field, f"must be a non-empty string of at most {max_len} characters"
        )
    return value
