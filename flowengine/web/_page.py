"""The reference login page: plain HTML forms, a little JavaScript that only enhances.

Theory of operation
-------------------
One page, one URL: ``render_page`` draws the state the flow is in. The page keeps a
contract so that any browser test can drive it without knowing its layout:

* ``<main data-flow-state="STATE">`` always carries the flow's current state;
* each action is a ``<form data-trigger="TRIGGER">`` posting to ``BASE/TRIGGER``, its
  inputs named like the library's arguments (``connection``, ``phone_number``,
  ``email``, ``code``, ``type``, ``authenticator_id``);
* one ``confirm`` form (input ``code``) serves every second factor;
* errors appear in an element with ``role="alert"``;
* secrets shown to the user carry ``data-secret="recovery_code"``, ``"totp_secret"`` or
  ``"barcode_uri"``; they are drawn only in the response that produced them.

Every input has a ``<label>``; everything works with the keyboard and without
JavaScript (a push is then checked with its button). The script (behind a CSP nonce)
submits the push's poll form at Auth0's interval and adds copy buttons.
Every value written into the page goes through ``html.escape``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from flowengine import _machine as m
from flowengine.web._dev import DEV_ACTIONS
from flowengine.web._steps import NextStep

__all__ = ["PageModel", "render_page"]

FACTOR_LABELS = {
    "sms": "Text message (SMS)",
    "voice": "Phone call (voice)",
    "email": "Email",
    "otp": "Authenticator app (TOTP)",
    "push": "Push notification (Guardian)",
}

FINAL_MESSAGES = {
    m.AUTHENTICATED: "You are signed in.",
    m.EXPIRED: "This login expired. Start again.",
    m.REJECTED: "The login was rejected. Start again.",
    m.LOCKED: "Too many wrong attempts: the account is blocked for now.",
    m.CANCELLED: "The login was cancelled.",
}

_CSS = """
body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d1f23}
.wrap{display:flex;flex-wrap:wrap;gap:1.5rem;padding:1.5rem;align-items:flex-start}
main{background:#fff;border-radius:8px;padding:1.5rem 2rem;max-width:30rem;flex:1 1 24rem;
box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin-top:0}
form{margin:1rem 0}
form.inline{display:inline;margin:0}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}
fieldset{border:1px solid #ccd;border-radius:6px;margin:.6rem 0}
fieldset label{display:inline;font-weight:400;margin-left:.25rem}
input[type=text],input[type=tel],input[type=email]{width:100%;box-sizing:border-box;
padding:.5rem;font-size:1rem;border:1px solid #99a;border-radius:4px}
button{font-size:1rem;padding:.5rem 1rem;border-radius:4px;border:1px solid #235;
background:#2457c5;color:#fff;cursor:pointer;margin-top:.6rem}
button.secondary{background:#fff;color:#2457c5}
button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #f90;outline-offset:2px}
[role=alert]{background:#fdecea;border:1px solid #d93025;color:#8a1c14;padding:.6rem .8rem;
border-radius:4px}
.notice{background:#e8f0fe;border:1px solid #2457c5;padding:.6rem .8rem;border-radius:4px}
.secret{font-family:ui-monospace,monospace;font-size:1.1rem;background:#fff8e1;
padding:.4rem .6rem;border:1px dashed #c90;word-break:break-all;display:inline-block}
.closed{color:#555;font-style:italic}
.qr svg{width:12rem;height:12rem}
aside{background:#fff;border:2px dashed #c60;border-radius:8px;padding:1rem 1.25rem;
flex:1 1 28rem;max-width:60rem;font-size:.9rem}
aside table{border-collapse:collapse}aside td,aside th{border:1px solid #ccc;padding:.2rem .5rem}
aside .diagram svg{max-width:100%;height:auto}
.spinner{display:inline-block;width:1rem;height:1rem;border:3px solid #ccd;
border-top-color:#2457c5;border-radius:50%;animation:spin 1s linear infinite;vertical-align:middle}
@keyframes spin{to{transform:rotate(360deg)}}
"""

_SCRIPT = """
(function(){
  var poll=document.querySelector('form[data-trigger="poll_push"][data-retry-after]');
  if(poll){var s=parseFloat(poll.getAttribute('data-retry-after'))||5;
    setTimeout(function(){poll.requestSubmit?poll.requestSubmit():poll.submit();},s*1000);}
  document.querySelectorAll('[data-copy]').forEach(function(b){
    b.hidden=false;
    b.addEventListener('click',function(){
      var t=document.getElementById(b.getAttribute('data-copy'));
      if(t&&navigator.clipboard){navigator.clipboard.writeText(t.textContent.trim());
        b.textContent='Copied';}
    });
  });
})();
"""


def e(value: object) -> str:
    """``value`` escaped for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


@attrs.frozen
class PageModel:
    """Everything one rendering of the page needs (secrets only in this response)."""

    base: str
    state: str
    csrf: str = attrs.field(repr=False)
    nonce: str = attrs.field(repr=False)
    seq: int | None = None
    steps: Sequence[NextStep] = ()
    alert: str | None = None
    notice: str | None = None
    factor: str | None = None
    connection: str | None = None
    retry_after: float | None = None
    authenticators: Sequence[Mapping[str, Any]] | None = None
    secrets: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    qr_svg: str | None = attrs.field(default=None, repr=False)
    dev: Mapping[str, Any] | None = None
    title: str = "Sign in"


def _form(
    pm: PageModel, trigger: str, body: str, button: str, *, secondary: bool = False, extra: str = ""
) -> str:
    seq = f'<input type="hidden" name="seq" value="{pm.seq}">' if pm.seq is not None else ""
    cls = ' class="secondary"' if secondary else ""
    return (
        f'<form method="post" action="{e(pm.base)}/{trigger}" data-trigger="{trigger}"{extra}>'
        f'<input type="hidden" name="csrf_token" value="{e(pm.csrf)}">{seq}{body}'
        f'<button type="submit"{cls}>{e(button)}</button></form>'
    )


def _input(
    name: str,
    label: str,
    *,
    kind: str = "text",
    required: bool = False,
    extra: str = "",
    ident: str | None = None,
) -> str:
    ident = ident or f"f-{name}"
    req = " required" if required else ""
    return (
        f'<label for="{ident}">{e(label)}</label>'
        f'<input id="{ident}" name="{name}" type="{kind}" maxlength="320"{req}{extra}>'
    )


def _code_input(label: str, ident: str) -> str:
    return _input(
        "code",
        label,
        required=True,
        ident=ident,
        extra=' autocomplete="one-time-code" inputmode="text" spellcheck="false"',
    )


def _open(pm: PageModel, trigger: str) -> bool:
    return any(s.trigger == trigger and s.open for s in pm.steps)


#: What the user reads when a guard closes a step (else the guard's own hint).
CLOSED_TEXT = {
    "code_attempts_left": "Three wrong codes: this code can no longer be used. Send a new code.",
    "recovery_code_not_in_doubt": "Your recovery code may have been used already: choose "
    "another method.",
}


def _closed(pm: PageModel, trigger: str) -> str:
    for s in pm.steps:
        if s.trigger == trigger and not s.open:
            text = CLOSED_TEXT.get(s.guard or "", s.reason or "")
            return (
                f'<p class="closed" data-closed="{e(trigger)}" data-guard="{e(s.guard or "")}">'
                f"{e(text)}</p>"
            )
    return ""


def _secret_block(name: str, value: str, label: str, ident: str) -> str:
    return (
        f'<p><strong>{e(label)}</strong><br><span class="secret" id="{ident}" '
        f'data-secret="{name}">{e(value)}</span> '
        f'<button type="button" class="secondary" data-copy="{ident}" hidden>Copy</button></p>'
    )


def _secrets(pm: PageModel) -> str:
    out = []
    codes = pm.secrets.get("recovery_code") or []
    for i, code in enumerate(codes):
        out.append(
            _secret_block(
                "recovery_code", code, "Your recovery code (shown once: write it down)", f"rc{i}"
            )
        )
    return "".join(out)


def _start(pm: PageModel) -> str:
    return _form(
        pm,
        "start_passwordless",
        "<fieldset><legend>Send me a code by</legend>"
        '<input type="radio" id="c-sms" name="connection" value="sms" checked>'
        '<label for="c-sms">Text message</label> '
        '<input type="radio" id="c-email" name="connection" value="email">'
        '<label for="c-email">Email</label></fieldset>'
        + _input(
            "phone_number",
            "Phone number (E.164, e.g. +15550100)",
            kind="tel",
            extra=' autocomplete="tel"',
        )
        + _input("email", "Email address (for email)", kind="email", extra=' autocomplete="email"'),
        "Send code",
    )


def _rollback_cancel(pm: PageModel, rollback_label: str | None) -> str:
    out = ""
    if rollback_label and _open(pm, "rollback"):
        out += _form(pm, "rollback", "", rollback_label, secondary=True)
    if _open(pm, "cancel"):
        out += _form(pm, "cancel", "", "Cancel", secondary=True)
    return out


def _code_sent(pm: PageModel) -> str:
    where = "email" if pm.connection == "email" else "phone"
    out = [f"<p>We sent a code to your {where}. Enter it below.</p>"]
    if _open(pm, "verify_otp"):
        out.append(_form(pm, "verify_otp", _code_input("Code", "f-code"), "Verify"))
    else:
        out.append(_closed(pm, "verify_otp"))
    if _open(pm, "resend_code"):
        out.append(_form(pm, "resend_code", "", "Send a new code", secondary=True))
    different = "Use a different email" if pm.connection == "email" else "Use a different number"
    out.append(_rollback_cancel(pm, different))
    return "".join(out)


def _mfa_required(pm: PageModel) -> str:
    out = ["<h2>Second factor</h2>"]
    if pm.authenticators and _open(pm, "challenge"):
        radios = []
        usable = [a for a in pm.authenticators if a.get("authenticator_type") != "recovery-code"]
        for i, a in enumerate(usable):
            kind = a.get("oob_channel") or a.get("authenticator_type") or "authenticator"
            name = a.get("name") or ""
            checked = " checked" if i == 0 else ""
            radios.append(
                f'<input type="radio" id="a{i}" name="authenticator_id" value="{e(a.get("id"))}"'
                f'{checked}><label for="a{i}">{e(kind)} {e(name)}</label><br>'
            )
        if radios:
            out.append(
                _form(
                    pm,
                    "challenge",
                    "<fieldset><legend>Use one of your authenticators</legend>"
                    + "".join(radios)
                    + "</fieldset>",
                    "Send me a challenge",
                )
            )
        else:
            out.append("<p>You have no authenticator yet: enroll one below.</p>")
    elif _open(pm, "list_authenticators"):
        out.append(
            _form(
                pm, "list_authenticators", "", "Use an authenticator I already have", secondary=True
            )
        )
    if _open(pm, "enroll"):
        factors = "".join(
            f'<input type="radio" id="t-{k}" name="type" value="{k}"'
            f"{' checked' if k == 'sms' else ''}>"
            f'<label for="t-{k}">{e(v)}</label><br>'
            for k, v in FACTOR_LABELS.items()
        )
        out.append(
            _form(
                pm,
                "enroll",
                f"<fieldset><legend>Or add a new factor</legend>{factors}</fieldset>"
                + _input(
                    "phone_number",
                    "Phone number (SMS and voice)",
                    kind="tel",
                    ident="f-enroll-phone",
                    extra=' autocomplete="tel"',
                )
                + _input(
                    "email", "Email address (email; optional)", kind="email", ident="f-enroll-email"
                ),
                "Enroll",
            )
        )
    if _open(pm, "confirm_recovery_code") or _open(pm, "confirm_otp"):
        out.append(
            _form(
                pm,
                "confirm",
                _code_input("Recovery code or authenticator-app code", "f-confirm"),
                "Confirm",
                secondary=True,
            )
        )
    else:
        out.append(_closed(pm, "confirm_recovery_code"))
    out.append(_rollback_cancel(pm, None))
    return "".join(out)


def _pending(pm: PageModel) -> str:
    factor = pm.factor or ""
    out = [f"<h2>{e(FACTOR_LABELS.get(factor, 'Second factor'))}</h2>", _secrets(pm)]
    if factor == "push":
        wait = pm.retry_after if pm.retry_after is not None else 5.0
        out.append(
            '<p role="status" aria-live="polite"><span class="spinner" aria-hidden="true">'
            "</span> Waiting for you to approve the notification on your phone…</p>"
        )
        extra = f' data-retry-after="{max(1, math.ceil(wait))}"'
        out.append(_form(pm, "poll_push", "", "Check now", extra=extra))
    else:
        if factor == "otp":
            if pm.qr_svg:
                out.append(
                    '<figure class="qr" aria-label="QR code to scan with your authenticator app">'
                    f"{pm.qr_svg}</figure>"
                )
            if pm.secrets.get("totp_secret"):
                out.append(
                    _secret_block(
                        "totp_secret", pm.secrets["totp_secret"], "Or type this secret", "ts"
                    )
                )
            if pm.secrets.get("barcode_uri"):
                out.append(
                    f'<details><summary>otpauth URI</summary><span class="secret" '
                    f'data-secret="barcode_uri">{e(pm.secrets["barcode_uri"])}</span></details>'
                )
            if not pm.secrets and pm.state == m.ENROLLMENT_PENDING:
                out.append(
                    "<p>The secret was shown once. If you did not add it to your app, choose "
                    "another method.</p>"
                )
            label = "Code from your authenticator app"
        else:
            label = "Code we sent you"
        out.append(_form(pm, "confirm", _code_input(label, "f-code"), "Confirm"))
    rollback = "Use a different number" if factor in ("sms", "voice") else "Choose another method"
    out.append(_rollback_cancel(pm, rollback))
    return "".join(out)


def _final(pm: PageModel) -> str:
    out = [f'<p class="notice">{e(FINAL_MESSAGES.get(pm.state, ""))}</p>', _secrets(pm)]
    out.append(f'<p><a href="{e(pm.base)}/">Start a new login</a></p>')
    return "".join(out)


def _dev_panel(pm: PageModel) -> str:
    dev = pm.dev or {}
    rows = "".join(
        f"<tr><td>{e(msg['channel'])}</td><td>{e(msg['to'])}</td><td>{e(msg['purpose'])}</td>"
        f'<td data-dev-code="{e(msg["code"] or "")}">{e(msg["code"] or "link")}</td></tr>'
        for msg in dev.get("messages", [])[:8]
    )
    buttons = "".join(
        f'<form method="post" action="{e(pm.base)}/_dev/{action}" data-dev-action="{action}" '
        f'class="inline"><input type="hidden" name="csrf_token" value="{e(pm.csrf)}">'
        f'<button type="submit" class="secondary">{e(label)}</button></form> '
        for action, label in DEV_ACTIONS.items()
    )
    flow_id = dev.get("flow_id")
    path = dev.get("path") or []
    diagram = dev.get("diagram") or ""
    return (
        '<aside aria-label="Development panel" data-dev-panel>'
        "<h2>Development panel</h2>"
        "<p>This page runs against an embedded Auth0 emulator. Codes below are fake "
        "codes of the emulator; with a real tenant this panel does not exist.</p>"
        f'<p>Emulator clock: <code data-dev-now="{e(int(dev.get("now", 0)))}">'
        f"{e(int(dev.get('now', 0)))}</code>; requests it answered: "
        f'<code data-dev-requests="{e(dev.get("requests", 0))}">'
        f"{e(dev.get('requests', 0))}</code></p>"
        f"<p>Flow id: <code data-dev-flow-id>{e(flow_id or '(none)')}</code></p>"
        f"<p>Path: <code data-dev-path>{e(' → '.join(path) or '(none)')}</code></p>"
        "<h3>Messages sent</h3>"
        "<table><thead><tr><th>channel</th><th>to</th><th>purpose</th><th>code</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
        f"<p>{buttons}</p>"
        f'<h3>The flow on the state diagram</h3><div class="diagram">{diagram}</div>'
        "</aside>"
    )


def render_page(pm: PageModel) -> str:
    """The whole page for ``pm``."""
    state = pm.state
    if state == m.STARTED:
        body = _start(pm)
        heading = "Sign in"
    elif state == m.CODE_SENT:
        body = _code_sent(pm)
        heading = "Enter your code"
    elif state == m.MFA_REQUIRED:
        body = _mfa_required(pm)
        heading = "Verify it is you"
    elif state in m.PENDING_STATES:
        body = _pending(pm)
        heading = "Confirm your second factor"
    else:
        body = _final(pm)
        heading = "Signed in" if state == m.AUTHENTICATED else "Login ended"
    alert = f'<div role="alert" id="alert">{e(pm.alert)}</div>' if pm.alert else ""
    notice = f'<p class="notice" role="status">{e(pm.notice)}</p>' if pm.notice else ""
    panel = _dev_panel(pm) if pm.dev is not None else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{e(pm.title)}</title><style nonce="{e(pm.nonce)}">{_CSS}</style></head>'
        f'<body><div class="wrap"><main data-flow-state="{e(state)}" aria-labelledby="h">'
        f'<h1 id="h">{e(heading)}</h1>{alert}{notice}{body}</main>{panel}</div>'
        f'<script nonce="{e(pm.nonce)}">{_SCRIPT}</script></body></html>'
    )
