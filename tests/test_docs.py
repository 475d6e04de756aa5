"""The documents (README.md and docs/*.md) agree with the code: the settings tables of docs/settings.md,
.env.example, the templates' desired properties and the settings models; the classifier URLs shown; every
relative link and anchor.

Each model declares every field live (a desired property) or start-up (the manifest's env); the
documents a user reads and the manifests they deploy must say the same, and this keeps them in step.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from capture.settings import CaptureSettings
from classifier.settings import ClassifierSettings
from conftest import ROOT
from display.settings import DisplaySettings
from edgekit.settings import ModuleSettings
from localedge.deploy.manifest import load_manifest
from speech.settings import SpeechSettings

MODELS: dict[str, type[ModuleSettings]] = {
    "CameraCapture": CaptureSettings,
    "ImageClassifierService": ClassifierSettings,
    "TextToSpeech": SpeechSettings,
    "SenseHatDisplay": DisplaySettings,
}
TEMPLATES = ["deployment.template.json", "deployment.arm32v7.template.json"]
DOCS = ROOT / "docs"
SETTINGS_PAGE = DOCS / "settings.md"


def documents() -> list[Path]:
    """README.md and every page under docs/."""
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def documented_default(model: type[ModuleSettings], field: str) -> str:
    """A field's default as the documents write it: ``false``, ``2`` for 2.0, empty for ""."""
    value: Any = model.model_fields[field].default
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def readme_tables() -> dict[str, list[list[str]]]:
    """{"live": rows, "startup": rows} of docs/settings.md's two tables; a row: [module, env, (twin,) default, meaning]."""
    text = SETTINGS_PAGE.read_text(encoding="utf-8")
    tables: dict[str, list[list[str]]] = {}
    for kind, heading in (("live", "## Live settings"), ("startup", "## Start-up settings")):
        section = text[text.index(heading):]
        lines = section.splitlines()[1:]
        rows, module = [], ""
        for line in lines:
            if line.startswith("#"):
                break
            if not line.startswith("| ") or "`" not in line.split("|")[2]:
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            module = cells[0] or module
            rows.append([module, *cells[1:]])
        tables[kind] = rows
    return tables


@pytest.mark.parametrize("kind", ["live", "startup"])
def test_readme_tables_list_each_setting_once_in_the_table_of_its_kind(kind: str) -> None:
    rows = readme_tables()[kind]
    documented = [(row[0], row[1].strip("`")) for row in rows]
    expected = [(module, model.env_name(f)) for module, model in MODELS.items()
                for f in (model.live_fields() if kind == "live" else model.startup_fields())]
    assert sorted(documented) == sorted(expected)
    for row in rows:
        model = MODELS[row[0]]
        field = row[1].strip("`").lower()
        default = row[3] if kind == "live" else row[2]
        if kind == "live":
            assert row[2] == f"`{model.twin_name(field)}`", row
        want = documented_default(model, field)
        if want:
            assert default == f"`{want}`", (row, want)
        else:
            assert default.startswith("empty") or "bundled" in default or "in the image" in default, row


def test_env_example_lists_each_setting_under_its_module_and_kind() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    found: dict[tuple[str, str], dict[str, str]] = {}
    key: tuple[str, str] | None = None
    for line in text.splitlines():
        header = re.match(r"# (\w+) \((live|start-up)\):(.*)", line)
        if header:
            key = (header.group(1), "startup" if header.group(2) == "start-up" else "live")
            rest = header.group(3)
        elif key and re.match(r"#\s{20,}\S", line):
            rest = line[1:]
        else:
            key = None
            continue
        found.setdefault(key, {}).update(dict(item.split("=", 1) for item in rest.split()))
    for module, model in MODELS.items():
        for kind, fields in (("live", model.live_fields()), ("startup", model.startup_fields())):
            listed = found.get((module, kind), {})
            assert sorted(listed) == sorted(model.env_name(f) for f in fields), (module, kind)
            for f in fields:
                if not model.is_secret(f):
                    assert listed[model.env_name(f)] == documented_default(model, f), (module, f)


@pytest.mark.parametrize("template", TEMPLATES)
def test_templates_desire_every_live_setting_and_put_start_up_ones_in_env(template: str) -> None:
    manifest = load_manifest(ROOT / template, {})
    for module, model in MODELS.items():
        spec = manifest.modules[module]
        assert spec.desired == model().live_desired(), module  # every live setting, at its default
        live_env = {model.env_name(f) for f in model.live_fields()}
        assert not live_env & set(spec.env), f"{module}: a live setting in env hides the twin's value"
        startup_env = {model.env_name(f) for f in model.startup_fields()} | {"LOG_LEVEL"}
        assert set(spec.env) <= startup_env, module


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_readme_reaches_the_classifier_where_the_deployment_publishes_it(template: str) -> None:
    """Every classifier URL the README and docs/ show for a device is where the shipped deployment makes it answer: by
    module name on port 80 (the module's PORT) from other modules, or the port published on the device's
    loopback, and nothing published beyond the device."""
    manifest = load_manifest(ROOT / template, {})
    spec = manifest.modules["ImageClassifierService"]
    bindings = spec.create_options["HostConfig"]["PortBindings"][f"{spec.env['PORT']}/tcp"]
    assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]
    published = {b["HostPort"] for b in bindings}
    text = "\n".join(page.read_text(encoding="utf-8") for page in documents())
    urls = re.findall(r"https?://(?:localhost|127\.0\.0\.1|my-device|ImageClassifierService)(?::\d+)?(?=/image|/url|\"|`)", text)
    assert urls, "the documents show no classifier URL"
    for url in urls:
        host, _, port = url.split("://")[1].partition(":")
        if host == "ImageClassifierService":
            assert port in ("", spec.env["PORT"]), url
        else:
            assert host != "my-device" and port in published, url


# ---- links: every relative link in README.md and docs/*.md reaches a file, and its anchor a heading there ----------

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a Markdown page's headings (outside code fences): lower case, punctuation dropped,
    spaces as hyphens, a repeated heading numbered -1, -2, ..."""
    found: set[str] = set()
    fence = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
            continue
        heading = re.match(r"#{1,6} (.+)", line)
        if fence or not heading:
            continue
        base = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
        anchor, n = base, 0
        while anchor in found:
            n += 1
            anchor = f"{base}-{n}"
        found.add(anchor)
    return found


def broken_links(page: Path) -> list[str]:
    """The relative links of a Markdown page (outside code fences) whose file or anchor does not exist."""
    broken = []
    fence = False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.name}:{number}: {target}: no such file")
            elif anchor and (file.suffix != ".md" or anchor not in anchors(file)):
                broken.append(f"{page.name}:{number}: {target}: no heading #{anchor} in {file.name}")
    return broken


@pytest.mark.parametrize("page", documents(), ids=lambda p: p.name)
def test_every_relative_link_reaches_an_existing_file_and_heading(page: Path) -> None:
    assert broken_links(page) == []


def test_the_link_check_finds_a_missing_page_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## The real SDK over the real wire: `--transport mqtt`\n")
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n[ok](other.md#the-real-sdk-over-the-real-wire---transport-mqtt) [here](#page)\n"
                    "[gone](missing.md) [wrong](other.md#nothing) [self](#nowhere)\n```\n[in code](nope.md)\n```\n")
    assert broken_links(page) == ["page.md:4: missing.md: no such file",
                                  "page.md:4: other.md#nothing: no heading #nothing in other.md",
                                  "page.md:4: #nowhere: no heading #nowhere in page.md"]


def test_the_readme_links_every_docs_page_and_stays_short() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = {target.partition("#")[0] for target in LINK.findall(readme)}
    assert {f"docs/{page.name}" for page in DOCS.glob("*.md")} <= linked
    assert len(readme.splitlines()) <= 300


def test_the_readme_starts_with_the_demo_then_the_tests() -> None:
    """A newcomer's first command runs the solution on the embedded demo, the second the tests."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    assert [b.strip() for b in blocks[:2]] == ["make demo", "make test"]


def test_the_readme_tunes_only_live_settings_by_their_desired_property_names() -> None:
    """Each desired property the README's "Tune it live" table names is a live setting of that module."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Tune it live"):]
    section = section[:section.index("\n## ")]
    rows = [line for line in section.splitlines() if line.startswith("| ") and line.split("|")[1].strip() in MODELS]
    assert len(rows) == len(MODELS)
    for row in rows:
        module, tuned = (cell.strip() for cell in row.strip().strip("|").split("|"))
        model = MODELS[module]
        live = {model.twin_name(f) for f in model.live_fields()}
        names = re.findall(r"`(\w+)`", tuned)
        assert names and set(names) <= live, (module, set(names) - live)
