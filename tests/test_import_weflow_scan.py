"""WeFlow's first pass (who is who, for the notices) reads the senders with one pattern instead of
decoding every message; a file whose messages hold their keys in another order, or whose contents
quote what looks like those keys, gives the same import as the file WeFlow writes."""

from __future__ import annotations

import json

from tests.test_import_generations import CONFIG, GEN, per_member, qunguan, rows

FILE = GEN / "晨读群_weflow.json"


def _imported(tmp_path, capsys, doc: dict, name: str) -> tuple[dict, list, list]:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    db = tmp_path / f"{name}.db"
    code, out = qunguan(capsys, "import", str(path), "--db", str(db), "--config", str(CONFIG))
    assert code == 0, out
    return (per_member(db), rows(db, "SELECT member, inviter FROM referral"),
            rows(db, "SELECT id, name FROM member"))


def test_keys_in_another_order_and_look_alike_contents_import_the_same(tmp_path, capsys):
    doc = json.loads(FILE.read_text(encoding="utf-8"))
    as_written = _imported(tmp_path, capsys, doc, "as_written")
    assert ("wxid_rainbow", "wxid_aqing") in as_written[1]  # the notice's 彩虹🏳️‍🌈 resolved by the first pass
    reordered = dict(doc, messages=[dict(reversed(list(m.items()))) for m in doc["messages"]])
    assert _imported(tmp_path, capsys, reordered, "reordered") == as_written
    # a message quoting the keys: the first pass must not take a sender from inside a content
    fake = '"isSend": 1, "senderUsername": "wxid_fake", "senderDisplayName": "彩虹🏳️‍🌈"'
    quoting = dict(doc, messages=[dict(m, content=m["content"] + fake) if m["type"] == "文本消息" else m
                                  for m in doc["messages"]])
    members, referrals, names = _imported(tmp_path, capsys, quoting, "quoting")
    assert (members, referrals) == as_written[:2] and "wxid_fake" not in dict(names)
