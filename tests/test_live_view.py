"""CameraCapture's live view in a real browser (headless Chromium): what a person watching would see."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from capture_harness import CameraHarness, ClassifierServer, free_port
from classifier.export import load
from conftest import IMAGES, MODELS, wait_for

# Debian's chromium and chromium-driver; Ubuntu's snap names them chromium(-browser) and chromium.chromedriver.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or shutil.which("chromium.chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1000,900", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_live_view_shows_the_stream_the_tag_and_the_history(tmp_path: Path, browser: webdriver.Chrome) -> None:
    classifier = ClassifierServer(load(MODELS / "apples-bananas"))
    classifier.start()
    folder = tmp_path / "shots"
    folder.mkdir()
    shutil.copy(IMAGES / "apple1.jpg", folder / "1.jpg")
    shutil.copy(IMAGES / "banana1.jpg", folder / "2.jpg")
    port = free_port()
    harness = CameraHarness(tmp_path, {"VIDEO_PATH": str(folder), "LOOP_VIDEO": "true", "SLIDESHOW_INTERVAL_S": "1",
                                       "FRAME_RATE": "10", "SHOW_VIDEO": "true", "LIVE_VIEW_PORT": str(port),
                                       "IMAGE_PROCESSING_ENDPOINT": classifier.url})
    try:
        wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/status", timeout=1).ok if _up(port) else False, 20)
        browser.get(f"http://127.0.0.1:{port}/")
        assert browser.title == "CameraCapture live view"
        tag_text = lambda: browser.execute_script("return document.getElementById('tag').textContent")  # noqa: E731
        wait_for(lambda: tag_text().startswith(("Apple ", "Banana ")) and tag_text().endswith("%"), 20)
        # Read the list in one script call: the page rewrites it every second, so found elements go stale.
        history = lambda: browser.execute_script(  # noqa: E731
            "return [...document.querySelectorAll('#history li')].map(li => li.textContent)")
        wait_for(lambda: any("Apple" in h for h in history()) and any("Banana" in h for h in history()), 20)
        assert all(h[2] == ":" and h[5] == ":" for h in history())  # each entry starts with its time
        live = browser.find_element(By.ID, "live")
        wait_for(lambda: browser.execute_script("return arguments[0].naturalWidth", live) > 0, 20)
        assert "frames read" in browser.find_element(By.ID, "counters").text

        # The picture and its banner agree: a banana under "Banana", an apple under "Apple".
        harness.bus.patch_desired("CameraCapture", {"videoPath": str(folder / "2.jpg")})
        wait_for(lambda: harness.pipeline.status()["source"].endswith("2.jpg") and harness.tags()[-1] == "Banana", 20)
        wait_for(lambda: tag_text().startswith("Banana "), 10)
        (picture,) = wait_for(lambda: _banana_under_banana_banner(live), 10)
        banner, scene = picture[: picture.shape[0] // 8], picture[picture.shape[0] // 4 :]
        assert (banner.max(axis=2) > 200).any() and (banner.max(axis=2) < 40).mean() > 0.5  # white text on black
        assert scene.std() > 20  # the camera picture itself, not a blank box
        browser.save_screenshot(str(tmp_path / "live-view.png"))

        harness.bus.patch_desired("CameraCapture", {"showVideo": False})
        wait_for(lambda: not _up(port), 10)  # switched off live through the module twin
    finally:
        harness.close()
        classifier.stop()


def _up(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/status", timeout=1).ok
    except requests.RequestException:
        return False


def _banana_under_banana_banner(live) -> tuple[np.ndarray] | None:
    """The stream element's pixels once it shows a yellow (banana) scene with the long "Banana" banner."""
    picture = np.asarray(Image.open(io.BytesIO(live.screenshot_as_png)).convert("RGB")).astype(int)
    height = picture.shape[0]
    scene = picture[height // 4 :].reshape(-1, 3)
    yellow = ((scene[:, 0] > 180) & (scene[:, 1] > 150) & (scene[:, 2] < 120)).mean()
    text_columns = np.nonzero((picture[: height // 8].max(axis=2) > 200).any(axis=0))[0]
    text_width = (text_columns.max() - text_columns.min()) / picture.shape[1] if len(text_columns) else 0
    return (picture,) if yellow > 0.05 and text_width > 0.55 else None  # "Banana 100%" is wider than "Apple 100%"
