#!/usr/bin/env python3
"""The interviewer's console in a real browser: Debian's chromium in headless
mode, driven by chromium-driver through python3-selenium.

A drill of latency-after-release runs at 60x with its console. The page
loads (prompt, action buttons, charts); the answer key opens on a click and
a hint is given; clicking "Roll orders back" asks for confirmation, and
confirming takes the action: the action log shows it, the chart gets an
action marker, and the latency chart's line changes as new windows come.
Screenshots of each step are kept in $SCREENSHOTS (the build dir's
meson-logs/drill-console/ under meson)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drillutil import Drill, check, fail  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common import utils  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


class LoopbackService(Service):
    """chromedriver at 127.0.0.1: selenium asks for "localhost", which a
    machine without /etc/hosts (a fresh chroot) cannot resolve."""

    @property
    def service_url(self):
        return "http://127.0.0.1:%d" % self.port

    def is_connectable(self):
        return utils.is_connectable(self.port, "127.0.0.1")


class Browser:
    """Headless Chromium started here with its DevTools on 127.0.0.1, and
    chromedriver attached to that address: a browser chromedriver starts
    itself is reached at "localhost", which does not resolve on a machine
    without /etc/hosts."""

    def __init__(self, profile):
        os.makedirs(profile, exist_ok=True)
        active = os.path.join(profile, "DevToolsActivePort")
        self.proc = subprocess.Popen(
            [shutil.which("chromium") or "/usr/bin/chromium",
             "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--disable-dev-shm-usage", "--window-size=1440,1000", "--user-data-dir=" + profile,
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.driver = None
        try:
            deadline = time.monotonic() + 60
            while not (os.path.exists(active) and open(active).readline().strip()):
                if self.proc.poll() is not None:
                    fail("chromium exited with status %d before opening DevTools" % self.proc.returncode)
                if time.monotonic() > deadline:
                    fail("chromium did not open DevTools within 60 s")
                time.sleep(0.1)
            port = int(open(active).readline())
            opts = webdriver.ChromeOptions()
            opts.debugger_address = "127.0.0.1:%d" % port
            driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
            self.driver = webdriver.Chrome(service=LoopbackService(driver), options=opts)
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.driver:
            self.driver.quit()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def latency_path(b):
    """The latency chart's lines, read in one go (the charts are redrawn
    on every refresh)."""
    return b.execute_script(
        'return Array.from(document.querySelectorAll(\'#charts .endpoint:first-child svg[data-title="latency"] path.series\'))'
        '.map(function (p) { return p.getAttribute("d"); });')


def action_markers(b):
    return b.execute_script(
        'return document.querySelectorAll(\'#charts .endpoint:first-child svg[data-title="latency"] line.marker.action\').length;')


def main():
    shots = os.environ.get("SCREENSHOTS") or tempfile.mkdtemp(prefix="drill-console-shots-")
    os.makedirs(shots, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="drill-console-")
    d = Drill(["latency-after-release", "--speed", "60x", "--history", "64m",
               "-o", os.path.join(tmp, "drill.fdr")], tmp)
    browser = None
    try:
        d.wait_offset(64 * 60)
        browser = Browser(os.path.join(tmp, "profile"))
        b = browser.driver
        b.set_page_load_timeout(60)
        b.get(d.url)
        wait = WebDriverWait(b, 60, ignored_exceptions=[StaleElementReferenceException])
        button = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, 'button[data-action="rollback-orders"]')))
        check("Roll orders back" in button.text, "button text: %r" % button.text)
        check("checkout" in b.find_element(By.ID, "prompt").text, "no prompt")
        wait.until(lambda x: len(latency_path(x)) == 2 and all(len(p) > 50 for p in latency_path(x)))
        check(b.find_element(By.ID, "status").text == "live", "status: %s" % b.find_element(By.ID, "status").text)
        b.save_screenshot(os.path.join(shots, "1-loaded.png"))

        # the answer key is behind a click; hints one by one
        body = b.find_element(By.CSS_SELECTOR, "#answer .body")
        check(not body.is_displayed(), "the answer key shows before the click")
        b.find_element(By.ID, "showanswer").click()
        check(body.is_displayed() and "v1.15.0" in body.text, "the answer key did not open")
        b.find_element(By.ID, "nexthint").click()
        check("Impact" in b.find_element(By.ID, "hints").text, "no hint given")
        b.save_screenshot(os.path.join(shots, "2-answer-key.png"))

        # the action asks for confirmation; cancel changes nothing
        button.click()
        modal = b.find_element(By.ID, "modal")
        wait.until(lambda x: modal.is_displayed())
        check("Roll orders back" in b.find_element(By.ID, "modal-title").text, "modal title")
        b.save_screenshot(os.path.join(shots, "3-confirm.png"))
        b.find_element(By.ID, "modal-cancel").click()
        wait.until(lambda x: not modal.is_displayed())
        check(d.state()["actions"][0]["taken_at"] is None, "cancel took the action")
        before = latency_path(b)

        button = b.find_element(By.CSS_SELECTOR, 'button[data-action="rollback-orders"]')
        button.click()
        wait.until(lambda x: modal.is_displayed())
        b.find_element(By.ID, "modal-ok").click()
        wait.until(lambda x: "Roll orders back" in x.find_element(By.ID, "actionlog").text)
        taken = [a for a in d.state()["actions"] if a["name"] == "rollback-orders"][0]
        check(taken["taken_at"] is not None, "the API does not show the action taken")
        wait.until(lambda x: not x.find_element(By.CSS_SELECTOR, 'button[data-action="rollback-orders"]').is_enabled())
        b.save_screenshot(os.path.join(shots, "4-taken.png"))

        # once the action's moment has come, the charts mark it, and the
        # latency line moves on with the new windows
        d.wait_offset(taken["taken_at"] + 6 * 60)
        wait.until(lambda x: action_markers(x) > 0)
        wait.until(lambda x: latency_path(x) != before)
        rows = b.find_element(By.ID, "timeline").text
        check("rollback-orders" in rows and "orders-release" in rows, "timeline: %r" % rows)
        b.save_screenshot(os.path.join(shots, "5-recovered.png"))
        print("screenshots in " + shots)
    finally:
        if browser:
            browser.close()
        if d.proc.poll() is None:
            d.stop()
        d.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
