/**
 * A CPU profile of the proxy in workerd: `wrangler dev` with its devtools inspector, a local fake
 * upstream, `--amount` creates (unique customers) or create+cancel pairs over 20 connections; the
 * V8 profile of the worker's isolate is written to `--out` (open it in Chrome DevTools) and its
 * heaviest functions printed. The inspector relays every console line, so log lines cost more here
 * than without it (bench/run.ts measures without).
 *
 * `--config bench/floor.toml` profiles the floor instead.
 *
 * Usage: npx tsx bench/profile.ts [--amount 1000] [--pairs] [--out /tmp/proxy.cpuprofile] [--config wrangler.toml]
 */
import autocannon from "autocannon";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { freePort, serve } from "../scripts/lib/processes.ts";

const { values } = parseArgs({ options: { amount: { type: "string", default: "1000" }, pairs: { type: "boolean", default: false }, out: { type: "string", default: "/tmp/proxy.cpuprofile" }, config: { type: "string", default: "wrangler.toml" } } });
/** Spread over keys: each has its own 600 per minute limit. */
const KEYS = Array.from({ length: 20 }, (_, i) => `profile-key-${i}-${randomBytes(16).toString("hex")}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const fake = await serve(async (req) => (req.method === "POST" ? Response.json({ id: `up-${randomBytes(6).toString("hex")}` }, { status: 201 }) : new Response(null, { status: 200 })));
const port = await freePort();
const inspector = await freePort();
const vars = { UPSTREAM: "http", UPSTREAM_URL: fake.url, UPSTREAM_SIGNING_SECRET: `whsec_${randomBytes(32).toString("base64")}`, DIYALOG_API_KEYS: KEYS.join(",") };
const args = ["wrangler", "dev", "--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(inspector), "--log-level", "error", "--persist-to", `/dev/shm/profile-${randomBytes(4).toString("hex")}`, "--config", values.config!];
for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
const child = spawn("npx", args, { stdio: "ignore", detached: true, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
const stop = () => { try { process.kill(-child.pid!, "SIGTERM"); } catch { /* gone */ } };
const deadline = setTimeout(() => (stop(), process.exit(2)), 5 * 60_000);
try {
  for (let i = 0; ; i++) {
    try { await (await fetch(`http://127.0.0.1:${port}/healthz`)).arrayBuffer(); break; } catch { if (i > 200) throw new Error("dev server did not start"); await sleep(250); }
  }
  const targets = (await (await fetch(`http://127.0.0.1:${inspector}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((r) => ws.once("open", r));
  let seq = 0;
  const pending = new Map<number, (v: unknown) => void>();
  ws.on("message", (d) => { const m = JSON.parse(String(d)); if (m.id && pending.has(m.id)) pending.get(m.id)!(m.result); });
  const call = (method: string, params = {}) => new Promise<any>((r) => { const id = ++seq; pending.set(id, r); ws.send(JSON.stringify({ id, method, params })); });
  const load = (amount: number) => new Promise<void>((resolve, reject) => {
    let n = 0;
    const create = { method: "POST" as const, path: "/CreateInteraction", setupRequest: (r: any, ctx: any) => ({ ...r, headers: { authorization: `Bearer ${(ctx.key = KEYS[n % KEYS.length])}`, "content-type": "application/json" }, body: JSON.stringify({ customerId: `p-${randomBytes(4).toString("hex")}-${n++}`, attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: "123456" }] }) }), onResponse: (_s: number, body: string, ctx: any) => { try { ctx.id = JSON.parse(body).result?.interactionId; } catch { ctx.id = undefined; } } };
    const cancel = { method: "DELETE" as const, setupRequest: (r: any, ctx: any) => ({ ...r, path: `/${ctx.id}`, headers: { authorization: `Bearer ${ctx.key}` } }) };
    autocannon({ url: `http://127.0.0.1:${port}`, connections: 20, amount, timeout: 15, requests: values.pairs ? [create, cancel] : [create] }, (err, res) => (err ? reject(err) : (console.log(`${res.requests.total} requests, ${res.non2xx} non-2xx, ${res.errors} errors`), resolve())));
  });
  await load(200); // warm-up
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 100 });
  await call("Profiler.start");
  await load(Number(values.amount));
  const { profile } = await call("Profiler.stop");
  writeFileSync(values.out!, JSON.stringify(profile));
  console.log(`profile: ${values.out}`);
  ws.close();
} finally {
  clearTimeout(deadline);
  stop();
  fake.server.close();
}
