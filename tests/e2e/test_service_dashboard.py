"""The dashboard in headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium) against a live service on loopback: the map of Japan renders with its layers, a
layer toggles off and on, a finished run's KPIs appear, two runs are compared; the screenshot
is written to the test's output folder. No network beyond loopback: every asset is served by
the service itself, and the browser is started with its background networking off."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.api.live import Service, live_service

from tsunagu.api.config import ServiceConfig

MINIMAL = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "minimal.yaml"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, str, str]]:
    with live_service(ServiceConfig(data_dir=tmp_path_factory.mktemp("dash"), workers=2)) as svc:
        c = svc.tenant("viewer")
        # AI traffic only: with 2030's national mobile traffic the minimal scenario's one
        # carrier blocks a few per cent of Kanto's people, which makes latency p95 infinite
        # ("n/a"), and this test checks that every KPI tile shows a number.
        text = MINIMAL.read_text(encoding="utf-8") + "\ntraffic: {enabled: false}\n"
        sid = c.post("/v1/scenarios", json={"yaml": text}).json()["id"]
        a = c.post("/v1/runs", json={"scenario_id": sid}).json()["id"]
        b = c.post("/v1/runs", json={"scenario_id": sid, "policy": "carbon-first"}).json()["id"]
        assert svc.wait(c, f"/v1/runs/{a}")["status"] == "succeeded"
        assert svc.wait(c, f"/v1/runs/{b}")["status"] == "succeeded"
        c.close()
        yield svc, a, b


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), "install chromium (make test does)"
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1600,1400",
                f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=DriverService(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _until(driver: Any, script: str, timeout_s: float = 60.0) -> Any:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for: {script}")


def test_dashboard_map_layers_kpis_and_compare(
    service: tuple[Service, str, str], browser: Any, tmp_path: Path
) -> None:
    svc, run_a, run_b = service
    browser.get(f"{svc.base_url}/dashboard/#token={svc.tokens['viewer']}")
    _until(browser, "return document.body.dataset.mapReady === '1'")
    _until(browser, "return document.body.dataset.kpisReady === '1'")

    metas = browser.execute_script("return document.getElementById('map').data.map(t => t.meta)")
    assert metas[0] == "outline"
    assert {"links", "dcs", "cells", "haps", "satellites", "failures"} <= set(metas)
    n_outline = browser.execute_script(
        "return document.getElementById('map').data[0].x.filter(v => v === null).length"
    )
    assert n_outline == 47  # every prefecture drawn from the shipped geometry
    svg_paths = browser.execute_script(
        "return document.querySelectorAll('#map .scatterlayer .trace').length"
    )
    assert svg_paths >= 6

    def visible(meta: str) -> list[Any]:
        return browser.execute_script(  # type: ignore[no-any-return]
            f"return document.getElementById('map').data.filter(t => t.meta === '{meta}')"
            ".map(t => t.visible)"
        )

    assert visible("satellites") == [True]
    browser.find_element("id", "layer-satellites").click()
    _until(browser, "return document.getElementById('map').data.some("
           "t => t.meta === 'satellites' && t.visible === false)")  # fmt: skip
    assert visible("links")
    assert all(visible("links"))  # the other layers stay on
    browser.find_element("id", "layer-satellites").click()
    _until(browser, "return document.getElementById('map').data.some("
           "t => t.meta === 'satellites' && t.visible === true)")  # fmt: skip

    shown = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#kpis .kpi')]"
        ".map(e => [e.dataset.kpi, e.querySelector('b').textContent]))"
    )
    assert set(shown) >= {"latency_p50_ms", "sla_share", "energy_total_kwh", "carbon_kg"}
    assert all(v != "n/a" for v in shown.values()), shown

    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", "run-b")).select_by_value(run_b)
    _until(browser, "return document.body.dataset.compareReady === '1'")
    rows = browser.execute_script("return document.querySelectorAll('#compare tbody tr').length")
    assert rows >= 5
    assert run_a in browser.find_element("id", "run-a").get_attribute("innerHTML")

    shot = tmp_path / "dashboard.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000
    errors = (
        [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
        if hasattr(browser, "get_log")
        else []
    )
    assert not errors, errors
