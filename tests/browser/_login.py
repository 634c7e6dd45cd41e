"""A page object for the login page's contract (``flowengine.web._page``)."""

from __future__ import annotations

import itertools
import os
from typing import Any

from playwright.sync_api import expect

_numbers = itertools.count(int.from_bytes(os.urandom(2), "big") * 10)


def new_phone() -> str:
    """A phone number no other test of this run uses."""
    return f"+1555{next(_numbers) % 10_000_000:07d}"


def new_email() -> str:
    """An email address no other test of this run uses."""
    return f"user{next(_numbers)}@example.com"


class LoginPage:
    """Drives the page through its contract only: data-flow-state, data-trigger, names."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url

    def open(self) -> LoginPage:
        self.page.goto(self.url + "/")
        return self

    @property
    def state(self) -> str:
        return str(self.page.locator("main").get_attribute("data-flow-state"))

    def expect_state(self, state: str) -> None:
        expect(self.page.locator("main")).to_have_attribute("data-flow-state", state)

    def form(self, trigger: str) -> Any:
        return self.page.locator(f'form[data-trigger="{trigger}"]')

    def submit(self, trigger: str, **fields: str) -> None:
        form = self.form(trigger)
        for name, value in fields.items():
            field = form.locator(f'[name="{name}"]')
            if field.first.get_attribute("type") == "radio":
                form.locator(f'[name="{name}"][value="{value}"]').check()
            else:
                field.fill(value)
        with self.page.expect_navigation():
            form.locator('button[type="submit"]').click()

    def alert(self) -> str:
        return str(self.page.locator('[role="alert"]').inner_text())

    def secret(self, name: str) -> str:
        return str(self.page.locator(f'[data-secret="{name}"]').first.text_content()).strip()

    # -------------------------------------------------------- the dev panel

    def last_code(self, to: str) -> str:
        row = self.page.locator("aside tr", has_text=to).first
        return str(row.locator("[data-dev-code]").get_attribute("data-dev-code"))

    def dev(self, action: str) -> None:
        with self.page.expect_navigation():
            self.page.locator(f'form[data-dev-action="{action}"] button').click()

    def dev_now(self) -> int:
        return int(self.page.locator("[data-dev-now]").get_attribute("data-dev-now"))

    def dev_requests(self) -> int:
        return int(self.page.locator("[data-dev-requests]").get_attribute("data-dev-requests"))

    def unlabelled_inputs(self) -> list[str]:
        """Names of visible inputs without a label (must be none)."""
        return list(
            self.page.eval_on_selector_all(
                "main input:not([type=hidden]), main select",
                "els => els.filter(e => !e.labels || e.labels.length === 0).map(e => e.name)",
            )
        )

    # ---------------------------------------------------------- sequences

    def start_sms(self, phone: str) -> None:
        self.submit("start_passwordless", connection="sms", phone_number=phone)
        self.expect_state("code_sent")

    def first_factor(self, phone: str) -> None:
        self.open()
        self.start_sms(phone)
        self.submit("verify_otp", code=self.last_code(phone))
        self.expect_state("mfa_required")

    def enroll_sms(self, phone: str) -> str:
        """Enroll SMS, confirm it; returns the recovery code shown once."""
        self.submit("enroll", type="sms", phone_number=phone)
        self.expect_state("enrollment_pending")
        recovery = self.secret("recovery_code")
        self.submit("confirm", code=self.last_code(phone))
        self.expect_state("authenticated")
        return recovery
