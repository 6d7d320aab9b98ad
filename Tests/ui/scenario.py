"""The web UI in a real browser (Debian's chromium, driven by Selenium through chromedriver).

Run by Tests/WindlassCLITests/WebUITests.swift against a `windlass serve` it started, with a
manually synced application `shop` on a git repository whose work tree is WORK (pushed to the
served remote `served`). Each step prints `ok: …`; the first that fails prints `FAIL: …` and the
script exits 1. Screenshots go to SHOTS.

    scenario.py URL WRITE_TOKEN READ_TOKEN WEBHOOK_SECRET WORK SHOTS WINDLASS STATE

WINDLASS is the windlass binary (its CLI, beside the daemon, makes drift by hand); writing
STATE/restart asks the test to restart the daemon on the same port, and STATE/restarted says it
is back.
"""
import hashlib, hmac, http.server, json, os, subprocess, sys, threading, time, urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

URL, WRITE, READ, SECRET, WORK, SHOTS, WINDLASS, STATE = sys.argv[1:9]


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def ok(message):
    print(f"ok: {message}", flush=True)


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800", "--disable-gpu"]:
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)


def wait(condition, what, timeout=20):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]).until(lambda d: condition())
    except Exception:
        shot("failed")
        fail(f"{what} (within {timeout} s); page: {driver.find_element(By.TAG_NAME, 'body').text[:1500]!r}")


def shot(name):
    driver.save_screenshot(f"{SHOTS}/{name}.png")


def find(css):
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0] if found else None


def text(css):
    """The text of the first match, "" when there is none (or it was just replaced: pages
    re-render as events arrive)."""
    try:
        element = find(css)
        return element.text if element else ""
    except StaleElementReferenceException:
        return ""


def attribute(css, name):
    """An attribute of the first match, read again if the page replaced it meanwhile ("" when
    there is none)."""
    for _ in range(50):
        try:
            element = find(css)
            return (element.get_attribute(name) or "") if element else ""
        except StaleElementReferenceException:
            time.sleep(0.05)
    fail(f"{css} kept being replaced")


def click(css, within=None):
    """Clicks the first match, again if the page replaced it meanwhile."""
    for _ in range(50):
        try:
            element = (within or driver).find_element(By.CSS_SELECTOR, css)
            element.click()
            return
        except StaleElementReferenceException:
            time.sleep(0.05)
    fail(f"{css} kept being replaced")


def git(*arguments):
    subprocess.run(["git", "-C", WORK, *arguments], check=True, capture_output=True)


def push(path, content, message, also=None):
    for name, body in [(path, content)] + list((also or {}).items()):
        with open(f"{WORK}/{name}", "w") as handle:
            handle.write(body)
    git("add", "-A")
    git("commit", "-q", "-m", message)
    git("push", "-q", "served", "HEAD:main")
    return subprocess.run(["git", "-C", WORK, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()


def webhook():
    body = json.dumps({"ref": "refs/heads/main"}).encode()  # no repository: every application fetches
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{URL}/api/v1/webhooks/generic", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "X-Windlass-Signature-256": signature})
    try:
        urllib.request.urlopen(request, timeout=10).read()
    except Exception as error:  # the poll catches up anyway; the page is what is checked
        print(f"note: webhook: {error}", flush=True)


def browser_fetch(path, method="POST", csrf=None):
    """A request made by the page itself: same origin, with the session cookie."""
    return driver.execute_async_script("""
        const [path, method, csrf, done] = arguments;
        const headers = csrf ? {"X-CSRF-Token": csrf} : {};
        fetch(path, {method, headers, credentials: "same-origin"}).then(r => done(r.status), e => done(String(e)));
    """, path, method, csrf)


def login(token):
    wait(lambda: find("#login-token") and find("#login-token").is_displayed(), "the login page shows")
    field = find("#login-token")
    field.clear()
    field.send_keys(token)
    click("#login-submit")


class Rate(http.server.BaseHTTPRequestHandler):
    """The metric a canary's analysis reads: a success rate of 0.42, below its gate."""

    def do_GET(self):
        body = json.dumps({"rate": 0.42}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments):
        pass


def unnamed_controls():
    """Focusable controls the accessibility tree gives no name."""
    tree = driver.execute_cdp_cmd("Accessibility.getFullAXTree", {})
    missing = []
    for node in tree.get("nodes", []):
        role = node.get("role", {}).get("value")
        if role in ("button", "link", "textbox", "combobox", "searchbox", "treeitem") and not node.get("ignored"):
            name = node.get("name", {}).get("value", "")
            if not str(name).strip():
                missing.append(role)
    return missing


try:
    # 1. The login page; a wrong token stays there with a message that says nothing more.
    driver.get(URL + "/")
    login("not-the-token")
    wait(lambda: "not accepted" in text("#login-error"), "a wrong token is refused on the login page")
    if find("#applications"):
        fail("a wrong token showed the applications")
    shot("login")
    ok("a wrong token stays on the login page")

    # 2. Logged in: the application, synced and healthy.
    login(WRITE)
    wait(lambda: "Synced" in text('tr[data-app="shop"] .sync-status') and "Healthy" in text('tr[data-app="shop"] .health'),
         "shop shows Synced and Healthy", timeout=60)
    if text('tr[data-app="shop"] .revision code') in ("", "—") or "v1 — " not in text('tr[data-app="shop"] .revision'):
        fail("the synced revision and its commit's subject and author are not shown")
    shot("applications")
    ok("the applications page shows shop Synced and Healthy")
    missing = unnamed_controls()
    if missing:
        fail(f"controls without an accessible name on the applications page: {missing}")
    ok("every control of the applications page has an accessible name")

    # 3. A pushed commit and its webhook: out of sync, seen without a reload.
    driver.execute_script("window.__notReloaded = true")
    head = push("manifests/web.yaml", open(f"{WORK}/manifests/web.yaml").read().replace("web:v1", "web:v2"), "web v2 <script>window.__xss=1</script>")
    webhook()
    wait(lambda: "OutOfSync" in text('tr[data-app="shop"] .sync-status'), "shop goes OutOfSync after the push", timeout=30)
    if not driver.execute_script("return window.__notReloaded === true"):
        fail("the page reloaded")
    ok("a push and its webhook show shop OutOfSync without a reload")

    # 4. The application page: the tree, a Deployment's diff.
    click('tr[data-app="shop"] a')
    wait(lambda: find('#tree [data-node="Deployment/shop/web"]'), "the tree shows the Deployment")
    wait(lambda: "OutOfSync" in text('#tree [data-node="Deployment/shop/web"]'),
         "the Deployment is OutOfSync in the tree")
    click('#tree [data-node="Deployment/shop/web"]')
    wait(lambda: "web:v2" in text("#diff") and "web:v1" in text("#diff"), "the Deployment's diff shows the image change")
    if not find("#diff .add") or not find("#diff .del"):
        fail("the diff's lines are not marked as added and removed")
    shot("application-diff")
    click('#tree [data-node="ConfigMap/shop/settings"]')
    wait(lambda: "<img src=x" in text("#live-manifest") and "<script>window.__xss=2</script>" in text("#desired-manifest"),
         "the ConfigMap's annotation holding markup is shown as text")
    if driver.execute_script("return window.__xss !== undefined") or find("#detail img") or find("#detail script"):
        fail("markup from a manifest became part of the page")
    ok("the Deployment's diff shows web:v1 → web:v2; markup in an annotation is shown as text")
    missing = unnamed_controls()
    if missing:
        fail(f"controls without an accessible name on the application page: {missing}")
    ok("every control of the application page has an accessible name")
    # Every control is reached by the keyboard: Tab from the top of the page gets to Sync and to
    # the tree's objects (native buttons and links, nothing focusable only by a mouse).
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    body = driver.find_element(By.TAG_NAME, "body")
    reached = set()
    for _ in range(80):
        body.send_keys(Keys.TAB) if not reached else driver.switch_to.active_element.send_keys(Keys.TAB)
        active = driver.execute_script("const a = document.activeElement; return a ? (a.id || a.dataset.node || a.tagName) : ''")
        reached.add(active)
        if "sync" in reached and any(str(r).startswith("Deployment/") for r in reached):
            break
    if "sync" not in reached or not any(str(r).startswith("Deployment/") for r in reached):
        fail(f"Tab does not reach the Sync button and the tree's objects: {sorted(map(str, reached))[:40]}")
    ok("Tab reaches every control of the application page")

    # The plan preview names the change before anything is synced.
    click("#preview")
    wait(lambda: "1 to change" in text("#preview-result") and "apps/Deployment/shop/web" in text("#preview-result"),
         "the plan preview shows the Deployment's update")
    ok("the plan preview shows the change before a sync")
    # The forecast: the same plan run on a twin of the cluster, its verdict and its time line.
    click("#forecast")
    wait(lambda: text("#forecast-result .verdict").startswith("Fits: about") and "Sync wave" in text("#forecast-result .spans"),
         "the forecast shows a verdict and the waves")
    ok("the forecast shows its verdict and the sync's waves")

    # 5. CSRF: a change without the session's CSRF token is refused.
    status = browser_fetch("/api/v1/applications/shop/sync")
    if status != 403:
        fail(f"a sync without a CSRF token answered {status}, not 403")
    ok("a change without the CSRF token is 403")

    # 6. Sync by hand: back to Synced, followed live.
    click("#sync")
    wait(lambda: find("#confirm") and find("#confirm").is_displayed(), "the sync asks for confirmation")
    click("#confirm-ok")
    wait(lambda: "Synced" in text("#app-summary .sync-status") and head[:7] in text("#app-summary"), "shop is Synced at the new head", timeout=60)
    wait(lambda: "Healthy" in text("#app-summary .health"), "shop is Healthy after the sync", timeout=60)
    wait(lambda: "Synced" in text('#tree [data-node="Deployment/shop/web"]') and "OutOfSync" not in text('#tree [data-node="Deployment/shop/web"]'),
         "the Deployment is Synced in the tree")
    wait(lambda: find('#tree [data-node="Deployment/shop/web"]') and find('#tree li li [data-node^="ReplicaSet/shop/"]'),
         "the Deployment's ReplicaSets show below it")
    if not driver.execute_script("return window.__notReloaded === true"):
        fail("the page reloaded")
    wait(lambda: "web v2 <script>window.__xss=1</script>" in text("#app-summary"), "the synced commit's subject is shown as text")
    if driver.execute_script("return window.__xss !== undefined"):
        fail("markup from a commit message ran")
    shot("application-synced")
    ok("a manual sync brings shop back to Synced, seen live")

    # 7. History and a rollback, confirmed.
    driver.get(URL + "/#/app/shop/history")
    wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#history tbody tr")) >= 2, "the history lists two revisions")
    shot("history")
    click("#history tbody tr:last-child button.rollback")
    click("#confirm-ok")
    wait(lambda: "queued" in text("#history-result"), "the rollback is queued")
    wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#history tbody tr")) >= 3, "the rollback is a new revision, listed live", timeout=60)
    ok("a rollback from the history page is a new revision")

    # 8. The cluster page: nodes with their pods.
    driver.get(URL + "/#/cluster")
    wait(lambda: find(".node-card") and "shop/web-" in text(".nodes"), "the cluster page lists nodes with the pods on them")
    shot("cluster")
    ok("the cluster page shows the nodes and their pods")

    # 9. A canary paused until promoted: the sync shows its stages, the rollouts page promotes it.
    driver.get(URL + "/#/app/shop")
    wait(lambda: find("#tree"), "the application page shows")
    api_yaml = open(f"{WORK}/manifests/api.yaml").read()
    head = push("manifests/api.yaml", api_yaml.replace("api:v1", "api:v2"), "api v2 through its canary")
    webhook()
    wait(lambda: "OutOfSync" in text("#app-summary .sync-status"), "shop goes OutOfSync after the api push", timeout=30)
    click("#sync")
    click("#confirm-ok")
    wait(lambda: "Paused" in text("#operation-phase") and find("#stages .stage"), "the sync shows its stages and pauses at the canary", timeout=60)
    if "Sync wave 0" not in text("#stages"):
        fail(f"the sync's stages do not name their waves: {text('#operation')!r}")
    shot("sync-paused")
    ok("the sync shows its stages wave by wave, and pauses at the canary")
    click('a[href="#/app/shop/rollouts"]')
    card = '[data-rollout="shop/api"]'
    wait(lambda: "Paused" in text(f"{card} h2") and "Pause until promoted" in text(f"{card} .step.current"),
         "the rollouts page shows the canary paused at its pause step")
    if "50%" not in text(f"{card} .rollout-status"):
        fail(f"the canary's weight is not shown: {text(card)!r}")
    shot("rollout-paused")
    missing = unnamed_controls()
    if missing:
        fail(f"controls without an accessible name on the rollouts page: {missing}")
    click(f"{card} .rollout-promote")
    wait(lambda: find("#confirm") and find("#confirm").is_displayed(), "promote asks for confirmation")
    click("#confirm-ok")
    wait(lambda: "Promoted" in text(f"{card} h2"), "the canary is promoted, seen live", timeout=60)
    ok("a paused canary is promoted from the rollouts page")

    # 10. A canary whose analysis fails: aborted, its failing measurement on the chart.
    rate = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Rate)
    threading.Thread(target=rate.serve_forever, daemon=True).start()
    gate = f"""apiVersion: windlass.dev/v1
kind: AnalysisTemplate
metadata: {{name: api-gate, namespace: shop}}
spec:
  metrics:
    - name: success-rate
      interval: 1s
      count: 3
      successCondition: result[0] >= 0.99
      failureCondition: result[0] < 0.9
      provider:
        web: {{url: "http://127.0.0.1:{rate.server_address[1]}/rate", jsonPath: "$.rate"}}
"""
    strategy = open(f"{WORK}/manifests/api-canary.yaml").read().replace("- pause: {}", "- analysis: {templates: [{templateName: api-gate}]}")
    push("manifests/api.yaml", api_yaml.replace("api:v1", "api:v3"), "api v3 behind an analysis gate",
         also={"manifests/api-gate.yaml": gate, "manifests/api-canary.yaml": strategy})
    webhook()
    driver.get(URL + "/#/app/shop")
    wait(lambda: "OutOfSync" in text("#app-summary .sync-status"), "shop goes OutOfSync after the api v3 push", timeout=30)
    click("#sync")
    click("#confirm-ok")
    wait(lambda: "Failed" in text("#operation-phase"), "the sync of the failing canary fails", timeout=60)
    driver.get(URL + "/#/app/shop/rollouts")
    wait(lambda: "Aborted" in text(f"{card} h2") and find(f"{card} svg.chart circle.point-failed"),
         "the rollouts page shows the aborted canary with a failed measurement on its chart", timeout=30)
    last = text(f"{card} .last-measurement")
    if "0.42" not in last or "Failed" not in last:
        fail(f"the failing measurement is not shown: {last!r}")
    label = attribute(f"{card} svg.chart", "aria-label")
    if "success-rate" not in label or "Failed" not in label:
        fail(f"the chart's accessible name does not say what it shows: {label!r}")
    if not find(f"{card} .rollout-retry"):
        fail("an aborted canary offers no Retry")
    shot("rollout-failed")
    rate.shutdown()
    ok("a failed canary shows its failing measurement, and offers a retry")

    # 11. Drift: the schedule; a scale by hand is reported by "Check now" and undone by "Heal now".
    driver.get(URL + "/#/app/shop")
    wait(lambda: "every 1h" in text("#drift-schedule"), "the drift section shows its schedule")
    subprocess.run([WINDLASS, "cluster", "scale", "deployment/web", "--replicas", "5", "-n", "shop", "--state-dir", STATE + "/state"],
                   check=True, capture_output=True, cwd=STATE)
    click("#drift-check")
    wait(lambda: "web" in text("#drift-items"), "the drift report names the Deployment scaled by hand", timeout=30)
    shot("drift")
    click("#heal")
    click("#confirm-ok")
    wait(lambda: find("#drift-summary") and "web" not in text("#drift-items") and "No drift" in text("#drift-summary"),
         "after Heal now the drift report is clean", timeout=60)
    ok("drift is reported and healed from the page")

    # 12. The daemon restarts under the open page: it says so, reconnects, and goes on live.
    open(f"{STATE}/restart", "w").close()
    wait(lambda: "reconnecting" in text("#live"), "the page shows the daemon is gone", timeout=30)
    wait(lambda: os.path.exists(f"{STATE}/restarted"), "the daemon restarts", timeout=120)
    wait(lambda: text("#live") == "live", "the page reconnects to the restarted daemon", timeout=30)
    if find("#login-token") and find("#login-token").is_displayed():
        fail("the restart ended the session")
    driver.execute_script("window.__notReloaded = true")
    push("manifests/settings.yaml", open(f"{WORK}/manifests/settings.yaml").read().replace("version: v1", "version: v2"), "settings v2")
    webhook()
    wait(lambda: "OutOfSync" in text("#app-summary .sync-status"), "a push after the restart is seen live", timeout=30)
    if not driver.execute_script("return window.__notReloaded === true"):
        fail("the page reloaded")
    ok("the page reconnects after the daemon restarts and goes on live")

    # 13. A phone-sized window: one column, nothing wider than the screen.
    driver.set_window_size(390, 844)
    driver.get(URL + "/#/app/shop")
    wait(lambda: find("#tree"), "the application page shows on a phone")
    widths = driver.execute_script("""
        const tree = document.querySelector('.tree-pane').getBoundingClientRect();
        const detail = document.querySelector('.detail-pane').getBoundingClientRect();
        return [document.documentElement.scrollWidth, window.innerWidth, tree.left, detail.left, tree.bottom <= detail.top + 1];
    """)
    if widths[0] > widths[1] + 1 or not widths[4]:
        fail(f"the phone layout is wider than the screen or not one column: {widths}")
    shot("phone")
    driver.set_window_size(1280, 800)
    ok("a phone-sized window shows one column")

    # 14. A session the server no longer knows (expired, or ended elsewhere) returns to the login page.
    driver.get(URL + "/#/app/shop")
    wait(lambda: find("#tree"), "the application page shows")
    driver.delete_cookie("windlass_session")
    driver.execute_script("window.dispatchEvent(new HashChangeEvent('hashchange'))")
    wait(lambda: find("#login-token") and find("#login-token").is_displayed(), "a session the server does not know goes back to the login page")
    login(WRITE)
    wait(lambda: find('tr[data-app="shop"]') or find("#tree"), "a new login goes on")
    ok("a session the server no longer knows returns to the login page")

    # 15. Logout, then a read-only session: no buttons, and the server refuses anyway.
    driver.get(URL + "/#/")
    wait(lambda: find("#logout") and find("#logout").is_displayed(), "the logout button shows")
    click("#logout")
    login(READ)
    wait(lambda: find('tr[data-app="shop"]'), "a read-only session sees the applications")
    if "read-only" not in text("#who"):
        fail("the read-only session is not marked")
    click('tr[data-app="shop"] a')
    wait(lambda: find("#tree"), "a read-only session sees the tree")
    if find("#sync") and find("#sync").is_displayed():
        fail("a read-only session is shown the Sync button")
    if find("#heal") and find("#heal").is_displayed():
        fail("a read-only session is shown the Heal button")
    driver.get(URL + "/#/app/shop/rollouts")
    wait(lambda: find('[data-rollout="shop/api"]'), "a read-only session sees the rollouts")
    if find(".rollout-retry") and find(".rollout-retry").is_displayed():
        fail("a read-only session is shown the Retry button")
    csrf = driver.execute_async_script("""
        const done = arguments[0];
        fetch("/api/v1/session", {credentials: "same-origin"}).then(r => r.json()).then(s => done(s.csrfToken));
    """)
    status = browser_fetch("/api/v1/applications/shop/sync", csrf=csrf)
    if status != 403:
        fail(f"a read-only session's sync answered {status}, not 403")
    ok("a read-only session sees everything, has no Sync button, and its sync is 403")
finally:
    driver.quit()
print("done", flush=True)
