/**
 * `npm run check-config -- --env production`: checks an environment's configuration before a deploy
 * with the worker's own parser (src/config.ts): the environment's vars from wrangler.toml, plus
 *   - the names of its secrets, piped from `npx wrangler secret list --env production` (or
 *     `--secrets <file>` holding that output); their values cannot be read, only their presence and
 *     everything else is checked; or
 *   - `--dev-vars [file]` (default `.dev.vars`): local secrets with their values, checked in full.
 * Prints what is missing or invalid and exits 1 on any problem. Offline; reads no secret value from
 * Cloudflare.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";
import { checkConfig, parseDevVars, parseSecretList, type Secrets } from "./lib/check-config";

const { values } = parseArgs({
  options: {
    env: { type: "string", short: "e" },
    config: { type: "string", short: "c", default: "wrangler.toml" },
    secrets: { type: "string" },
    "dev-vars": { type: "string" },
  },
  allowNegative: false,
  strict: true,
});
const args = process.argv.slice(2);
const devVarsFile = args.includes("--dev-vars") ? values["dev-vars"] || ".dev.vars" : undefined;

const config = unstable_readConfig({ config: values.config, env: values.env });
const vars = (config.vars ?? {}) as Record<string, unknown>;
let secrets: Secrets = { names: [] };
let source = "no secrets given (pipe `wrangler secret list --env <env>` or use --dev-vars)";
if (devVarsFile) {
  secrets = { values: parseDevVars(readFileSync(devVarsFile, "utf8")) };
  source = `${devVarsFile} (values checked)`;
} else if (values.secrets) {
  secrets = { names: parseSecretList(readFileSync(values.secrets, "utf8")) };
  source = `${values.secrets} (names only)`;
} else if (!process.stdin.isTTY) {
  secrets = { names: parseSecretList(readFileSync(0, "utf8")) };
  source = "stdin (names only)";
}

const result = checkConfig(vars, secrets);
const where = values.env ? `env.${values.env}` : "top level";
console.log(`wrangler.toml ${where}: vars ${Object.keys(vars).sort().join(", ") || "(none)"}`);
console.log(`secrets: ${source}${secrets.names?.length ? `: ${secrets.names.join(", ")}` : ""}`);
if (result.ok) {
  console.log("configuration ok");
} else {
  console.log(`${result.problems.length} problem(s):`);
  for (const p of result.problems) console.log(`  - ${p}`);
}
process.exit(result.ok ? 0 : 1);
