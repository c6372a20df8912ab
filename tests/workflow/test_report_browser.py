"""The Snakemake report as a reader sees it: rendered by headless Chromium at 1440x900.

Snakemake's report is a JavaScript app, so these tests drive Debian's `chromium` with Selenium (and
Debian's `chromium-driver`), click through it and read the rendered DOM. Screenshots of every view land
in the test's temporary folder (look at them when changing the report). Skipped, with the reason, where
Chromium, its driver or Selenium is missing (.ci/run installs them).
"""

import os
import re
import shutil

import pytest

pytestmark = pytest.mark.workflow

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
MISSING = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
# CI (.ci/run) installs them: there a missing browser fails instead of skipping.
if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("REPORT_BROWSER_REQUIRE") == "1":
        raise RuntimeError(f"REPORT_BROWSER_REQUIRE=1: {MISSING}")
    pytest.skip(MISSING, allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (requirements-dev.txt)")
from selenium.common.exceptions import (  # noqa: E402
    ElementNotInteractableException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WIDTH, HEIGHT = 1440, 900
# What a reader finds under "Results": every category, each with its subcategories, in reading order (the
# report's menu sorts categories by name, so they are numbered: synthcxr.report_menu, REPORT_CATEGORIES).
CATEGORIES = {
    "1. Findings": {"Findings from the numbers"},
    "2. Tables": {"Main table", "Paired comparisons"},
    "3. Figures": {"Heat maps", "Errors and calibration", "Training", "Data"},
    "4. Fidelity": {"Overview", "Closest pairs (memorization)"},
    "5. Methods": {"Design and statistics"},
}


@pytest.fixture(scope="module")
def report_page(generated_study):
    """report.html of the session's generated study: demo and generated domains, fidelity, a volume curve."""
    return generated_study / "report.html"


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    # The viewport itself, not the window around it, is 1440x900.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
    )
    yield driver
    driver.quit()


def open_report(browser, page):
    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.XPATH, "//a[span[normalize-space()='1. Findings']]"))


def click_menu_item(browser, label):
    """Click the navigation entry ``label`` (a category or subcategory) in the left-hand menu.

    The menu is re-rendered by the report's JavaScript after each click, so wait until the entry is there
    and clickable instead of assuming the previous click has finished rendering.
    """
    locator = (By.XPATH, f"//a[span[normalize-space()={label!r}]]")

    def clicked(driver):
        try:
            driver.find_element(*locator).click()
        except (NoSuchElementException, StaleElementReferenceException, ElementNotInteractableException):
            return False
        return True

    WebDriverWait(browser, 30).until(clicked, message=f"menu entry {label!r} never became clickable")


def box(browser, element):
    return browser.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,"
        " width: window.innerWidth, height: window.innerHeight};",
        element,
    )


def test_front_page_title_and_notice_are_inside_the_viewport(report_page, browser, tmp_path):
    open_report(browser, report_page)
    title = browser.find_element(By.XPATH, "//h1[contains(., 'Cross-domain utility of synthetic chest X-rays')]")
    notice = browser.find_element(By.XPATH, "//strong[normalize-space()='Research use only.']")
    browser.save_screenshot(str(tmp_path / "front_page.png"))
    viewport = box(browser, title)
    assert (viewport["width"], viewport["height"]) == (WIDTH, HEIGHT)
    for element in (title, notice):
        rect = box(browser, element)
        assert 0 <= rect["top"] < rect["bottom"] <= HEIGHT, (element.text, rect)
        assert 0 <= rect["left"] < rect["right"] <= WIDTH, (element.text, rect)
    # The front page says where to start, and the methods text has moved out of it.
    front = browser.find_element(By.ID, "app").text
    assert "Where to start" in front and "Holm" not in front


def test_front_page_first_screen_shows_the_headline_the_primary_matrix_and_what_was_run(report_page, browser, tmp_path):
    """Issue 23: without scrolling or clicking, a reader sees the findings' headline (the primary endpoint), the
    primary endpoint's matrix (training domain x test split, mean and interval) and one line on what was run."""
    open_report(browser, report_page)
    block = "//div[@class='headline']"
    headline = browser.find_element(By.XPATH, f"{block}/p[contains(., 'Primary endpoint, AUROC on the')]")
    matrix = browser.find_element(By.XPATH, f"{block}//table")
    run = browser.find_element(By.XPATH, f"{block}/p[starts-with(normalize-space(), 'Run:')]")
    browser.save_screenshot(str(tmp_path / "first_screen.png"))
    for element in (headline, matrix, run):
        rect = box(browser, element)
        assert 0 <= rect["top"] < rect["bottom"] <= HEIGHT, (element.text[:80], rect)
        assert 0 <= rect["left"] < rect["right"] <= WIDTH, (element.text[:80], rect)
    assert headline.text.startswith("Question:") and "Caveat" in headline.text
    header = [cell.text for cell in matrix.find_elements(By.TAG_NAME, "th")]
    assert header[0] == "training domain" and len(header) > 2
    rows = matrix.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) >= 2 and all(
        re.match(r"(\d\.\d\d|n/a)", cell.text) for row in rows for cell in row.find_elements(By.TAG_NAME, "td")[1:]
    )
    assert "seeds" in run.text and "test images per split" in run.text


def test_every_entry_has_a_real_subcategory_and_labels(report_page, browser):
    open_report(browser, report_page)
    categories = browser.execute_script("return categories;")
    assert {name: set(subcategories) for name, subcategories in categories.items()} == CATEGORIES
    results = browser.execute_script("return results;")
    assert results and all(entry["labels"] for entry in results.values()), results.keys()


def test_the_menu_lists_the_categories_in_reading_order(report_page, browser):
    open_report(browser, report_page)
    shown = [entry.text.strip() for entry in browser.find_elements(By.XPATH, "//a[span]") if entry.text.strip()]
    assert [name for name in shown if name in CATEGORIES] == list(CATEGORIES)


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_each_category_opens_and_shows_its_entries(report_page, browser, tmp_path, category):
    open_report(browser, report_page)
    click_menu_item(browser, category)
    for subcategory in sorted(CATEGORIES[category]):
        if len(CATEGORIES[category]) > 1:  # a single subcategory opens at once
            click_menu_item(browser, subcategory)
        rows = WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "table tbody tr"))
        assert rows and all(row.is_displayed() for row in rows)
        # Open the first entry that the browser can show (images, HTML), as a reader would.
        buttons = rows[0].find_elements(By.CSS_SELECTOR, "a[href='#']")
        buttons[0].click()
        name = f"{category}_{subcategory}".replace(" ", "_").replace("(", "").replace(")", "")
        browser.save_screenshot(str(tmp_path / f"{name}.png"))
        if len(CATEGORIES[category]) > 1:  # back to the category's list of subcategories
            open_report(browser, report_page)
            click_menu_item(browser, category)
