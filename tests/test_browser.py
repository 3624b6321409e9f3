"""The teaching site in a real browser: Debian's chromium driven by Playwright."""
import shutil
from pathlib import Path

import pytest

from lessons import paths, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = paths.REPO / "test-artifacts"
# Without the background-networking flags chromium keeps calling Google's hosts, which
# this offline machine refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def page(reference):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt)")
    from playwright.sync_api import sync_playwright

    with serving.AppProcess(["--checkpoint", reference]) as app, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(app.url)
        yield page
        browser.close()


def test_upload_a_photo_read_the_label_and_see_the_gradcam(page):
    photo = sorted((paths.SAMPLE_DATA / "glass").glob("*.jpg"))[0]
    page.locator("input[type=file]").first.set_input_files(str(photo))
    page.get_by_role("button", name="Classify").click()
    label = page.locator("#top-classes .output-class")
    label.wait_for(timeout=60_000)
    page.wait_for_function("document.querySelector('#top-classes .output-class').innerText.trim().length > 0",
                           timeout=60_000)
    assert label.inner_text().strip() == "glass"
    overlay = page.locator("#gradcam img")
    overlay.wait_for(timeout=60_000)
    assert overlay.evaluate("img => img.complete && img.naturalWidth") == 224
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "classify.png", full_page=True)


def test_a_bad_upload_shows_the_message_in_the_page(page, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a photo")
    page.locator("input[type=file]").first.set_input_files(str(text))
    page.get_by_role("button", name="Classify").click()
    message = page.get_by_text("not an image Pillow can read")
    message.first.wait_for(timeout=60_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "bad-upload.png", full_page=True)
