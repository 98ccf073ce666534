import { unstable_startWorker } from "wrangler";

/**
 * `wrangler dev` without the devtools inspector, for benchmarks (see startWorker's `devtools`
 * option): the dev server `wrangler dev` runs, started through wrangler's own API, which is the
 * only way to turn the inspector off. With it on, every console line of the worker is serialised
 * into a devtools event and relayed to wrangler's Node process, a local cost production does not have.
 *
 * Usage: tsx scripts/lib/dev-server.ts <config> <port> <persist-dir> <log-level> '<vars as JSON>'
 * Runs until SIGTERM.
 */
const [config, port, persist, logLevel, varsJson] = process.argv.slice(2);
const vars = JSON.parse(varsJson ?? "{}") as Record<string, string>;
const worker = await unstable_startWorker({
  config: config!,
  bindings: Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: "plain_text", value }])),
  dev: {
    server: { hostname: "127.0.0.1", port: Number(port) },
    inspector: false,
    persist: persist!,
    logLevel: logLevel as "error",
    watch: false,
  },
});
await worker.ready;
process.on("SIGTERM", () => void worker.dispose().finally(() => process.exit(0)));
