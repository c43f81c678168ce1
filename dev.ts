/**
 * `deno task dev`: the dev launcher. `--help` (in any position, with or without
 * `--`) prints the usage and exits 0 here, because under `--watch` a process that
 * exits is restarted on the next file change instead of ending. Everything else
 * runs `main.ts` under `--watch` as a child; SIGTERM and SIGINT are
 * passed on and the launcher ends with the child, so nothing is left behind.
 * @module
 */
import { HELP, parseBackendArgs } from "./main.ts";

const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
];

async function launch(): Promise<number> {
  const args = Deno.args.filter((a) => a !== "--");
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  // A one-shot command (`key show`) runs once, without the watcher, and ends.
  const oneShot = args[0] === "key";
  try {
    if (!oneShot) parseBackendArgs(args);
  } catch (e) {
    console.error(`yoi backend: ${(e as Error).message}`);
    console.error("Usage: deno task dev -- [options]   (deno task dev -- --help lists them)");
    return 2;
  }
  const main = new URL("./main.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: oneShot
      ? ["run", ...PERMISSIONS, main, ...args]
      : ["run", ...PERMISSIONS, "--watch", main, "--dev", ...args],
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const forward = (sig: Deno.Signal) => () => {
    try {
      child.kill(sig);
    } catch { /* already gone */ }
  };
  const onTerm = forward("SIGTERM");
  const onInt = forward("SIGINT");
  Deno.addSignalListener("SIGTERM", onTerm);
  Deno.addSignalListener("SIGINT", onInt);
  const status = await child.status;
  Deno.removeSignalListener("SIGTERM", onTerm);
  Deno.removeSignalListener("SIGINT", onInt);
  // The watched Backend ends itself with SIGKILL after a clean stop (the watcher would
  // otherwise wait for a file change): that is a normal end here.
  if (status.signal === "SIGKILL" || status.signal === "SIGTERM") return 0;
  return status.code;
}

if (import.meta.main) Deno.exit(await launch());
