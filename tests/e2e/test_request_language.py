"""x-request-language: the language of Auth0's emails and SMS, set per client or per call."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowengine import Auth0Config, ConfigurationError, InvalidInputError
from flowengine.testing import Auth0Emulator
from tests.e2e.conftest import TENANT, Driver

PHONE = "+15550100"


def languages(emu: Auth0Emulator) -> list[str | None]:
    """The x-request-language header of every request the tenant saw."""
    return [r.headers.get("x-request-language") for r in emu.requests]


def test_the_configured_language_goes_with_every_call(
    make_driver: Callable[..., Driver], emu: Auth0Emulator
) -> None:
    """Auth0Config(request_language=...) sends the header on each request."""
    driver = make_driver(request_language="fr-CA")
    flow = driver.new_flow()
    driver.start_passwordless(flow, connection="sms", phone_number=PHONE)
    driver.verify_otp(flow, emu.last_code(PHONE))
    assert languages(emu) == ["fr-CA", "fr-CA"]


def test_a_call_can_choose_its_own_language(
    make_driver: Callable[..., Driver], emu: Auth0Emulator
) -> None:
    """start_passwordless/resend_code(request_language=...) override the configured one."""
    driver = make_driver(request_language="fr")
    flow = driver.new_flow()
    driver.start_passwordless(flow, connection="sms", phone_number=PHONE, request_language="de")
    driver.resend_code(flow, request_language="es-419")
    driver.resend_code(flow)
    assert languages(emu) == ["de", "es-419", "fr"]


def test_no_language_no_header(driver: Driver, emu: Auth0Emulator) -> None:
    """Without a language the header is not sent (Auth0 falls back to Accept-Language)."""
    driver.start_passwordless(driver.new_flow(), connection="sms", phone_number=PHONE)
    assert languages(emu) == [None]


def test_a_bad_language_is_refused(driver: Driver, emu: Auth0Emulator) -> None:
    """A header-injection attempt or a non-tag is refused before any request."""
    for bad in ("fr\r\nx-evil: 1", "", "f" * 9, "fr_FR"):
        with pytest.raises(InvalidInputError):
            driver.start_passwordless(
                driver.new_flow(), connection="sms", phone_number=PHONE, request_language=bad
            )
        with pytest.raises(ConfigurationError):
            Auth0Config(TENANT, "app-id", request_language=bad)
    assert emu.requests == []
