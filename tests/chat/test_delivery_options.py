"""Which alerts ring: critical always, an alert the trader set up (/alert) outside quiet hours,
the rest only from the chat's ring severity up."""

from __future__ import annotations

from chat.delivery_options import delivery_options
from storage.chats import QUIET, ChatSettings

NOON_UTC = 1_772_366_400_000  # 2026-03-01 12:00 UTC


def silent(kind: str, severity: str, s: ChatSettings) -> bool:
    return delivery_options(s, kind=kind, severity=severity, alert_id=1, now_ms=NOON_UTC,
                            is_channel=False, bot_username=None).silent


def test_an_alert_the_trader_set_rings_though_warnings_do_not():
    s = ChatSettings(chat_id=1)
    assert silent("cascade", "warning", s)
    assert not silent("rule", "warning", s)
    assert not silent("rule", "info", s)
    assert not silent("liquidation", "critical", s)


def test_quiet_hours_silence_the_trader_s_own_alerts_but_not_critical_ones():
    s = ChatSettings(chat_id=1, extra={QUIET: [11 * 60, 13 * 60]})
    assert silent("rule", "warning", s)
    assert not silent("rule", "critical", s)
    assert not silent("liquidation", "critical", s)
