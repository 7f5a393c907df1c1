"""The explorer in headless Chromium (Debian's chromium + chromium-driver, through Selenium).

Type in the search box, open an employer, check score, interval and dollars against `fecflow
explain`, follow a recipient link, open the trend chart; a screenshot of each step is saved under
test-artifacts/web (or FECFLOW_TEST_ARTIFACTS). Skipped only when chromium is absent and CI is not
set: under CI=true (`.ci/run` installs it) a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.web, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI"):
            pytest.fail(
                "CI=true but chromium / chromedriver are missing: `apt-get install chromium chromium-driver`"
            )
        pytest.skip(
            "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1200,1600",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _text(driver: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.ID, element_id).text).strip()


def test_search_open_employer_recipient_and_trend(
    browser: Any, explorer_url: str, explained: dict[str, str], artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(explorer_url + "/")
    assert "Partisan leaning scores" in browser.page_source
    browser.save_screenshot(str(artifacts / "1-home.png"))

    box = browser.find_element(By.ID, "q")
    box.send_keys("microsoft")
    box.send_keys(Keys.ENTER)
    link = browser.find_element(By.LINK_TEXT, "MICROSOFT")
    browser.save_screenshot(str(artifacts / "2-search.png"))
    link.click()

    assert _text(browser, "entity-name") == "MICROSOFT"
    assert _text(browser, "score") == explained["score"]
    assert _text(browser, "ci-low") == explained["ci_low"]
    assert _text(browser, "ci-high") == explained["ci_high"]
    assert _text(browser, "dem-amount") == explained["dem"]
    assert _text(browser, "rep-amount") == explained["rep"]
    assert _text(browser, "other-amount") == explained["other"]
    assert browser.find_elements(By.CSS_SELECTOR, "#score-section svg rect.interval")
    browser.save_screenshot(str(artifacts / "3-employer.png"))
    employer_page = browser.current_url

    recipient = browser.find_element(By.CSS_SELECTOR, "a.recipient")
    recipient_id = recipient.text
    recipient.click()
    assert _text(browser, "entity-id") == recipient_id
    browser.save_screenshot(str(artifacts / "4-recipient.png"))

    browser.get(employer_page)
    browser.find_element(By.ID, "trend-chart-link").click()
    assert browser.current_url.endswith(".svg")
    points = browser.find_elements(By.CSS_SELECTOR, "circle")
    assert len(points) == 3  # the demo's three month-end as-of dates
    browser.save_screenshot(str(artifacts / "5-trend.png"))
