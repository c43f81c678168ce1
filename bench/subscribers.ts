/**
 * Scenario 7 — many subscribers on one worker. N WebSocket subscribers (50)
 * on one worker, either all direct to the runtime or all through the Backend,
 * while a producer feeds input at a fixed moderate rate (one short turn every
 * `inputIntervalMs`, echo engine, one `output.delta` per character). Windows
 * alternate between the two sides, rounds rotate the order; values are the
 * medians of the per-round comparisons.
 *
 * Latency = receive time − the event's `at` (written by the runtime when it
 * created the event; same machine clock, 1 ms resolution). An event a
 * subscriber has still not received when the drain deadline passes counts
 * with the time it waited until then (a lower bound), so a stalled stream
 * shows in the p99 instead of vanishing from it. Events/s = events received by
 * all subscribers inside the producer's window / window length.
 * @module
 */
import { openWebSocket } from "../shared/deno_ws.ts";
import { getJson, postJson, type Procs, remotesToml, sleep } from "./procs.ts";
import { statCpuMs } from "./proc_stat.ts";
import { fmtDelta, fmtMs, fmtRate, fmtRatio, fmtUs, type Row, row } from "./report.ts";
import { median, percentile, round } from "./stats.ts";

export interface SubscribersConfig {
  subscribers: number;
  rounds: number;
  /** How long the producer feeds input in one window. */
  windowMs: number;
  inputIntervalMs: number;
  /** Characters per input (= `output.delta` events per turn). */
  inputChars: number;
  /** Longest wait after the producer stops for every subscriber to catch up. */
  drainMs: number;
}

const now = () => performance.timeOrigin + performance.now();
const OPEN_TIMEOUT_MS = 15_000;
/** After every subscriber is open: time for a proxy to open its upstream side. */
const SETTLE_MS = 300;

/** One subscriber: counts events, records latency, resumes from its last seq when dropped as lagging. */
class Sub {
  lastSeq: number;
  inWindow = 0;
  latencies: number[] = [];
  lagResumes = 0;
  controls = 0;
  windowEnd = Infinity;
  #ws!: WebSocket;
  #closed = false;
  readonly opened: Promise<void>;

  constructor(
    readonly url: string,
    after: number,
    readonly headers: Record<string, string> | undefined,
  ) {
    this.lastSeq = after;
    this.opened = this.#connect();
  }

  #connect(): Promise<void> {
    const ws = openWebSocket(`${this.url}?after=${this.lastSeq}`, this.headers);
    this.#ws = ws;
    return new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error("subscriber: not open in time")), OPEN_TIMEOUT_MS);
      // The Backend's stream may not start with `stream.opened`: the open event is enough.
      ws.onopen = () => {
        clearTimeout(t);
        res();
      };
      ws.onerror = () => {
        clearTimeout(t);
        rej(new Error("subscriber: WebSocket error"));
      };
      ws.onmessage = (m) => {
        const t1 = now();
        const f = JSON.parse(m.data as string) as {
          seq?: number;
          type: string;
          at?: string;
          code?: string;
        };
        if (f.seq === undefined) {
          if (f.type === "stream.opened") return;
          if (f.type === "stream.closed" && f.code === "stream_lagging") {
            this.lagResumes++;
            ws.onclose = null;
            ws.close();
            if (!this.#closed) this.#connect().catch(() => {});
          } else this.controls++;
          return;
        }
        if (f.seq <= this.lastSeq) return;
        this.lastSeq = f.seq;
        this.latencies.push(t1 - Date.parse(f.at!));
        if (t1 <= this.windowEnd) this.inWindow++;
      };
    });
  }

  close() {
    this.#closed = true;
    this.#ws.onclose = null;
    try {
      this.#ws.close();
    } catch { /* closed */ }
  }
}

interface WindowResult {
  eventsPerS: number;
  p50: number;
  p99: number;
  /** Events not received by the drain deadline, over all subscribers. */
  missing: number;
  lagResumes: number;
  inputs: number;
  busy: number;
  backendCpuUsPerEvent: number;
  runtimeCpuUsPerEvent: number;
}

export async function subscribersScenario(
  procs: Procs,
  cfg: SubscribersConfig,
): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const dataDir = await procs.tempDir("yoi-bench-subs-");
  const rt = await procs.runtime({
    id: "e",
    store: "fs",
    dataDir,
    config: `[profiles.paced]\nengine = "echo"\nchunk_chars = 1\n`,
  });
  const be = await procs.backend({ config: remotesToml([{ id: "e", endpoint: rt.url }]) });
  try {
    const wid = (await postJson<{ worker: { worker_id: string } }>(
      `${rt.url}/v1/workers`,
      { profile: "paced" },
      procs.auth,
    )).worker.worker_id;
    const urls = {
      direct: `${rt.url.replace("http", "ws")}/v1/workers/${wid}/events`,
      proxy: `${be.url.replace("http", "ws")}/api/runtimes/e/workers/${wid}/events`,
    };
    const detail = async () =>
      (await getJson<{ worker: { last_seq: number; status: string } }>(
        `${rt.url}/v1/workers/${wid}`,
        procs.auth,
      )).worker;
    const lastSeq = async () => (await detail()).last_seq;
    /** The last seq once the running turn (if any) has ended. */
    const settledSeq = async (deadline: number) => {
      for (;;) {
        const w = await detail();
        if (w.status !== "busy" || now() > deadline) return w.last_seq;
        await sleep(5);
      }
    };
    const text = "y".repeat(cfg.inputChars);
    const feed = async (until: number) => {
      let inputs = 0;
      let busy = 0;
      for (let next = performance.now(); performance.now() < until; next += cfg.inputIntervalMs) {
        const res = await fetch(`${rt.url}/v1/workers/${wid}/input`, {
          method: "POST",
          headers: { "content-type": "application/json", ...procs.auth },
          body: JSON.stringify({ text }),
        });
        await res.body?.cancel();
        if (res.status === 202) inputs++;
        else if (res.status === 409) busy++;
        else throw new Error(`input: HTTP ${res.status}`);
        const wait = next + cfg.inputIntervalMs - performance.now();
        if (wait > 0) await sleep(wait);
      }
      return { inputs, busy };
    };

    const window = async (side: "direct" | "proxy"): Promise<WindowResult> => {
      const after = await lastSeq();
      const subs = Array.from(
        { length: cfg.subscribers },
        () => new Sub(urls[side], after, side === "direct" ? procs.auth : undefined),
      );
      try {
        await Promise.all(subs.map((s) => s.opened));
        await sleep(SETTLE_MS);
        const t0 = now();
        const cpu0 = [statCpuMs(be.child.pid), statCpuMs(rt.child.pid)];
        for (const s of subs) s.windowEnd = t0 + cfg.windowMs;
        const fed = await feed(performance.now() + cfg.windowMs);
        const stopped = now();
        const deadline = stopped + cfg.drainMs;
        const final = await settledSeq(deadline);
        while (now() < deadline && subs.some((s) => s.lastSeq < final)) await sleep(5);
        const cpu1 = [statCpuMs(be.child.pid), statCpuMs(rt.child.pid)];
        const end = now();
        const lat = subs.flatMap((s) => s.latencies);
        let missing = 0;
        for (const s of subs) {
          const m = Math.max(0, final - s.lastSeq);
          missing += m;
          // Not received by the deadline: waited at least since the producer stopped.
          for (let i = 0; i < m; i++) lat.push(end - stopped);
        }
        const delivered = subs.reduce((n, s) => n + s.latencies.length, 0);
        const inWindow = subs.reduce((n, s) => n + s.inWindow, 0);
        return {
          eventsPerS: inWindow / (cfg.windowMs / 1000),
          p50: percentile(lat, 50),
          p99: percentile(lat, 99),
          missing,
          lagResumes: subs.reduce((n, s) => n + s.lagResumes, 0),
          inputs: fed.inputs,
          busy: fed.busy,
          backendCpuUsPerEvent: ((cpu1[0] - cpu0[0]) * 1000) / delivered,
          runtimeCpuUsPerEvent: ((cpu1[1] - cpu0[1]) * 1000) / delivered,
        };
      } finally {
        for (const s of subs) s.close();
        await sleep(100); // let both sides see the closes before the next window
      }
    };

    const results = { direct: [] as WindowResult[], proxy: [] as WindowResult[] };
    for (let r = 0; r < cfg.rounds; r++) {
      for (const side of r % 2 ? ["proxy", "direct"] as const : ["direct", "proxy"] as const) {
        results[side].push(await window(side));
      }
    }
    return {
      rows: subscriberRows(cfg, results),
      raw: {
        subscribers: cfg.subscribers,
        window_ms: cfg.windowMs,
        input_interval_ms: cfg.inputIntervalMs,
        input_chars: cfg.inputChars,
        rounds: Object.fromEntries(
          Object.entries(results).map(([k, v]) => [
            k,
            v.map((w) => Object.fromEntries(Object.entries(w).map(([a, b]) => [a, round(b, 2)]))),
          ]),
        ),
      },
    };
  } finally {
    await procs.stopAll([be, rt]);
    procs.dropDir(dataDir);
  }
}

function subscriberRows(
  cfg: SubscribersConfig,
  r: { direct: WindowResult[]; proxy: WindowResult[] },
): Row[] {
  const S = "7 subscribers";
  const n = cfg.subscribers;
  const added = r.proxy.map((p, i) => p.p99 - r.direct[i].p99);
  const ratio = r.proxy.map((p, i) => p.eventsPerS / r.direct[i].eventsPerS);
  const med = (xs: WindowResult[], f: (w: WindowResult) => number) => median(xs.map(f));
  const sum = (xs: WindowResult[], f: (w: WindowResult) => number) =>
    xs.reduce((a, w) => a + f(w), 0);
  const perSub = med(r.direct, (w) => w.eventsPerS) / n;
  const missing = `events not received by the ${cfg.drainMs} ms drain: direct ${
    sum(r.direct, (w) => w.missing)
  }, proxy ${sum(r.proxy, (w) => w.missing)}; lagging resumes: direct ${
    sum(r.direct, (w) => w.lagResumes)
  }, proxy ${sum(r.proxy, (w) => w.lagResumes)}`;
  return [
    row({
      id: "events.subs50.p99_added_ms",
      scenario: S,
      metric: `${n} subscribers on one worker, producer ~${
        Math.round(perSub)
      } ev/s: p99 latency added via Backend`,
      value: median(added),
      unit: "ms",
      target: { op: "<=", value: 50 },
      baseline: { name: "direct p99", value: med(r.direct, (w) => w.p99), unit: "ms" },
      samples: added,
      show: {
        baseline: `direct ${fmtMs(med(r.direct, (w) => w.p99))}`,
        measured: fmtMs(med(r.proxy, (w) => w.p99)),
        compare: fmtDelta(median(added)),
      },
      note: `p50: direct ${fmtMs(med(r.direct, (w) => w.p50))}, via Backend ${
        fmtMs(med(r.proxy, (w) => w.p50))
      }; ${missing}`,
    }),
    row({
      id: "events.subs50.vs_direct",
      scenario: S,
      metric: `${n} subscribers on one worker: total events/s received via Backend vs direct`,
      value: median(ratio),
      unit: "×",
      target: { op: ">=", value: 0.9 },
      baseline: { name: "direct", value: med(r.direct, (w) => w.eventsPerS), unit: "ev/s" },
      samples: ratio,
      show: {
        baseline: `direct ${fmtRate(med(r.direct, (w) => w.eventsPerS), " ev/s")}`,
        measured: fmtRate(med(r.proxy, (w) => w.eventsPerS), " ev/s"),
        compare: fmtRatio(median(ratio)),
      },
      note: `CPU per delivered event: Backend ${
        fmtUs(med(r.proxy, (w) => w.backendCpuUsPerEvent))
      }, runtime ${fmtUs(med(r.proxy, (w) => w.runtimeCpuUsPerEvent))} via Backend vs ${
        fmtUs(med(r.direct, (w) => w.runtimeCpuUsPerEvent))
      } direct; inputs refused as busy: ${sum([...r.direct, ...r.proxy], (w) => w.busy)}`,
    }),
  ];
}
