/**
 * The workspace's command line (`deno task dev` runs it under `--watch` through `dev.ts`): the
 * Workspace Backend with the Workspace Browser on 127.0.0.1:8787, the embedded Runtime and the
 * remote runtimes of `.yoi/workspace-backend.local.toml`.
 * @module
 */
import { parseArgs } from "node:util";
import { EMBEDDED_RUNTIME_ID, parseListen } from "./shared/mod.ts";
import { installLastResortHandler } from "./runtime/last_resort.ts";
import { fdLimit, serveResilient } from "./runtime/resilient_serve.ts";
import { lockStore, type StoreLock } from "./runtime/store_lock.ts";
import {
  assertListenAllowed,
  loadBackendConfig,
  loadOrCreateBackendKey,
  log,
} from "./backend/mod.ts";
import { createWorkspace } from "./workspace.ts";

/** The usage text, also printed by the dev launcher (`dev.ts`). */
export const HELP = `yoi Workspace Backend

Usage: deno task dev -- [options]

  --state-dir DIR          workspace state folder (default: .yoi)
  --config FILE            backend config (default: <state-dir>/workspace-backend.local.toml)
  --listen HOST:PORT       overrides [server] listen (default: 127.0.0.1:8787)
  --admin-token-env NAME   admin token from $NAME, required on every API request;
                           mandatory when listening beyond loopback
  --embedded-config FILE   runtime config (TOML profiles) for the embedded runtime
  --embedded-store fs|memory  (default: fs, under <state-dir>/runtime-data/embedded)
  --fanout-deadline-ms N   deadline of the all-workers fan-out (default: 2000)
  --remote-timeout-ms N    per-request timeout towards remote runtimes (default: 5000)
  --dev                    rebuild island bundles when web sources change
  --health-interval-ms N   health checks of remote runtimes every N ms, ±20 % jitter
                           (default: [server] health_interval_ms, else 15000; 0 = off)
  --reconnect-backoff-ms LIST  pauses between event-stream reconnects to a remote
                           runtime, comma-separated ms, last repeats
                           (default: 100,200,400,800,1600,3200)
  -h, --help               show this help

Commands:
  key show [--state-dir DIR]   print the Backend's public key (created when missing), the
                           value a runtime's --trust-key takes

One Backend per state folder: the embedded runtime's fs store is locked; a second
Backend on the same --state-dir exits with code 2 and touches nothing.

File descriptors: each browser connection, stream and remote-runtime socket takes
one. The limit is printed at start; raise it with \`ulimit -n 65536\` (or
LimitNOFILE= in a systemd unit). Running out is survived: the listener is
re-established once descriptors free up.`;

function fail(msg: string): never {
  console.error(`yoi backend: ${msg}`);
  Deno.exit(2);
}

/**
 * Under `deno run --watch` (what `deno task dev` runs), `Deno.exit` only ends
 * this run and the watcher keeps the process (and `deno task`) alive, waiting
 * for a file change: a SIGTERM or Ctrl-C would leave processes behind. Once
 * everything is flushed, the watcher process is ended for good instead.
 */
function exitProcess(code: number): never {
  if (underWatch()) Deno.kill(Deno.pid, "SIGKILL");
  Deno.exit(code);
}

/** True when this process is `deno run --watch` (its own command line, read with `ps`). */
function underWatch(): boolean {
  try {
    const out = new Deno.Command("ps", {
      args: ["-o", "args=", "-p", String(Deno.pid)],
      stderr: "null",
    }).outputSync();
    const argv = new TextDecoder().decode(out.stdout).trim().split(/\s+/);
    const script = argv.findIndex((a) => a.endsWith("main.ts"));
    return argv.slice(0, script < 0 ? argv.length : script).includes("--watch");
  } catch {
    return false; // no `ps`: plain `deno run` semantics
  }
}

function backoffList(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(",").map((x) => x.trim());
  const out = parts.map(Number);
  if (parts.some((x) => x === "") || out.some((n) => !Number.isInteger(n) || n <= 0)) {
    fail("--reconnect-backoff-ms must be comma-separated positive integers, e.g. 100,200,400");
  }
  return out;
}

function positiveInt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) fail(`${name} must be a positive integer`);
  return n;
}

function nonNegativeInt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < 0) fail(`${name} must be an integer ≥ 0`);
  return n;
}

/** `key show`: prints the public key, creating the key pair on first use. */
async function keyCommand(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { "state-dir": { type: "string", default: ".yoi" } },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    fail((e as Error).message);
  }
  if (parsed.positionals.join(" ") !== "show") fail("usage: key show [--state-dir DIR]");
  try {
    console.log((await loadOrCreateBackendKey(parsed.values["state-dir"]!)).publicKey);
  } catch (e) {
    fail((e as Error).message);
  }
}

/**
 * Parses the Backend's flags; throws on an unknown flag or a missing value. The dev launcher
 * uses it too, so a bad flag ends `deno task dev` with exit 2 instead of a waiting watcher.
 */
export function parseBackendArgs(argv: string[]) {
  return parseArgs({
    // `deno task dev -- --flag` passes "--" after the task's own `--dev`: drop it anywhere.
    args: argv.filter((a) => a !== "--"),
    options: {
      "state-dir": { type: "string", default: ".yoi" },
      config: { type: "string" },
      listen: { type: "string" },
      "admin-token-env": { type: "string" },
      "embedded-config": { type: "string" },
      "embedded-store": { type: "string", default: "fs" },
      "fanout-deadline-ms": { type: "string" },
      "remote-timeout-ms": { type: "string" },
      dev: { type: "boolean", default: false },
      "reconnect-backoff-ms": { type: "string" },
      "health-interval-ms": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

async function main() {
  // `deno task … -- --flag` may pass "--" anywhere (after a task's own flags): drop it.
  const argv = Deno.args.filter((a) => a !== "--");
  // Under a watcher with `--dev`, `key show` may arrive as `--dev key show`.
  const command = argv.filter((a) => a !== "--dev");
  if (command[0] === "key") return await keyCommand(command.slice(1));
  let args;
  try {
    args = parseBackendArgs(argv);
  } catch (e) {
    fail(`${(e as Error).message}\n\n${HELP}`);
  }
  if (args.help) {
    console.log(HELP);
    return;
  }
  const stateDir = args["state-dir"]!;
  const configPath = args.config ?? `${stateDir}/workspace-backend.local.toml`;
  const config = await loadBackendConfig(configPath);
  for (const d of config.diagnostics) log.warn("config.diagnostic", { ...d });

  let listen;
  try {
    listen = parseListen(args.listen ?? config.listen);
  } catch (e) {
    fail((e as Error).message);
  }
  let adminToken: string | undefined;
  if (args["admin-token-env"]) {
    adminToken = Deno.env.get(args["admin-token-env"]);
    if (!adminToken) {
      fail(`--admin-token-env ${args["admin-token-env"]}: variable is empty or unset`);
    }
    log.addSecret(adminToken);
  }
  try {
    assertListenAllowed(listen.hostname, adminToken);
  } catch (e) {
    fail((e as Error).message);
  }
  let embeddedConfig: string | undefined;
  if (args["embedded-config"]) {
    try {
      embeddedConfig = await Deno.readTextFile(args["embedded-config"]);
    } catch {
      fail("--embedded-config file could not be read");
    }
  }
  const reconnectBackoffMs = backoffList(args["reconnect-backoff-ms"]);
  const store = args["embedded-store"];
  if (store !== "fs" && store !== "memory") fail("--embedded-store must be fs or memory");
  // One writer per store (DESIGN §11): the embedded runtime's folder, before anything reads it.
  let lock: StoreLock | undefined;
  if (store === "fs") {
    try {
      lock = await lockStore(`${stateDir}/runtime-data/${EMBEDDED_RUNTIME_ID}`);
    } catch (e) {
      fail(`embedded runtime store: ${(e as Error).message}`);
    }
  }
  installLastResortHandler("yoi backend");

  // The Host allowlist needs the bound port, so the app is built once the socket listens.
  let handler:
    | ((req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>)
    | null = null;
  const abort = new AbortController();
  // Re-establishes the listener after EMFILE instead of ending the accept loop for good.
  const server = serveResilient({
    hostname: listen.hostname,
    port: listen.port,
    signal: abort.signal,
    onError: (what, err) => {
      const code = (err as { code?: unknown } | null)?.code;
      log.warn("server.listener", { what, ...(typeof code === "string" ? { code } : {}) });
    },
  }, (req, info) => handler ? handler(req, info) : new Response("starting", { status: 503 }));
  const port = server.addr.port;
  const backend = await createWorkspace({
    stateDir,
    configPath,
    config,
    port,
    listenHost: listen.hostname,
    adminToken,
    embeddedConfig,
    embeddedStore: store,
    dev: args.dev,
    fanoutDeadlineMs: positiveInt(args["fanout-deadline-ms"], "--fanout-deadline-ms"),
    remoteTimeoutMs: positiveInt(args["remote-timeout-ms"], "--remote-timeout-ms"),
    reconnectBackoffMs,
    healthIntervalMs: nonNegativeInt(args["health-interval-ms"], "--health-interval-ms"),
  });
  handler = (req, info) => backend.app.fetch(req, info);
  const host = listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname;
  const fds = await fdLimit();
  console.log(
    `yoi workspace backend listening on http://${host}:${port} ` +
      `(runtimes: ${backend.registry.ids().join(", ")}, open-file limit: ${fds ?? "unknown"})`,
  );

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log("yoi workspace backend stopping");
    // Bounded: the process is gone within 5 s whatever hangs (DESIGN §11).
    const hardStop = setTimeout(() => {
      console.error("yoi backend: graceful stop took too long; exiting");
      Deno.exit(1);
    }, 4_500);
    let code = 0;
    try {
      await backend.close();
    } catch (e) {
      console.error(`yoi backend: close failed (${e instanceof Error ? e.name : "error"})`);
      code = 1;
    }
    lock?.release();
    abort.abort();
    await server.finished;
    clearTimeout(hardStop);
    exitProcess(code);
  };
  Deno.addSignalListener("SIGTERM", shutdown);
  Deno.addSignalListener("SIGINT", shutdown);
}

if (import.meta.main) await main();
