import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { BrowserMissing, ensureChromium } from "./lib/chromium";
import { startWorker, type DevWorker } from "./lib/processes";

/**
 * `npm run test:browser`: the console as a person uses it. Starts `wrangler dev` with the simulator
 * (one agent that claims after SIM_ASSIGN_DELAY_MS) and drives Debian's headless Chromium:
 * sign in, place a call and see it `queued`, cancel it and see `cancelled`, place another and see
 * the simulator's agent take it (`assigned`). Screenshots go to test-results/ (a CI artifact);
 * `-- --update-docs` also refreshes docs/console.png (the README's picture). Everything stays on
 * 127.0.0.1.
 */

const KEY = "browser-test-key";
const ASSIGN_DELAY_MS = 3000;
const WAIT_MS = 20_000;
const DEADLINE_MS = 240_000;

const results: string[] = [];

function check(name: string, ok: boolean, detail = ""): void {
  if (!ok) throw new Error(`${name}${detail ? `: ${detail}` : ""}`);
  results.push(name);
  console.log(`ok ${results.length} - ${name}`);
}

async function stateIs(page: Page, state: string): Promise<void> {
  await page.waitForFunction((s) => document.getElementById("ix-state")?.dataset.state === s, state, { timeout: WAIT_MS });
}

async function placeCall(page: Page, customerId: string): Promise<string> {
  await page.fill("#customer-id", customerId);
  await page.click("#place-call");
  await page.waitForFunction(() => /queued as|HTTP|: /.test(document.getElementById("call-status")?.textContent ?? ""), undefined, { timeout: WAIT_MS });
  const status = (await page.textContent("#call-status")) ?? "";
  check(`the create for ${customerId} succeeds`, status.startsWith("queued as"), status);
  // The newest call of this tab; the page then follows it.
  const id = await page.evaluate(() => (JSON.parse(sessionStorage.getItem("diyalog-console.calls") ?? "[]") as { id: string }[])[0]?.id ?? "");
  await page.waitForFunction((expected) => document.getElementById("ix-id")?.textContent === expected, id, { timeout: WAIT_MS });
  return id;
}

async function run(worker: DevWorker, context: BrowserContext): Promise<void> {
  const page = await context.newPage();
  try {
    await steps(worker, page);
  } catch (err) {
    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/console-failure.png", fullPage: true }).catch(() => {});
    throw err;
  }
}

async function steps(worker: DevWorker, page: Page): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 720 });
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/status of 40[14]/.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("request", (req) => {
    if (!req.url().startsWith(worker.url)) problems.push(`request leaves the origin: ${req.url()}`);
  });

  // The page itself needs no key, and forbids everything but its own origin.
  const response = await page.goto(`${worker.url}/console`);
  check("GET /console answers 200 without a key", response?.status() === 200, String(response?.status()));
  const csp = (await response?.headerValue("content-security-policy")) ?? "";
  check("the console has CSP default-src 'self'", /(^|;)\s*default-src 'self'/.test(csp), csp);
  await page.waitForSelector("#login-card:not([hidden])");

  // A wrong key is refused; the right one is kept in sessionStorage only.
  await page.fill("#api-key", "not-the-key");
  await page.click("#login");
  await page.waitForSelector("#login-error:not([hidden])", { timeout: WAIT_MS });
  check("a wrong key is refused on the page", true);
  await page.fill("#api-key", KEY);
  await page.click("#login");
  await page.waitForSelector("#app:not([hidden])", { timeout: WAIT_MS });
  const storage = await page.evaluate(() => ({ session: JSON.stringify(sessionStorage), local: localStorage.length, url: location.href }));
  check("the key is in sessionStorage, not in the URL or localStorage", storage.session.includes(KEY) && storage.local === 0 && !storage.url.includes(KEY));
  await page.waitForSelector("#sim-card:not([hidden])", { timeout: WAIT_MS });
  check("the simulator's agents are shown", (await page.locator("#agents li").count()) === 1);

  // A call reaches the queue, and the simulator shows it waiting; then it is cancelled in time.
  const first = await placeCall(page, "browser-first");
  await stateIs(page, "queued");
  check("the first call is queued", true);
  await page.waitForFunction((id) => [...document.querySelectorAll("#queue code")].some((c) => c.getAttribute("title") === id), first, { timeout: WAIT_MS });
  check("the simulator shows it in the queue", true);
  await page.click("#cancel-call");
  await stateIs(page, "cancelled");
  const cancelStatus = (await page.textContent("#cancel-status")) ?? "";
  check("Cancel answers done and the state is cancelled", cancelStatus.includes("cancelled"), cancelStatus);
  const timeline = await page.locator("#timeline li").allTextContents();
  check("the timeline shows queued then cancelled", timeline.some((t) => t.includes("queued")) && timeline.some((t) => t.includes("cancelled")), timeline.join(" | "));
  check("Cancel is disabled once the call is terminal", await page.isDisabled("#cancel-call"));

  // A second call waits SIM_ASSIGN_DELAY_MS, then the simulator's agent claims it.
  const second = await placeCall(page, "browser-second");
  await stateIs(page, "queued");
  await stateIs(page, "assigned");
  check("the second call is assigned by the simulator", true);
  await page.waitForFunction((id) => [...document.querySelectorAll("#agents .busy code")].some((c) => c.getAttribute("title") === id), second, {
    timeout: WAIT_MS,
  });
  check("the simulator shows its agent busy with it", true);

  // For the picture: a third call waits (the one agent is busy), and the page follows the second.
  await placeCall(page, "browser-third");
  await page.click(`#history button[title="${second}"]`);
  await stateIs(page, "assigned");
  await page.waitForFunction(() => document.querySelectorAll("#queue li").length === 1, undefined, { timeout: WAIT_MS });
  await page.waitForTimeout(300);
  mkdirSync("test-results", { recursive: true });
  mkdirSync("docs", { recursive: true });
  await page.screenshot({ path: "test-results/console.png", fullPage: true });
  // The README's picture is refreshed only on request, so a test run leaves the work tree clean.
  if (process.argv.includes("--update-docs")) await page.screenshot({ path: "docs/console.png", fullPage: true });

  // Readable on a phone: nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check("no horizontal scrolling on a 390 px wide phone", overflow <= 0, `${overflow}px too wide`);
  await page.screenshot({ path: "test-results/console-phone.png", fullPage: true });

  check("no script errors, CSP violations or requests to other origins", problems.length === 0, problems.join("\n"));
}

async function main(): Promise<void> {
  const executablePath = ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), "console-chromium-"));
  let worker: DevWorker | undefined;
  let context: BrowserContext | undefined;
  const deadline = setTimeout(() => {
    console.error(`browser test: still running after ${DEADLINE_MS / 1000} s, giving up`);
    void (async () => {
      await context?.close().catch(() => {});
      await worker?.stop();
      process.exit(1);
    })();
  }, DEADLINE_MS);
  try {
    worker = await startWorker({
      DIYALOG_API_KEYS: KEY,
      SIM_AGENTS: "1",
      SIM_ASSIGN_DELAY_MS: String(ASSIGN_DELAY_MS),
      SIM_HANDLE_MS: "120000",
    });
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
    await run(worker, context);
    console.log(`browser test: all ${results.length} checks passed; screenshots in test-results/${process.argv.includes("--update-docs") ? " and docs/console.png" : ""}`);
  } finally {
    clearTimeout(deadline);
    await context?.close().catch(() => {});
    await worker?.stop();
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
