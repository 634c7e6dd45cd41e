"""The tenant's state and the helpers every endpoint shares.

Theory of operation: ``TenantBase`` owns all of the emulated tenant's state
(clients, users and their authenticators, pending codes, MFA sessions, oob codes,
tokens, the outbox, the request log, faults and rate-limit buckets) and the one
``threading.Lock`` that guards it. The endpoint families are mixins on top of it
(``_emu_passwordless``, ``_emu_grants``, ``_emu_mfa``, ``_emu_push``), as are the
test-facing control API (``_emu_control``) and the request pipeline
(``_emu_wire``); ``flowengine.testing.Auth0Emulator`` combines them. The
``_``-methods here assume the caller holds the lock.

Randomness comes from one ``random.Random(seed)`` when seeded (so every code and
token is reproducible, and the ORDER of draws is part of the behaviour) or from
``secrets`` otherwise; every generated secret is remembered by ``_secret`` so
``issued_secrets`` can hand them to a leak test.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import random
import secrets
import string
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl

import jwt

from flowengine.testing._emu_jwt import (
    ClientKey,
    SigningKey,
    assertion_fields,
    check_assertion,
    check_assertion_type,
    load_client_key,
    request_host,
    revoke_token_field,
    signing_key_for,
)
from flowengine.testing._emu_state import (
    ALNUM,
    B32,
    B64URL,
    JSON_CT,
    PHONE_RE,
    UPPER_ALNUM,
    AccessToken,
    Authenticator,
    AuthKind,
    Bucket,
    Client,
    HttpError,
    MfaPolicy,
    MfaSession,
    Oob,
    PendingCode,
    RefreshToken,
    Request,
    User,
    dumps,
    invalid_request,
    normalise_address,
)
from flowengine.testing._models import (
    EmulatorResponse,
    OutboxMessage,
    PushScript,
    RequestRecord,
    UserInfo,
)

__all__ = ["TenantBase"]


class TenantBase:
    """The tenant's state, its lock, and the helpers shared by every endpoint family."""

    def __init__(
        self,
        domain: str = "tenant.example.auth0.com",
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        mfa_policy: MfaPolicy = "always",
        push_poll_interval: float = 5.0,
        seed: int | None = None,
        tenant_name: str | None = None,
        mfa_requirements: bool = False,
        list_type_field: bool = False,
        revocation_deletes_grant: bool = False,
    ) -> None:
        """Create an empty tenant.

        ``mfa_policy`` "always" answers every first factor with ``mfa_required``;
        "never" issues tokens unless the audience is the MFA API and the user has an
        active non-email factor. ``seed`` makes every code and token deterministic.
        ``tenant_name`` is the issuer shown in ``otpauth://`` URIs (default: the first
        label of ``domain``). ``mfa_requirements`` adds the (early-access)
        ``mfa_requirements`` object to ``mfa_required``; ``list_type_field`` adds the
        newer ``type`` field to ``GET /mfa/authenticators`` items.
        ``revocation_deletes_grant`` is the tenant setting "Refresh Token Revocation
        Deletes Grant": on, revoking one refresh token revokes every refresh token of
        that user, application and audience; off (Auth0's default for tenants created
        since 13 January 2021), only the token itself.
        """
        if mfa_policy not in ("always", "never"):
            raise ValueError("mfa_policy must be 'always' or 'never'")
        self.domain = domain
        self.mfa_policy: MfaPolicy = mfa_policy
        self.push_poll_interval = float(push_poll_interval)
        self.push_script = PushScript()
        self.tenant_name = tenant_name or domain.split(".", 1)[0]
        self.mfa_requirements = mfa_requirements
        self.list_type_field = list_type_field
        self.revocation_deletes_grant = revocation_deletes_grant
        self._clock = clock
        self._sleep = sleep
        self._rng: random.Random | None = random.Random(seed) if seed is not None else None
        self._seed = seed
        # The tenant's token signing keys, newest first (made on first use: RSA is slow).
        self._signing: list[SigningKey] = []
        self._client_keys: dict[str, list[ClientKey]] = {}  # Private Key JWT credentials
        self._jtis: dict[tuple[str, str], float] = {}  # spent assertion ids, until expiry
        # The Host the current request named: a custom domain's tokens carry its name.
        self._request_host: str | None = None
        self._lock = threading.Lock()
        self._clients: dict[str, Client] = {}
        self._users: dict[str, User] = {}
        # the ``_id`` /passwordless/start promised to an address that is not a user yet
        self._pending_ids: dict[str, str] = {}
        self._codes: dict[tuple[str, str], PendingCode] = {}  # by (connection, address)
        self._sessions: dict[str, MfaSession] = {}  # by mfa_token
        self._oobs: dict[str, Oob] = {}  # by oob_code
        self._access: dict[str, AccessToken] = {}  # by the access token itself
        self._refresh: dict[str, RefreshToken] = {}  # by the refresh token itself
        self._outbox: list[OutboxMessage] = []
        self._requests: list[RequestRecord] = []
        self._issued: set[str] = set()
        self._faults: list[list[Any]] = []  # [Fault, remaining: int | None]
        self._limits: dict[str, tuple[int, float]] = {"/passwordless/start": (50, 3600.0)}
        self._buckets: dict[tuple[str, str], Bucket] = {}  # by (endpoint, client IP)

    # ------------------------------------------------------------- shared properties

    @property
    def mfa_audience(self) -> str:
        """The MFA API audience, ``https://<domain>/mfa/``."""
        return f"https://{self.domain}/mfa/"

    # ------------------------------------------------------------- answers

    @staticmethod
    def _json(
        status: int, payload: object, headers: Mapping[str, str] | None = None
    ) -> EmulatorResponse:
        return EmulatorResponse(
            status, {"content-type": JSON_CT, **(headers or {})}, dumps(payload)
        )

    def _error(self, exc: HttpError) -> EmulatorResponse:
        return self._json(exc.status, exc.payload, exc.headers)

    # ------------------------------------------------------------- randomness

    def _rand(self, alphabet: str, n: int) -> str:
        if self._rng is not None:
            return "".join(self._rng.choices(alphabet, k=n))
        return "".join(secrets.choice(alphabet) for _ in range(n))

    def _secret(self, value: str) -> str:
        self._issued.add(value)
        return value

    def _digits(self) -> str:
        return self._secret(self._rand(string.digits, 6))

    def _iron(self, now: float, ttl: float) -> str:
        """An opaque ``Fe26.2*...`` sealed-looking string (mfa_token, oob_code)."""
        hexd = "0123456789abcdef"
        return self._secret(
            f"Fe26.2*SERVER_{int(now)}*{self._rand(hexd, 64)}*{self._rand(B64URL, 22)}*"
            f"{self._rand(B64URL, 214)}*{int((now + ttl) * 1000)}*{self._rand(hexd, 64)}*"
            f"{self._rand(B64URL, 43)}"
        )

    def _jwt(self, claims: Mapping[str, object]) -> str:
        """An RS256 token signed with the tenant's current key.

        ``iss`` names the host the request was sent to (a tenant answers on its
        custom domain with that domain as issuer), else the tenant's domain.
        """
        signed = {**claims, "jti": self._rand(ALNUM, 16)}
        if "iss" in signed:
            signed["iss"] = self._issuer()
        return self._secret(self._signing_key().sign(signed))

    def _issuer(self) -> str:
        return f"https://{self._request_host or self.domain}/"

    def _signing_key(self) -> SigningKey:
        if not self._signing:
            self._signing.append(SigningKey.of(signing_key_for(self._seed)))
        return self._signing[0]

    # ------------------------------------------------------------- keys (public)

    def rotate_signing_key(self, *, keep_old: bool = True) -> str:
        """Start signing with a new RSA key; return its ``kid``.

        The old key stays in the JWKS unless ``keep_old`` is False (a key that
        was withdrawn: tokens it signed no longer verify).
        """
        with self._lock:
            current = self._signing_key()
            new = SigningKey.of(signing_key_for(None))
            self._signing = [new, current] if keep_old else [new]
            return new.kid

    @property
    def signing_kid(self) -> str:
        """The ``kid`` of the key the tenant signs with now."""
        with self._lock:
            return self._signing_key().kid

    def jwks(self) -> dict[str, object]:
        """The tenant's JWKS (public keys only), as ``/.well-known/jwks.json`` serves it."""
        with self._lock:
            self._signing_key()
            return {"keys": [k.jwk() for k in self._signing]}

    def add_client_key(
        self,
        client_id: str,
        public_key: object,
        *,
        algorithm: str = "RS256",
        key_id: str | None = None,
    ) -> None:
        """Give a registered client a Private Key JWT credential (PEM or key object).

        From then on the client must authenticate with a ``client_assertion``
        signed by a key of its credentials (Auth0's ``private_key_jwt`` method).
        """
        credential = load_client_key(public_key, algorithm, key_id)
        with self._lock:
            if client_id not in self._clients:
                raise KeyError(client_id)
            self._client_keys.setdefault(client_id, []).append(credential)

    # ------------------------------------------------------------- /.well-known, revoke

    def _well_known_jwks(self, req: Request) -> EmulatorResponse:
        self._signing_key()
        return self._json(200, {"keys": [k.jwk() for k in self._signing]})

    def _openid_configuration(self, req: Request) -> EmulatorResponse:
        issuer = f"https://{request_host(req) or self.domain}/"
        return self._json(
            200,
            {
                "issuer": issuer,
                "token_endpoint": issuer + "oauth/token",
                "revocation_endpoint": issuer + "oauth/revoke",
                "jwks_uri": issuer + ".well-known/jwks.json",
                "id_token_signing_alg_values_supported": ["HS256", "RS256", "PS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                    "private_key_jwt",
                ],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "PS256"],
            },
        )

    def _oauth_revoke(self, req: Request) -> EmulatorResponse:
        body = self._parse_body(req, allow_form=True, err=invalid_request)
        client = self._client(req, body)
        token = revoke_token_field(body)
        record = self._refresh.get(token)
        if record is None:
            return EmulatorResponse(200, {}, b"")  # RFC 7009 2.2: an unknown token is no error
        if record.client_id != client.client_id:
            raise invalid_request("The refresh_token was not issued to this client")
        del self._refresh[token]
        if self.revocation_deletes_grant:
            grant = (record.username, record.client_id, record.audience)
            for other, rec in list(self._refresh.items()):
                if (rec.username, rec.client_id, rec.audience) == grant:
                    del self._refresh[other]
        return EmulatorResponse(200, {}, b"")

    def _dev_id(self) -> str:
        return "dev_" + self._rand(ALNUM, 16)

    # ------------------------------------------------------------- users

    def _ensure_user(self, username: str, connection: str, *, prefix: str | None = None) -> User:
        user = self._users.get(username)
        now = self._clock()
        if user is None:
            hex_id = self._pending_ids.pop(username, None) or self._rand("0123456789abcdef", 24)
            user = User(
                username=username,
                user_id=f"{prefix or connection}|{hex_id}",
                connections={connection},
                password=None,
                email=username if "@" in username else None,
                phone_number=username if PHONE_RE.match(username) else None,
                mfa_failures=Bucket(10, 3600.0, 10.0, now),
                sms_sends=Bucket(10, 36000.0, 10.0, now),
            )
            self._users[username] = user
        user.connections.add(connection)
        return user

    def _get_user(self, username: str) -> User:
        user = self._users.get(normalise_address(username)) or self._users.get(username)
        if user is None:
            raise KeyError(username)
        return user

    @staticmethod
    def _user_info(user: User) -> UserInfo:
        return UserInfo(
            username=user.username,
            user_id=user.user_id,
            connections=frozenset(user.connections),
            email=user.email,
            phone_number=user.phone_number,
            blocked=user.blocked,
            has_recovery_code=user.recovery_code is not None,
        )

    def _give_recovery_code(self, user: User, now: float) -> str:
        code = self._secret(self._rand(UPPER_ALNUM, 24))
        user.recovery_code = code
        if not any(a.type == "recovery-code" for a in user.authenticators):
            user.authenticators.append(
                Authenticator(
                    id=f"recovery-code|{self._dev_id()}",
                    type="recovery-code",
                    group="recovery-code",
                    active=False,
                    created_at=now,
                )
            )
        return code

    @staticmethod
    def _activate_recovery(user: User) -> None:
        for a in user.authenticators:
            if a.type == "recovery-code":
                a.active = True

    def _create_authenticators(
        self,
        user: User,
        kind: AuthKind,
        now: float,
        *,
        phone_number: str | None = None,
        email: str | None = None,
    ) -> list[Authenticator]:
        """Add ``kind``'s inactive authenticators: sms/voice come as a pair, push with a TOTP."""
        group = self._dev_id()

        def new(
            k: AuthKind,
            auth_id: str,
            *,
            phone: str | None = None,
            address: str | None = None,
            secret: str | None = None,
        ) -> Authenticator:
            return Authenticator(
                id=auth_id,
                type=k,
                group=group,
                active=False,
                created_at=now,
                secret=secret,
                phone_number=phone,
                email=address,
            )

        created: list[Authenticator]
        if kind in ("sms", "voice"):
            if phone_number is None or not PHONE_RE.match(phone_number):
                raise ValueError("sms/voice need an E.164 phone_number")
            twin: AuthKind = "voice" if kind == "sms" else "sms"
            created = [new(k, f"{k}|{group}", phone=phone_number) for k in (kind, twin)]
        elif kind == "email":
            if email is None:
                raise ValueError("email authenticators need an email")
            created = [new("email", f"email|{group}", address=email)]
        elif kind == "push":
            created = [new("push", f"push|{group}")]
            # the twin's own id is drawn before its secret (the seeded order of draws)
            totp_id = f"totp|{self._dev_id()}"
            created.append(new("totp", totp_id, secret=self._secret(self._rand(B32, 32))))
        elif kind == "totp":
            created = [new("totp", f"totp|{group}", secret=self._secret(self._rand(B32, 32)))]
        else:
            raise ValueError(f"cannot enroll {kind!r}")
        user.authenticators.extend(created)
        return created

    def _send(
        self,
        channel: Literal["sms", "voice", "email"],
        to: str,
        code: str | None,
        purpose: Literal["passwordless", "mfa"],
        now: float,
        link: str | None = None,
    ) -> None:
        self._outbox.append(OutboxMessage(channel, normalise_address(to), code, purpose, now, link))

    # ------------------------------------------------------------- body parsing

    @staticmethod
    def _parse_body(
        req: Request, *, allow_form: bool, err: Callable[[str], HttpError]
    ) -> dict[str, object]:
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                value = json.loads(req.raw)
            except (ValueError, UnicodeDecodeError):
                raise err("The request body is not valid JSON.") from None
            if not isinstance(value, dict):
                raise err("The request body must be a JSON object.")
            return value
        if ctype == "application/x-www-form-urlencoded" and allow_form:
            try:
                pairs = parse_qsl(
                    req.raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(req.raw)
                )
            except (UnicodeDecodeError, ValueError):
                raise err("The request body is not valid form data.") from None
            out: dict[str, object] = {}
            for key, value in pairs:
                if key in out:
                    raise err(f"Duplicate parameter: {key}")
                out[key] = value
            return out
        allowed = "application/json" + (
            " or application/x-www-form-urlencoded" if allow_form else ""
        )
        raise err(f"Unsupported Content-Type; expected {allowed}.")

    @staticmethod
    def _str(
        body: Mapping[str, object],
        name: str,
        *,
        required: bool = True,
        err: Callable[[str], HttpError] = invalid_request,
    ) -> str | None:
        value = body.get(name)
        if value is None or value == "":
            if required:
                raise err(f"Missing required parameter: {name}")
            return None
        if not isinstance(value, str):
            raise err(f"Invalid parameter type: {name} must be a string")
        return value

    def _req_str(self, body: Mapping[str, object], name: str) -> str:
        value = self._str(body, name)
        assert value is not None
        return value

    @staticmethod
    def _scope(body: Mapping[str, object]) -> str | None:
        value = body.get("scope")
        if value is None or value == "":
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return " ".join(str(v) for v in value)
        if not isinstance(value, str):
            raise HttpError(400, "invalid_scope", "Scope must be an array or a string")
        return value

    # ------------------------------------------------------------- client auth

    def _client(
        self,
        req: Request,
        body: Mapping[str, object],
        *,
        basic: bool = True,
        missing: Callable[[], HttpError] | None = None,
    ) -> Client:
        basic_id: str | None = None
        basic_secret: str | None = None
        auth = req.headers.get("authorization", "")
        if basic and auth[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
                basic_id, _, basic_secret = decoded.partition(":")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise HttpError(401, "invalid_client", "Malformed Basic authorization.") from None
        self._request_host = request_host(req)
        client_id = body.get("client_id")
        if client_id is not None and not isinstance(client_id, str):
            raise HttpError(401, "invalid_client", "Invalid client_id.")
        assertion = assertion_fields(body)
        if assertion is not None:
            return self._assertion_client(req, body, client_id, assertion, basic_id)
        if basic_id is not None and client_id and client_id != basic_id:
            raise HttpError(
                401, "invalid_client", "client_id does not match the Basic credentials."
            )
        client_id = client_id or basic_id
        if not client_id:
            raise (
                missing()
                if missing
                else HttpError(401, "invalid_client", "Missing required parameter: client_id")
            )
        client = self._clients.get(client_id)
        if client is None:
            raise HttpError(401, "invalid_client", "Unknown client.")
        if client_id in self._client_keys:
            # A private_key_jwt client has no secret and is not public.
            raise HttpError(
                401, "invalid_client", "This client authenticates with a client_assertion."
            )
        secret = body.get("client_secret", basic_secret)
        if client.secret is None:
            if secret:
                raise HttpError(
                    401, "invalid_client", "This client is public: do not send a client_secret."
                )
            return client
        if not isinstance(secret, str) or not secret:
            raise HttpError(401, "invalid_client", "Client authentication is required.")
        if not hmac.compare_digest(secret.encode(), client.secret.encode()):
            raise HttpError(401, "invalid_client", "Unauthorized")
        return client

    def _assertion_client(
        self,
        req: Request,
        body: Mapping[str, object],
        client_id: str | None,
        fields: tuple[object, object],
        basic_id: str | None,
    ) -> Client:
        """The client a ``client_assertion`` authenticates (Private Key JWT), or 401."""
        assertion, assertion_type = fields
        if isinstance(assertion, str):
            self._issued.add(assertion)  # the leak scan looks for it too
        check_assertion_type(assertion_type)
        if basic_id is not None or "client_secret" in body:
            raise HttpError(
                401, "invalid_client", "Send either a client_secret or a client_assertion."
            )
        hosts = {self.domain}
        if self._request_host:
            hosts.add(self._request_host)
        claimed = check_assertion(
            assertion,
            self._client_keys.get(client_id or "", [])
            if client_id
            else self._keys_of_assertion(assertion),
            client_id,
            frozenset(f"https://{h}/" for h in hosts),
            req.now,
            self._jtis,
        )
        client = self._clients.get(claimed)
        if client is None:
            raise HttpError(401, "invalid_client", "Unknown client.")
        return client

    def _keys_of_assertion(self, assertion: object) -> list[ClientKey]:
        """The credentials of the client an assertion's (unverified) ``iss`` names."""
        try:
            iss = jwt.decode(str(assertion), options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:  # check_assertion refuses it, with a reason
            return []
        return self._client_keys.get(iss, []) if isinstance(iss, str) else []
