/**
 * `Deno.serve` that survives descriptor exhaustion (DESIGN §11). When the
 * process runs out of file descriptors, Deno.serve's accept loop ends
 * (`server.finished` rejects with EMFILE) and the port is closed; left alone,
 * the process would stop serving for good. This helper logs it and listens
 * again on the same address with backoff until descriptors free up.
 * @module
 */

export interface ResilientServeOptions {
  hostname: string;
  port: number;
  signal: AbortSignal;
  /** Called once, with the first bound address. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Called for each listener loss and each re-listen attempt that fails. */
  onError?: (what: string, err: unknown) => void;
  /** Pauses between re-listen attempts, ms; the last one repeats. */
  backoffMs?: number[];
}

/** A server whose listener is re-established after EMFILE/ENFILE. */
export interface ResilientServer {
  /** The bound address (stays the same across re-listens). */
  readonly addr: Deno.NetAddr;
  /** How many times the listener was re-established. */
  readonly relistens: number;
  /** Resolves once `signal` aborts and the current server has finished. */
  readonly finished: Promise<void>;
}

const DEFAULT_BACKOFF = [50, 100, 200, 400, 800, 1600];

/** Serves `handler`; see the module doc. Throws only if the first listen fails. */
export function serveResilient(
  opts: ResilientServeOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): ResilientServer {
  const backoff = opts.backoffMs ?? DEFAULT_BACKOFF;
  const report = opts.onError ?? (() => {});
  let first: Deno.HttpServer<Deno.NetAddr> | undefined = Deno.serve({
    hostname: opts.hostname,
    port: opts.port,
    signal: opts.signal,
    onListen: opts.onListen ?? (() => {}),
  }, handler);
  const addr = first.addr;
  const state = { relistens: 0 };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      opts.signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(t);
        opts.signal.removeEventListener("abort", done);
        resolve();
      }
    });
  const run = async () => {
    let server = first!;
    first = undefined;
    for (;;) {
      try {
        await server.finished;
      } catch (e) {
        report("listener lost", e);
      }
      if (opts.signal.aborted) return;
      // The accept loop ended without an abort (EMFILE): listen again, with backoff.
      for (let attempt = 0;; attempt++) {
        await sleep(backoff[Math.min(attempt, backoff.length - 1)]);
        if (opts.signal.aborted) return;
        try {
          server = Deno.serve({
            hostname: addr.hostname,
            port: addr.port,
            signal: opts.signal,
            onListen: () => {},
          }, handler);
          state.relistens++;
          report("listener re-established", undefined);
          break;
        } catch (e) {
          if (attempt === 0 || attempt % 20 === 0) report("re-listen failed", e);
        }
      }
    }
  };
  const finished = run().catch((e) => report("serve loop failed", e));
  return {
    addr,
    get relistens() {
      return state.relistens;
    },
    finished,
  };
}

/**
 * This process's soft open-file limit, or undefined when it cannot be told.
 * `/proc/self` needs --allow-all, so without it a shell child (which inherits
 * the limit) is asked with `ulimit -n`.
 */
export async function fdLimit(): Promise<string | undefined> {
  try {
    const m = /^Max open files\s+(\S+)/m.exec(Deno.readTextFileSync("/proc/self/limits"));
    if (m) return m[1];
  } catch { /* not Linux, or no --allow-all */ }
  try {
    const out = await new Deno.Command("sh", { args: ["-c", "ulimit -n"], stderr: "null" })
      .output();
    const v = new TextDecoder().decode(out.stdout).trim();
    return out.success && /^(\d+|unlimited)$/.test(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Open descriptors of this process (Linux), or undefined elsewhere. */
export function openFdCount(): number | undefined {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  } catch {
    return undefined;
  }
}
