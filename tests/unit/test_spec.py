"""What people type for times, windows and placeholders: one parser each (tiers.spec), with one
Chinese line saying what is wrong."""

from __future__ import annotations

from datetime import time

import pytest

from tiers.spec import check_placeholders, parse_clock, parse_window


@pytest.mark.parametrize(("spec", "expected"), [
    ("09:00", time(9)), ("9:00", time(9)), ("21：30", time(21, 30)), (" 23:59 ", time(23, 59))])
def test_clock_times_as_people_write_them(spec, expected):
    assert parse_clock(spec) == expected


@pytest.mark.parametrize("spec", ["9am", "24:00", "09:60", "0900", "", "09:00:00", "九点"])
def test_a_bad_clock_time_names_itself_and_the_form(spec):
    with pytest.raises(ValueError, match=f"「{spec}」应写成 HH:MM（24 小时制），例如 09:00"):
        parse_clock(spec)


@pytest.mark.parametrize(("spec", "expected"), [
    ("05:00-09:00", (time(5), time(9))), ("22:00～2:00", (time(22), time(2))),
    ("21:00 至 23:59", (time(21), time(23, 59))), ("8:00到9:30", (time(8), time(9, 30)))])
def test_windows(spec, expected):
    assert parse_window(spec) == expected


@pytest.mark.parametrize(("spec", "message"), [
    ("12:00-12:00", "开始和结束是同一时刻"), ("晚上", "应写成 05:00-09:00"), ("25:00-26:00", "应写成 05:00-09:00"),
    ("09:00", "应写成 05:00-09:00")])
def test_a_bad_window_says_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_window(spec)


def test_placeholders_known_pass_and_an_unknown_one_is_named():
    allowed = {"name": "新人昵称", "tasks": "打卡任务"}
    assert check_placeholders("欢迎 {name}，发{tasks}", allowed) == "欢迎 {name}，发{tasks}"
    known = r"\{name\}（新人昵称）、\{tasks\}（打卡任务）"
    with pytest.raises(ValueError, match=r"欢迎语里的「\{nam\}」不认识：可用的只有 " + known):
        check_placeholders("欢迎 {nam}", allowed, "欢迎语")
