import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { BrowserMissing, ensureChromium } from "./lib/chromium";
import { startWorker, type DevWorker } from "./lib/processes";

/**
 * `npm run test:browser`: the console as a person uses it. Starts two `wrangler dev` workers with
 * the simulator (one agent that claims after SIM_ASSIGN_DELAY_MS), one of them behind
 * DIYALOG_BASE_PATH, and drives a headless Chromium (found or installed by scripts/lib/chromium.ts)
 * through the normal flows — sign in, place a call and see it `queued`, cancel it and see
 * `cancelled`, place another and see the simulator's agent take it (`assigned`), find a customer and erase their
 * personal data through the page's confirmation (declined once, then confirmed), sign out — at
 * 1280×800 and at 390×844 — and, in a fresh tab, open the cancelled call by its id. During those flows any console error, page error, failed request or
 * HTTP error answer fails the test (a person with devtools open sees none). Refused sign-ins (a
 * wrong key, a missing path prefix) are checked apart, where exactly their one 401 or 404 is
 * expected. Screenshots go to test-results/ (a CI artifact); `-- --update-docs` also refreshes
 * docs/console.png (the README's picture). Everything stays on 127.0.0.1.
 */

const KEY = "browser-test-key-0123456789abcdefghijklmnopqrstuv";
const BASE_PATH = "/d/browser-test";
const ASSIGN_DELAY_MS = 3000;
const WAIT_MS = 20_000;
const DEADLINE_MS = 300_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const results: string[] = [];

function check(name: string, ok: boolean, detail = ""): void {
  if (!ok) throw new Error(`${name}${detail ? `: ${detail}` : ""}`);
  results.push(name);
  console.log(`ok ${results.length} - ${name}`);
}

/** Everything a person with devtools open would see as an error, recorded as it happens. */
function watch(page: Page, origin: string): string[] {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("requestfailed", (req) => problems.push(`request failed: ${req.method()} ${req.url()} (${req.failure()?.errorText ?? "?"})`));
  page.on("response", (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
  });
  page.on("request", (req) => {
    if (!req.url().startsWith(origin) && !req.url().startsWith("data:")) problems.push(`request leaves the origin: ${req.url()}`);
  });
  return problems;
}

async function stateIs(page: Page, state: string): Promise<void> {
  await page.waitForFunction((s) => document.getElementById("ix-state")?.dataset.state === s, state, { timeout: WAIT_MS });
}

async function placeCall(page: Page, customerId: string, label: string): Promise<string> {
  await page.fill("#customer-id", customerId);
  await page.click("#place-call");
  await page.waitForFunction(() => /queued as|HTTP|: /.test(document.getElementById("call-status")?.textContent ?? ""), undefined, { timeout: WAIT_MS });
  const status = (await page.textContent("#call-status")) ?? "";
  check(`${label}: the create for ${customerId} succeeds`, status.startsWith("queued as"), status);
  // The newest call of this tab; the page then follows it.
  const id = await page.evaluate(() => (JSON.parse(sessionStorage.getItem("diyalog-console.calls") ?? "[]") as { id: string }[])[0]?.id ?? "");
  await page.waitForFunction((expected) => document.getElementById("ix-id")?.textContent === expected, id, { timeout: WAIT_MS });
  return id;
}

async function signIn(page: Page, key: string, prefix = ""): Promise<void> {
  await page.waitForSelector("#login-card:not([hidden])");
  await page.fill("#api-key", key);
  if (prefix) {
    await page.click("#login-form summary");
    await page.fill("#base-path", prefix);
  }
  await page.click("#login");
}

/** A page of its own, at `viewport`; a failure leaves a screenshot. */
async function withPage(context: BrowserContext, viewport: { width: number; height: number }, name: string, fn: (page: Page) => Promise<void>): Promise<void> {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  try {
    await fn(page);
  } catch (err) {
    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: `test-results/console-failure-${name}.png`, fullPage: true }).catch(() => {});
    throw err;
  } finally {
    await page.close().catch(() => {});
  }
}

/** Exactly one error answer, `status` from GET /v1/session, and the browser's one console line about it. */
function onlyThe(problems: string[], status: number): boolean {
  return (
    problems.length === 2 &&
    problems.some((p) => new RegExp(`^HTTP ${status}: GET http://[^/]+/v1/session$`).test(p)) &&
    problems.some((p) => p.startsWith("console error: Failed to load resource") && p.includes(`status of ${status}`))
  );
}

/** Refused sign-ins: exactly the one expected error answer each, and the page says why. */
async function refusedSignIns(page: Page, plain: DevWorker, prefixed: DevWorker): Promise<void> {
  const problems = watch(page, plain.url);
  const response = await page.goto(`${plain.url}/console`);
  check("GET /console answers 200 without a key", response?.status() === 200, String(response?.status()));
  const csp = (await response?.headerValue("content-security-policy")) ?? "";
  check("the console has CSP default-src 'self'", /(^|;)\s*default-src 'self'/.test(csp), csp);
  await signIn(page, "not-the-key");
  await page.waitForSelector("#login-error:not([hidden])", { timeout: WAIT_MS });
  check("a wrong key is refused on the page", (await page.textContent("#login-error"))?.includes("refused") === true);
  check("…with exactly one error answer: 401 from GET /v1/session", onlyThe(problems, 401), problems.join("\n"));

  const prefixedProblems = watch(page, prefixed.url);
  await page.goto(`${prefixed.url}/console`);
  prefixedProblems.length = 0;
  await signIn(page, KEY);
  await page.waitForSelector("#login-error:not([hidden])", { timeout: WAIT_MS });
  check("behind DIYALOG_BASE_PATH, the right key without the prefix is not taken for accepted", (await page.textContent("#login-error"))?.includes("prefix") === true);
  check("#app stays hidden", await page.isHidden("#app"));
  check(
    "…with exactly one error answer: 404 from GET /v1/session at the root",
    onlyThe(prefixedProblems, 404),
    prefixedProblems.join("\n"),
  );
}

/**
 * An operator opens an interaction by its id in a fresh tab (nothing placed there): the page follows
 * it with its state and timeline; an unknown id is said to be unknown, with exactly its one 404.
 */
async function openById(page: Page, worker: DevWorker, id: string, state: string): Promise<void> {
  const problems = watch(page, worker.url);
  await page.goto(`${worker.url}/console`);
  await signIn(page, KEY);
  await page.waitForSelector("#app:not([hidden])", { timeout: WAIT_MS });
  check("open by id: a fresh tab follows nothing yet", await page.isVisible("#ix-empty"));
  await page.fill("#open-id", id);
  await page.click("#open");
  await page.waitForFunction((expected) => document.getElementById("ix-id")?.textContent === expected, id, { timeout: WAIT_MS });
  await stateIs(page, state);
  const timeline = await page.locator("#timeline li").allTextContents();
  check(`open by id: the interaction is shown, ${state}, with its timeline`, timeline.some((t) => t.includes(state)), timeline.join(" | "));
  check("open by id: no error answer", problems.length === 0, problems.join("\n"));

  // Same customer object, another (case-sensitive) random part: well-formed, but no such interaction.
  const unknown = `${id.slice(0, 64)}${"Zz".repeat(11)}`;
  await page.fill("#open-id", unknown);
  await page.click("#open");
  await page.waitForFunction(() => /no such interaction/.test(document.getElementById("open-status")?.textContent ?? ""), undefined, { timeout: WAIT_MS });
  check("open by id: an unknown id is said to be unknown; the page keeps following the last one", (await page.textContent("#ix-id")) === id);
  check(
    "…with exactly one error answer: 404 from GET /v1/interactions/{id}",
    problems.length === 2 && problems.some((p) => p === `HTTP 404: GET ${worker.url}/v1/interactions/${unknown}`) && problems.some((p) => p.startsWith("console error: Failed to load resource")),
    problems.join("\n"),
  );
}

/** A call from Diyalog's side (not through the page): its id, or a failed check. */
async function apiCall(worker: DevWorker, prefix: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${worker.url}${prefix}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = (await res.json()) as { success: boolean; result: any };
  if (!answer.success) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(answer)}`);
  return answer.result;
}

/** Digits only, from crypto: a customer number and a national id of the usual shapes. */
function digits(n: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => String(b % 10)).join("");
}

/**
 * Find a customer and erase their personal data (design §6). Runs while the simulator's one agent is
 * busy with the second call of `normalFlows`, so the customer's call keeps waiting in the queue.
 * The customer has two interactions (a cancelled one and a newer waiting one, with an identityNumber
 * and an attribute value reads mask): the page shows both, newest first; the first erase click only
 * asks, and declining erases nothing; the second click erases, cancelling the waiting call; a lookup
 * afterwards shows no customerId, identityNumber or attribute value anywhere in the page's text, and
 * the customerId never reached a URL, the storage or the browser's console.
 */
async function findAndErase(page: Page, worker: DevWorker, label: string, prefix: string): Promise<void> {
  const customerId = `7${digits(9)}`;
  const identityNumber = `1${digits(10)}`;
  const secret = `Gold-${digits(6)}`; // Segment is not in VISIBLE_ATTRIBUTES: reads show "***"
  const body = { customerId, attachedData: [{ TRX: "Diyalog" }, { Segment: secret }], identityNumber };
  const older = (await apiCall(worker, prefix, "POST", "/v1/interactions", body)).interactionId as string;
  await apiCall(worker, prefix, "DELETE", `/v1/interactions/${older}`);
  const waiting = (await apiCall(worker, prefix, "POST", "/v1/interactions", body)).interactionId as string;
  check(`${label}: find: a customer with a cancelled call and a newer one waiting`, older !== waiting);

  const messages: string[] = [];
  const onConsole = (msg: { text(): string }) => messages.push(msg.text());
  page.on("console", onConsole);
  const urls: string[] = [];
  const eraseRequests: string[] = [];
  const onRequest = (req: { url(): string; method(): string; postData(): string | null }) => {
    urls.push(req.url());
    if (req.url().endsWith("/v1/customers/erase")) eraseRequests.push(`${req.method()} ${req.postData() ?? ""}`);
  };
  page.on("request", onRequest);
  const pageText = () => page.evaluate(() => document.body.innerText);
  const personal = (text: string) => [customerId, identityNumber, secret].filter((value) => text.includes(value));

  try {
    await page.fill("#lookup-id", customerId);
    await page.click("#lookup");
    await page.waitForFunction((id) => document.querySelector(`#customer-interactions li[data-id="${id}"]`) !== null, waiting, { timeout: WAIT_MS });
    const shown = await page.$$eval("#customer-interactions > li", (items) =>
      items.map((li) => ({ id: (li as HTMLElement).dataset.id, state: li.querySelector(".found-head .state")?.getAttribute("data-state"), timeline: li.querySelectorAll(".timeline li").length })),
    );
    check(
      `${label}: find: both interactions are shown, newest first: the waiting call queued, the older one cancelled, each with its timeline`,
      shown.length === 2 && shown[0]!.id === waiting && shown[0]!.state === "queued" && shown[1]!.id === older && shown[1]!.state === "cancelled" && shown.every((s) => s.timeline >= 2),
      JSON.stringify(shown),
    );
    const ref = (await apiCall(worker, prefix, "POST", "/v1/customers/lookup", { customerId })).customerRef as string;
    check(`${label}: find: the page shows the customer's customerRef`, (await page.textContent("#customer-ref")) === ref);
    const before = await pageText();
    check(`${label}: find: the page shows customerId and identityNumber masked, the Segment value as ***`, personal(before).length === 0 && before.includes("Segment=***"), personal(before).join(", "));

    // The first click only asks; declining erases nothing.
    await page.click("#erase");
    await page.waitForSelector("#erase-dialog[open]", { timeout: WAIT_MS });
    check(`${label}: erase: the first click opens the page's confirmation, naming the customerRef`, (await page.textContent("#erase-dialog-ref")) === ref);
    await page.click("#erase-keep");
    await page.waitForFunction(() => (document.getElementById("erase-dialog") as HTMLDialogElement | null)?.open === false, undefined, { timeout: WAIT_MS });
    // Escape declines too.
    await page.click("#erase");
    await page.waitForSelector("#erase-dialog[open]", { timeout: WAIT_MS });
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => (document.getElementById("erase-dialog") as HTMLDialogElement | null)?.open === false, undefined, { timeout: WAIT_MS });
    const kept = await apiCall(worker, prefix, "GET", `/v1/interactions/${waiting}`);
    check(
      `${label}: erase: declining the confirmation (Keep, then Escape) erases nothing (no request; the call still waits with its data)`,
      eraseRequests.length === 0 && kept.state === "queued" && kept.customerId !== null && (await page.textContent("#erase-status")) === "nothing erased",
      `${eraseRequests.join("; ")} ${JSON.stringify(kept)}`,
    );

    // The second, deliberate click erases.
    await page.click("#erase");
    await page.waitForSelector("#erase-dialog[open]", { timeout: WAIT_MS });
    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: `test-results/console-erase-confirmation-${label}.png` });
    const box = await page.locator("#erase-dialog").boundingBox();
    check(`${label}: erase: the confirmation fits the window`, box !== null && box.x >= 0 && box.x + box.width <= page.viewportSize()!.width, JSON.stringify(box));
    await page.click("#erase-confirm");
    await page.waitForSelector("#erase-result:not([hidden])", { timeout: WAIT_MS });
    const erased = Number.parseInt((await page.textContent("#erase-count")) ?? "", 10);
    const cancelled = await page.$$eval("#erase-cancelled code", (codes) => codes.map((c) => c.getAttribute("title")));
    check(
      `${label}: erase: the answer shows erased ≥ 1 and the waiting call as cancelled`,
      erased >= 1 && cancelled.length === 1 && cancelled[0] === waiting && (await page.textContent("#erase-unconfirmed")) === "none",
      `erased ${erased}, cancelled ${JSON.stringify(cancelled)}`,
    );
    check(`${label}: erase: one POST, the customerId in its body only`, eraseRequests.length === 1 && eraseRequests[0]!.startsWith("POST ") && eraseRequests[0]!.includes(customerId));
    const after = await apiCall(worker, prefix, "GET", `/v1/interactions/${waiting}`);
    check(`${label}: erase: the call is cancelled and its customerId gone`, after.state === "cancelled" && after.customerId === null, JSON.stringify(after));

    // A lookup afterwards: the interactions are there, nothing personal is.
    await page.fill("#lookup-id", customerId);
    await page.click("#lookup");
    await page.waitForFunction(
      (id) => document.querySelector(`#customer-interactions li[data-id="${id}"] .found-head .state`)?.getAttribute("data-state") === "cancelled" && /as of/.test(document.getElementById("lookup-status")?.textContent ?? ""),
      waiting,
      { timeout: WAIT_MS },
    );
    const text = await pageText();
    const facts = await page.$$eval("#customer-interactions > li", (items) =>
      items.map((li) => Object.fromEntries([...li.querySelectorAll(".facts dt")].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]))),
    );
    check(
      `${label}: a lookup afterwards shows no customerId, identityNumber or attribute value in the page's text`,
      personal(text).length === 0 && facts.length === 2 && facts.every((f) => f.customerId === "erased" && f.identityNumber === "none" && f.attributes === "none"),
      `${personal(text).join(", ")} ${JSON.stringify(facts)}`,
    );
    const kept2 = await page.evaluate(() => ({ url: location.href, session: JSON.stringify(sessionStorage), local: JSON.stringify(localStorage), html: document.documentElement.outerHTML }));
    check(
      `${label}: the customerId is in no URL, storage, page markup or console message`,
      [...urls, kept2.url, kept2.session, kept2.local, kept2.html, ...messages].every((t) => !t.includes(customerId) && !t.includes(identityNumber)),
    );
    // An interaction found is followed in the Interaction card by a click on its id.
    await page.click(`#customer-interactions li[data-id="${waiting}"] .found-head button`);
    await page.waitForFunction((id) => document.getElementById("ix-id")?.textContent === id, waiting, { timeout: WAIT_MS });
    await stateIs(page, "cancelled");
    check(`${label}: find: a click on a found interaction's id follows it`, true);
  } finally {
    page.off("console", onConsole);
    page.off("request", onRequest);
  }
}

/** The normal flows; no error of any kind is allowed on the way. Answers the id of the call it cancelled. */
async function normalFlows(page: Page, worker: DevWorker, label: string, options: { prefix?: string; picture?: boolean }): Promise<string> {
  const problems = watch(page, worker.url);
  await page.goto(`${worker.url}/console`);
  await signIn(page, KEY, options.prefix);
  await page.waitForSelector("#app:not([hidden])", { timeout: WAIT_MS });
  const storage = await page.evaluate(() => ({ session: JSON.stringify(sessionStorage), local: localStorage.length, url: location.href }));
  check(`${label}: the key is in sessionStorage, not in the URL or localStorage`, storage.session.includes(KEY) && storage.local === 0 && !storage.url.includes(KEY));
  await page.waitForSelector("#sim-card:not([hidden]) #agents li", { timeout: WAIT_MS });
  check(`${label}: the simulator's agents are shown`, (await page.locator("#agents li").count()) === 1);

  // A call reaches the queue, and the simulator shows it waiting; then it is cancelled in time.
  const first = await placeCall(page, `browser-first-${label}`, label);
  await stateIs(page, "queued");
  await page.waitForFunction((id) => [...document.querySelectorAll("#queue code")].some((c) => c.getAttribute("title") === id), first, { timeout: WAIT_MS });
  check(`${label}: the first call is queued, and the simulator shows it waiting`, true);
  await page.click("#cancel-call");
  await stateIs(page, "cancelled");
  const cancelStatus = (await page.textContent("#cancel-status")) ?? "";
  check(`${label}: Cancel answers done and the state is cancelled`, cancelStatus.includes("cancelled"), cancelStatus);
  const timeline = await page.locator("#timeline li").allTextContents();
  check(`${label}: the timeline shows queued then cancelled`, timeline.some((t) => t.includes("queued")) && timeline.some((t) => t.includes("cancelled")), timeline.join(" | "));
  check(`${label}: Cancel is disabled once the call is terminal`, await page.isDisabled("#cancel-call"));

  // A second call waits SIM_ASSIGN_DELAY_MS, then the simulator's agent claims it.
  const second = await placeCall(page, `browser-second-${label}`, label);
  await stateIs(page, "queued");
  await stateIs(page, "assigned");
  await page.waitForFunction((id) => [...document.querySelectorAll("#agents .busy code")].some((c) => c.getAttribute("title") === id), second, {
    timeout: WAIT_MS,
  });
  check(`${label}: the second call is assigned, and the simulator shows its agent busy with it`, true);

  // The one agent is busy for SIM_HANDLE_MS now: a new call keeps waiting.
  await findAndErase(page, worker, label, options.prefix ?? "");

  if (options.picture) {
    // For the picture: a third call waits (the one agent is busy), and the page follows the second.
    await placeCall(page, `browser-third-${label}`, label);
    await page.click(`#history button[title="${second}"]`);
    await stateIs(page, "assigned");
    await page.waitForFunction(() => document.querySelectorAll("#queue li").length === 1, undefined, { timeout: WAIT_MS });
    await page.waitForTimeout(300);
  }
  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: `test-results/console-${label}.png`, fullPage: true });
  // The README's picture is refreshed only on request, so a test run leaves the work tree clean.
  if (options.picture && process.argv.includes("--update-docs")) {
    mkdirSync("docs", { recursive: true });
    await page.screenshot({ path: "docs/console.png", fullPage: true });
  }
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(`${label}: no horizontal scrolling`, overflow <= 0, `${overflow}px too wide`);

  // Sign out: the key is gone, the page polls nothing more.
  await page.click("#logout");
  await page.waitForSelector("#login-card:not([hidden])", { timeout: WAIT_MS });
  check(`${label}: signing out forgets the key`, !(await page.evaluate(() => JSON.stringify(sessionStorage))).includes(KEY));
  await page.waitForTimeout(1500);
  check(`${label}: no console error, failed request or error answer during the normal flows`, problems.length === 0, problems.join("\n"));
  return first;
}

async function main(): Promise<void> {
  const executablePath = ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), "console-chromium-"));
  const workers: DevWorker[] = [];
  let context: BrowserContext | undefined;
  const deadline = setTimeout(() => {
    console.error(`browser test: still running after ${DEADLINE_MS / 1000} s, giving up`);
    void (async () => {
      await context?.close().catch(() => {});
      await Promise.all(workers.map((w) => w.stop()));
      process.exit(1);
    })();
  }, DEADLINE_MS);
  try {
    const vars = { DIYALOG_API_KEYS: KEY, SIM_AGENTS: "1", SIM_ASSIGN_DELAY_MS: String(ASSIGN_DELAY_MS), SIM_HANDLE_MS: "120000" };
    const started = await Promise.allSettled([startWorker(vars), startWorker({ ...vars, DIYALOG_BASE_PATH: BASE_PATH })]);
    for (const s of started) if (s.status === "fulfilled") workers.push(s.value);
    for (const s of started) if (s.status === "rejected") throw s.reason;
    const [plain, prefixed] = workers as [DevWorker, DevWorker];
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const browser = context;
    await withPage(browser, DESKTOP, "refused", (page) => refusedSignIns(page, plain, prefixed));
    let cancelled = "";
    await withPage(browser, DESKTOP, "desktop", async (page) => void (cancelled = await normalFlows(page, plain, "1280x800", { picture: true })));
    await withPage(browser, DESKTOP, "open-by-id", (page) => openById(page, plain, cancelled, "cancelled"));
    await withPage(browser, PHONE, "phone", (page) => normalFlows(page, prefixed, "390x844 behind DIYALOG_BASE_PATH", { prefix: BASE_PATH }));
    console.log(`browser test: all ${results.length} checks passed; screenshots in test-results/${process.argv.includes("--update-docs") ? " and docs/console.png" : ""}`);
  } finally {
    clearTimeout(deadline);
    await context?.close().catch(() => {});
    await Promise.all(workers.map((w) => w.stop()));
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  if (err instanceof BrowserMissing) {
    console.error(`browser test: ${err.message}`);
    process.exit(1);
  }
  console.error(`browser test failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
