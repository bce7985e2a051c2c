"""The local Slack webhook keeps what Alertmanager sends and shows it on an inbox page."""

from __future__ import annotations

from starlette.testclient import TestClient

from sandbox.slack import SlackSink, create_app

FIRING = {
    "channel": "#alerts",
    "username": "Alertmanager",
    "attachments": [
        {
            "title": "[FIRING:1] DiskSpaceLow (warning) in database",
            "text": "*A disk of Primary database has less than 20% free space.*",
            "color": "danger",
        }
    ],
}
RESOLVED = {
    "attachments": [{"title": "[RESOLVED] DiskSpaceLow (warning) in database", "color": "good"}]
}


def test_messages_are_kept_in_order_with_their_state() -> None:
    sink = SlackSink()
    with TestClient(create_app(sink)) as client:
        assert client.post("/services/T0/B0/x", json=FIRING).text == "ok"
        assert client.post("/services/T0/B0/x", json=RESOLVED).text == "ok"
        got = client.get("/_sink/messages").json()["messages"]
        later = client.get("/_sink/messages", params={"since": 1}).json()["messages"]
    assert [(m["seq"], m["resolved"], m["channel"]) for m in got] == [
        (1, False, "#alerts"),
        (2, True, None),
    ]
    assert "less than 20% free space" in got[0]["text"]
    assert [m["seq"] for m in later] == [2]


def test_malformed_payloads_get_slacks_400() -> None:
    with TestClient(create_app(SlackSink())) as client:
        assert client.post("/services/x", content=b"not json").status_code == 400
        empty = client.post("/services/x", json={"channel": "#alerts"})
        assert empty.status_code == 400 and "invalid_payload" in empty.text


def test_inbox_page_escapes_and_counts_heartbeats() -> None:
    sink = SlackSink()
    with TestClient(create_app(sink)) as client:
        client.post("/services/x", json={"text": "<script>alert(1)</script>"})
        client.post("/heartbeat", json={"version": "4"})
        page = client.get("/").text
        assert client.get("/_sink/messages").json()["messages"][0]["text"] == (
            "<script>alert(1)</script>"
        )
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "heartbeats received: 1" in page
