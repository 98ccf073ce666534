import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * Finds a Chromium or Chrome for the browser test, and gets one where this machine allows it, so
 * `npm test` passes on a fresh machine that has only Node:
 *   1. `CHROMIUM_PATH`, when set (it must then be an executable file);
 *   2. a system Chromium or Chrome, at the usual paths or on PATH;
 *   3. on Debian or Ubuntu as root with apt-get: the distribution's `chromium` package
 *      (the only source this project installs a browser from; nothing downloads a browser build);
 *   4. otherwise one line saying what to install.
 */

/** Where distributions and vendors put the browser. */
const KNOWN_PATHS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/lib/chromium/chromium",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/opt/google/chrome/chrome",
  "/snap/bin/chromium",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

/** Names to look for on PATH. */
const COMMANDS = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"];

/** Debian's package; `--no-install-recommends` keeps it to what a headless run needs. */
export const APT_INSTALL = "apt-get install -y --no-install-recommends chromium";

/** The one line printed when nothing can be found or installed. */
export const MISSING_BROWSER =
  `no Chromium or Chrome found: install one (Debian/Ubuntu: sudo ${APT_INSTALL}) ` + "or set CHROMIUM_PATH to its executable";

export class BrowserMissing extends Error {
  override name = "BrowserMissing";
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A browser already on this machine, or undefined. `CHROMIUM_PATH` wins, and must be right when set. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = env.CHROMIUM_PATH?.trim();
  if (chosen) {
    if (isExecutableFile(chosen)) return chosen;
    throw new BrowserMissing(`CHROMIUM_PATH=${chosen} is not an executable file: point it at a Chromium or Chrome binary, or unset it`);
  }
  for (const path of KNOWN_PATHS) if (isExecutableFile(path)) return path;
  for (const name of COMMANDS) {
    const path = onPath(name, env);
    if (path) return path;
  }
  return undefined;
}

/** True where Debian's package can be installed without asking anyone: Linux, root, apt-get. */
export function canInstallWithApt(): boolean {
  return (
    process.platform === "linux" &&
    process.getuid?.() === 0 &&
    existsSync("/etc/debian_version") &&
    onPath("apt-get") !== undefined
  );
}

/** The first executable called `command` on PATH. */
function onPath(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    const path = join(dir, command);
    if (dir !== "" && isExecutableFile(path)) return path;
  }
  return undefined;
}

/** Runs a command quietly; its output is shown only when it fails. */
function run(args: string[], log: (line: string) => void): boolean {
  log(`$ ${args.join(" ")}`);
  const result = spawnSync(args[0]!, args.slice(1), {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) log(`${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-20).join("\n"));
  return result.status === 0;
}

/**
 * The browser to drive: found, or installed from Debian's package when this machine allows it.
 * Throws BrowserMissing with one line saying what to install otherwise.
 */
export function ensureChromium(log: (line: string) => void = (line) => console.log(line)): string {
  const found = findChromium();
  if (found) return found;
  if (!canInstallWithApt()) throw new BrowserMissing(MISSING_BROWSER);
  log("browser test: no Chromium or Chrome on this machine; installing Debian's chromium package (once)");
  // Wait for a dpkg lock held by another install rather than fail at once.
  const lock = ["-o", "DPkg::Lock::Timeout=300"];
  const installed =
    run(["apt-get", ...lock, "update", "-qq"], log) && run(["apt-get", ...lock, "install", "-y", "-qq", "--no-install-recommends", "chromium"], log);
  const after = findChromium();
  if (installed && after) {
    log(`browser test: installed ${after}`);
    return after;
  }
  throw new BrowserMissing(`installing Debian's chromium package failed; ${MISSING_BROWSER}`);
}
