"""The classifier's default inference threads come from the cores its container may use (issue 23 item 4):
its CPU affinity and its cgroup CPU quota (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``), never the host's count."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from classifier.app import create_app
from classifier.cores import default_inference_threads, usable_cores
from classifier.export import load
from classifier.settings import ClassifierSettings
from conftest import MODELS

AFFINITY = len(os.sched_getaffinity(0))


def _v2(tmp_path: Path, cpu_max: str) -> Path:
    (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    return tmp_path


def _v1(tmp_path: Path, quota: int, period: int) -> Path:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(f"{period}\n")
    return tmp_path


def test_without_a_quota_the_cores_are_the_affinity(tmp_path: Path) -> None:
    assert usable_cores(tmp_path) == AFFINITY  # no cgroup files at all
    assert usable_cores(_v2(tmp_path, "max 100000")) == AFFINITY


def test_a_cgroup_v2_quota_of_one_and_a_half_cpus_gives_at_most_two_cores(tmp_path: Path) -> None:
    assert usable_cores(_v2(tmp_path, "150000 100000")) == min(AFFINITY, 2)


def test_a_cgroup_v2_quota_below_one_cpu_still_gives_one_core(tmp_path: Path) -> None:
    assert usable_cores(_v2(tmp_path, "20000 100000")) == 1


def test_a_cgroup_v1_quota_is_read_too_and_minus_one_is_none(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert usable_cores(_v1(tmp_path / "a", 100000, 100000)) == 1
    assert usable_cores(_v1(tmp_path / "b", -1, 100000)) == AFFINITY


def test_an_affinity_narrower_than_the_quota_wins(tmp_path: Path) -> None:
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        assert usable_cores(_v2(tmp_path, "400000 100000")) == 1
    finally:
        os.sched_setaffinity(0, before)


@pytest.mark.parametrize(("cores", "threads"), [(1, 1), (2, 2), (3, 2), (4, 3), (8, 7)])
def test_from_three_cores_one_is_left_for_the_camera(cores: int, threads: int) -> None:
    assert default_inference_threads(cores) == threads


def test_inference_threads_set_by_the_operator_win_over_the_default() -> None:
    assert ClassifierSettings(inference_threads=3).effective_inference_threads == 3
    assert ClassifierSettings().effective_inference_threads == default_inference_threads(usable_cores())


def test_the_metrics_report_the_threads_and_the_usable_cores() -> None:
    client: FlaskClient = create_app(load(MODELS / "apples-bananas"), ClassifierSettings(inference_threads=3)).test_client()
    samples = {s.name: s.value for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
               for s in family.samples}
    assert samples["classifier_inference_threads"] == 3
    assert samples["classifier_usable_cores"] == usable_cores()
