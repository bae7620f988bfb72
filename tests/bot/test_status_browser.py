"""The status pages in a real browser: Debian's headless Chromium, driven by Selenium through Debian's
chromedriver, against a real `evolve serve` (uvicorn on a socket) and the fake GitHub's web flow.

Sign-in is required, GitHub sign-in and the operator token both work, every page renders, and the charts show
the numbers stored in the database. Screenshots go to `$EVOLVE_SCREENSHOT_DIR` (else the test's tmp directory);
docs/images/ holds copies.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.db import store
from tests.bot.live_server import base_env, credential_env, free_port, live_server
from tests.bot.status_world import DOCSTRINGS, GAP_SCORES, LINE_COVERAGE, MAINTAINABILITY, fill

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = Path("/usr/bin/chromium")
OPERATOR_TOKEN = "browser-test-operator-token-0123456789abcdef"

if not (CHROMEDRIVER.exists() and CHROMIUM.exists()):
    if os.environ.get("CI"):
        raise RuntimeError("CI must install chromium and chromium-driver (.ci/run does)")
    pytest.skip(
        "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium, 1280 pixels wide."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in CI containers; the pages are our own
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the screenshots go."""
    directory = Path(os.environ.get("EVOLVE_SCREENSHOT_DIR") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _shoot(driver: Any, directory: Path, name: str) -> Path:
    """A PNG of the whole page (the window grown to the page's height)."""
    for _ in range(3):  # the window's frame takes some height: grow until the page fits the viewport
        height, inner, outer = driver.execute_script(
            "return [document.documentElement.scrollHeight, window.innerHeight, window.outerHeight]"
        )
        if inner >= height:
            break
        driver.set_window_size(1280, min(int(height) + int(outer) - int(inner), 4000))
    path = directory / f"status-{name}.png"
    assert driver.save_screenshot(str(path)), path
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one
    return path


def _path(driver: Any) -> str:
    return urlsplit(driver.current_url).path


def _lands_on(driver: Any, path: str) -> bool:
    """Wait (a click's navigation finishes after `click()` returns) until the browser shows `path`."""
    try:
        WebDriverWait(driver, 30).until(
            lambda d: _path(d) == path and d.execute_script("return document.readyState") == "complete"
        )
    except TimeoutException:
        return False
    return True


def _values(driver: Any, chart: str, series: str | None = None) -> list[float]:
    scope = f'svg[aria-label="{chart}"]' + (f' g[data-series="{series}"]' if series else "")
    points = driver.find_elements(By.CSS_SELECTOR, f"{scope} circle.point")
    assert points and all(p.is_displayed() for p in points)
    return [float(p.get_attribute("data-value")) for p in points]


def test_the_status_pages_in_a_real_browser(tmp_path, fake_github, browser, screenshots):
    fake = fake_github
    fake.add_installation(501, "acme")
    fake.add_installation(502, "other")
    fake.set_permission(fake.add_repo("acme/widgets", 501, repo_id=9001), "alice", "write")
    fake.set_permission(fake.add_repo("acme/gadgets", 501, repo_id=9002), "alice", "read")
    fake.add_repo("other/secret-plans", 502, repo_id=9003)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    engine = store.make_engine(f"sqlite:///{data_dir / 'evolve.sqlite'}")
    store.migrate(engine)
    world = fill(store.make_sessionmaker(engine))
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fake.state.oauth_callback_url = f"{base}/status/callback"
    env = {
        **base_env(tmp_path),
        **credential_env(),
        "EVOLVE_DATA_DIR": str(data_dir),
        "EVOLVE_GITHUB_URL": fake.base_url,
        "EVOLVE_PUBLIC_URL": base,
        "EVOLVE_CLIENT_ID": fake.state.client_id,
        "EVOLVE_CLIENT_SECRET": fake.state.client_secret,
        "EVOLVE_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "EVOLVE_ALLOW_UNSANDBOXED": "1",
    }
    with live_server(tmp_path, env, port=port, args=("--role", "web")):  # no worker: stored runs stay put
        # A stranger is sent to the sign-in page, which remembers where they wanted to go.
        browser.get(f"{base}/status/runs")
        assert _path(browser) == "/status/login"
        assert parse_qs(urlsplit(browser.current_url).query)["next"] == ["/status/runs"]
        _shoot(browser, screenshots, "login")

        # GitHub sign-in as alice: through the fake GitHub's authorize page and back to the runs.
        fake.sign_in("alice")
        browser.find_element(By.ID, "github-login").click()
        assert _lands_on(browser, "/status/runs"), browser.current_url
        runs_text = browser.find_element(By.ID, "runs").text
        assert "acme/widgets" in runs_text and "secret-plans" not in runs_text
        assert browser.find_element(By.CSS_SELECTOR, "header .who").text.startswith("@alice")
        browser.get(f"{base}/status/repositories/{world.secret}")
        assert "No such repository." in browser.page_source
        browser.find_element(By.CSS_SELECTOR, "header form button").click()  # sign out
        assert _lands_on(browser, "/status/login"), browser.current_url
        browser.get(f"{base}/status")
        assert _path(browser) == "/status/login"

        # The operator token sees every installation.
        browser.find_element(By.NAME, "token").send_keys(OPERATOR_TOKEN)
        browser.find_element(By.CSS_SELECTOR, "#token-login button").click()
        assert _lands_on(browser, "/status"), browser.current_url
        repositories = browser.find_element(By.ID, "repositories").text
        for name in ("acme/widgets", "acme/gadgets", "other/secret-plans"):
            assert name in repositories
        widgets_row = browser.find_element(By.CSS_SELECTOR, 'tr[data-repository="acme/widgets"]')
        assert widgets_row.find_element(By.CSS_SELECTOR, ".open-prs").text == "1"
        _shoot(browser, screenshots, "overview")

        browser.get(f"{base}/status/queue")
        assert browser.find_element(By.CSS_SELECTOR, '[data-deliveries="queued"]').text == "2"
        assert browser.find_element(By.ID, "runs-queued").text == "1"
        _shoot(browser, screenshots, "queue")

        browser.get(f"{base}/status/runs")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#runs tr")) == 1 + 11
        _shoot(browser, screenshots, "runs")

        browser.get(f"{base}/status/runs/{world.widget_runs[1]}")
        timeline = browser.find_element(By.ID, "timeline").text
        assert "attempt 1" in timeline and "pull request #41: closed" in timeline
        assert browser.find_element(By.ID, "pr-link").get_attribute("href").endswith("/acme/widgets/pull/41")
        assert "412 tests passed on base and head" in browser.find_element(By.ID, "gates").text
        _shoot(browser, screenshots, "run")

        # The charts show what the database holds.
        browser.get(f"{base}/status/repositories/{world.widgets}")
        assert _values(browser, "Maintainability index") == list(MAINTAINABILITY)
        assert _values(browser, "Coverage", "docstring coverage") == list(DOCSTRINGS)
        assert _values(browser, "Coverage", "line coverage") == list(LINE_COVERAGE)
        tip = browser.find_element(By.CSS_SELECTOR, 'svg[aria-label="Maintainability index"] circle.point title')
        assert tip.get_attribute("textContent").endswith(": 61")
        segments = browser.find_elements(By.CSS_SELECTOR, "#outcome-chart rect.segment")
        counts: dict[str, int] = {}
        for segment in segments:
            category = segment.get_attribute("data-category")
            counts[category] = counts.get(category, 0) + int(segment.get_attribute("data-count"))
        assert counts == {"merged": 5, "closed": 2, "open": 1}
        # The test-gap score over runs, and the newest sample's survivors (their text shown, not run).
        assert _values(browser, "Mutation score of the test-gap sample") == list(GAP_SCORES)
        gap_tip = browser.find_element(By.CSS_SELECTOR, "#test-gap-chart circle.point title")
        assert gap_tip.get_attribute("textContent").endswith(": 52.5%")
        survivors = browser.find_elements(By.CSS_SELECTOR, "#test-gap-survivors tr")
        assert len(survivors) == 3 and all(row.is_displayed() for row in survivors)
        assert survivors[1].text.split() == ["src/a.py:12", "parse", "-", "n", "<", "3", "+", "n", "<=", "3"]
        assert '<script>alert("x")</script>' in survivors[2].text  # shown as text
        assert "score 75%" in browser.find_element(By.ID, "test-gap-summary").text
        _shoot(browser, screenshots, "repository")
