"""What the image checker reads from the Dockerfiles (the check itself runs in CI: `make check-images`)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from conftest import ROOT
from localedge.build.images import _stand_in_wheel, parse_dockerfile, plans


def test_every_module_lists_three_platforms_with_existing_dockerfiles() -> None:
    found = {(p.module, p.platform) for p in plans(ROOT)}
    modules = {"CameraCapture", "ImageClassifierService", "TextToSpeech", "SenseHatDisplay"}
    assert found == {(m, p) for m in modules for p in ("amd64", "arm64v8", "arm32v7")}
    for plan in plans(ROOT):
        assert plan.dockerfile.is_file() and plan.requirements is not None and plan.requirements.is_file()
        assert plan.base.startswith({"amd64": "amd64/", "arm64v8": "arm64v8/", "arm32v7": "arm32v7/"}[plan.platform])


def test_builder_stage_is_checked_but_not_counted() -> None:
    plan = parse_dockerfile("SenseHatDisplay", "arm32v7", ROOT / "modules/SenseHatDisplay/Dockerfile.arm32v7", ROOT)
    assert plan.built == {"RTIMULib": "7.2.1"}
    assert "g++" in plan.builder_apt and "g++" not in plan.apt
    assert plan.apt == ["ca-certificates", "python3", "python3-numpy", "python3-pil", "python3-venv"]


def test_arm32v7_images_share_their_first_layer_and_only_the_camera_needs_opencv() -> None:
    arm32 = [p for p in plans(ROOT) if p.platform == "arm32v7"]
    assert len({p.first_layer for p in arm32}) == 1 and "python3-numpy python3-pil" in arm32[0].first_layer
    assert [p.module for p in arm32 if "python3-opencv" in p.apt] == ["CameraCapture"]


def test_stand_in_wheel_is_a_valid_empty_distribution(tmp_path: Path) -> None:
    _stand_in_wheel(tmp_path, "numpy", "1.24.2")
    with zipfile.ZipFile(tmp_path / "numpy-1.24.2-py3-none-any.whl") as wheel:
        metadata = wheel.read("numpy-1.24.2.dist-info/METADATA").decode()
    assert "Name: numpy\nVersion: 1.24.2" in metadata
