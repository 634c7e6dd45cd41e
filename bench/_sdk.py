"""The seed's four calls, one login at a time over loopback HTTP: library, raw httpx, SDK.

Every contender talks to the same tenant (``bench._emuserver``, its own process) and logs
in one user at a time: passwordless start (SMS), the passwordless OTP grant with the MFA
API's audience and the seed's scope (answered ``mfa_required``), ``POST /mfa/associate``
with the mfa_token as bearer, and the mfa-oob grant with the oob_code and binding code;
the id_token of the last answer is verified. The contenders:

* the library's sync ``FlowClient`` over one ``httpx.Client`` (its own id_token check);
* raw ``httpx.Client`` with the same bodies, and a careful client's id_token check (the
  JWKS fetched once per client, PyJWT: RS256 signature, iss, aud, exp, iat, sub);
* raw ``httpx.Client`` without the check (an info row: the check's cost);
* the official ``auth0-python`` SDK (6.x, authentication API): ``Passwordless.sms``,
  ``GetToken.passwordless_login`` (whose ``mfa_required`` answer is an ``Auth0Error``
  carrying the mfa_token), its generic ``post`` for ``/mfa/associate`` and its
  ``authenticated_post`` for the mfa-oob grant (it has no method for either), and its
  ``TokenVerifier`` + ``AsymmetricSignatureVerifier`` (JWKS cached by its ``JwksFetcher``),
  built once, ``protocol="http"`` for loopback.

The two code look-ups per login go through one ``httpx.Client`` of the harness for all
contenders alike. Rounds are interleaved (ABCD, DCBA, ...), wall clock. Before timing,
one login per contender is recorded by the tenant (``/_bench/requests``) and compared:
method, path, body fields; the header differences are printed in a note.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench._common import (
    CLIENT_ID,
    CLIENT_SECRET,
    GRANT_MFA_OOB,
    JSON_HEADERS,
    MFA_AUDIENCE,
    SCOPE,
    RawSeedError,
    expect,
    issuer_for,
    make_config,
    phone_for,
    raw_bodies,
    raw_confirm_body,
    raw_enroll_body,
    raw_keys,
    raw_verify,
)
from bench._emuserver import CODE_PATH, REQUESTS_PATH
from bench._harness import Report, Row, fmt_delta, fmt_time, interleave, median, now
from flowengine import FlowClient

RAW_TARGET = 1.15
SDK_TARGET = 0.75
TIMEOUT = httpx.Timeout(30.0)
NAMES = ("library", "raw httpx + check", "raw httpx, no check", "auth0-python")

Login = Callable[[str], None]


class Lookup:
    """The outbox look-up over HTTP, one client shared by every contender."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=TIMEOUT)

    def __call__(self, phone: str, purpose: str) -> str:
        r = self.http.get(self.url + CODE_PATH, params={"to": phone, "purpose": purpose})
        expect(r.status_code, 200, "code look-up")
        return r.text


def library(url: str, code: Lookup, http: httpx.Client) -> Login:
    """The seed through the sync ``FlowClient`` (one client, so its JWKS is cached)."""
    client = FlowClient(make_config(url), http=http)

    def login(phone: str) -> None:
        flow = client.new_flow()
        client.start_passwordless(flow, connection="sms", phone_number=phone)
        client.verify_otp(flow, code(phone, "passwordless"))
        client.enroll(flow, "sms", phone_number=phone)
        result = client.confirm_oob(flow, code(phone, "mfa"))
        if result.state != "authenticated":
            raise RuntimeError(f"a library login ended in {result.state}")

    return login


def raw(url: str, code: Lookup, http: httpx.Client, *, check: bool) -> Login:
    """The same requests by hand with ``httpx.Client``; with ``check``, the id_token verified."""
    keys: dict[str, Any] = {}
    issuer = issuer_for(url)

    def login(phone: str) -> None:
        start, verify = raw_bodies(phone)
        r = http.post(url + "/passwordless/start", headers=JSON_HEADERS, content=start)
        expect(r.status_code, 200, "start")
        json.loads(r.content)
        r = http.post(
            url + "/oauth/token", headers=JSON_HEADERS, content=verify(code(phone, "passwordless"))
        )
        expect(r.status_code, 403, "verify")
        doc = json.loads(r.content)
        if doc.get("error") != "mfa_required":
            raise RawSeedError("verify: no mfa_required")
        mfa_token = doc["mfa_token"]
        r = http.post(
            url + "/mfa/associate",
            headers={**JSON_HEADERS, "authorization": f"Bearer {mfa_token}"},
            content=raw_enroll_body(phone),
        )
        expect(r.status_code, 200, "enroll")
        oob_code = json.loads(r.content)["oob_code"]
        r = http.post(
            url + "/oauth/token",
            headers=JSON_HEADERS,
            content=raw_confirm_body(mfa_token, oob_code, code(phone, "mfa")),
        )
        expect(r.status_code, 200, "confirm")
        tokens = json.loads(r.content)
        if not tokens.get("access_token"):
            raise RawSeedError("confirm: no access_token")
        if check:
            if not keys:  # once per client
                j = http.get(url + "/.well-known/jwks.json", headers={"accept": "application/json"})
                expect(j.status_code, 200, "jwks")
                keys.update(raw_keys(j.content))
            raw_verify(tokens.get("id_token"), keys, issuer)

    return login


def sdk(url: str, code: Lookup) -> Login:
    """The seed through ``auth0-python`` (see the module docstring for which calls)."""
    from auth0.authentication import GetToken, Passwordless
    from auth0.authentication.exceptions import Auth0Error
    from auth0.authentication.token_verifier import AsymmetricSignatureVerifier, TokenVerifier

    domain = urlsplit(url).netloc
    passwordless = Passwordless(domain, CLIENT_ID, CLIENT_SECRET, protocol="http")
    token = GetToken(domain, CLIENT_ID, CLIENT_SECRET, protocol="http")
    verifier = TokenVerifier(
        signature_verifier=AsymmetricSignatureVerifier(url + "/.well-known/jwks.json"),
        issuer=issuer_for(url),
        audience=CLIENT_ID,
        leeway=60,
    )

    def login(phone: str) -> None:
        passwordless.sms(phone)
        try:
            token.passwordless_login(
                username=phone,
                otp=code(phone, "passwordless"),
                realm="sms",
                scope=SCOPE,
                audience=MFA_AUDIENCE,
            )
        except Auth0Error as exc:
            if exc.error_code != "mfa_required" or not isinstance(exc.content, dict):
                raise
            mfa_token = exc.content["mfa_token"]
        else:
            raise RawSeedError("verify: no mfa_required")
        enrolled = token.post(
            url + "/mfa/associate",
            data={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "authenticator_types": ["oob"],
                "oob_channels": ["sms"],
                "phone_number": phone,
            },
            headers={"Authorization": f"Bearer {mfa_token}"},
        )
        tokens = token.authenticated_post(
            url + "/oauth/token",
            data={
                "grant_type": GRANT_MFA_OOB,
                "client_id": CLIENT_ID,
                "mfa_token": mfa_token,
                "oob_code": enrolled["oob_code"],
                "binding_code": code(phone, "mfa"),
            },
        )
        if not tokens.get("access_token"):
            raise RawSeedError("confirm: no access_token")
        verifier.verify(tokens["id_token"])

    return login


# ------------------------------------------------------------------- the wire compared


Seen = list[dict[str, Any]]


def recorded(url: str, login: Login, phone: str) -> Seen:
    """The requests the tenant received during one ``login`` (the phone number masked)."""
    before = httpx.get(url + REQUESTS_PATH, params={"since": 10**12}).json()["count"]
    login(phone)
    seen = httpx.get(url + REQUESTS_PATH, params={"since": before}).json()["requests"]
    for q in seen:  # each contender logs in its own user: the phone number is not compared
        if q["body"]:
            q["body"] = {k: "<phone>" if v == phone else v for k, v in q["body"].items()}
    return list(seen)


def _shape(seen: Seen) -> list[tuple[str, str, str]]:
    """Method, path and body (keys sorted) of each request: what must match."""
    return [(q["method"], q["path"], json.dumps(q["body"], sort_keys=True)) for q in seen]


def _field_diffs(a: Seen, b: Seen) -> list[str]:
    """The body fields of ``b`` that differ from ``a``'s, request by request."""
    out = []
    for qa, qb in zip(a, b, strict=False):
        ba, bb = qa["body"] or {}, qb["body"] or {}
        missing = sorted(set(ba) - set(bb))
        extra = sorted(set(bb) - set(ba))
        changed = sorted(k for k in set(ba) & set(bb) if ba[k] != bb[k])
        if missing or extra or changed:
            parts = [
                f"no {', '.join(missing)}" if missing else "",
                f"+{', '.join(extra)}" * bool(extra),
            ]
            parts.append(f"other {', '.join(changed)}" if changed else "")
            out.append(f"{qa['method']} {qa['path']}: " + "; ".join(p for p in parts if p))
    if len(a) != len(b):
        out.append(f"{len(b)} requests instead of {len(a)}")
    return out


_VARYING = {"content-length", "authorization", "host"}


def _headers(seen: Seen) -> dict[str, set[str]]:
    """Each header name (other than the per-request ones) and the values it took."""
    out: dict[str, set[str]] = {}
    for q in seen:
        for k, v in q["headers"].items():
            if k not in _VARYING:
                out.setdefault(k, set()).add(v)
    return out


def _describe(name: str, value: str) -> str:
    if name == "auth0-client":
        try:
            return f"base64 of {base64.b64decode(value).decode()}"
        except ValueError:
            return value
    return value


def header_note(a_name: str, a: Seen, b_name: str, b: Seen) -> str:
    """Which headers ``b`` sends that ``a`` does not, or with other values."""
    ha, hb = _headers(a), _headers(b)
    parts = []
    for k in sorted(set(ha) | set(hb)):
        va, vb = sorted(ha.get(k, ())), sorted(hb.get(k, ()))
        if va != vb:
            shown_a = " | ".join(_describe(k, v) for v in va) or "-"
            shown_b = " | ".join(_describe(k, v) for v in vb) or "-"
            parts.append(f"{k}: {a_name} {shown_a}, {b_name} {shown_b}")
    return "; ".join(parts) or "none"


# --------------------------------------------------------------------------- figure


def run(report: Report, url: str, rounds: int) -> None:
    """The sequential loopback figure: library vs raw httpx (+ check) vs auth0-python."""
    code = Lookup(url)
    clients = [httpx.Client(timeout=TIMEOUT) for _ in range(3)]
    try:
        logins = [
            library(url, code, clients[0]),
            raw(url, code, clients[1], check=True),
            raw(url, code, clients[2], check=False),
            sdk(url, code),
        ]
        seen = [recorded(url, login, phone_for(7_000_000 + i)) for i, login in enumerate(logins)]
        for name, s in zip(NAMES, seen, strict=True):  # the first login also fetched the JWKS
            jwks = sum(1 for q in s if q["path"].endswith("/jwks.json"))
            if name != NAMES[2] and jwks != 1:
                raise RuntimeError(f"{name} fetched the JWKS {jwks} times on its first login")
        if _shape(seen[0]) != _shape(seen[1]):
            raise RuntimeError("the library and raw httpx sent different requests")
        counter = [7_100_000]

        def timed(login: Login) -> Callable[[], float]:
            def run_one() -> float:
                counter[0] += 1
                phone = phone_for(counter[0])
                t0 = now()
                login(phone)
                return now() - t0

            return run_one

        samples = interleave([timed(login) for login in logins], rounds)
    finally:
        for c in clients:
            c.close()
        code.http.close()
    med = [median(s) for s in samples]
    report.add(
        Row(
            figure="seed, sync, one login at a time over loopback HTTP",
            measured=fmt_time(med[0]),
            baseline=f"raw httpx.Client + id_token check {fmt_time(med[1])}",
            compare=f"ratio {med[0] / med[1]:.3f} ({fmt_delta(med[0] - med[1])})",
            target=f"ratio <= {RAW_TARGET}",
            ok=med[0] / med[1] <= RAW_TARGET,
            ratio=med[0] / med[1],
            note=f"{rounds} rounds",
        )
    )
    report.add(
        Row(
            figure="the same against the official SDK (auth0-python)",
            measured=fmt_time(med[0]),
            baseline=f"auth0-python {fmt_time(med[3])}",
            compare=f"ratio {med[0] / med[3]:.3f} (raw httpx + check: {med[1] / med[3]:.3f})",
            target=f"ratio <= {SDK_TARGET}",
            ok=med[0] / med[3] <= SDK_TARGET,
            ratio=med[0] / med[3],
        )
    )
    report.add(
        Row(
            figure="the same against raw httpx without the id_token check",
            measured=fmt_time(med[0]),
            baseline=f"raw httpx.Client, no check {fmt_time(med[2])}",
            compare=f"ratio {med[0] / med[2]:.3f} (the check: raw {med[1] / med[2]:.3f})",
            target="-",
            ok=None,
        )
    )
    sdk_fields = _field_diffs(seen[0], seen[3])
    report.note(
        "sequential loopback: each contender logs in one user at a time (4 Auth0 calls + 2 "
        "code look-ups through one shared httpx.Client); the library and raw httpx each keep "
        "one httpx.Client (keep-alive); auth0-python calls requests.request() per call (no "
        "session: a new TCP connection per call), as it ships"
    )
    report.note(
        f"sequential wire: the library and raw httpx sent the same {len(seen[0])} requests "
        "(method, path, body fields; the first login includes the one JWKS GET); "
        "auth0-python body fields vs the library: "
        + ("; ".join(sdk_fields) or "the same")
        + ". Headers, raw httpx vs the library: "
        + header_note("library", seen[0], "raw", seen[1])
        + ". Headers, auth0-python vs the library: "
        + header_note("library", seen[0], "auth0-python", seen[3])
    )
