/**
 * `deno task runtime`: the worker-runtime as its own process. Browsers never
 * talk to it; the Workspace Backend does, with the token named by --token-env.
 * @module
 */
import { parseArgs } from "node:util";
import { isLoopbackHost, isName, parseListen } from "../shared/mod.ts";
import { parseRuntimeConfig, type RuntimeConfig } from "./config.ts";
import { FsStore } from "./fs_store.ts";
import { installLastResortHandler } from "./last_resort.ts";
import { MemoryStore } from "./memory_store.ts";
import { fdLimit } from "./resilient_serve.ts";
import { Runtime } from "./runtime.ts";
import { MAX_OUTPUT_BYTES_DEFAULT, MAX_WORKERS_DEFAULT } from "./runtime_options.ts";
import { serveRuntime } from "./server.ts";
import { CapabilityVerifier, loadTrustKey, readTrustKeysFile } from "./capability.ts";
import { lockStore, type StoreLock } from "./store_lock.ts";
import {
  readTrustFile,
  TRUST_FILE,
  trustAdd,
  TrustError,
  trustList,
  trustRevoke,
} from "./trust_store.ts";

const HELP = `yoi worker-runtime

Usage: deno task runtime -- [options]

  --id ID               runtime id, ^[a-z0-9][a-z0-9_-]{0,62}$ (default: local)
  --display-name NAME   human name shown by the Backend (default: from config, else the id)
  --listen HOST:PORT    address to listen on (default: 127.0.0.1:8790)
  --store fs|memory     event store (default: fs)
  --data-dir DIR        fs store directory (default: .yoi/runtime-data/<id>); workers of
                        engine openai get their workspace folders in DIR/workspaces/
  --token-env NAME      read the bearer token from environment variable NAME;
                        required when listening on a non-loopback address (or --trust-key)
  --trust-key KEY       accept capability tokens signed by this Backend public key
                        ("ed25519:…", as \`deno task dev -- key show\` and the
                        Backend settings page print it); repeatable, for rotation
  --trust-keys-file F   more trusted keys, one per line (# comments)
                        (keys added with \`trust add\` are read from the data folder too)
  --config FILE         runtime config (TOML): display_name, default_profile, [profiles.*]
  --ping-interval SEC   WebSocket ping interval (default: 30)
  --ws-queue-max N      live events a WebSocket subscriber may lag behind before its
                        stream is closed as stream_lagging (default: 10000)
  --max-workers N       workers this runtime holds at most; more answer 429
                        runtime_at_capacity (default: ${MAX_WORKERS_DEFAULT})
  --max-output-bytes N  output one turn may produce before it fails with output_limit,
                        unless its profile sets max_output_bytes (default: ${MAX_OUTPUT_BYTES_DEFAULT})
  -h, --help            show this help

Trust (capability tokens), kept in <data-dir>/trusted-keys.json (0600):
  trust add KEY [--name NAME] [--replace]   trust a Backend key (NAME default: backend);
                        a different key for a NAME in use needs --replace (the old one is revoked)
  trust list            trusted keys and the revocation history
  trust revoke NAME|KID revoked keys are never trusted again
  (each takes --id ID or --data-dir DIR to find the folder)

Profiles ([profiles.NAME] in --config):
  engine = "echo"       answers with the input (chunk_chars, delay_ms)
  engine = "command"    runs argv per turn with the input on stdin (argv, timeout_ms, cwd, env)
                        both also take max_output_bytes (overrides --max-output-bytes)
  engine = "openai"     an AI coding agent over any OpenAI-compatible Chat Completions server:
    base_url                "http://127.0.0.1:11434/v1" (Ollama), ".../v1" of llama.cpp, vLLM…
    model                   model name the server knows
    api_key_ref             optional, "env:NAME" with NAME starting with YOI_; the key is read
                            from that variable and never shown (unset -> the runtime refuses to start)
    system_prompt           optional system message
    tools                   subset of ["read_file","write_file","list_dir","run_command"]
                            (default: the three file tools); they act only in the worker's folder
    run_command_allow       programs run_command may start, e.g. ["git","deno","ls"] (no shell)
    max_steps               model requests per turn before turn.failed max_steps (default 20)
    temperature             0..2, sent only when set
    request_timeout_ms      until the provider answers, per attempt (default 120000)
    stream_idle_timeout_ms  longest silence inside a streamed answer (default 120000)
    command_timeout_ms      limit of one run_command (default 120000)
    max_retries             retries of 429/5xx/unreachable before output streamed (default 3)
    max_output_bytes        model text per turn before turn.failed output_limit (default 8 MiB)
    tool_output_max_bytes   bytes of one tool result (default 65536)

One process per data folder: the fs store takes an exclusive lock on --data-dir;
a second runtime on the same folder exits with code 2 and touches nothing.

File descriptors: every connection, WebSocket and open worker log takes one. The
limit is printed at start; raise it with \`ulimit -n 65536\` in the shell that
starts the runtime, or LimitNOFILE=65536 in a systemd unit. Running out is
survived (the listener is re-established once descriptors free up), but new
connections are refused meanwhile.

Browsers never call a Runtime: register it in the Workspace Backend instead.`;

function fail(msg: string): never {
  console.error(`yoi runtime: ${msg}`);
  Deno.exit(2);
}

function authLabel(token: string | undefined, trust: CapabilityVerifier | undefined): string {
  const parts = [];
  if (token) parts.push("bearer token");
  if (trust) parts.push(`capability tokens from ${trust.size} trusted key(s)`);
  return parts.length ? parts.join(" or ") : "none";
}

const TRUST_USAGE = "usage: deno task runtime -- trust add KEY [--name NAME] [--replace] | " +
  "trust list | trust revoke NAME|KID   [--id ID | --data-dir DIR]";

const TRUST_HELP = `yoi worker-runtime: trusted Backend keys (capability tokens)

${TRUST_USAGE}

  trust add KEY [--name NAME] [--replace]   trust a Backend public key (\`deno task dev -- key show\`
                                            prints it); --replace overwrites a key of that name
  trust list                                trusted keys and the revocation history
  trust revoke NAME|KID                     revoked keys are never trusted again
  --id ID          runtime whose data folder holds the file (default: local)
  --data-dir DIR   the data folder itself (default: .yoi/runtime-data/<id>)
  -h, --help       show this help`;

/** `trust add KEY [--name N] [--replace] | list | revoke NAME|KID`, on the data folder's file. */
async function trustCommand(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(TRUST_HELP);
    return;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        id: { type: "string", default: "local" },
        "data-dir": { type: "string" },
        name: { type: "string" },
        replace: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    fail(`${(e as Error).message.replace(/\. To specify a positional.*$/s, ".")}\n${TRUST_USAGE}`);
  }
  const { values: v, positionals: [op, arg, ...rest] } = parsed;
  const path = `${v["data-dir"] ?? `.yoi/runtime-data/${v.id}`}/${TRUST_FILE}`;
  try {
    if (op === "add" && arg && !rest.length) {
      console.log(await trustAdd(path, arg, { name: v.name, replace: v.replace }));
    } else if (op === "list" && !arg) {
      console.log(await trustList(path));
    } else if (op === "revoke" && arg && !rest.length) {
      console.log(await trustRevoke(path, arg));
    } else {
      fail(TRUST_USAGE);
    }
  } catch (e) {
    fail(e instanceof TrustError ? e.message : `trust: ${(e as Error).message}`);
  }
}

async function main() {
  // `deno task runtime -- …` passes "--" through, possibly anywhere: drop it.
  const argv = Deno.args.filter((a) => a !== "--");
  if (argv[0] === "trust") return await trustCommand(argv.slice(1));
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        id: { type: "string", default: "local" },
        "display-name": { type: "string" },
        listen: { type: "string", default: "127.0.0.1:8790" },
        store: { type: "string", default: "fs" },
        "data-dir": { type: "string" },
        "token-env": { type: "string" },
        "trust-key": { type: "string", multiple: true },
        "trust-keys-file": { type: "string" },
        config: { type: "string" },
        "ping-interval": { type: "string", default: "30" },
        "ws-queue-max": { type: "string" },
        "max-workers": { type: "string" },
        "max-output-bytes": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    fail(`${(e as Error).message}\n\n${HELP}`);
  }
  if (args.help) {
    console.log(HELP);
    return;
  }
  const id = args.id!;
  if (!isName(id)) fail(`--id "${id}" must match ^[a-z0-9][a-z0-9_-]{0,62}$`);
  let listen;
  try {
    listen = parseListen(args.listen!);
  } catch (e) {
    fail((e as Error).message);
  }
  let token: string | undefined;
  if (args["token-env"]) {
    token = Deno.env.get(args["token-env"]);
    if (!token) {
      fail(`--token-env ${args["token-env"]}: that environment variable is empty or unset`);
    }
  }
  // The data folder holds the managed trust file too (`trust add|list|revoke`).
  const dataDir = args["data-dir"] ?? `.yoi/runtime-data/${id}`;
  const trustTexts = [...(args["trust-key"] ?? [])];
  let managed;
  try {
    managed = await readTrustFile(`${dataDir}/${TRUST_FILE}`);
  } catch (e) {
    fail(`${TRUST_FILE}: ${(e as Error).message}`);
  }
  trustTexts.push(...managed.keys.map((k) => k.key));
  if (args["trust-keys-file"]) {
    try {
      trustTexts.push(...await readTrustKeysFile(args["trust-keys-file"]));
    } catch {
      fail("--trust-keys-file could not be read");
    }
  }
  let trust: CapabilityVerifier | undefined;
  // Once trust is managed, it stays required: revoking the last key must not open the runtime.
  if (trustTexts.length || managed.revoked.length) {
    const keys = [];
    for (const t of trustTexts) {
      try {
        keys.push(await loadTrustKey(t));
      } catch (e) {
        fail(`--trust-key: ${(e as Error).message}`);
      }
    }
    const revoked = keys.find((k) => managed.revoked.some((r) => r.kid === k.kid));
    if (revoked) fail(`--trust-key: key ${revoked.kid} was revoked (see trust list)`);
    trust = new CapabilityVerifier(id, keys);
  }
  if (!isLoopbackHost(listen.hostname) && !token && !trust) {
    fail(
      `refusing to listen on non-loopback address ${listen.hostname} without a token; ` +
        `pass --token-env NAME with the token in $NAME, or --trust-key`,
    );
  }
  let config: RuntimeConfig = { profiles: {} };
  if (args.config) {
    try {
      config = parseRuntimeConfig(await Deno.readTextFile(args.config));
    } catch (e) {
      fail(e instanceof Deno.errors.NotFound ? "--config file not found" : (e as Error).message);
    }
  }
  if (args.store !== "fs" && args.store !== "memory") {
    fail(`--store must be fs or memory, got "${args.store}"`);
  }
  const ping = Number(args["ping-interval"]);
  if (!Number.isFinite(ping) || ping < 0) fail("--ping-interval must be a number of seconds");
  let queueMax: number | undefined;
  if (args["ws-queue-max"] !== undefined) {
    queueMax = Number(args["ws-queue-max"]);
    if (!Number.isSafeInteger(queueMax) || queueMax < 1) {
      fail("--ws-queue-max must be a positive integer");
    }
  }

  const maxWorkers = positiveInt(args["max-workers"], "--max-workers");
  const maxOutputBytes = positiveInt(args["max-output-bytes"], "--max-output-bytes");

  // One writer per store: lock the folder before reading anything in it.
  let lock: StoreLock | undefined;
  let store: FsStore | MemoryStore;
  if (args.store === "fs") {
    try {
      lock = await lockStore(dataDir);
    } catch (e) {
      fail((e as Error).message);
    }
    store = new FsStore(dataDir);
  } else {
    store = new MemoryStore();
  }
  installLastResortHandler("yoi runtime");

  let runtime: Runtime;
  try {
    runtime = await Runtime.open({
      runtimeId: id,
      displayName: args["display-name"] ?? config.display_name,
      store,
      profiles: config.profiles,
      defaultProfile: config.default_profile,
      subscriberQueueMax: queueMax,
      maxWorkers,
      maxOutputBytes,
      workspaceRoot: `${dataDir}/workspaces`,
    });
  } catch (e) {
    lock?.release();
    fail(`cannot open the store: ${(e as Error).message}`);
  }
  for (const d of runtime.diagnostics) {
    console.error(`yoi runtime: ${d.severity}: ${d.code}: ${d.message}`);
  }

  const fds = await fdLimit();
  const abort = new AbortController();
  const server = serveRuntime({
    runtime,
    token,
    trust,
    pingIntervalSec: ping,
    hostname: listen.hostname,
    port: listen.port,
    signal: abort.signal,
    onListen: (addr) => {
      const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
      console.log(
        `yoi runtime "${id}" listening on http://${host}:${addr.port} ` +
          `(store: ${store.kind}, auth: ${authLabel(token, trust)}, ` +
          `open-file limit: ${fds ?? "unknown"})`,
      );
    },
    onError: (what, err) => {
      console.error(`yoi runtime: ${what}${err ? ` (${errorKind(err)})` : ""}`);
    },
  });
  const state = runtime.runtimeDiagnostics().find((d) => d.code === "store_unavailable");
  if (state) console.error(`yoi runtime: warning: ${state.message}`);

  let shuttingDown = false;
  const shutdown = async () => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log(`yoi runtime "${id}" stopping`);
    // Bounded: whatever happens, the process is gone within 5 s (DESIGN §11).
    const hardStop = setTimeout(() => {
      console.error(`yoi runtime "${id}": graceful stop took too long; exiting`);
      Deno.exit(1);
    }, 4_500);
    let code = 0;
    try {
      // Turns are cancelled and streams ended first so open WebSockets let the server finish.
      await runtime.shutdown();
    } catch (e) {
      console.error(`yoi runtime: store flush failed on stop (${errorKind(e)})`);
      code = 1;
    }
    lock?.release();
    abort.abort();
    await server.finished;
    clearTimeout(hardStop);
    Deno.exit(code);
  };
  Deno.addSignalListener("SIGTERM", shutdown);
  Deno.addSignalListener("SIGINT", shutdown);
}

function positiveInt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) fail(`${name} must be a positive integer`);
  return n;
}

function errorKind(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return e instanceof Error ? e.message : "error";
}

if (import.meta.main) await main();
