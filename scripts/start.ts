/**
 * `npm start`: `wrangler dev` on http://127.0.0.1:8787 with the embedded simulator and the
 * local-only key `dev-key-local-only-0123456789abcdef` (design §4 says `dev-key`; keys are at least 32 characters since
 * issue 17; passed on the command line, never in wrangler.toml), then,
 * once the worker answers, where to go next: the console and the key. Wrangler keeps the terminal
 * (its own output and keys); extra arguments go to it (`npm start -- --port 8788`).
 */
import { spawn } from "node:child_process";

const DEV_KEY = "dev-key-local-only-0123456789abcdef";
const extra = process.argv.slice(2);
const portArg = extra.findIndex((a) => a === "--port" || a.startsWith("--port="));
const port = portArg < 0 ? "8787" : extra[portArg]!.includes("=") ? extra[portArg]!.split("=")[1]! : extra[portArg + 1]!;
const origin = `http://127.0.0.1:${port}`;

const args = ["wrangler", "dev", "--ip", "127.0.0.1", "--var", `DIYALOG_API_KEYS:${DEV_KEY}`, ...(portArg < 0 ? ["--port", port] : []), ...extra];
const child = spawn("npx", args, {
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

/** Waits until the worker answers /healthz (wrangler has printed "Ready on …" by then), then prints the banner once. */
async function banner(): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < 120_000 && child.exitCode === null) {
    try {
      const res = await fetch(`${origin}/healthz`);
      const body = (await res.json()) as { result?: { upstream?: string } };
      const upstream = body.result?.upstream ?? "?";
      const lines = [
        "",
        `  Diyalog queue proxy on ${origin} (upstream: ${upstream})`,
        `    console   ${origin}/console   sign in with the key ${DEV_KEY}`,
        `    API key   ${DEV_KEY}   (Authorization: Bearer ${DEV_KEY}, or X-API-Key: ${DEV_KEY}; local only)`,
        `    try       curl -s ${origin}/v1/session -H 'Authorization: Bearer ${DEV_KEY}'`,
        `    more      README.md "Quick start", ${origin}/openapi.json`,
        "",
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

void banner();
