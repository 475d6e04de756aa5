"""The fleet's settings for layered deployments: deployment ids, target conditions and priorities (the command
line, else ``.env``'s FLEET_*, else defaults), and the SHA-256 of the model the classifier image bundles."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localedge.deploy.genconfig import GenerationError


def bundled_model_sha256(root: Path, platform: str) -> str:
    """sha256 of the model the classifier image bundles and serves on ``platform``, as it reports it in
    ``model.sha256``: TensorFlow Lite on arm32v7 (no ONNX Runtime there), else the ONNX model."""
    import hashlib

    name = "model.tflite" if platform.startswith("arm32v7") else "model.onnx"
    path = root / "modules" / "ImageClassifierService" / "model" / name
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def fleet_settings(options: Mapping[str, Any], variables: Mapping[str, str], platform: str) -> dict[str, Any]:
    """Deployment ids, target conditions and priorities: the command line, else ``.env`` (FLEET_*), else defaults
    (base: every device tagged with the platform, priority 0; layer: production devices of the platform, 10).
    Raises GenerationError (one line) for a condition IoT Hub would refuse or a layer that would never apply."""
    from localedge.deploy.layering import DEPLOYMENT_ID, ConditionError, parse_condition

    def pick(option: str, variable: str, default: str) -> str:
        value = options.get(option)
        return str(value) if value not in (None, "") else (variables.get(variable) or default)

    safe = re.sub(r"[^a-z0-9-]", "-", platform.lower())
    fleet: dict[str, Any] = {"deployment_id": pick("deployment_id", "FLEET_DEPLOYMENT_ID", f"vision-{safe}"),
             "base_deployment_id": pick("base_deployment_id", "FLEET_BASE_DEPLOYMENT_ID", f"base-{safe}"),
             "target_condition": pick("target_condition", "FLEET_TARGET_CONDITION",
                                      f"tags.environment='prod' AND tags.platform='{platform}'"),
             "base_target_condition": pick("base_target_condition", "FLEET_BASE_TARGET_CONDITION",
                                           f"tags.platform='{platform}'"),
             "model_sha256": pick("model_sha256", "FLEET_MODEL_SHA256", "")}
    for key in ("deployment_id", "base_deployment_id"):
        if not DEPLOYMENT_ID.fullmatch(fleet[key]):
            raise GenerationError(f"deployment id {fleet[key]!r}: use up to 128 lowercase letters, digits and -:+%_#*?!(),=@;'")
    for key in ("target_condition", "base_target_condition"):
        try:
            parse_condition(fleet[key])
        except ConditionError as exc:
            raise GenerationError(f"--{key.replace('_', '-')}: {exc}") from None
    for key, variable, default in (("priority", "FLEET_PRIORITY", "10"), ("base_priority", "FLEET_BASE_PRIORITY", "0")):
        text = pick(key, variable, default)
        if not text.isdecimal():
            raise GenerationError(f"--{key.replace('_', '-')} {text!r}: write a whole number, 0 or more")
        fleet[key] = int(text)
    if fleet["priority"] <= fleet["base_priority"]:
        raise GenerationError(f"--priority {fleet['priority']}: a layered deployment applies only above its base deployment's "
                              f"priority ({fleet['base_priority']}); use {fleet['base_priority'] + 1} or more")
    return fleet


