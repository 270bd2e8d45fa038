"""The segments feature's sections of the config file: [rfm], [lifecycle] and [grades], each read
by its pure parser (tiers) when the file is read."""

from __future__ import annotations

from bot.core.config import ConfigKey, section
from tiers.grades import GradeSettings, parse_grade_settings
from tiers.lifecycle import StageRules, parse_stage_rules
from tiers.rfm import RfmSettings, parse_rfm_settings

RFM: ConfigKey[RfmSettings] = section("rfm", parse_rfm_settings)
LIFECYCLE: ConfigKey[StageRules] = section("lifecycle", parse_stage_rules)
GRADES: ConfigKey[GradeSettings] = section("grades", parse_grade_settings)
