"""Names as WeChat users write them through the event API, and shown safely on the console."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.harness import ROOM, T0
from tests.web.conftest import auth


async def test_emoji_zwj_and_invisible_names_through_the_event_api_and_on_the_console(anon, client, community):
    said = [{"type": "message", "id": f"api-n{i}", "ts": (T0 + timedelta(minutes=3 + i)).isoformat(), "room": ROOM,
             "room_name": "读书群", "sender": member, "sender_name": name, "text": "打卡"}
            for i, (member, name) in enumerate((("wxid_coder", "👩‍💻小美"), ("wxid_ghost", "\u200b\u200b"),
                                                ("wxid_rlo", "\u202e小明")))]
    resp = await anon.post("/api/events", data=json.dumps(said), headers={"Content-Type": "application/json", **auth()})
    body = await resp.json()
    assert resp.status == 200 and body["stored"] == 3 and body["rejected"] == []
    assert community.rows("SELECT count(*) FROM checkin WHERE member IN ('wxid_coder', 'wxid_ghost', 'wxid_rlo')") \
        == [(3,)]
    html = await (await client.get("/members")).text()
    assert "👩‍💻小美" in html
    assert "（无名）［id 尾号 host］" in html  # an invisible name is shown as nameless, with its id's tail
    assert "\u202e" not in html  # an override cannot turn the rest of the row around
    csv = await (await client.get("/export/members.csv")).text()
    assert "👩‍💻小美" in csv and "（无名）［id 尾号 host］" in csv and "\u202e" not in csv
