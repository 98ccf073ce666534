/**
 * The worker's bundle size against its budget: builds exactly what `wrangler deploy` would upload
 * (`--dry-run --minify`), gzips it the way wrangler reports it, prints the size with the largest
 * contributors, and exits non-zero when the gzip size is over budget. Offline; writes only to a
 * temporary folder that it removes.
 *
 * Usage: npm run size [-- --budget-kib 40]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

const { values } = parseArgs({ options: { "budget-kib": { type: "string", default: "40" } } });
const BUDGET_BYTES = Number(values["budget-kib"]) * 1024;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** Groups an esbuild input path: a package by its name, our own code by its folder. */
function group(input: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (pkg) return pkg[1]!;
  const own = /^src\/((?:[^/]+\/)*)/.exec(input);
  return own ? `src/${own[1]}` : input;
}

function main(): number {
  const out = mkdtempSync(join(tmpdir(), "diyalog-size-"));
  try {
    const build = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--minify", "--outdir", out, "--metafile", join(out, "meta.json")], {
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
      encoding: "utf8",
    });
    if (build.status !== 0) {
      console.error(`wrangler deploy --dry-run failed:\n${build.stdout}\n${build.stderr}`);
      return 1;
    }
    // What wrangler uploads: every module it wrote (the source map and its README are not uploaded).
    const modules = readdirSync(out).filter((f) => /\.(m?js|cjs|wasm)$/.test(f));
    const content = Buffer.concat(modules.map((f) => readFileSync(join(out, f))));
    const gzip = gzipSync(content).byteLength;

    const meta = JSON.parse(readFileSync(join(out, "meta.json"), "utf8")) as {
      outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
    };
    const groups = new Map<string, number>();
    for (const output of Object.values(meta.outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        groups.set(group(input), (groups.get(group(input)) ?? 0) + bytesInOutput);
      }
    }
    const top = [...groups].sort((a, b) => b[1] - a[1]).slice(0, 10);

    const over = gzip > BUDGET_BYTES;
    console.log(`worker bundle (wrangler deploy --dry-run --minify): ${kib(content.byteLength)}, gzip ${kib(gzip)}`);
    console.log(`budget: ${kib(BUDGET_BYTES)} gzip, ${((gzip / BUDGET_BYTES) * 100).toFixed(0)} % used, ${over ? "OVER BUDGET" : "ok"}`);
    console.log("largest parts (minified, before gzip):");
    for (const [name, bytes] of top) console.log(`  ${kib(bytes).padStart(9)}  ${name}`);
    if (over) {
      console.error(
        `the bundle is ${kib(gzip - BUDGET_BYTES)} over budget: look for full "zod" instead of "zod/mini", build-time code imported by src/, or a new dependency`,
      );
      return 1;
    }
    return 0;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

process.exitCode = main();
