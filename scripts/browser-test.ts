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
 * `cancelled`, place another and see the simulator's agent take it (`assigned`), sign out — at
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
