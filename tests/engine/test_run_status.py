"""One spelling of run statuses: the enum compares and serialises as the words reports and the store always used."""

from __future__ import annotations

import json

import pytest

from bot.db.models import ACTIVE_RUN_STATUSES, RUN_STATUSES
from evolve.run_status import FINISHED_STATUSES, REPORT_STATUSES, RunStatus
from evolve.runs import RunReport


def test_members_are_their_words_in_comparisons_json_and_text():
    assert RunStatus.NOTHING_TO_DO == "nothing-to-do" and f"{RunStatus.DRY_RUN}" == "dry-run"
    assert json.dumps({"status": RunStatus.SUCCEEDED}) == '{"status": "succeeded"}'
    assert RunStatus("error") is RunStatus.ERROR


def test_the_store_and_the_reports_use_the_same_set():
    assert set(RUN_STATUSES) == {s.value for s in RunStatus} - {"dry-run"}
    assert set(ACTIVE_RUN_STATUSES) | set(FINISHED_STATUSES) == set(RUN_STATUSES)
    assert RunStatus.DRY_RUN in REPORT_STATUSES and RunStatus.QUEUED not in REPORT_STATUSES


def test_a_report_normalises_its_status_and_rejects_unknown_words():
    report = RunReport(run_id="r", status="succeeded", repo="/r", base_sha=None, plan=None)  # type: ignore[arg-type]
    assert report.status is RunStatus.SUCCEEDED and report.to_dict()["status"] == "succeeded"
    with pytest.raises(ValueError, match="'done' is not a valid RunStatus"):
        RunReport(run_id="r", status="done", repo="/r", base_sha=None, plan=None)  # type: ignore[arg-type]
