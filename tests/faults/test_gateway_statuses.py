"""A 500, 502 or 504 to a request that acts may hide a sent code; a 503 or 429 does not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowengine import GuardRejectedError, RateLimitedError, ServerError
from flowengine._flow import MAY_HAVE_ACTED_STATUSES
from flowengine.testing import Fault
from tests.property.harness import DRIVERS, PHONE, Rig

START = "/passwordless/start"


@pytest.fixture(params=DRIVERS)
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    """A fresh tenant (no enrolled user) and a driver of each kind."""
    made = Rig(str(request.param))
    made.seed_users("new")
    yield made
    made.close()


def test_the_rule_names_exactly_the_gateway_statuses() -> None:
    """Auth0 may have acted behind 500, 502 and 504, and only those."""
    assert frozenset({500, 502, 504}) == MAY_HAVE_ACTED_STATUSES


@pytest.mark.parametrize("kind", ["status_500", "status_502_html"])
def test_a_gateway_error_to_a_start_is_recorded_as_uncertain(rig: Rig, kind: str) -> None:
    """After a 500 or 502 to a start the flow records the doubt and refuses a blind resend."""
    flow = rig.new_flow()
    rig.emu.add_fault(Fault(START, kind))  # type: ignore[arg-type]
    with pytest.raises(ServerError):
        rig.call("start_passwordless", flow, connection="sms", phone_number=PHONE)
    assert flow.context["uncertain"]["trigger"] == "start_passwordless"
    sent = len(rig.emu.requests)
    with pytest.raises(GuardRejectedError) as refused:
        rig.call("start_passwordless", flow, connection="sms", phone_number=PHONE)
    assert refused.value.guard == "no_unconfirmed_send"
    assert len(rig.emu.requests) == sent


@pytest.mark.parametrize(
    ("kind", "error"), [("status_503", ServerError), ("status_429", RateLimitedError)]
)
def test_a_refusal_before_acting_is_not_uncertain(
    rig: Rig, kind: str, error: type[Exception]
) -> None:
    """A 503 or 429 says Auth0 did not act: no doubt is recorded and a retry may go out."""
    flow = rig.new_flow()
    rig.emu.add_fault(Fault(START, kind))  # type: ignore[arg-type]
    with pytest.raises(error):
        rig.call("start_passwordless", flow, connection="sms", phone_number=PHONE)
    assert flow.uncertain is None
