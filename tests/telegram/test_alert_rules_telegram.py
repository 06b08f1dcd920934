"""/alert in a group through the real PTB Application: the rule is the asker's, set and
confirmed in their private chat; the group never sees it."""

from __future__ import annotations

from storage import user_alerts

GROUP = -100770
MEMBER, OTHER = 41, 42


async def test_an_alert_set_in_a_group_is_private_to_its_owner(bot) -> None:
    await bot.say("/start", chat=MEMBER)
    sent = await bot.say("/alert btc < 60000", chat=GROUP, user=MEMBER)
    private = [m for m in sent if m.chat_id == MEMBER]
    public = [m for m in sent if m.chat_id == GROUP]
    assert private and private[0].visible_text.startswith("Alert #1 set: BTC < 60,000")
    assert all("60,000" not in m.visible_text for m in public)
    assert [r.text for r in user_alerts.user_rules(bot.db, MEMBER)] == ["BTC < 60,000"]
    # another member's /alerts shows nothing of it (answered in their private chat, or a hint)
    await bot.say("/start", chat=OTHER)
    sent = await bot.say("/alerts", chat=GROUP, user=OTHER)
    assert all("60,000" not in m.visible_text for m in sent)
    assert user_alerts.user_rules(bot.db, OTHER) == []
