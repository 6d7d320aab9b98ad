// The web UI of `windlass serve`: every page reads the daemon's documented HTTP API, and text
// from manifests, commits and the cluster only ever reaches the page as text nodes.

const state = { session: null, events: null, route: null, refreshTimer: null, selected: null, connected: false };

// ---------------------------------------------------------------- DOM helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function badge(kind, value) {
  const text = value || "Unknown";
  return el("span", { class: `badge ${kind}-${text.toLowerCase()}`, text });
}

function shortSHA(sha) { return sha ? sha.slice(0, 7) : "—"; }

function when(stamp) {
  if (!stamp) return "—";
  const date = new Date(stamp);
  return isNaN(date) ? stamp : date.toLocaleString();
}

function view() { return document.getElementById("view"); }

function show(...nodes) {
  view().replaceChildren(...nodes.flat().filter((node) => node !== null && node !== undefined));
}

function message(text, kind = "error") {
  return el("p", { class: kind, role: kind === "error" ? "alert" : "status", text });
}

// ---------------------------------------------------------------- API

class APIError extends Error {
  constructor(status, text) { super(text); this.status = status; }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { "Accept": "application/json" };
  if (method !== "GET") {
    headers["X-CSRF-Token"] = state.session ? state.session.csrfToken : "";
    if (body !== undefined) headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`/api/v1/${path}`, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (response.status === 401 && path !== "session") { loggedOut(); }
  if (!response.ok) throw new APIError(response.status, (data && data.error) || `${response.status}`);
  return data;
}

// ---------------------------------------------------------------- session

async function start() {
  document.getElementById("login-form").addEventListener("submit", login);
  document.getElementById("logout").addEventListener("click", logout);
  window.addEventListener("hashchange", route);
  // A page left for another keeps no stream open (a browser has six connections to a host; a
  // page kept in its back-forward cache would hold one), and takes it up again when shown.
  window.addEventListener("pagehide", () => {
    if (state.events) { state.events.close(); state.events = null; }
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && state.session) connectEvents();
  });
  try {
    state.session = await api("session");
    loggedIn();
  } catch {
    loggedOut();
  }
}

async function login(event) {
  event.preventDefault();
  const input = document.getElementById("login-token");
  const error = document.getElementById("login-error");
  error.textContent = "";
  try {
    state.session = await api("session", { method: "POST", body: { token: input.value } });
    input.value = "";
    loggedIn();
  } catch (failure) {
    // The same words for every refusal: the server says no more than that.
    error.textContent = failure.status === 401 ? "That token was not accepted." : `Login failed: ${failure.message}`;
    input.focus();
  }
}

async function logout() {
  try { await api("session", { method: "DELETE" }); } catch { /* gone already */ }
  loggedOut();
}

function loggedIn() {
  document.getElementById("login").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("logout").hidden = false;
  document.body.classList.toggle("read-only", state.session.access !== "write");
  document.getElementById("who").textContent = state.session.access === "write" ? "" : "read-only";
  connectEvents();
  route();
}

function loggedOut() {
  state.session = null;
  state.connected = false;
  if (state.events) { state.events.close(); state.events = null; }
  document.getElementById("nav").hidden = true;
  document.getElementById("logout").hidden = true;
  document.getElementById("who").textContent = "";
  document.getElementById("live").textContent = "";
  view().replaceChildren();
  document.getElementById("login").hidden = false;
  document.getElementById("login-token").focus();
}

// ---------------------------------------------------------------- live updates

function connectEvents() {
  if (state.events) state.events.close();
  const live = document.getElementById("live");
  const source = new EventSource("/api/v1/events");
  state.events = source;
  source.addEventListener("hello", () => {
    live.textContent = "live";
    live.className = "live on";
    // Back after a restart (or a dropped stream): what changed meanwhile is read again. The
    // first hello follows the page's own first read.
    if (state.connected) scheduleRefresh(0);
    state.connected = true;
  });
  source.addEventListener("application", (event) => {
    const name = JSON.parse(event.data).application;
    if (!state.route || !state.route.app || state.route.app === name) scheduleRefresh(50);
  });
  source.addEventListener("cluster", () => {
    // The stream already gathers changes for 100 ms: read again at once.
    if (state.route && (state.route.app || state.route.page === "cluster")) scheduleRefresh(20);
  });
  source.onerror = async () => {
    live.textContent = "reconnecting…";
    live.className = "live off";
    // A stream refused for its session (expired) does not come back: check it.
    if (source.readyState === EventSource.CLOSED) {
      try { await api("session"); setTimeout(connectEvents, 1000); } catch { /* loggedOut ran */ }
    }
  };
}

function scheduleRefresh(delay) {
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(() => {
    state.refreshTimer = null;
    render(false);
  }, delay);
}

// ---------------------------------------------------------------- routing

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "app" && parts[1]) return { app: parts[1], page: parts[2] || "tree" };
  if (parts[0] === "cluster") return { page: "cluster" };
  return { page: "applications" };
}

function route() {
  state.route = parseRoute();
  state.selected = null;
  render(true);
}

async function render(first) {
  if (!state.session) return;
  const route = state.route || parseRoute();
  try {
    if (route.app && route.page === "history") await renderHistory(route.app);
    else if (route.app && route.page === "rollouts") await renderRollouts(route.app);
    else if (route.app) await renderApplication(route.app, first);
    else if (route.page === "cluster") await renderCluster();
    else await renderApplications(first);
  } catch (failure) {
    if (failure.status !== 401) show(message(failure.message));
  }
}

// ---------------------------------------------------------------- applications

function appLink(name, page) {
  return `#/app/${encodeURIComponent(name)}${page ? "/" + page : ""}`;
}

async function renderApplications(first) {
  const data = await api("applications");
  const filter = document.getElementById("filter-status");
  const search = document.getElementById("filter-name");
  const status = filter ? filter.value : "";
  const query = search ? search.value : "";
  const rows = data.applications
    .filter((app) => !status || app.syncStatus === status || app.health === status)
    .filter((app) => !query || app.name.includes(query))
    .map((app) => el("tr", { "data-app": app.name },
      el("td", {}, el("a", { href: appLink(app.name), text: app.name })),
      el("td", { class: "sync-status" }, badge("sync", app.syncStatus)),
      el("td", { class: "health" }, badge("health", app.health)),
      el("td", { class: "revision" }, el("code", { text: shortSHA(app.syncedRevision) }),
        app.syncedCommit ? el("div", { class: "commit", text: `${app.syncedCommit.subject} — ${app.syncedCommit.author}` }) : null),
      el("td", { class: "last-sync" }, app.lastSync ? `${app.lastSync.outcome} · ${when(app.lastSync.finishedAt)}` : "—"),
      el("td", { class: "rollout" }, app.rollout || ""),
      el("td", { class: "error-cell" }, app.lastError || app.autoSyncPaused || "")));
  const table = el("table", { class: "list", id: "applications" },
    el("thead", {}, el("tr", {}, ["Application", "Sync", "Health", "Revision", "Last sync", "Rollout", "Notes"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows));
  if (first || !filter) {
    const statuses = ["", "Synced", "OutOfSync", "Unknown", "Healthy", "Progressing", "Degraded", "Missing"];
    const controls = el("div", { class: "filters" },
      el("label", { for: "filter-name", text: "Search" }),
      el("input", { id: "filter-name", type: "search", value: query, oninput: () => render(false) }),
      el("label", { for: "filter-status", text: "Status" }),
      el("select", { id: "filter-status", onchange: () => render(false) },
        statuses.map((s) => el("option", { value: s, selected: s === status, text: s || "all" }))));
    show(el("h1", { text: "Applications" }), controls, table);
  } else {
    document.getElementById("applications").replaceWith(table);
  }
}

// ---------------------------------------------------------------- one application

function nodeKey(node) { return `${node.kind}/${node.namespace || ""}/${node.name}`; }

// The tree is built with the DOM's own calls and one click listener for all of it: an
// application of 10,000 objects renders in one pass.
function treeItem(node, level, index) {
  const key = nodeKey(node);
  index.set(key, node);
  const selected = state.selected === key;
  const button = document.createElement("button");
  button.type = "button";
  button.className = selected ? "node selected" : "node";
  button.dataset.node = key;
  button.setAttribute("aria-pressed", selected ? "true" : "false");
  const kind = document.createElement("span");
  kind.className = "kind";
  kind.textContent = node.kind;
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = node.name;
  button.append(kind, " ", name);
  if (node.sync) button.append(badge("sync", node.sync));
  if (node.health) button.append(badge("health", node.health));
  if (node.action && node.action !== "no-op") {
    const action = document.createElement("span");
    action.className = "action";
    action.textContent = node.action;
    button.append(action);
  }
  const item = document.createElement("li");
  item.setAttribute("role", "treeitem");
  item.setAttribute("aria-level", String(level));
  item.append(button);
  if (node.healthMessage) item.append(el("div", { class: "health-message", text: node.healthMessage }));
  if (node.children.length) {
    item.setAttribute("aria-expanded", "true");
    const group = document.createElement("ul");
    group.setAttribute("role", "group");
    for (const child of node.children) group.append(treeItem(child, level + 1, index));
    item.append(group);
  }
  return item;
}

function treeView(app, resources) {
  const index = new Map();
  const list = el("ul", { id: "tree", role: "tree", "aria-label": `Resources of ${app}` });
  for (const node of resources) list.append(treeItem(node, 1, index));
  list.addEventListener("click", (event) => {
    const button = event.target.closest("button.node");
    const node = button && index.get(button.dataset.node);
    if (!node) return;
    state.selected = button.dataset.node;
    selectObject(app, node);
    markSelected(state.selected);
  });
  return list;
}

function markSelected(key) {
  for (const button of document.querySelectorAll("#tree .node")) {
    const on = button.dataset.node === key;
    button.classList.toggle("selected", on);
    button.setAttribute("aria-pressed", on ? "true" : "false");
  }
}

function actions(app) {
  return el("div", { class: "actions write-only" },
    el("button", { id: "refresh", type: "button", onclick: () => render(false), text: "Refresh" }),
    el("button", { id: "preview", type: "button", onclick: () => preview(app, false), text: "Preview plan" }),
    el("button", { id: "forecast", type: "button", onclick: () => preview(app, true), text: "Forecast" }),
    el("button", { id: "sync", type: "button", class: "primary", onclick: () => syncApp(app), text: "Sync" }));
}

async function renderApplication(name, first) {
  const [app, resources] = await Promise.all([
    api(`applications/${encodeURIComponent(name)}`),
    api(appPath(name, "resources")).catch((failure) => ({ error: failure.message, resources: [] })),
  ]);
  // Where a page's time goes (the bench reads these).
  performance.mark("windlass:fetched");
  const summary = el("dl", { class: "summary", id: "app-summary" },
    el("dt", { text: "Sync" }), el("dd", { class: "sync-status" }, badge("sync", app.syncStatus)),
    el("dt", { text: "Health" }), el("dd", { class: "health" }, badge("health", app.health)),
    el("dt", { text: "Synced" }), el("dd", {}, el("code", { text: shortSHA(app.syncedRevision) }),
      app.syncedCommit ? ` ${app.syncedCommit.subject} — ${app.syncedCommit.author}, ${when(app.syncedCommit.time)}` : ""),
    el("dt", { text: "Head" }), el("dd", {}, el("code", { text: shortSHA(app.headRevision) })),
    el("dt", { text: "Source" }), el("dd", { text: `${app.source.repo} @ ${app.source.ref} : ${app.source.path}` }),
    el("dt", { text: "Last sync" }), el("dd", { id: "last-sync", text: app.lastSync ? `#${app.lastSync.number ?? "—"} ${app.lastSync.outcome}: ${app.lastSync.message}` : "—" }),
    app.rollout ? [el("dt", { text: "Rollout" }), el("dd", { id: "rollout", text: app.rollout })] : [],
    app.lastError ? [el("dt", { text: "Error" }), el("dd", { class: "error", text: app.lastError })] : []);
  const tree = treeView(name, resources.resources);
  performance.mark("windlass:built");
  if (first || !document.getElementById("tree")) {
    show(
      el("nav", { class: "crumbs" }, el("a", { href: "#/", text: "Applications" }), " / ", el("span", { text: name }),
        " · ", el("a", { href: appLink(name, "history"), text: "History" }),
        " · ", el("a", { href: appLink(name, "rollouts"), text: "Rollouts" })),
      el("h1", { text: name }),
      summary, actions(name),
      el("section", { id: "operation" }),
      resources.error ? message(resources.error) : null,
      el("div", { id: "plan-preview" }),
      el("div", { class: "split" }, el("section", { class: "tree-pane" }, el("h2", { text: "Resources" }), tree),
        el("section", { id: "detail", class: "detail-pane", "aria-live": "polite" }, el("p", { class: "hint", text: "Select an object to see its manifests and diff." }))),
      el("section", { id: "drift" }));
    renderOperation(app);
    renderDrift(app);
  } else {
    document.getElementById("app-summary").replaceWith(summary);
    document.getElementById("tree").replaceWith(tree);
    if (state.selected) {
      const node = findNode(resources.resources, state.selected);
      if (node) selectObject(name, node);
    }
    renderOperation(app);
    renderDrift(app);
  }
}

function findNode(nodes, key) {
  for (const node of nodes) {
    if (nodeKey(node) === key) return node;
    const found = findNode(node.children, key);
    if (found) return found;
  }
  return null;
}

function manifestBlock(title, text, id) {
  return el("details", { open: true, id }, el("summary", { text: title }), el("pre", { class: "manifest" }, el("code", { text: text || "(none)" })));
}

function diffBlock(lines) {
  if (!lines.length) return el("p", { id: "diff", class: "hint", text: "No difference: the live object matches git." });
  return el("pre", { id: "diff", class: "diff" }, lines.map((line) => {
    const kind = line.startsWith("@@") ? "hunk" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "ctx";
    return el("span", { class: `line ${kind}`, text: line + "\n" });
  }));
}

async function selectObject(app, node) {
  const query = new URLSearchParams({ group: node.group, version: node.version, kind: node.kind, namespace: node.namespace || "", name: node.name });
  const detail = document.getElementById("detail");
  try {
    const object = await api(`${appPath(app, "resources/object")}?${query}`);
    const events = object.events.length
      ? el("table", { class: "list events" }, el("tbody", {}, object.events.map((event) => el("tr", {},
        el("td", {}, badge("event", event.kind)), el("td", { text: event.reason }), el("td", { text: event.message }), el("td", { text: `×${event.count}` })))))
      : el("p", { class: "hint", text: "No events." });
    detail.replaceChildren(
      el("h2", { text: object.address }),
      el("p", {}, object.sync ? badge("sync", object.sync) : null, " ", object.reason || ""),
      el("h3", { text: "Diff" }), diffBlock(object.diff),
      manifestBlock("Live manifest", object.live, "live-manifest"),
      manifestBlock("Desired manifest", object.desired, "desired-manifest"),
      el("h3", { text: "Events" }), events);
  } catch (failure) {
    detail.replaceChildren(message(failure.message));
  }
}

async function renderDrift(app) {
  const target = document.getElementById("drift");
  if (!target) return;
  const name = app.name;
  const drift = app.drift || {};
  const schedule = el("p", { id: "drift-schedule", class: "hint" },
    drift.schedule ? `Checked ${/^every /.test(drift.schedule) ? drift.schedule : "on the schedule " + drift.schedule}` : "No drift schedule: checked on cluster changes",
    drift.nextCheck ? `; next ${when(drift.nextCheck)}` : "",
    drift.lastCheck ? `; last ${when(drift.lastCheck)}` : "",
    drift.selfHeal ? "; self-heal on." : ".");
  const buttons = el("div", { class: "actions write-only" },
    el("button", { id: "drift-check", type: "button", text: "Check now", onclick: () => ask(appPath(name, "drift"), "Drift check queued.", "drift-result") }),
    el("button", { id: "heal", type: "button", text: "Heal now", onclick: () => heal(name) }));
  let body;
  try {
    const report = await api(appPath(name, "drift"));
    body = [el("p", { id: "drift-summary", text: report.summary.line }),
      el("ul", { id: "drift-items" }, report.items.map((item) => el("li", {}, el("code", { text: item.drift }), " ", item.address, item.reason ? ` — ${item.reason}` : "")))];
  } catch (failure) {
    body = [el("p", { id: "drift-summary", class: "hint", text: failure.status === 404 ? "No drift check yet." : failure.message })];
  }
  const result = document.getElementById("drift-result");
  target.replaceChildren(el("h2", { text: "Drift" }), schedule, buttons, result || el("div", { id: "drift-result" }), ...body);
}

// A change asked of the daemon (POST `path`): what it said, or why not, shown in `where`.
async function ask(path, said, where, body) {
  const target = document.getElementById(where);
  try {
    await api(path, { method: "POST", body });
    if (target) target.replaceChildren(message(said, "notice"));
  } catch (failure) {
    if (target) target.replaceChildren(message(failure.message));
  }
}

function appPath(app, verb) { return `applications/${encodeURIComponent(app)}/${verb}`; }

async function heal(app) {
  if (!(await confirmAction(`Apply ${app}'s synced revision again, undoing what drifted?`))) return;
  await ask(appPath(app, "heal"), "Heal queued; this page follows it.", "drift-result");
}

// ---------------------------------------------------------------- sync progress

function renderOperation(app) {
  const target = document.getElementById("operation");
  if (!target) return;
  const operation = app.operation;
  if (!operation) { target.replaceChildren(); return; }
  const stages = operation.stages.map((stage) => el("li", { class: `stage stage-${stage.state.toLowerCase()}`, "data-stage": stage.name },
    el("span", { class: "stage-name", text: stage.name }), " ",
    badge("stage", stage.state), " ",
    el("span", { class: "hint", text: `${stage.applied}/${stage.resources} written` }),
    stage.pending.length ? el("ul", { class: "pending" }, stage.pending.map((line) => el("li", { text: line }))) : null));
  target.replaceChildren(
    el("h2", { text: operation.phase === "Running" ? "Sync in progress" : "Last sync" }),
    el("p", { id: "operation-phase" }, badge("outcome", operation.phase), " ",
      `${operation.trigger} · ${shortSHA(operation.revision)} · started ${when(operation.startedAt)}`,
      operation.finishedAt ? ` · finished ${when(operation.finishedAt)}` : "",
      operation.message ? ` — ${operation.message}` : ""),
    el("ol", { id: "stages", class: "stages", "aria-label": "Sync stages" }, stages));
}

async function preview(app, forecasting) {
  const target = document.getElementById("plan-preview");
  target.replaceChildren(el("p", { class: "hint", text: forecasting ? "Planning and forecasting on a twin of the cluster…" : "Planning…" }));
  try {
    const plan = await api(appPath(app, "plan"), { method: "POST", body: forecasting ? { forecast: true } : {} });
    const changes = plan.resource_changes.filter((change) => change.change.actions[0] !== "no-op");
    const policies = plan.policy_results.map((result) => el("li", { class: "policy", text: `${result.status} ${result.policy}/${result.rule} on ${result.resource}: ${result.message}` }));
    target.replaceChildren(el("section", { class: "preview", id: "preview-result" },
      el("h2", { text: "Plan" }), el("p", { text: plan.summary.line }),
      el("ul", {}, changes.map((change) => el("li", {}, el("code", { text: change.change.actions.join(",") }), " ", change.address))),
      policies.length ? el("ul", { class: "policies" }, policies) : null,
      plan.forecast ? forecastSection(plan.forecast) : null));
  } catch (failure) {
    target.replaceChildren(message(failure.message));
  }
}

/** The forecast of a plan: its verdict, the waves and canary steps on a time line, what would
 * not be scheduled or would block, and what it assumed. */
function forecastSection(forecast) {
  if (!forecast.available) return el("section", { id: "forecast-result" }, el("h3", { text: "Forecast" }), el("p", { class: "hint", text: `No forecast: ${forecast.reason}` }));
  const clock = (seconds) => `${Math.floor(seconds / 60)}:${String(Math.round(seconds % 60)).padStart(2, "0")}`;
  const total = Math.max(forecast.duration_seconds, 1);
  const bar = (start, end, label) => {
    // Placed through the style object: the page's policy allows no style attributes.
    const fill = el("span", { class: "span-bar" });
    fill.style.marginLeft = `${(100 * start) / total}%`;
    fill.style.width = `${Math.max(0.5, (100 * (end - start)) / total)}%`;
    return el("li", { class: "span" },
      el("span", { class: "span-label", text: label }),
      el("span", { class: "span-track", "aria-hidden": "true" }, fill),
      el("span", { class: "span-time", text: `${clock(start)} → ${clock(end)}` }));
  };
  const items = [];
  for (const wave of forecast.waves) items.push(bar(wave.start_seconds, wave.end_seconds, `${wave.stage} (${wave.resources})`));
  for (const step of forecast.canary_steps) items.push(bar(step.start_seconds, step.end_seconds, `  ${step.summary === "promote" ? "promote" : `step ${step.step} ${step.summary}`}${step.assumption ? ` (${step.assumption})` : ""}`));
  const notes = [];
  for (const pod of forecast.unschedulable.slice(0, 20)) notes.push(el("li", { class: "unschedulable", text: `Unschedulable: ${pod.pod}: ${pod.reason}` }));
  for (const blocker of forecast.blockers) notes.push(el("li", { class: "blocker", text: `Blocks: ${blocker.address} ${blocker.message}` }));
  if (forecast.abort_path) notes.push(el("li", { text: `If the first gate fails: aborted at ${clock(forecast.abort_path.aborted_at_seconds)}, stable alone again at ${clock(forecast.abort_path.restored_at_seconds)}` }));
  for (const assumption of forecast.assumptions) notes.push(el("li", { class: "hint", text: `Assumed: ${assumption}` }));
  return el("section", { id: "forecast-result", "aria-label": "Forecast" },
    el("h3", { text: "Forecast" }),
    el("p", { class: forecast.fits ? "verdict fits" : "verdict misfit", text: forecast.verdict }),
    el("ol", { class: "spans", "aria-label": "Waves and canary steps" }, items),
    notes.length ? el("ul", { class: "forecast-notes" }, notes) : null);
}

async function syncApp(app) {
  if (!(await confirmAction(`Sync ${app} to the head of its source now?`))) return;
  await ask(appPath(app, "sync"), "Sync queued; this page follows it.", "plan-preview");
}

function confirmAction(text) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    document.getElementById("confirm-ok").focus();
  });
}

// ---------------------------------------------------------------- rollouts

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A condition of the form `result[0] OP number` gives a line to draw; others are shown as text only.
function threshold(condition) {
  const match = /^\s*result\[0\]\s*(>=|<=|>|<|==)\s*(-?[0-9.]+)\s*$/.exec(condition || "");
  return match ? Number(match[2]) : null;
}

function chart(metric, measurements) {
  const width = 320, height = 120, pad = 28;
  const points = measurements.map((m, index) => ({ index, value: m.values.length ? m.values[0] : null, phase: m.phase, at: m.at, message: m.message }));
  const lines = [threshold(metric.successCondition), threshold(metric.failureCondition)].filter((v) => v !== null);
  const values = points.map((p) => p.value).filter((v) => v !== null).concat(lines);
  let low = values.length ? Math.min(...values) : 0, high = values.length ? Math.max(...values) : 1;
  if (low === high) { low -= 1; high += 1; }
  const span = Math.max(metric.count || 1, points.length, 2) - 1;
  const x = (i) => pad + (i / span) * (width - 2 * pad);
  const y = (v) => height - pad / 2 - ((v - low) / (high - low)) * (height - pad * 1.5);
  const last = points[points.length - 1];
  const label = `${metric.name}: ${points.length} of ${metric.count} measurements` + (last ? `, last ${last.value ?? "no value"} (${last.phase})` : "");
  const conditionLines = [];
  if (threshold(metric.successCondition) !== null) conditionLines.push(svg("line", { class: "success-line", x1: pad, x2: width - pad, y1: y(threshold(metric.successCondition)), y2: y(threshold(metric.successCondition)) }));
  if (threshold(metric.failureCondition) !== null) conditionLines.push(svg("line", { class: "failure-line", x1: pad, x2: width - pad, y1: y(threshold(metric.failureCondition)), y2: y(threshold(metric.failureCondition)) }));
  const path = points.filter((p) => p.value !== null).map((p, i) => `${i ? "L" : "M"}${x(p.index).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  return svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, "data-metric": metric.name },
    svg("title", {}, label),
    svg("text", { x: 2, y: y(high) + 4, class: "axis" }, String(+high.toFixed(3))),
    svg("text", { x: 2, y: y(low) + 4, class: "axis" }, String(+low.toFixed(3))),
    conditionLines,
    path ? svg("path", { d: path, class: "series" }) : null,
    points.map((p) => p.value === null
      ? svg("text", { x: x(p.index) - 3, y: height - 4, class: `point-${p.phase.toLowerCase()}` }, "×")
      : svg("circle", { cx: x(p.index), cy: y(p.value), r: 4, class: `point point-${p.phase.toLowerCase()}` }, svg("title", {}, `${p.value} ${p.phase} ${p.message || ""}`))));
}

function stepLabel(step) {
  if (step.type === "setWeight") return `Set weight ${step.weight}%`;
  if (step.type === "pause") return step.duration == null ? "Pause until promoted" : `Pause ${step.duration} s`;
  return `Analysis: ${(step.metrics || []).map((m) => m.name).join(", ")}`;
}

function rolloutCard(app, rollout) {
  const current = Math.min(rollout.step, rollout.stepCount);
  const steps = rollout.steps.map((step, index) => {
    const done = index < current || rollout.phase === "Promoted";
    const here = index === current && (rollout.phase === "Progressing" || rollout.phase === "Paused");
    const failedHere = index === current && rollout.phase === "Aborted";
    const item = el("li", {
      class: `step${done ? " done" : ""}${here ? " current" : ""}${failedHere ? " failed" : ""}`, "aria-current": here ? "step" : null,
    }, el("span", { class: "step-label", text: stepLabel(step) }), here ? badge("phase", rollout.phase) : null, failedHere ? badge("phase", "Aborted") : null);
    if (step.type === "analysis") {
      for (const metric of step.metrics || []) {
        const measured = rollout.measurements.filter((m) => m.metric === metric.name);
        item.append(el("figure", { class: "metric" },
          chart(metric, measured),
          el("figcaption", {}, el("strong", { text: metric.name }), ` (${metric.provider}, every ${metric.interval} s × ${metric.count})`,
            metric.successCondition ? el("div", { class: "condition" }, "success: ", el("code", { text: metric.successCondition })) : null,
            metric.failureCondition ? el("div", { class: "condition" }, "failure: ", el("code", { text: metric.failureCondition })) : null,
            measured.length ? el("div", { class: `last-measurement point-${measured[measured.length - 1].phase.toLowerCase()}` },
              `last: ${measured[measured.length - 1].values.join(", ") || "no value"} — ${measured[measured.length - 1].phase}`,
              measured[measured.length - 1].message ? ` (${measured[measured.length - 1].message})` : "") : null)));
      }
    }
    return item;
  });
  const target = rollout.target;
  const verb = (name, label, primary) => el("button", {
    type: "button", class: `rollout-${name}${primary ? " primary" : ""}`, "aria-label": `${label} ${target.address}`, text: label,
    onclick: () => rolloutVerb(app, target, name),
  });
  const live = rollout.phase === "Progressing" || rollout.phase === "Paused";
  return el("section", { class: "rollout", "data-rollout": `${target.namespace}/${target.name}` },
    el("h2", {}, `${target.address}`, el("span", { class: "hint", text: ` in ${target.namespace}` }), badge("phase", rollout.phase)),
    el("p", { class: "rollout-status" }, `Step ${Math.min(current + 1, rollout.stepCount)} of ${rollout.stepCount} · canary weight ${rollout.weight}% · strategy ${rollout.strategy} · ${shortSHA(rollout.revision)}`,
      rollout.message ? el("span", { class: "rollout-message", text: ` — ${rollout.message}` }) : ""),
    el("div", { class: "actions write-only" },
      live ? verb("promote", "Promote", true) : null,
      live ? verb("abort", "Abort", false) : null,
      rollout.phase === "Aborted" ? verb("retry", "Retry", false) : null),
    el("ol", { class: "timeline", "aria-label": `Steps of ${target.address}` }, steps));
}

async function renderRollouts(app) {
  const data = await api(appPath(app, "rollouts"));
  const result = document.getElementById("rollout-result");
  show(
    el("nav", { class: "crumbs" }, el("a", { href: "#/", text: "Applications" }), " / ", el("a", { href: appLink(app), text: app }), " / Rollouts"),
    el("h1", { text: `${app}: rollouts` }),
    result || el("div", { id: "rollout-result" }),
    data.items.length ? data.items.map((rollout) => rolloutCard(app, rollout)) : el("p", { class: "hint", text: "No canary has run for this application yet." }));
}

async function rolloutVerb(app, target, verb) {
  const said = { promote: "Promote", abort: "Abort", retry: "Retry" }[verb];
  if (!(await confirmAction(`${said} the canary of ${target.address} in ${target.namespace}?`))) return;
  await ask(`rollouts/${encodeURIComponent(target.namespace)}/${encodeURIComponent(target.name)}/${verb}`, `${said} requested for ${target.address}.`, "rollout-result");
}

// ---------------------------------------------------------------- history

async function renderHistory(app) {
  const data = await api(appPath(app, "history"));
  const rows = data.revisions.slice().reverse().map((revision) => el("tr", { "data-revision": revision.revision },
    el("td", { text: `#${revision.revision}` }),
    el("td", {}, el("code", { text: shortSHA(revision.commit) })),
    el("td", { text: revision.trigger || "" }),
    el("td", {}, badge("outcome", revision.status)),
    el("td", { text: revision.message || revision.description || "" }),
    el("td", { text: when(revision.finishedAt || revision.startedAt) }),
    el("td", { class: "write-only" }, el("button", {
      type: "button", class: "rollback", "aria-label": `Roll back to revision ${revision.revision}`,
      onclick: () => rollback(app, revision.revision), text: "Roll back",
    }))));
  show(
    el("nav", { class: "crumbs" }, el("a", { href: "#/", text: "Applications" }), " / ", el("a", { href: appLink(app), text: app }), " / History"),
    el("h1", { text: `${app}: history` }),
    el("div", { id: "history-result" }),
    el("table", { class: "list", id: "history" },
      el("thead", {}, el("tr", {}, ["Revision", "Commit", "Trigger", "Outcome", "Summary", "When", ""].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows)));
}

async function rollback(app, number) {
  if (!(await confirmAction(`Roll ${app} back to revision ${number}? Auto-sync stays paused until the next manual sync.`))) return;
  await ask(appPath(app, "rollback"), `Rollback to #${number} queued.`, "history-result", { revision: number });
}

// ---------------------------------------------------------------- cluster

async function renderCluster() {
  const data = await api("cluster");
  const nodes = data.nodes.map((node) => el("section", { class: `node-card${node.ready ? "" : " failed"}`, "data-node-name": node.name },
    el("h2", {}, node.name, " ", badge("node", node.ready ? "Ready" : "NotReady"), node.unschedulable ? badge("node", "Cordoned") : null),
    el("p", { class: "hint", text: `cpu ${node.cpu || "?"} · memory ${node.memory || "?"}${node.reason && !node.ready ? " · " + node.reason : ""}` }),
    el("ul", {}, node.pods.map((pod) => el("li", {}, `${pod.namespace}/${pod.name} `, badge("health", pod.health || pod.phase))),
      node.virtualMachines.map((vm) => el("li", {}, "VM ", `${vm.namespace}/${vm.name} `, badge("health", vm.health || vm.phase))))));
  show(el("h1", { text: "Cluster" }), el("p", { class: "hint", text: data.cluster }), el("div", { class: "nodes" }, nodes));
}

start();
