"""The web UI's bench in headless chromium (Selenium through Debian's chromedriver), run by
windlass-bench against a `windlass serve` it started.

    ui-bench.py URL TOKEN APPS RESOURCES WINDLASS STATE CHANGES

Prints one line, `UI list_render app_render change_p50 change_p90 changes`, in seconds:
- list_render: from asking for the page to it showing all APPS rows (median of 3);
- app_render: from asking for the page to the application `big` showing RESOURCES objects in
  its tree (median of 3);
- change: from `windlass cluster scale` (beside the daemon) to the open page of application
  `small` showing the new number of pods, over CHANGES scales.
"""
import subprocess, sys, time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

URL, TOKEN, APPS, RESOURCES, WINDLASS, STATE, CHANGES = sys.argv[1:8]
APPS, RESOURCES, CHANGES = int(APPS), int(RESOURCES), int(CHANGES)

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800", "--disable-gpu"]:
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(60)
driver.set_script_timeout(120)


started = 0.0


def until(script, timeout=120):
    """Polls `script` in the page until it returns true; then the seconds since the last
    navigation began (the page's own clock, `Date.now()`, on this machine's clock)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = driver.execute_script(f"return ({script}) ? Date.now() : null")
        if done is not None:
            return done / 1000 - started
        time.sleep(0.005)
    raise SystemExit(f"timed out: {script}")


loads = 0


def navigate(fragment):
    # A fresh document each time (a query of its own, so no cached document is reused): a
    # first render, not a hash change.
    global loads, started
    loads += 1
    driver.get("about:blank")
    started = time.time()
    driver.get(f"{URL}/?load={loads}{fragment}")


try:
    driver.get(URL + "/")
    until("document.getElementById('login-token') && !document.getElementById('login').hidden")
    driver.find_element("id", "login-token").send_keys(TOKEN)
    driver.find_element("id", "login-submit").click()
    until("document.querySelector('#applications')")

    lists, apps = [], []
    for _ in range(3):
        navigate("#/")
        lists.append(until(f"document.querySelectorAll('#applications tbody tr').length >= {APPS}"))
        navigate("#/app/big")
        apps.append(until(f"document.querySelectorAll('#tree [role=treeitem]').length >= {RESOURCES}"))
        marks = driver.execute_script("return performance.getEntriesByType('mark').map(m => m.name + '=' + Math.round(performance.timeOrigin + m.startTime - arguments[0] * 1000))", started)
        print(f"marks {marks} done={apps[-1]:.3f}", file=sys.stderr, flush=True)

    navigate("#/app/small")
    pods = "document.querySelectorAll('#tree [data-node^=\"Pod/default/web-\"]').length"
    until(f"{pods} >= 1")
    changes = []
    for i in range(CHANGES):
        replicas = 2 + i % 3
        start = time.time()
        subprocess.run([WINDLASS, "cluster", "scale", "deployment/web", "--replicas", str(replicas), "-n", "default", "--state-dir", STATE],
                       check=True, capture_output=True)
        deadline = time.time() + 30
        while driver.execute_script(f"return {pods}") != replicas:
            if time.time() > deadline:
                raise SystemExit(f"the page did not show {replicas} pods")
            time.sleep(0.005)
        changes.append(time.time() - start)
    changes.sort()
    median = lambda values: sorted(values)[len(values) // 2]
    print(f"UI {median(lists)} {median(apps)} {median(changes)} {changes[min(len(changes) - 1, (len(changes) * 9) // 10)]} {len(changes)}", flush=True)
finally:
    driver.quit()
