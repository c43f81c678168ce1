/**
 * Every process, socket and temp folder a benchmark run starts, so the
 * orchestrator can stop all of them in one `finally` (and on Ctrl-C).
 * Processes are the real `runtime/main.ts` and `main.ts` on 127.0.0.1,
 * started through the test support classes.
 * @module
 */
import { RuntimeProcess, type RuntimeProcessOptions } from "../tests/support/runtime_process.ts";
import { BackendProcess, type BackendProcessOptions } from "../tests/support/backend_process.ts";
import { loadOrCreateBackendKey } from "../backend/mod.ts";

/** How long a process gets to exit on SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

/** Where the Backend keeps its key under a state folder (DESIGN §8). */
const BACKEND_KEY_FILE = "backend-key";

/** Anything else the bench started (a forwarder, nginx, the load client): stopped on cleanup. */
export interface Stoppable {
  pids(): number[];
  stop(): Promise<void>;
}

/** A socket that accepts connections and never answers: a hung runtime. */
export interface HungRuntime {
  endpoint: string;
  /** Connections accepted so far. */
  accepted(): number;
  close(): void;
}

/**
 * Processes, sockets and folders of one run. Every runtime and Backend runs in
 * the default security configuration (DESIGN §8): one Backend key for the run,
 * copied into each Backend's state folder; every runtime trusts it
 * (`--trust-key`) and so requires auth on every route. The Backends hold no
 * runtime token: they sign capability tokens. The bench's own direct calls use
 * a bearer token the runtimes also accept ({@link Procs.auth}).
 */
export class Procs {
  readonly #runtimes = new Set<RuntimeProcess>();
  readonly #backends = new Set<BackendProcess>();
  readonly #hung = new Set<HungRuntime>();
  readonly #others = new Set<Stoppable>();
  readonly #dirs = new Set<string>();
  readonly #removing: Promise<void>[] = [];
  #keyDir = "";
  #publicKey = "";
  /** Bearer token of the bench's direct calls to runtimes. */
  readonly token = crypto.randomUUID();

  /** Headers of a direct call to a runtime. */
  get auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  /** The Backend public key every runtime trusts. */
  get publicKey(): string {
    return this.#publicKey;
  }

  /** Creates the run's Backend key (once). */
  async init(): Promise<void> {
    if (this.#keyDir) return;
    this.#keyDir = await this.tempDir("yoi-bench-key-");
    this.#publicKey = (await loadOrCreateBackendKey(this.#keyDir)).publicKey;
  }

  /** A new Backend state folder holding the run's key (removed on cleanup). */
  async backendStateDir(): Promise<string> {
    await this.init();
    const d = await this.tempDir("yoi-bench-backend-");
    await Deno.copyFile(`${this.#keyDir}/${BACKEND_KEY_FILE}`, `${d}/${BACKEND_KEY_FILE}`);
    await Deno.chmod(`${d}/${BACKEND_KEY_FILE}`, 0o600);
    return d;
  }

  /** Runtime flags and options of the default configuration (trust key + bench token). */
  async runtimeAuth(): Promise<Pick<RuntimeProcessOptions, "token" | "extraArgs">> {
    await this.init();
    return { token: this.token, extraArgs: ["--trust-key", this.#publicKey] };
  }

  /** Starts a runtime process (memory store unless told otherwise), trusting the run's key. */
  async runtime(opts: RuntimeProcessOptions): Promise<RuntimeProcess> {
    const auth = await this.runtimeAuth();
    const p = await RuntimeProcess.start({
      store: "memory",
      ...opts,
      token: this.token,
      extraArgs: [...auth.extraArgs!, ...(opts.extraArgs ?? [])],
    });
    this.#runtimes.add(p);
    return p;
  }

  /** Registers something else to stop on cleanup. */
  adopt(s: Stoppable): void {
    this.#others.add(s);
  }

  /** Stops one adopted thing now. */
  async stopOther(s: Stoppable): Promise<void> {
    this.#others.delete(s);
    await s.stop();
  }

  /** Starts `count` runtimes with ids `<prefix>-<i>`, `batch` at a time (2 cores: not all at once). */
  async runtimes(
    count: number,
    prefix: string,
    batch = 8,
    opts: RuntimeProcessOptions = {},
  ): Promise<RuntimeProcess[]> {
    const out: RuntimeProcess[] = [];
    for (let i = 0; i < count; i += batch) {
      const ids = Array.from({ length: Math.min(batch, count - i) }, (_, k) => i + k);
      const started = await Promise.allSettled(
        ids.map((k) => this.runtime({ ...opts, id: `${prefix}-${k}` })),
      );
      for (const s of started) {
        if (s.status === "rejected") throw s.reason;
        out.push(s.value);
      }
    }
    return out;
  }

  /** Starts a Backend process (embedded store: memory) in its own temp state folder with the run's key. */
  async backend(opts: BackendProcessOptions): Promise<BackendProcess> {
    const stateDir = opts.stateDir ?? await this.backendStateDir();
    const p = await BackendProcess.start({ embeddedStore: "memory", ...opts, stateDir });
    this.#backends.add(p);
    return p;
  }

  /** Registers a Backend started elsewhere (e.g. by the startup timer) for cleanup. */
  adoptBackend(p: BackendProcess): void {
    this.#backends.add(p);
  }

  /** A listener that accepts and never answers, on a free 127.0.0.1 port. */
  hungRuntime(): HungRuntime {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const conns: Deno.Conn[] = [];
    let closed = false;
    (async () => {
      try {
        for await (const c of listener) {
          if (closed) c.close();
          else conns.push(c);
        }
      } catch { /* listener closed */ }
    })();
    const h: HungRuntime = {
      endpoint: `http://127.0.0.1:${listener.addr.port}`,
      accepted: () => conns.length,
      close: () => {
        if (closed) return;
        closed = true;
        try {
          listener.close();
        } catch { /* already closed */ }
        for (const c of conns.splice(0)) {
          try {
            c.close();
          } catch { /* already closed */ }
        }
        this.#hung.delete(h);
      },
    };
    this.#hung.add(h);
    return h;
  }

  /**
   * Starts removing a temp folder in the background (big store folders take
   * seconds to delete on a slow disk); {@link cleanup} waits for it.
   */
  dropDir(d: string): void {
    if (!this.#dirs.delete(d)) return;
    this.#removing.push(Deno.remove(d, { recursive: true }).catch(() => {}));
  }

  async tempDir(prefix: string): Promise<string> {
    const d = await Deno.makeTempDir({ prefix });
    this.#dirs.add(d);
    return d;
  }

  /** Stops one process: SIGTERM, then SIGKILL after a grace period. */
  async stop(p: RuntimeProcess | BackendProcess): Promise<void> {
    let t: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<"late">((r) => t = setTimeout(() => r("late"), STOP_GRACE_MS));
    const exited = await Promise.race([p.kill("SIGTERM").then(() => "ok" as const), grace]);
    clearTimeout(t);
    if (exited === "late") await p.kill("SIGKILL");
    if (p instanceof RuntimeProcess) this.#runtimes.delete(p);
    else this.#backends.delete(p);
  }

  async stopAll(ps: (RuntimeProcess | BackendProcess)[]): Promise<void> {
    await Promise.all(ps.map((p) => this.stop(p)));
  }

  /** Stops everything still running and removes temp folders. Safe to call twice. */
  async cleanup(): Promise<void> {
    for (const h of [...this.#hung]) h.close();
    for (const o of [...this.#others]) await this.stopOther(o).catch(() => {});
    await this.stopAll([...this.#backends, ...this.#runtimes]);
    for (const d of [...this.#dirs]) this.dropDir(d);
    await Promise.all(this.#removing.splice(0));
  }

  /** Pids of processes still running (for the end-of-run check). */
  livePids(): number[] {
    return [
      ...[...this.#backends, ...this.#runtimes].map((p) => p.child.pid),
      ...[...this.#others].flatMap((o) => o.pids()),
    ];
  }
}

/** A free 127.0.0.1 port (bound, then released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/** Backend config text with one `[[runtimes.remote]]` entry per runtime. */
export function remotesToml(remotes: { id: string; endpoint: string }[]): string {
  return remotes.map((r) => `[[runtimes.remote]]\nid = "${r.id}"\nendpoint = "${r.endpoint}"\n`)
    .join("\n");
}

/**
 * Bound on a single set-up or check request. The measured hot loops carry no
 * per-request timer (it would cost the client CPU being measured); the
 * orchestrator's watchdog bounds them instead.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/** The header every mutating Backend request needs (CSRF guard). */
export const MUTATING = { "x-yoi-request": "1" };

/** POSTs JSON and returns the parsed answer; throws on a non-2xx status. */
export async function postJson<T = Record<string, unknown>>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${new URL(url).pathname}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** GETs JSON; throws on a non-2xx status. */
export async function getJson<T = Record<string, unknown>>(
  url: string,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${new URL(url).pathname}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Creates `n` workers on a runtime through its own API, in parallel; returns their ids. */
export async function createWorkers(
  runtimeUrl: string,
  n: number,
  headers: Record<string, string>,
  profile?: string,
) {
  const made = await Promise.all(
    Array.from({ length: n }, () =>
      postJson<{ worker: { worker_id: string } }>(
        `${runtimeUrl}/v1/workers`,
        profile ? { profile } : {},
        headers,
      )),
  );
  return made.map((m) => m.worker.worker_id);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * CPU time a process has used so far, in ms: the sum over its threads of
 * `/proc/<pid>/task/<tid>/schedstat` (Linux, ns resolution). NaN where that is
 * unavailable. Threads that already exited are not counted.
 */
export function cpuMs(pid: number | "self"): number {
  try {
    let ns = 0;
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/schedstat`).split(" ")[0]);
      } catch { /* thread exited meanwhile */ }
    }
    return ns / 1e6;
  } catch {
    return NaN;
  }
}
