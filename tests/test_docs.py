"""The documentation lists every setting the modules read, so users can find each one."""

from __future__ import annotations

import pytest

from capture.settings import CaptureSettings
from classifier.settings import ClassifierSettings
from conftest import ROOT
from display.settings import DisplaySettings
from speech.settings import SpeechSettings


@pytest.mark.parametrize("model", [CaptureSettings, ClassifierSettings, SpeechSettings, DisplaySettings])
def test_every_setting_is_in_env_example_and_readme(model) -> None:
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    for field in model.model_fields:
        assert model.env_name(field) in example, f"{model.env_name(field)} missing from .env.example"
        assert f"`{model.env_name(field)}" in readme, f"{model.env_name(field)} missing from the README"
