# The README's commands. `make demo` runs the whole solution locally on the embedded demo;
# `make test` runs the test suite. Both create .venv and install into it first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_OUT := demo-output

.PHONY: typecheck demo test install azurite tool-venvs iotedgedev-venv convert-venv onnx2tf-venv demo-assets config config-layered check-images images push base-images clean

# PLATFORM (amd64|arm64v8|arm32v7) when given on the command line or in the environment: each command's own
# default otherwise (make config: genconfig's, arm32v7; make images: this machine's).
GIVEN_PLATFORM = $(if $(filter command line environment environment override,$(origin PLATFORM)),-P $(PLATFORM))

DEV_STAMP := $(VENV)/.dev-stamp

# .venv with what the solution runs (make demo needs no more), then the test tools (make test).
$(STAMP): pyproject.toml
	@echo "making $(VENV): the solution's pinned dependencies from pyproject.toml (about 560 MB: OpenCV, ONNX Runtime, Piper and its voice, ...)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) pyproject.toml
	@echo "adding the test tools to $(VENV) (pyproject.toml [dev]: pytest, mypy, ruff, selenium, ...)"
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(DEV_STAMP)

# Azurite, the Azure Storage API server (npm), plays Blob Storage on IoT Edge under the local runner.
# Without Node.js the runner says so and captures go to a local folder; the tests need it.
AZURITE_VERSION := 3.37.0
AZURITE := .node/node_modules/.bin/azurite-blob
AZURITE_STAMP := .node/.azurite-$(AZURITE_VERSION)

$(AZURITE_STAMP):
	@if command -v npm >/dev/null; then \
	  echo "installing Azurite $(AZURITE_VERSION) into .node (npm)"; \
	  npm install --prefix .node --no-audit --no-fund --loglevel=error azurite@$(AZURITE_VERSION) && touch $(AZURITE_STAMP); \
	else echo "note: Node.js (npm) is not installed: no Azurite; under the local runner captures go to a local folder"; fi

azurite: $(AZURITE_STAMP)

install: $(DEV_STAMP) $(AZURITE_STAMP)

# The tests' tool venvs, each made from its pinned requirements file, reused while that file is unchanged and
# remade (from scratch) when it changes: .venv-iotedgedev (the real iotedgedev CLI), .venv-convert (TensorFlow's
# converter and runtime, tf2onnx: make convert-model's, below, and the TensorFlow exports' tests; about 1.7 GB)
# and .venv-onnx2tf (make convert-model's for ONNX exports).
IOTEDGEDEV_VENV := .venv-iotedgedev
IOTEDGEDEV_STAMP := $(IOTEDGEDEV_VENV)/.installed-stamp
CONVERT_VENV := .venv-convert
CONVERT_STAMP := $(CONVERT_VENV)/.installed-stamp
ONNX2TF_VENV := .venv-onnx2tf
ONNX2TF_STAMP := $(ONNX2TF_VENV)/.installed-stamp

# $(call tool_venv,<venv folder>,<requirements file>)
define tool_venv
	@echo "making $(1) from $(2)"
	$(PYTHON) -m venv --clear $(1)
	printf '*\n' > $(1)/.gitignore
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check -r $(2)
	touch $(1)/.installed-stamp
endef

$(IOTEDGEDEV_STAMP): tools/requirements-iotedgedev.txt
	$(call tool_venv,$(IOTEDGEDEV_VENV),tools/requirements-iotedgedev.txt)

iotedgedev-venv: $(IOTEDGEDEV_STAMP)
convert-venv: $(CONVERT_STAMP)
onnx2tf-venv: $(ONNX2TF_STAMP)
tool-venvs: $(IOTEDGEDEV_STAMP) $(CONVERT_STAMP) $(ONNX2TF_STAMP)

demo: $(STAMP)
	@command -v espeak-ng >/dev/null || echo "note: espeak-ng is not installed: TextToSpeech speaks with Piper only, with no fallback (Debian/Ubuntu: sudo apt-get install espeak-ng)"
	rm -rf $(DEMO_OUT)
	$(PY) -m localedge run \
	  --set CameraCapture.VIDEO_PATH=demo/colours.mp4 \
	  --set TextToSpeech.AUDIO_OUTPUT_DIR=$(DEMO_OUT)/audio \
	  --set SenseHatDisplay.DISPLAY_SNAPSHOT_DIR=$(DEMO_OUT)/display \
	  --set SenseHatDisplay.LOG_MATRIX=true \
	  --upstream $(DEMO_OUT)/upstream.jsonl --duration 20
	@echo "demo output: $(DEMO_OUT)/upstream.jsonl, $(DEMO_OUT)/audio/*.wav, $(DEMO_OUT)/display/*.png"

# The whole suite, from nothing: the Debian packages the tests need (tools/test-deps: apt-get as root or through
# sudo -n, only what is missing; else one line saying what to run), the venv, Azurite, the tools' venvs (each
# made once from its pinned requirements and reused), then the linter, the type checker and pytest.
test:
	@PYTHON=$(PYTHON) tools/test-deps
	@$(MAKE) -s -j4 --no-print-directory $(DEV_STAMP) azurite tool-venvs
	$(PY) -m ruff check .
	$(MAKE) --no-print-directory typecheck
	@# bytecode for the venv and the project, made once: with PYTHONDONTWRITEBYTECODE set (as on many CI machines)
	@# every module process the suite starts would compile what it imports again (measured: 5m15-5m24 -> 4m13)
	@$(PY) -m compileall -q -j0 $(VENV)/lib edgekit localedge modules tests >/dev/null 2>&1 || true
	$(PY) -m pytest

# The type checker: the shared packages and each module's package, then each module's main.py on its own
# (the four are all named `main`).
typecheck: $(DEV_STAMP)
	$(PY) -m mypy
	for m in CameraCapture ImageClassifierService TextToSpeech SenseHatDisplay; do $(PY) -m mypy modules/$$m/main.py || exit 1; done

# config/deployment.<platform>.json from the platform's template, validated offline against the shipped
# schemas (PLATFORM=amd64|arm64v8|arm32v7; default arm32v7, as genconfig's).
config: $(STAMP)
	$(PY) -m localedge genconfig $(GIVEN_PLATFORM)

# The fleet's config/deployment.base.$(PLATFORM).json, config/deployment.layered.$(PLATFORM).json and
# config/deployment.layered.$(PLATFORM).metrics.json, validated (targets and priorities: .env FLEET_*, or e.g.
# make config-layered PLATFORM=arm32v7 LAYERED_ARGS="--target-condition \"tags.ring='canary'\" --priority 20").
config-layered: $(STAMP)
	$(PY) -m localedge genconfig --layered $(GIVEN_PLATFORM) $(LAYERED_ARGS)

# Every module image installs for every platform it lists (pip wheels, Debian packages), with size
# estimates. Needs the armhf and arm64 package lists: dpkg --add-architecture armhf arm64; apt-get update.
check-images: $(STAMP)
	$(PY) -m localedge check-images

# The four module images for PLATFORM (amd64|arm64v8|arm32v7; default: this machine's), tagged
# <registry>/<module>:<version>-<platform> as iotedgedev tags them (CONTAINER_REGISTRY_ADDRESS from the
# environment or .env, else localhost:5000). A missing FROM image is made by tools/base-images first.
# `make push` pushes them to CONTAINER_REGISTRY_ADDRESS (docker login first).
images: $(STAMP)
	$(PY) -m localedge images build $(GIVEN_PLATFORM) $(IMAGES_ARGS)

push: $(STAMP)
	$(PY) -m localedge images push $(GIVEN_PLATFORM) $(IMAGES_ARGS)

# The Dockerfiles' FROM images (debian:bookworm-slim per platform): pulled, else built from Debian packages.
base-images:
	tools/base-images $(if $(GIVEN_PLATFORM),$(PLATFORM))

demo-assets: $(STAMP) $(CONVERT_STAMP)
	$(PY) demo/make_demo.py

clean:
	rm -rf $(VENV) $(CONVERT_VENV) $(ONNX2TF_VENV) $(IOTEDGEDEV_VENV) $(DEMO_OUT) .node .pytest_cache *.egg-info

# An export converted once for the service images: a Custom Vision TensorFlow export (model.pb) into model.onnx and
# model.tflite (TensorFlow, tf2onnx: .venv-convert, about 1.7 GB), or an ONNX export (Custom Vision ONNX, Azure ML
# AutoML, your own) into model.tflite for arm32v7 (onnx2tf: .venv-onnx2tf, about 1.6 GB); each venv made on first use.
# make convert-model EXPORT=path/to/export(.zip) [OUT=folder]; tools/export_kind.py tells which (stdlib only).
$(CONVERT_STAMP): tools/requirements-convert.txt
	$(call tool_venv,$(CONVERT_VENV),tools/requirements-convert.txt)

$(ONNX2TF_STAMP): tools/requirements-onnx2tf.txt
	$(call tool_venv,$(ONNX2TF_VENV),tools/requirements-onnx2tf.txt)

.PHONY: convert-model
convert-model:
	@test -n "$(EXPORT)" || { echo "usage: make convert-model EXPORT=path/to/export(.zip) [OUT=path/to/converted]" >&2; exit 2; }
	@if [ "$$($(PYTHON) tools/export_kind.py "$(EXPORT)")" = onnx ]; then \
	  $(MAKE) -s --no-print-directory onnx2tf-venv && \
	  $(ONNX2TF_VENV)/bin/python tools/convert_onnx_export.py "$(EXPORT)" $(if $(OUT),--out "$(OUT)"); \
	else \
	  $(MAKE) -s --no-print-directory convert-venv && \
	  $(CONVERT_VENV)/bin/python tools/convert_tf_export.py "$(EXPORT)" $(if $(OUT),--out "$(OUT)"); \
	fi

# The module images built and run for real (needs root and Docker; CI runs it after make test):
# tools/docker-up installs and starts what is missing (dockerd, QEMU for the arm images), then the images
# for every platform (the FROM images made by tools/base-images when they cannot be pulled), then
# tests/images: the fruit clip and the device commands through the amd64 containers, each arm container
# under QEMU started as its user, connected with the SDK, and classifying as amd64.
.PHONY: test-images
test-images:
	@PYTHON=$(PYTHON) tools/test-deps
	@$(MAKE) -s --no-print-directory $(DEV_STAMP) azurite
	tools/docker-up
	$(PY) -m localedge images build -P amd64
	$(PY) -m localedge images build -P arm32v7
	$(PY) -m localedge images build -P arm64v8
	$(PY) -m pytest -n 0 tests/images
