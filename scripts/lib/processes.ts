import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Helpers for scripts that run the worker under `wrangler dev` against local fakes (loopback only). */

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Serves a fetch-style handler on 127.0.0.1; a handler that throws makes the connection drop. */
export async function serve(handler: (request: Request) => Promise<Response>, port = 0): Promise<{ server: Server; url: string }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const request = new Request(`http://127.0.0.1${req.url}`, {
        method: req.method ?? "GET",
        headers,
        ...(body && req.method !== "GET" && req.method !== "HEAD" ? { body } : {}),
      });
      handler(request)
        .then(async (response) => {
          res.writeHead(response.status, Object.fromEntries(response.headers));
          res.end(Buffer.from(await response.arrayBuffer()));
        })
        .catch(() => req.socket.destroy());
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: bound } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${bound}` };
}

export interface DevWorker {
  url: string;
  stop(): Promise<void>;
  /** The process group leader (npx → wrangler → workerd), e.g. to read the group's CPU time. */
  pid: number | undefined;
  /**
   * Crashes the runtime for real: SIGKILL to the whole process group (wrangler and workerd; killing
   * only wrangler leaves workerd on the port), then waits until the port is free. State stays on disk.
   */
  kill(): Promise<void>;
  /** Starts the dev server again on the same port and the same persisted state (after `kill`). */
  restart(): Promise<void>;
  /** The folder `--persist-to` points at (removed by `stop` unless `keepState`). */
  state: string;
  /** What the dev server printed on stdout and stderr since it last started (its logs included). */
  output(): string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function portAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `wrangler dev` for this project with the given vars and state in a fresh folder
 * (on /dev/shm when present: local storage pays a disk fsync per write otherwise). It runs in a
 * session and process group of its own, so `stop` and `kill` reach every process it started.
 */
export async function startWorker(
  vars: Record<string, string>,
  options: { config?: string; logLevel?: string; port?: number; devtools?: boolean; keepState?: boolean } = {},
): Promise<DevWorker> {
  const port = options.port ?? (await freePort());
  const base = process.platform === "linux" ? "/dev/shm" : tmpdir();
  const state = mkdtempSync(join(base, "diyalog-proxy-"));
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = "";

  async function launch(): Promise<void> {
    let args: string[];
    if (options.devtools === false) {
      // The same dev server through wrangler's API, which can leave the devtools inspector off.
      args = ["tsx", "scripts/lib/dev-server.ts", options.config ?? "wrangler.toml", String(port), state, options.logLevel ?? "error", JSON.stringify(vars)];
    } else {
      args = ["wrangler", "dev", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", state, "--log-level", options.logLevel ?? "error"];
      // Each worker gets its own devtools port: the default 9229 would make a second `wrangler dev` fail.
      args.push("--inspector-port", String(await freePort()));
      if (options.config) args.push("--config", options.config);
      for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
    }
    output = "";
    const started = spawn("npx", args, {
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own session and process group (setsid)
    });
    child = started;
    started.stdout?.on("data", (d) => (output += d));
    started.stderr?.on("data", (d) => (output += d));
    const since = Date.now();
    while (Date.now() - since < 60_000) {
      if (started.exitCode !== null) break;
      if (await portAnswers(url)) return;
      await sleep(250);
    }
    await signalGroup("SIGTERM");
    throw new Error(`wrangler dev did not start:\n${output.slice(-2000)}`);
  }

  async function signalGroup(signal: NodeJS.Signals): Promise<void> {
    if (child?.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      /* already gone */
    }
  }

  const stop = async () => {
    if (child && child.exitCode === null) {
      await signalGroup("SIGTERM");
      await sleep(300);
    }
    if (!options.keepState) rmSync(state, { recursive: true, force: true });
  };

  const kill = async () => {
    await signalGroup("SIGKILL");
    const since = Date.now();
    while ((await portAnswers(url)) && Date.now() - since < 10_000) await sleep(100);
  };

  try {
    await launch();
  } catch (err) {
    rmSync(state, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    stop,
    kill,
    restart: launch,
    state,
    output: () => output,
    get pid() {
      return child?.pid;
    },
  };
}
