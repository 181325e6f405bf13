"""The citizens' web mailbox in a real browser (Debian's chromium, driven by chromedriver
through selenium), at desktop size and at 390 x 844: sign in with the TEST provider, read
the lab report a professional sent, open its PDF, open an N3 document, see hostile HTML
rendered inert, reply, sign out. axe-core (from the npm registry) is injected on every page
and must report no serious or critical violation. Screenshots go to SHOTS_DIR.

usage: browser.py BASE_URL INS SHOTS_DIR NODE_DIR
"""

import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, ins, shots, node_dir = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)

axe_path = os.path.join(node_dir, "node_modules", "axe-core", "axe.min.js")
if not os.path.exists(axe_path):
    os.makedirs(node_dir, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--prefix", node_dir, "--no-audit", "--no-fund", "--silent", "axe-core@4"],
        check=True,
    )
axe_source = open(axe_path, encoding="utf-8").read()

profile = tempfile.mkdtemp(prefix="mssd-chromium-")
options = Options()
options.binary_location = "/usr/bin/chromium"
for flag in [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--ignore-certificate-errors", f"--user-data-dir={profile}",
]:
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)
wait = WebDriverWait(driver, 15)
checked_pages = []


def accessible(name):
    """axe-core on the current page: no serious or critical WCAG 2.1 A/AA violation."""
    driver.execute_script(axe_source)
    result = driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
          .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                  targets: v.nodes.slice(0, 3).map(n => n.target)}))))
          .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));"""
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: {json.dumps(bad, ensure_ascii=False)}"
    checked_pages.append(name)


def shot(name):
    driver.save_screenshot(os.path.join(shots, f"{name}.png"))


def no_alert():
    try:
        driver.switch_to.alert
    except NoAlertPresentException:
        return
    raise AssertionError("a script ran: an alert is open")


def fits(name):
    """No horizontal scrolling at this width."""
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{name}: {overflow}px wider than the viewport"


def fetch_with_session(url):
    cookie = driver.get_cookie("mssd_session")["value"]
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url, headers={"Cookie": f"mssd_session={cookie}"})
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return response.status, response.headers.get("Content-Type"), response.read(4).decode("latin-1")


def open_message(subject):
    link = wait.until(EC.element_to_be_clickable(
        (By.XPATH, f"//ul[@class='messages']//a[.//span[@class='subject' and contains(., \"{subject}\")]]")))
    link.click()
    wait.until(EC.presence_of_element_located((By.ID, "send-reply")))


def run(label, width, height, reply_text):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.get(base + "/")
    wait.until(EC.presence_of_element_located((By.ID, "sign-in")))
    accessible(f"{label}-home")
    fits(f"{label}-home")
    shot(f"{label}-1-home")
    driver.find_element(By.ID, "sign-in").click()

    # The TEST provider's page: clearly marked, then the INS.
    wait.until(EC.presence_of_element_located((By.ID, "ins")))
    assert "TEST" in driver.find_element(By.CLASS_NAME, "test-banner").text
    accessible(f"{label}-test-provider")
    shot(f"{label}-2-test-provider")
    field = driver.find_element(By.ID, "ins")
    field.clear()
    field.send_keys(ins)
    driver.find_element(By.ID, "test-sign-in").click()
    wait.until(EC.url_contains("/boite"))
    assert ins not in driver.current_url
    wait.until(EC.presence_of_element_located((By.CLASS_NAME, "messages")))
    assert "Résultats de biologie" in driver.page_source
    accessible(f"{label}-inbox")
    fits(f"{label}-inbox")
    shot(f"{label}-3-inbox")

    # The lab report: its message, then its documents.
    open_message("Résultats de biologie")
    assert "IHE_XDM.zip" in driver.page_source
    accessible(f"{label}-message")
    fits(f"{label}-message")
    shot(f"{label}-4-message")
    driver.find_element(By.LINK_TEXT, "Documents de santé").click()
    wait.until(EC.presence_of_element_located((By.CLASS_NAME, "documents")))
    accessible(f"{label}-documents")
    shot(f"{label}-5-documents")
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "ul.documents a")]
    assert len(links) == 2, links
    seen = set()
    for href in links:
        driver.get(href)
        wait.until(EC.presence_of_element_located((By.TAG_NAME, "h1")))
        frames = driver.find_elements(By.CSS_SELECTOR, "iframe.pdf")
        if frames:
            src = frames[0].get_attribute("src")
            # The page's CSP allows no fetch from script: read the file with the session cookie.
            status, kind, magic = fetch_with_session(src)
            assert (status, kind, magic) == (200, "application/pdf", "%PDF"), (status, kind, magic)
            accessible(f"{label}-document-pdf")
            shot(f"{label}-6-document-pdf")
            seen.add("N1")
        else:
            narrative = driver.find_element(By.ID, "narrative")
            assert "BIOCHIMIE" in narrative.text.upper(), narrative.text[:200]
            assert "Thyréostimuline" in narrative.text, narrative.text[:400]
            assert narrative.find_elements(By.TAG_NAME, "table"), "the results table is rendered"
            assert not narrative.find_elements(By.TAG_NAME, "script")
            accessible(f"{label}-document-n3")
            fits(f"{label}-document-n3")
            shot(f"{label}-7-document-n3")
            seen.add("N3")
    assert seen == {"N1", "N3"}, seen

    # Hostile HTML: shown in a sandboxed frame, nothing runs, nothing is fetched.
    driver.get(base + "/boite")
    open_message("Message HTML")
    frame = driver.find_element(By.CSS_SELECTOR, "iframe.body-html")
    assert frame.get_attribute("sandbox") == ""
    assert "images distantes" in driver.page_source
    driver.switch_to.frame(frame)
    assert "Bonjour" in driver.find_element(By.TAG_NAME, "body").text
    assert not driver.find_elements(By.TAG_NAME, "script")
    assert not driver.find_elements(By.CSS_SELECTOR, "a[href^='javascript']")
    assert not driver.find_elements(By.CSS_SELECTOR, "[onerror],[onclick],[style]")
    assert not [i for i in driver.find_elements(By.TAG_NAME, "img")
                if (i.get_attribute("src") or "").startswith("http")]
    driver.switch_to.default_content()
    no_alert()
    accessible(f"{label}-hostile-message")
    shot(f"{label}-8-hostile-message")

    # Reply to the lab report.
    driver.get(base + "/boite")
    open_message("Résultats de biologie")
    driver.find_element(By.ID, "texte").send_keys(reply_text)
    driver.find_element(By.ID, "send-reply").click()
    wait.until(EC.presence_of_element_located((By.CLASS_NAME, "success")))
    assert "Réponse envoyée" in driver.page_source
    accessible(f"{label}-reply-sent")
    shot(f"{label}-9-reply-sent")

    # Sign out: the session is gone.
    driver.find_element(By.ID, "sign-out").click()
    wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "déconnecté"))
    accessible(f"{label}-signed-out")
    driver.get(base + "/boite")
    wait.until(EC.presence_of_element_located((By.ID, "sign-in")))
    shot(f"{label}-10-signed-out")


try:
    run("desktop", 1280, 900, "Merci docteur (ordinateur).")
    run("mobile", 390, 844, "Merci docteur (téléphone).")
    print("pages checked:", len(checked_pages))
finally:
    driver.quit()
