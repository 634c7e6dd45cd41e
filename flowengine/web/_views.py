"""JSON views of a flow and of a step's result, for a page or a JavaScript client.

Theory of operation
-------------------
A view is what may cross to the browser. It carries names, states, counters and the
next steps; never a token, an mfa_token, an oob_code, a typed code or the handle.
The only secrets in a view are the ones the *user* must see, once: the recovery codes
of a first enrollment, a new recovery code after one was used, and the TOTP secret and
``otpauth://`` URI to scan. They sit under ``"secrets"`` and the view says
``"show_once": true``, so a client knows to display them now and keep them nowhere.
Tokens are for the application's server (``StepResult.tokens``), not for a view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowengine._flow import Flow, StepResult
from flowengine.web._steps import next_steps, pending_factor

__all__ = ["AUTHENTICATOR_FIELDS", "SHOWN_SECRETS", "flow_view", "result_view", "shown_secrets"]

#: What a view keeps of each authenticator (no secret: ids, kinds and masked names).
AUTHENTICATOR_FIELDS = ("id", "authenticator_type", "oob_channel", "name", "active")

#: The secrets a view may carry, by the ``data-secret`` name the page gives them.
SHOWN_SECRETS = ("recovery_code", "totp_secret", "barcode_uri")


def shown_secrets(result: StepResult) -> dict[str, Any]:
    """The secrets of ``result`` the user must see once (``recovery_code`` is a list)."""
    out: dict[str, Any] = {}
    codes = list(result.recovery_codes or ())
    if result.recovery_code:
        codes.append(result.recovery_code)
    if codes:
        out["recovery_code"] = codes
    if result.totp_secret:
        out["totp_secret"] = result.totp_secret
    if result.barcode_uri:
        out["barcode_uri"] = result.barcode_uri
    return out


def _authenticators(items: Any) -> list[dict[str, Any]]:
    out = []
    for item in items or ():
        if isinstance(item, Mapping):
            out.append({k: item.get(k) for k in AUTHENTICATOR_FIELDS if k in item})
    return out


def flow_view(flow: Flow, now: float) -> dict[str, Any]:
    """The flow as the page sees it: state, seq, pending factor, path and next steps."""
    return {
        "flow_id": flow.flow_id,
        "state": str(flow.state),
        "seq": flow.seq,
        "factor": pending_factor(flow),
        "path": [str(s) for s in flow.path()],
        "next_steps": [s.as_dict() for s in next_steps(flow, now)],
    }


def result_view(result: StepResult) -> dict[str, Any]:
    """A step's result for the browser; secrets only where the user must see them."""
    out: dict[str, Any] = {
        "flow_id": result.flow_id,
        "trigger": result.trigger,
        "outcome": result.outcome,
        "state": result.state,
        "seq": result.seq,
    }
    if result.attempts is not None:
        out["attempts"] = result.attempts
    if result.pending:
        out["pending"] = True
    if result.retry_after is not None:
        out["retry_after"] = result.retry_after
    if result.authenticators is not None:
        out["authenticators"] = _authenticators(result.authenticators)
    if "factor" in result.data:
        out["factor"] = str(result.data["factor"])
    if result.tokens is not None:
        out["authenticated"] = True  # the tokens stay on the server
    secrets = shown_secrets(result)
    if secrets:
        out["secrets"] = secrets
        out["show_once"] = True
    return out
