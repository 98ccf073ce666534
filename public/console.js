// The operator console: plain browser JavaScript, no framework, nothing loaded from elsewhere
// (the page's CSP is default-src 'self'). The API key lives in this tab's sessionStorage only and
// travels in the Authorization header, never in a URL.
"use strict";

const STORE = { key: "diyalog-console.key", base: "diyalog-console.base", calls: "diyalog-console.calls" };
const PREFIX_HINT = "Nothing answers at this path prefix: enter the DIYALOG_BASE_PATH prefix exactly (or leave it empty when none is set).";
const POLL_MS = 1000;
const TERMINAL = new Set(["assigned", "cancelled", "failed", "expired"]);
const STATE_LABELS = {
  received: "received",
  dispatching: "dispatching",
  queued: "queued",
  assigned: "assigned",
  cancelling: "cancelling",
  cancelled: "cancelled",
  failed: "failed",
  expired: "expired",
};

const $ = (id) => document.getElementById(id);

/** An element with a class and text; never HTML from the server. */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const session = {
  get key() {
    return sessionStorage.getItem(STORE.key);
  },
  get base() {
    return sessionStorage.getItem(STORE.base) || "";
  },
  signIn(key, base) {
    sessionStorage.setItem(STORE.key, key);
    sessionStorage.setItem(STORE.base, base);
  },
  signOut() {
    sessionStorage.removeItem(STORE.key);
    sessionStorage.removeItem(STORE.base);
  },
  calls() {
    try {
      const list = JSON.parse(sessionStorage.getItem(STORE.calls) || "[]");
      return Array.isArray(list) ? list : [];
    } catch {
      return [];
    }
  },
  remember(id) {
    const list = session.calls().filter((c) => c.id !== id);
    list.unshift({ id, at: new Date().toISOString() });
    sessionStorage.setItem(STORE.calls, JSON.stringify(list.slice(0, 10)));
  },
};

let current = null; // interactionId being followed
let simulatorOn = false; // the key may see the simulator (GET /v1/session says so)
const lastStates = new Map();

/** Calls the API with the stored key; answers {status, body} (body null when not JSON). */
async function api(method, path, body) {
  const headers = { authorization: `Bearer ${session.key}` };
  const init = { method, headers, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(session.base + path, init);
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (res.status === 401 && session.key) {
    showLogin("The API key was refused. Sign in again.");
  }
  return { status: res.status, body: data };
}

function failureText(answer) {
  const b = answer.body;
  if (b && b.errorCode) return `${answer.status} ${b.errorCode}: ${b.errorMessage}`;
  return `HTTP ${answer.status}`;
}

function setStatus(node, text, tone) {
  node.textContent = text;
  node.dataset.tone = tone || "";
}

/** A short form of an id. One customer's interactions share their first 64 characters, so the end is shown too. */
function shortId(id) {
  return id.length > 13 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id;
}

function clock(iso) {
  const d = new Date(iso);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** The local date, as 2026-12-03. */
function day(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function seconds(ms) {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

// ---- health -------------------------------------------------------------------------------

async function loadHealth() {
  const pill = $("health");
  try {
    const res = await fetch("/healthz", { cache: "no-store", credentials: "omit" });
    const body = await res.json();
    if (body.success) {
      pill.textContent = `${body.result.upstream} · ok`;
      pill.className = "pill pill-ok";
    } else {
      pill.textContent = body.errorCode || "unhealthy";
      pill.className = "pill pill-bad";
      pill.title = body.errorMessage || "";
    }
  } catch {
    pill.textContent = "unreachable";
    pill.className = "pill pill-bad";
  }
}

// ---- sign in ------------------------------------------------------------------------------

function showLogin(message) {
  session.signOut();
  current = null;
  simulatorOn = false;
  canErase = false;
  clearCustomer();
  $("customer-card").hidden = true;
  $("sim-card").hidden = true;
  $("login-card").hidden = false;
  $("app").hidden = true;
  $("logout").hidden = true;
  const error = $("login-error");
  error.hidden = !message;
  error.textContent = message || "";
  $("api-key").value = "";
  $("api-key").focus();
}

function showApp() {
  $("login-card").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  if (!$("customer-id").value) $("customer-id").value = freshCustomerId();
  if (!$("attached-data").value) $("attached-data").value = '[\n  {"TRX": "Diyalog"},\n  {"Segment": "VIP"}\n]';
  renderHistory();
  const calls = session.calls();
  if (!current && calls.length > 0) follow(calls[0].id);
}

/**
 * Checks the stored key with GET /v1/session (the route meant for it): 200 → the app, with the
 * upstream and what the key may do; 401 → refused; 404 → nothing at this path prefix.
 */
async function checkSession() {
  const answer = await api("GET", "/v1/session");
  if (answer.status === 200 && answer.body && answer.body.success) {
    const info = answer.body.result;
    simulatorOn = info.permissions.includes("simulator");
    $("customer-card").hidden = !info.permissions.includes("lookup");
    canErase = info.permissions.includes("erase");
    $("erase-row").hidden = !canErase;
    $("real-upstream").hidden = info.upstream === "simulator";
    showApp();
    refresh();
  } else if (answer.status === 404) {
    showLogin(PREFIX_HINT);
  } else if (answer.status !== 401) {
    showLogin(`Could not check the key: ${failureText(answer)}`);
  }
}

async function signIn(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  const base = $("base-path").value.trim().replace(/\/+$/, "");
  if (!key) return;
  if (base && !/^(\/[A-Za-z0-9._~-]+)+$/.test(base)) {
    showLogin("The path prefix looks like /segment/segment (letters, digits and . _ ~ -).");
    return;
  }
  session.signIn(key, base);
  try {
    await checkSession();
  } catch (err) {
    showLogin(`Could not reach the proxy: ${err.message}`);
  }
}

// ---- placing a call -----------------------------------------------------------------------

function freshCustomerId() {
  const digits = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b % 10).join("");
  return `demo-${digits}`;
}

async function placeCall(event) {
  event.preventDefault();
  const status = $("call-status");
  const body = { customerId: $("customer-id").value.trim() };
  const raw = $("attached-data").value.trim();
  if (raw) {
    try {
      body.attachedData = JSON.parse(raw);
    } catch {
      setStatus(status, "attachedData is not valid JSON", "bad");
      return;
    }
  }
  const button = $("place-call");
  button.disabled = true;
  setStatus(status, "waiting for the queue…", "busy");
  try {
    const answer = await api("POST", "/v1/interactions", body);
    const id = answer.body && answer.body.result && answer.body.result.interactionId;
    if (answer.body && answer.body.success) {
      setStatus(status, `queued as ${shortId(id)}`, "ok");
      $("customer-id").value = freshCustomerId();
    } else {
      setStatus(status, failureText(answer), "bad");
    }
    if (id) {
      session.remember(id);
      renderHistory();
      follow(id);
    }
  } catch (err) {
    setStatus(status, `network error: ${err.message}`, "bad");
  } finally {
    button.disabled = false;
  }
}

function renderHistory() {
  const calls = session.calls();
  const list = $("history");
  list.replaceChildren();
  $("history-block").hidden = calls.length === 0;
  for (const call of calls) {
    const item = el("li");
    const button = el("button", "link", shortId(call.id));
    button.type = "button";
    button.title = call.id;
    button.addEventListener("click", () => follow(call.id));
    if (call.id === current) button.setAttribute("aria-current", "true");
    const state = lastStates.get(call.id);
    item.append(button, el("span", "state small", state || ""));
    if (state) item.lastChild.dataset.state = state;
    list.append(item);
  }
}

// ---- following an interaction ---------------------------------------------------------------

function follow(id) {
  current = id;
  setStatus($("cancel-status"), "");
  renderHistory();
  refreshInteraction();
}

/** An interaction's timeline into `list`: when, since the first entry, state, detail, and an upstream's own words. */
function renderTimeline(list, view) {
  list.replaceChildren();
  const start = Date.parse(view.timeline[0] ? view.timeline[0].at : view.createdAt);
  for (const entry of view.timeline) {
    const item = el("li");
    const when = el("time", "when", clock(entry.at));
    when.dateTime = entry.at;
    const state = el("span", "state small", entry.state);
    state.dataset.state = entry.state;
    const offset = el("span", "offset", `+${seconds(Date.parse(entry.at) - start)}`);
    item.append(when, offset, state, el("span", "detail", entry.detail));
    if (typeof entry.text === "string") item.append(el("span", "said", entry.text));
    list.append(item);
  }
}

/** A masked personal field, or a plain word for what is not there. */
function personal(value, absent) {
  return value === null || value === undefined ? el("span", "erased", absent) : document.createTextNode(value);
}

function renderAttributes(node, attributes) {
  const entries = Object.entries(attributes || {});
  node.replaceChildren();
  if (entries.length === 0) node.textContent = "none";
  for (const [k, v] of entries) node.append(el("span", "chip", `${k}=${v}`));
}

function renderInteraction(view) {
  $("ix-empty").hidden = true;
  $("ix-body").hidden = false;
  const badge = $("ix-state");
  badge.textContent = STATE_LABELS[view.state] || view.state;
  badge.dataset.state = view.state;
  $("ix-id").textContent = view.interactionId;
  const up = view.upstream || {};
  $("ix-upstream").textContent = [up.adapter, up.agentId ? `with ${up.agentId}` : "", up.status ? `HTTP ${up.status}` : ""]
    .filter(Boolean)
    .join(" · ");
  $("ix-customer").replaceChildren(personal(view.customerId, "erased"));
  renderAttributes($("ix-attributes"), view.attributes);
  $("cancel-call").disabled = TERMINAL.has(view.state);

  renderTimeline($("timeline"), view);
  if (lastStates.get(view.interactionId) !== view.state) {
    lastStates.set(view.interactionId, view.state);
    renderHistory();
  }
}

async function refreshInteraction() {
  const id = current;
  if (!id || !session.key) return;
  const answer = await api("GET", `/v1/interactions/${encodeURIComponent(id)}`);
  if (id !== current) return;
  if (answer.body && answer.body.success) renderInteraction(answer.body.result);
  else if (answer.status === 404) {
    $("ix-state").textContent = "gone (purged)";
    $("ix-state").dataset.state = "none";
  }
}

/** An interactionId: 64 hex digits and 22 base64url characters. */
const INTERACTION_ID = /^[0-9a-f]{64}[A-Za-z0-9_-]{22}$/;

/** Opens an existing interaction (placed anywhere, not only from this tab) by its id, and follows it. */
async function openById(event) {
  event.preventDefault();
  const status = $("open-status");
  // The base64url part is case-sensitive: the id is taken as typed.
  const id = $("open-id").value.trim();
  if (!INTERACTION_ID.test(id)) {
    setStatus(status, "an interactionId is 86 characters (64 hex digits, then 22 letters, digits, - or _), as Diyalog got it", "bad");
    return;
  }
  setStatus(status, "looking it up…", "busy");
  try {
    const answer = await api("GET", `/v1/interactions/${encodeURIComponent(id)}`);
    if (answer.body && answer.body.success) {
      setStatus(status, "", "");
      $("open-id").value = "";
      session.remember(id);
      current = id;
      setStatus($("cancel-status"), "");
      renderInteraction(answer.body.result);
      renderHistory();
    } else if (answer.status === 404) {
      setStatus(status, "no such interaction (never created here, or purged after RETENTION_SECONDS)", "bad");
    } else {
      setStatus(status, failureText(answer), "bad");
    }
  } catch (err) {
    setStatus(status, `network error: ${err.message}`, "bad");
  }
}

async function cancelCall() {
  const id = current;
  if (!id) return;
  const status = $("cancel-status");
  $("cancel-call").disabled = true;
  setStatus(status, "cancelling…", "busy");
  try {
    const answer = await api("DELETE", `/v1/interactions/${encodeURIComponent(id)}`);
    if (answer.status === 200) setStatus(status, `done: ${answer.body.result.state}`, "ok");
    else if (answer.status === 202) setStatus(status, "recorded; the veto holds, the upstream is still being told", "ok");
    else if (answer.status === 409) setStatus(status, "too late: an agent already has the call", "bad");
    else setStatus(status, failureText(answer), "bad");
  } catch (err) {
    setStatus(status, `network error: ${err.message}`, "bad");
  }
  await refreshInteraction();
}

// ---- finding a customer, erasing their personal data -----------------------------------------
//
// The customerId typed here is personal data. It travels only in a POST body, is held only in
// `found` (this page's memory) while its answer is shown, and is never written to a URL, to any
// storage or to the browser's console. The erasure acts on the customer found, after a second,
// deliberate click in the page's own confirmation.

let found = null; // {customerId, customerRef, count}: the customer shown
let pendingErase = null; // the customer the open confirmation is about
let canErase = false; // the key may erase (GET /v1/session says so)

function interactionsText(n) {
  return n === 1 ? "1 interaction" : `${n} interactions`;
}

/** Forgets the customer shown (signing out, or after an erasure once its outcome is on screen). */
function clearCustomer() {
  found = null;
  pendingErase = null;
  $("lookup-id").value = "";
  setStatus($("lookup-status"), "");
  setStatus($("erase-status"), "");
  $("customer-body").hidden = true;
  $("customer-interactions").replaceChildren();
  $("erase-result").hidden = true;
  if ($("erase-dialog").open) $("erase-dialog").close();
}

/** Ids as short codes (the whole id in the title), or "none". */
function renderIds(node, ids) {
  node.replaceChildren();
  if (ids.length === 0) node.textContent = "none";
  ids.forEach((id, i) => {
    const code = el("code", "", shortId(id));
    code.title = id;
    node.append(i > 0 ? ", " : "", code);
  });
}

function renderFound(view) {
  const item = el("li");
  item.dataset.id = view.interactionId;
  const head = el("div", "found-head");
  const open = el("button", "link", shortId(view.interactionId));
  open.type = "button";
  open.title = view.interactionId;
  open.addEventListener("click", () => {
    session.remember(view.interactionId);
    follow(view.interactionId);
  });
  const state = el("span", "state small", STATE_LABELS[view.state] || view.state);
  state.dataset.state = view.state;
  head.append(open, state);

  const facts = el("dl", "facts");
  const fact = (name, value) => {
    const dd = el("dd");
    dd.append(value);
    facts.append(el("dt", "", name), dd);
  };
  const created = el("time", "", `${day(view.createdAt)} ${clock(view.createdAt)}`);
  created.dateTime = view.createdAt;
  fact("created", created);
  const up = view.upstream || {};
  fact("upstream", [up.adapter, up.agentId ? `with ${up.agentId}` : ""].filter(Boolean).join(" · "));
  fact("customerId", personal(view.customerId, "erased"));
  fact("identityNumber", personal(view.identityNumber, "none"));
  const attrs = el("span");
  renderAttributes(attrs, view.attributes);
  fact("attributes", attrs);

  const timeline = el("ol", "timeline");
  renderTimeline(timeline, view);
  item.append(head, facts, timeline);
  return item;
}

function renderCustomer(result) {
  $("customer-body").hidden = false;
  $("customer-ref").textContent = result.customerRef;
  const n = result.interactions.length;
  $("customer-count").textContent = n === 0 ? "none within retention" : `${n}, newest first`;
  $("customer-interactions").replaceChildren(...result.interactions.map(renderFound));
}

/** POST /v1/customers/lookup: answers whether the customer is now shown. */
async function findCustomer(customerId) {
  const status = $("lookup-status");
  const button = $("lookup");
  button.disabled = true;
  setStatus(status, "looking…", "busy");
  try {
    const answer = await api("POST", "/v1/customers/lookup", { customerId });
    if (answer.body && answer.body.success) {
      const result = answer.body.result;
      found = { customerId, customerRef: result.customerRef, count: result.interactions.length };
      renderCustomer(result);
      $("erase").disabled = false;
      setStatus(status, `as of ${clock(new Date().toISOString())}`, "ok");
      return true;
    }
    found = null;
    $("customer-body").hidden = true;
    setStatus(status, failureText(answer), "bad");
  } catch (err) {
    setStatus(status, `network error: ${err.message}`, "bad");
  } finally {
    button.disabled = false;
  }
  return false;
}

async function lookupCustomer(event) {
  event.preventDefault();
  const customerId = $("lookup-id").value.trim();
  if (!customerId) {
    setStatus($("lookup-status"), "enter a customerId", "bad");
    return;
  }
  setStatus($("erase-status"), "");
  $("erase-result").hidden = true;
  await findCustomer(customerId);
}

/** The first click: the page's own confirmation, about the customer found (by its customerRef). */
function askErase() {
  if (!found) return;
  pendingErase = found;
  $("erase-dialog-ref").textContent = found.customerRef;
  $("erase-dialog-count").textContent = `${interactionsText(found.count)} found`;
  setStatus($("erase-status"), "");
  $("erase-dialog").showModal();
  $("erase-keep").focus();
}

/** "Keep the data", Escape, or any other way the confirmation closes without the second click. */
function eraseDeclined() {
  if (!pendingErase) return;
  pendingErase = null;
  setStatus($("erase-status"), "nothing erased", "");
}

/** The second, deliberate click: POST /v1/customers/erase for the customer the confirmation named. */
async function eraseConfirmed() {
  const target = pendingErase;
  pendingErase = null;
  $("erase-dialog").close();
  if (!target) return;
  const status = $("erase-status");
  $("erase").disabled = true;
  setStatus(status, "erasing…", "busy");
  try {
    const answer = await api("POST", "/v1/customers/erase", { customerId: target.customerId });
    if (!(answer.body && answer.body.success)) {
      setStatus(status, failureText(answer), "bad");
      $("erase").disabled = false;
      return;
    }
    const result = answer.body.result;
    $("erase-count").textContent = interactionsText(result.erased);
    renderIds($("erase-cancelled"), result.cancelled);
    renderIds($("erase-unconfirmed"), result.cancelUnconfirmed);
    $("erase-result").hidden = false;
    setStatus(
      status,
      result.cancelUnconfirmed.length > 0
        ? "erased; the call center has not confirmed a cancel yet, the proxy keeps cancelling"
        : "erased",
      result.cancelUnconfirmed.length > 0 ? "bad" : "ok",
    );
    // What is left of the customer's interactions, then the customerId is forgotten.
    await findCustomer(target.customerId);
    found = null;
    $("lookup-id").value = "";
    $("erase").disabled = true;
    await refreshInteraction();
  } catch (err) {
    setStatus(status, `network error: ${err.message}`, "bad");
    $("erase").disabled = false;
  }
}

// ---- the simulator --------------------------------------------------------------------------

function renderSimulator(snapshot) {
  const agents = $("agents");
  agents.replaceChildren();
  for (const agent of snapshot.agents) {
    const item = el("li", agent.busy ? "agent busy" : "agent free");
    item.append(el("span", "dot"), el("span", "name", agent.id));
    if (agent.busy) {
      const what = el("span", "what");
      if (agent.interactionId) {
        const call = el("code", agent.interactionId === current ? "mine" : "", shortId(agent.interactionId));
        call.title = agent.interactionId;
        what.append("on ", call, ` · ${seconds(agent.busyForMs)} left`);
      } else {
        what.textContent = `busy · ${seconds(agent.busyForMs)} left`;
      }
      item.append(what);
    } else {
      item.append(el("span", "what", "free"));
    }
    agents.append(item);
  }
  const queue = $("queue");
  queue.replaceChildren();
  for (const waiting of snapshot.queue) {
    const item = el("li");
    const call = el("code", waiting.interactionId === current ? "mine" : "", shortId(waiting.interactionId));
    call.title = waiting.interactionId;
    item.append(call, el("span", "what", `waiting ${seconds(waiting.waitingMs)}`));
    queue.append(item);
  }
  $("queue-empty").hidden = snapshot.queue.length > 0;
}

async function refreshSimulator() {
  if (!session.key || !simulatorOn) {
    $("sim-card").hidden = true;
    return;
  }
  const answer = await api("GET", "/v1/simulator");
  if (answer.status === 200 && answer.body && answer.body.success && simulatorOn) {
    renderSimulator(answer.body.result);
    $("sim-card").hidden = false; // shown once it has something to show
  }
}

// ---- the loop -------------------------------------------------------------------------------

async function refresh() {
  if (!session.key) return;
  try {
    await Promise.all([refreshInteraction(), refreshSimulator()]);
  } catch {
    // a missed poll is retried on the next tick
  }
}

async function loop() {
  await refresh();
  setTimeout(loop, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", signIn);
  $("call-form").addEventListener("submit", placeCall);
  $("cancel-call").addEventListener("click", cancelCall);
  $("open-form").addEventListener("submit", openById);
  $("lookup-form").addEventListener("submit", lookupCustomer);
  $("erase").addEventListener("click", askErase);
  $("erase-confirm").addEventListener("click", eraseConfirmed);
  $("erase-keep").addEventListener("click", () => $("erase-dialog").close());
  $("erase-dialog").addEventListener("close", eraseDeclined);
  $("logout").addEventListener("click", () => showLogin(""));
  loadHealth();
  // A reload keeps the tab's key: it is checked again before anything else is asked.
  if (session.key) checkSession().catch(() => showLogin("Could not reach the proxy."));
  else showLogin("");
  loop();
});
