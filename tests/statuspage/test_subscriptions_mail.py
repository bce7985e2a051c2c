"""E-mail subscriptions end to end: the form, a real SMTP server on loopback (aiosmtpd),
double opt-in, one message per incident event, and one-click unsubscribe."""

from __future__ import annotations

import importlib.util
import re
import shutil
import smtplib
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_service import Live, make_config, open_incident, require, start_service
from smtp_sink import Mailbox, self_signed, smtp_server, wait_for
from sqlalchemy import func, select
from test_statuspage_browser import ARGS, CHROMIUM

from statuspage import schema
from statuspage.notify_mail import MailSession, SettingsError, SmtpSettings
from statuspage.ratelimit import Rate
from statuspage.subscriptions import SubscriptionSettings

BASE = "https://status.acme.example"


@pytest.fixture(scope="module")
def mail_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, Mailbox]]:
    with smtp_server() as (box, port):
        settings = SubscriptionSettings(
            smtp=SmtpSettings("127.0.0.1", port, False, False, "status@acme.example"),
            subscribe_rate=Rate(1000, 1.0),
            poll_seconds=0.1,
        )
        db = tmp_path_factory.mktemp("mail") / "status.db"
        yield from (
            (live, box)
            for live in start_service(make_config(), f"sqlite:///{db}", subscriptions=settings)()
        )


@pytest.fixture
def env(mail_env: tuple[Live, Mailbox]) -> tuple[Live, Mailbox]:
    live, box = mail_env
    live.reset()
    box.messages.clear()
    box.refuse.clear()
    return live, box


def pending(live: Live) -> int:
    out = schema.outbox
    with live.service.store.engine.connect() as conn:
        query = select(func.count()).where(out.c.next_attempt_at.is_not(None))
        return int(conn.execute(query).scalar_one())


def settle(live: Live) -> None:
    """Wait until the outbox has nothing left to send."""
    wait_for("the outbox to drain", lambda: pending(live) == 0)


def link(msg: EmailMessage, action: str) -> str:
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(rf"{re.escape(BASE)}(/subscriptions/{action}/[A-Za-z0-9_-]+)", text)
    assert match, f"no {action} link in:\n{text}"
    return match.group(1)


def subscribe_and_confirm(live: Live, box: Mailbox, address: str, **form: object) -> str:
    answer = live.client.post("/subscribe", data={"email": address, **form})
    assert answer.status_code == 202, answer.text
    assert "Check your inbox" in answer.text
    confirmation = wait_for("the confirmation mail", lambda: box.to(address))[0]
    assert confirmation["Subject"] == "Confirm your subscription to Acme Status"
    page = live.client.get(link(confirmation, "confirm"))
    assert page.status_code == 200 and "Subscription confirmed" in page.text
    return str(confirmation["List-Unsubscribe"]).strip("<>").removeprefix(BASE)


def subjects(box: Mailbox, address: str) -> list[str]:
    return [str(m["Subject"]) for m in box.to(address)]


def test_a_confirmed_subscriber_gets_each_incident_event_exactly_once(
    env: tuple[Live, Mailbox],
) -> None:
    live, box = env
    subscribe_and_confirm(live, box, "alice@example.com")

    incident_id = open_incident(live, "Orders failing", ["api"], "major", "Looking into it.")["id"]
    wait_for("the creation mail", lambda: len(box.to("alice@example.com")) == 2)
    live.post(
        f"/api/v1/incidents/{incident_id}/updates",
        {"status": "identified", "body": "A bad deploy; rolling back."},
    )
    wait_for("the update mail", lambda: len(box.to("alice@example.com")) == 3)
    live.post(f"/api/v1/incidents/{incident_id}/resolve", {"body": "Orders work again."})
    settle(live)
    # Several more polls: nothing is sent twice.
    live.service.refresh(force=True)
    settle(live)

    assert subjects(box, "alice@example.com") == [
        "Confirm your subscription to Acme Status",
        "[Acme Status] New incident: Orders failing",
        "[Acme Status] Update: Orders failing",
        "[Acme Status] Resolved: Orders failing",
    ]
    update = box.to("alice@example.com")[2]
    text = update.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Identified - Orders failing" in text
    assert "A bad deploy; rolling back." in text
    assert "Affected: Public API" in text
    assert f"Details: {BASE}/incidents/{incident_id}" in text  # the incident's own page
    incident_page = live.client.get(f"/incidents/{incident_id}")
    assert incident_page.status_code == 200 and "A bad deploy; rolling back." in incident_page.text
    assert update["From"] == "Acme Status <status@acme.example>"


def test_every_message_unsubscribes_in_one_click(env: tuple[Live, Mailbox]) -> None:
    live, box = env
    subscribe_and_confirm(live, box, "bob@example.com")
    open_incident(live, "Slow logins", ["web"], "minor", "Checking.")
    notice = wait_for("the notification", lambda: box.to("bob@example.com")[1:])[0]
    path = link(notice, "unsubscribe")
    # RFC 8058 headers: mail clients POST to the same link.
    assert notice["List-Unsubscribe"] == f"<{BASE}{path}>"
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page = live.client.get(path)
    assert page.status_code == 200 and "Unsubscribed" in page.text
    assert live.client.get(path).status_code == 404  # gone, and it says so

    open_incident(live, "Slow again", ["web"], "minor", "Checking.")
    settle(live)
    assert len(box.to("bob@example.com")) == 2  # the confirmation and the first incident


def test_rfc8058_one_click_post_unsubscribes(env: tuple[Live, Mailbox]) -> None:
    live, box = env
    path = subscribe_and_confirm(live, box, "carol@example.com")
    answer = live.client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200
    with live.service.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.subscriber)).scalar() == 0


def test_nothing_but_the_confirmation_reaches_an_unconfirmed_address(
    env: tuple[Live, Mailbox],
) -> None:
    live, box = env
    assert live.client.post("/subscribe", data={"email": "dave@example.com"}).status_code == 202
    wait_for("the confirmation", lambda: box.to("dave@example.com"))
    open_incident(live, "Outage", ["api"], "critical", "Down.")
    settle(live)
    assert subjects(box, "dave@example.com") == ["Confirm your subscription to Acme Status"]
    # Asking again within the hour sends no second mail (the form cannot flood an inbox)
    # and the answer does not tell whether the address was known.
    again = live.client.post("/subscribe", data={"email": "dave@example.com"})
    assert again.status_code == 202
    settle(live)
    assert len(box.to("dave@example.com")) == 1


def test_a_subscriber_of_some_components_hears_only_about_them(
    env: tuple[Live, Mailbox],
) -> None:
    live, box = env
    subscribe_and_confirm(live, box, "erin@example.com", components="db")
    open_incident(live, "API down", ["api"], "critical", "Down.")
    open_incident(live, "Database slow", ["db"], "minor", "Slow.")
    settle(live)
    assert subjects(box, "erin@example.com")[1:] == ["[Acme Status] New incident: Database slow"]


def test_a_refusing_recipient_does_not_block_the_others(env: tuple[Live, Mailbox]) -> None:
    live, box = env
    subscribe_and_confirm(live, box, "frank@example.com")
    subscribe_and_confirm(live, box, "grace@example.com")
    box.refuse.add("frank@example.com")
    open_incident(live, "Outage", ["api"], "critical", "Down.")
    settle(live)
    assert subjects(box, "grace@example.com")[1:] == ["[Acme Status] New incident: Outage"]
    out = schema.outbox
    with live.service.store.engine.connect() as conn:
        dead = conn.execute(select(out.c.last_error).where(out.c.dead_at.is_not(None))).all()
    assert len(dead) == 1 and "refused" in dead[0].last_error


@pytest.mark.parametrize(
    "address", ["not-an-address", "a@localhost", "victim@example.com\r\nBcc: many@example.com"]
)
def test_a_bad_address_gets_a_422_and_no_mail(env: tuple[Live, Mailbox], address: str) -> None:
    live, box = env
    answer = live.client.post("/subscribe", json={"email": address})
    assert answer.status_code == 422
    assert answer.json()["error"].startswith("email: ")
    settle(live)
    assert box.messages == []


def test_a_customer_subscribes_through_the_form_in_chromium(env: tuple[Live, Mailbox]) -> None:
    require("chromium (/usr/bin/chromium)", shutil.which(CHROMIUM) is not None)
    require("playwright (Python package)", importlib.util.find_spec("playwright") is not None)
    from playwright import sync_api

    live, box = env
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on(
                "response",
                lambda r: (
                    errors.append(r.url)
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            page.goto(live.url + "/", wait_until="load")
            page.get_by_label("E-mail address").fill("henry@example.com")
            page.get_by_label("Customer database").check()
            page.get_by_role("button", name="Subscribe").click()
            page.wait_for_load_state("load")
            # The page's own CSP (form-action 'self') let the form through.
            assert page.get_by_role("heading", name="Check your inbox").is_visible()
            assert "henry@example.com" in page.get_by_role("status").inner_text()

            confirmation = wait_for("the confirmation", lambda: box.to("henry@example.com"))[0]
            page.goto(live.url + link(confirmation, "confirm"), wait_until="load")
            assert page.get_by_role("heading", name="Subscription confirmed").is_visible()
            assert errors == []
        finally:
            browser.close()
    with live.service.store.engine.connect() as conn:
        row = conn.execute(select(schema.subscriber)).one()
    assert (row.address, row.components, row.confirmed_at is not None) == (
        "henry@example.com",
        '["db"]',
        True,
    )


def _outbox_mail(to: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "status@acme.example", to, "hello"
    msg.set_content("body")
    return msg


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_comes_from_a_password_file(tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret-pass\n")  # as a mounted Secret often ends
    with smtp_server(login=("mailer", "s3cret-pass")) as (box, port):
        env = {
            "STATUSPAGE_SMTP_URL": f"smtp://127.0.0.1:{port}",
            "STATUSPAGE_MAIL_FROM": "status@acme.example",
            "STATUSPAGE_SMTP_USERNAME": "mailer",
            "STATUSPAGE_SMTP_PASSWORD_FILE": str(secret),
        }
        settings = SubscriptionSettings.from_env(env).smtp
        assert settings is not None and "s3cret" not in repr(settings)
        with MailSession(settings) as session:
            session.send(_outbox_mail("ivy@example.com"))
        assert len(box.to("ivy@example.com")) == 1

        # Without the login the server refuses the message (its AUTH is required).
        anonymous = SubscriptionSettings.from_env(
            {k: v for k, v in env.items() if "USERNAME" not in k}
        ).smtp
        assert anonymous is not None
        with pytest.raises(smtplib.SMTPSenderRefused), MailSession(anonymous) as session:
            session.send(_outbox_mail("ivy@example.com"))
        assert len(box.to("ivy@example.com")) == 1


def test_starttls_verifies_the_relay_and_then_logs_in(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with smtp_server(login=("mailer", "pw"), starttls=(cert, key)) as (box, port):
        env = {
            "STATUSPAGE_SMTP_URL": f"smtp+starttls://127.0.0.1:{port}",
            "STATUSPAGE_MAIL_FROM": "status@acme.example",
            "STATUSPAGE_SMTP_USERNAME": "mailer",
            "STATUSPAGE_SMTP_PASSWORD": "pw",
        }
        # An unknown CA is refused: no mail (and no password) goes to an unverified relay.
        untrusted = SubscriptionSettings.from_env(env).smtp
        assert untrusted is not None
        with pytest.raises(ssl.SSLCertVerificationError), MailSession(untrusted) as session:
            session.send(_outbox_mail("jo@example.com"))
        trusted = SubscriptionSettings.from_env({**env, "STATUSPAGE_SMTP_CA_FILE": str(cert)})
        assert trusted.smtp is not None
        with MailSession(trusted.smtp) as session:
            session.send(_outbox_mail("jo@example.com"))
        assert len(box.to("jo@example.com")) == 1


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"STATUSPAGE_SMTP_URL": "smtp://u:p@mail.example.com"}, "must not carry credentials"),
        ({"STATUSPAGE_SMTP_URL": "imap://mail.example.com"}, "scheme 'imap'"),
        ({"STATUSPAGE_SMTP_URL": "smtp://mail.example.com"}, "STATUSPAGE_MAIL_FROM must be set"),
        (
            {
                "STATUSPAGE_SMTP_URL": "smtp://mail.example.com",
                "STATUSPAGE_MAIL_FROM": "s@x.io",
                "STATUSPAGE_SMTP_PASSWORD_FILE": "/nonexistent/pw",
            },
            "cannot read",
        ),
        ({"STATUSPAGE_SUBSCRIBE_RATE": "lots"}, "STATUSPAGE_SUBSCRIBE_RATE"),
    ],
)
def test_bad_delivery_settings_name_the_variable(env: dict[str, str], reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        SubscriptionSettings.from_env(env)


def test_smtp_schemes_and_default_ports() -> None:
    def parsed(url: str) -> tuple[int, bool, bool]:
        s = SubscriptionSettings.from_env(
            {"STATUSPAGE_SMTP_URL": url, "STATUSPAGE_MAIL_FROM": "s@x.io"}
        ).smtp
        assert s is not None
        return s.port, s.starttls, s.implicit_tls

    assert parsed("smtp://mail.example.com") == (25, False, False)
    assert parsed("smtp+starttls://mail.example.com") == (587, True, False)
    assert parsed("smtps://mail.example.com") == (465, False, True)
    assert parsed("smtp+starttls://mail.example.com:2525") == (2525, True, False)
    assert SubscriptionSettings.from_env({}).smtp is None


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(address=st.emails() | st.text(max_size=60) | st.from_regex(r"[^@]{1,20}@[^@]{1,30}"))
def test_no_address_gets_a_server_error(env: tuple[Live, Mailbox], address: str) -> None:
    live, _ = env
    answer = live.client.post("/subscribe", json={"email": address})
    assert answer.status_code in (202, 400, 422), (address, answer.text)
