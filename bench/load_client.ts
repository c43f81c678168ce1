/**
 * The bench's load client, run as its own process so its CPU is its own:
 * raw keep-alive HTTP/1.1 over `Deno.connect`, request bytes built once per
 * target, responses framed by Content-Length (or chunked) without parsing a
 * body. One JSON command per stdin line, one JSON answer per stdout line.
 *
 *   {"op":"throughput", ...ThroughputCommand}  fixed concurrency, timed window
 *   {"op":"latency", ...LatencyCommand}        c=1, targets interleaved request by request
 *
 * Both report this process's CPU per request (`/proc/self/stat`) and, for the
 * pids named in `watch`, theirs over the same window — read here, at the
 * window's exact edges.
 * @module
 */
import { buildRequest, frameResponse } from "./http_framing.ts";
import { statCpuMs, statCpuMsAll } from "./proc_stat.ts";

/** One target: where to connect and the requests to send (cycled in order). */
export interface TargetSpec {
  name: string;
  host: string;
  port: number;
  /** Sent in turn, one per request (several: e.g. input to many workers). */
  requests: { method: string; path: string; headers: Record<string, string>; body?: string }[];
  /** Statuses counted as success (default [200]). */
  expect?: number[];
}

export interface ThroughputCommand {
  target: TargetSpec;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Named groups of pids whose CPU (utime+stime) is read at the window's edges. */
  watch?: Record<string, number[]>;
}

export interface ThroughputAnswer {
  requests: number;
  elapsed_ms: number;
  rps: number;
  bad: number;
  bad_sample?: string;
  client_cpu_us: number;
  /** CPU µs per request of each watched group. */
  watched_cpu_us: Record<string, number>;
  reconnects: number;
}

export interface LatencyCommand {
  targets: TargetSpec[];
  warmupMs: number;
  durationMs: number;
}

export interface LatencyAnswer {
  /** Per target: latency samples summary in ms. */
  latency: Record<string, { n: number; p50: number; p90: number; p99: number; mean: number }>;
  bad: number;
  bad_sample?: string;
  client_cpu_us: number;
}

const INITIAL_BUF = 64 * 1024;
/** Largest response the client accepts (a bench answer is a few KiB). */
const MAX_BUF = 8 * 1024 * 1024;

/** One keep-alive connection with its receive buffer. */
class Conn {
  #conn!: Deno.TcpConn;
  #buf = new Uint8Array(INITIAL_BUF);
  #i = 0;
  readonly #reqs: Uint8Array[];
  reconnects = 0;

  /**
   * Connection `index` of `count`: with at least as many requests as connections it
   * sends only its share (requests index, index + count, …), so no two connections
   * send the same request at once (e.g. input to one worker while it is busy).
   */
  constructor(readonly spec: TargetSpec, index: number, count: number) {
    const all = spec.requests;
    const mine = all.length >= count ? all.filter((_, k) => k % count === index) : all;
    this.#reqs = mine.map((r) => buildRequest(r.method, r.path, r.headers, r.body));
    this.#i = all.length >= count ? 0 : index % this.#reqs.length;
  }

  async open(): Promise<void> {
    this.#conn = await Deno.connect({ hostname: this.spec.host, port: this.spec.port });
    this.#conn.setNoDelay(true);
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }

  /** The next request's bytes (this connection's share, in turn). */
  #next(): Uint8Array {
    const req = this.#reqs[this.#i];
    if (++this.#i === this.#reqs.length) this.#i = 0;
    return req;
  }

  /**
   * Sends the next request and reads its whole response; returns the status.
   * The write and the first read are in flight together (one wake-up less per
   * request). A request is a few hundred bytes written into an empty socket
   * buffer (the previous answer was read in full), so the write is whole; a
   * partial one is reported rather than completed.
   */
  async once(): Promise<number> {
    const req = this.#next();
    const wrote = this.#conn.write(req);
    let filled = 0;
    try {
      for (;;) {
        if (filled === this.#buf.length) this.#grow();
        const n = await this.#conn.read(filled === 0 ? this.#buf : this.#buf.subarray(filled));
        if (n === null) throw new Error(`${this.spec.name}: connection closed by the server`);
        filled += n;
        const f = frameResponse(this.#buf, 0, filled);
        if (!f) continue;
        if (f.end !== filled) throw new Error(`${this.spec.name}: bytes after the response`);
        if ((await wrote) !== req.length) throw new Error(`${this.spec.name}: partial write`);
        this.lastBytes = filled;
        if (f.close) {
          this.close();
          this.reconnects++;
          await this.open();
        }
        return f.status;
      }
    } catch (e) {
      wrote.catch(() => {}); // the read failed first: the write's outcome no longer matters
      throw e;
    }
  }

  /** Requests back to back until `stop()`; `done(status)` after each answer. */
  async run(stop: () => boolean, done: (status: number, c: Conn) => void): Promise<void> {
    while (!stop()) done(await this.once(), this);
  }

  #grow(): void {
    if (this.#buf.length >= MAX_BUF) throw new Error("response larger than 8 MiB");
    const b = new Uint8Array(this.#buf.length * 2);
    b.set(this.#buf);
    this.#buf = b;
  }

  lastBytes = 0;

  /** The last response's first bytes, for an error message. */
  lastText(): string {
    return new TextDecoder().decode(this.#buf.subarray(0, Math.min(this.lastBytes, 300)));
  }
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

export async function throughput(cmd: ThroughputCommand): Promise<ThroughputAnswer> {
  const expect = new Set(cmd.target.expect ?? [200]);
  const conns = Array.from(
    { length: cmd.concurrency },
    (_, i) => new Conn(cmd.target, i, cmd.concurrency),
  );
  await Promise.all(conns.map((c) => c.open()));
  let counting = false;
  let stop = false;
  let count = 0;
  let bad = 0;
  let badSample: string | undefined;
  const watch = cmd.watch ?? {};
  const snap = () => ({
    self: statCpuMs("self"),
    groups: Object.fromEntries(Object.entries(watch).map(([k, p]) => [k, statCpuMsAll(p)])),
    t: performance.now(),
  });
  let before = snap();
  let after = before;
  const done = (s: number, c: Conn) => {
    if (!counting) return;
    count++;
    if (!expect.has(s)) {
      bad++;
      badSample ??= c.lastText();
    }
  };
  const loops = conns.map((c) => c.run(() => stop, done));
  const timer = (async () => {
    await sleep(cmd.warmupMs);
    before = snap();
    counting = true;
    await sleep(cmd.durationMs);
    counting = false;
    after = snap();
    stop = true;
  })();
  try {
    await Promise.all([timer, ...loops]);
  } finally {
    for (const c of conns) c.close();
  }
  const elapsed = after.t - before.t;
  const per = (ms: number) => count ? (ms * 1000) / count : NaN;
  return {
    requests: count,
    elapsed_ms: elapsed,
    rps: count / (elapsed / 1000),
    bad,
    bad_sample: badSample,
    client_cpu_us: per(after.self - before.self),
    watched_cpu_us: Object.fromEntries(
      Object.keys(watch).map((k) => [k, per(after.groups[k] - before.groups[k])]),
    ),
    reconnects: conns.reduce((n, c) => n + c.reconnects, 0),
  };
}

function summary(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : NaN;
  return {
    n: s.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
  };
}

export async function latency(cmd: LatencyCommand): Promise<LatencyAnswer> {
  const conns = cmd.targets.map((t) => new Conn(t, 0, 1));
  await Promise.all(conns.map((c) => c.open()));
  const samples = cmd.targets.map(() => [] as number[]);
  let bad = 0;
  let badSample: string | undefined;
  let requests = 0;
  let cpu0 = 0;
  try {
    const t0 = performance.now();
    const warmEnd = t0 + cmd.warmupMs;
    const end = warmEnd + cmd.durationMs;
    let started = false;
    for (let i = 0;; i++) {
      const now = performance.now();
      if (now >= end) break;
      if (!started && now >= warmEnd) {
        started = true;
        cpu0 = statCpuMs("self");
      }
      for (let k = 0; k < conns.length; k++) {
        const j = (i + k) % conns.length;
        const c = conns[j];
        const s = performance.now();
        const status = await c.once();
        const ms = performance.now() - s;
        if (!started) continue;
        requests++;
        samples[j].push(ms);
        if (!(c.spec.expect ?? [200]).includes(status)) {
          bad++;
          badSample ??= c.lastText();
        }
      }
    }
  } finally {
    for (const c of conns) c.close();
  }
  const cpu = statCpuMs("self") - cpu0;
  return {
    latency: Object.fromEntries(cmd.targets.map((t, j) => [t.name, summary(samples[j])])),
    bad,
    bad_sample: badSample,
    client_cpu_us: requests ? (cpu * 1000) / requests : NaN,
  };
}

async function serve() {
  const dec = new TextDecoder();
  let pending = "";
  const out = (o: unknown) =>
    Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(o) + "\n"));
  out({ ready: true, pid: Deno.pid });
  for await (const chunk of Deno.stdin.readable) {
    pending += dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      try {
        const cmd = JSON.parse(line);
        if (cmd.op === "throughput") out({ ok: await throughput(cmd) });
        else if (cmd.op === "latency") out({ ok: await latency(cmd) });
        else if (cmd.op === "exit") return;
        else out({ error: `unknown op ${cmd.op}` });
      } catch (e) {
        out({ error: (e as Error).message });
      }
    }
  }
}

if (import.meta.main) await serve();
