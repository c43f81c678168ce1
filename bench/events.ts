/**
 * Scenario 3 — event streaming. A worker whose profile is the echo engine
 * with `chunk_chars = 1` answers a long input with one `output.delta` per
 * character. Its events are consumed over the runtime's own WebSocket
 * (`/v1/workers/{wid}/events`) and through the Backend's WS proxy
 * (`/api/runtimes/{rid}/workers/{wid}/events`):
 *
 * - "together": both consumers subscribed to the same turn at once;
 * - "alone": one turn per consumer, nothing else reading;
 * - "replay": a finished turn read back from its start, one consumer at a time
 *   (no producer in the loop: the streaming path's own throughput).
 *
 * events/s = deltas / (last delta received − input sent). Delivery latency =
 * receive time − the event's `at` (same machine clock; `at` has 1 ms
 * resolution, so absolute values carry up to +1 ms of truncation that the
 * added-latency difference cancels).
 * @module
 */
import { openWebSocket } from "../shared/deno_ws.ts";
import { cpuMs, getJson, postJson, type Procs, remotesToml, sleep } from "./procs.ts";
import { fmtDelta, fmtMs, fmtRate, fmtRatio, type Row, row } from "./report.ts";
import { round, summarize } from "./stats.ts";

export interface EventsConfig {
  /** `output.delta` events per turn (= input characters). */
  deltas: number;
  /** Runtime store for the streaming runtime. */
  store: "fs" | "memory";
  /** Turns per measurement (pooled). */
  repeats: number;
  /** Unmeasured full-size turns on both paths first. */
  warmTurns: number;
  /** Upper bound for one turn or replay to be consumed. */
  timeoutMs: number;
  /** Extra `deno run` flags for the Backend (the profiler). */
  backendDenoArgs?: string[];
}

interface Frame {
  seq?: number;
  type: string;
  at?: string;
  code?: string;
  after?: number;
}

interface ConsumerResult {
  deltas: number;
  latencies: number[];
  firstRecv: number;
  lastDeltaRecv: number;
  lastRecv: number;
  lastSeq: number;
  /** Reconnects after a `stream_lagging` close (direct consumer only). */
  lagReconnects: number;
  /** `stream.*` frames seen (proxy only: reconnecting/resumed). */
  controlFrames: number;
}

/** Wall-clock ms with sub-ms precision (same clock as the runtime's `at`). */
const now = () => performance.timeOrigin + performance.now();

/**
 * Subscribes to `base?after=N` and collects frames until `stop(frame)` is true.
 * Resubscribes from the last seq when the runtime closes the stream as lagging.
 */
class Consumer {
  readonly result: ConsumerResult = {
    deltas: 0,
    latencies: [],
    firstRecv: 0,
    lastDeltaRecv: 0,
    lastRecv: 0,
    lastSeq: 0,
    lagReconnects: 0,
    controlFrames: 0,
  };
  readonly done: Promise<ConsumerResult>;
  readonly opened: Promise<void>;
  #ws!: WebSocket;
  #finish!: (r: ConsumerResult) => void;
  #fail!: (e: Error) => void;
  #settled = false;
  #timer: ReturnType<typeof setTimeout>;

  constructor(
    readonly name: string,
    readonly base: string,
    after: number,
    readonly stop: (f: Frame) => boolean,
    timeoutMs: number,
    /** Request headers of the upgrade (the bench token for a direct subscription). */
    readonly headers?: Record<string, string>,
  ) {
    this.result.lastSeq = after;
    this.done = new Promise((res, rej) => {
      this.#finish = res;
      this.#fail = rej;
    });
    this.done.catch(() => {});
    this.#timer = setTimeout(
      () => this.#end(new Error(`${name}: not done within ${timeoutMs} ms`)),
      timeoutMs,
    );
    this.opened = this.#connect(after);
    this.opened.catch((e) => this.#end(e));
  }

  #connect(after: number): Promise<void> {
    const ws = openWebSocket(`${this.base}?after=${after}`, this.headers);
    this.#ws = ws;
    const opened = new Promise<void>((res, rej) => {
      ws.onopen = () => res();
      ws.onerror = () => rej(new Error(`${this.name}: WebSocket error`));
    });
    ws.onmessage = (m) => this.#onMessage(m.data as string);
    ws.onclose = () => {
      if (!this.#settled && ws === this.#ws) {
        this.#end(new Error(`${this.name}: stream closed early at seq ${this.result.lastSeq}`));
      }
    };
    return opened;
  }

  #onMessage(text: string) {
    const t = now();
    const f = JSON.parse(text) as Frame;
    const r = this.result;
    if (r.firstRecv === 0) r.firstRecv = t;
    r.lastRecv = t;
    if (f.seq === undefined) {
      if (f.type === "stream.closed" && f.code === "stream_lagging") {
        r.lagReconnects++;
        const old = this.#ws;
        old.onclose = null;
        old.close();
        this.#connect(r.lastSeq).catch((e) => this.#end(e));
        return;
      }
      r.controlFrames++;
      return;
    }
    if (f.seq <= r.lastSeq) return;
    r.lastSeq = f.seq;
    if (f.type === "output.delta") {
      r.deltas++;
      r.lastDeltaRecv = t;
      r.latencies.push(t - Date.parse(f.at!));
    }
    if (this.stop(f)) this.#end(null);
  }

  #end(err: Error | null) {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#ws.onclose = null;
    try {
      this.#ws.close();
    } catch { /* closed */ }
    if (err) this.#fail(err);
    else this.#finish(this.result);
  }

  close() {
    this.#end(new Error(`${this.name}: closed`));
  }
}

interface TurnStats {
  eventsPerS: number;
  p50: number;
  p99: number;
  lagReconnects: number;
  controlFrames: number;
}

interface TurnRun {
  r: ConsumerResult;
  sentAt: number;
}

/** Pools several turns: total deltas over total time, latency percentiles over all deltas. */
function turnStats(runs: TurnRun[]): TurnStats {
  const s = summarize(runs.flatMap((x) => x.r.latencies));
  const deltas = runs.reduce((n, x) => n + x.r.deltas, 0);
  const ms = runs.reduce((n, x) => n + (x.r.lastDeltaRecv - x.sentAt), 0);
  return {
    eventsPerS: deltas / (ms / 1000),
    p50: s.p50,
    p99: s.p99,
    lagReconnects: runs.reduce((n, x) => n + x.r.lagReconnects, 0),
    controlFrames: runs.reduce((n, x) => n + x.r.controlFrames, 0),
  };
}

export async function eventsScenario(
  procs: Procs,
  cfg: EventsConfig,
): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const dataDir = cfg.store === "fs" ? await procs.tempDir("yoi-bench-events-") : undefined;
  const rt = await procs.runtime({
    id: "s",
    store: cfg.store,
    dataDir,
    config: `[profiles.stream]\nengine = "echo"\nchunk_chars = 1\n`,
  });
  const be = await procs.backend({
    config: remotesToml([{ id: "s", endpoint: rt.url }]),
    denoArgs: cfg.backendDenoArgs,
  });
  try {
    const wid = (await postJson<{ worker: { worker_id: string } }>(
      `${rt.url}/v1/workers`,
      { profile: "stream" },
      procs.auth,
    )).worker.worker_id;
    const auth = (url: string) => url === wsDirect ? procs.auth : undefined;
    const wsDirect = `${rt.url.replace("http", "ws")}/v1/workers/${wid}/events`;
    const wsProxy = `${be.url.replace("http", "ws")}/api/runtimes/s/workers/${wid}/events`;
    const input = "x".repeat(cfg.deltas);
    const lastSeq = async () =>
      (await getJson<{ worker: { last_seq: number } }>(`${rt.url}/v1/workers/${wid}`, procs.auth))
        .worker
        .last_seq;
    const turnEnd = (f: Frame) =>
      f.type === "turn.completed" || f.type === "turn.failed" || f.type === "turn.cancelled";

    /** CPU ms per process and wall ms, summed over the turns of one kind. */
    const cpu: Record<string, { client: number; backend: number; runtime: number; wall: number }> =
      {};
    const snap = () => [cpuMs("self"), cpuMs(be.child.pid), cpuMs(rt.child.pid), now()];

    /** One turn consumed by the named consumers at once. */
    const turn = async (which: ("direct" | "proxy")[], kind: string) => {
      const after = await lastSeq();
      const consumers = which.map((w) =>
        new Consumer(
          w,
          w === "direct" ? wsDirect : wsProxy,
          after,
          turnEnd,
          cfg.timeoutMs,
          w === "direct" ? procs.auth : undefined,
        )
      );
      try {
        await Promise.all(consumers.map((c) => c.opened));
        await sleep(200); // the proxy opens its upstream after the browser-side open
        const cpu0 = snap();
        const sentAt = now();
        await postJson(`${rt.url}/v1/workers/${wid}/input`, { text: input }, procs.auth);
        const results = await Promise.all(consumers.map((c) => c.done));
        const cpu1 = snap();
        const acc = cpu[kind] ??= { client: 0, backend: 0, runtime: 0, wall: 0 };
        acc.client += cpu1[0] - cpu0[0];
        acc.backend += cpu1[1] - cpu0[1];
        acc.runtime += cpu1[2] - cpu0[2];
        acc.wall += cpu1[3] - cpu0[3];
        const out: Partial<Record<"direct" | "proxy", TurnRun>> = {};
        results.forEach((r, i) => {
          if (r.deltas !== cfg.deltas) {
            throw new Error(`${which[i]}: got ${r.deltas} deltas, want ${cfg.deltas}`);
          }
          out[which[i]] = { r, sentAt };
        });
        return { out, startSeq: after };
      } finally {
        for (const c of consumers) c.close();
      }
    };

    // Warm-up: full-size turns on both paths, not measured. A short one is not enough:
    // the first measured turn then showed a p99 several times the later ones (JIT).
    for (let i = 0; i < cfg.warmTurns; i++) {
      const after = await lastSeq();
      const c = [wsDirect, wsProxy].map((u) =>
        new Consumer("warm-up", u, after, turnEnd, cfg.timeoutMs, auth(u))
      );
      await Promise.all(c.map((x) => x.opened));
      await postJson(`${rt.url}/v1/workers/${wid}/input`, { text: input }, procs.auth);
      await Promise.all(c.map((x) => x.done));
    }

    // Repeated turns, the "alone" ones in alternating order; results are pooled.
    const runs = { togetherD: [], togetherP: [], aloneD: [], aloneP: [] } as Record<
      string,
      TurnRun[]
    >;
    let startSeq = 0;
    for (let i = 0; i < cfg.repeats; i++) {
      const t = (await turn(["direct", "proxy"], "together")).out;
      runs.togetherD.push(t.direct!);
      runs.togetherP.push(t.proxy!);
      for (const w of i % 2 === 0 ? ["direct", "proxy"] as const : ["proxy", "direct"] as const) {
        const a = await turn([w], w === "direct" ? "alone_direct" : "alone_proxy");
        runs[w === "direct" ? "aloneD" : "aloneP"].push(a.out[w]!);
        startSeq = a.startSeq;
      }
    }
    const together = { direct: turnStats(runs.togetherD), proxy: turnStats(runs.togetherP) };
    const aloneDirect = turnStats(runs.aloneD);
    const aloneProxy = turnStats(runs.aloneP);

    // Replay the last turn from its start, one consumer at a time (alternating, twice).
    const end = await lastSeq();
    const replay = async (url: string) => {
      const t0 = now();
      const c = new Consumer(
        "replay",
        url,
        startSeq,
        (f) => (f.seq ?? 0) >= end,
        cfg.timeoutMs,
        auth(url),
      );
      const r = await c.done;
      return (end - startSeq) / ((r.lastRecv - t0) / 1000);
    };
    const replayRates = { direct: [] as number[], proxy: [] as number[] };
    for (const order of [["direct", "proxy"], ["proxy", "direct"]] as const) {
      for (const w of order) {
        replayRates[w].push(await replay(w === "direct" ? wsDirect : wsProxy));
      }
    }
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const replayDirect = avg(replayRates.direct);
    const replayProxy = avg(replayRates.proxy);

    const S = "3 events";
    const rows: Row[] = [];
    const pairs = [
      ["together (same turn, both consumers)", together.direct, together.proxy],
      ["alone (one consumer per turn)", aloneDirect, aloneProxy],
    ] as const;
    const cores = (k: string) => {
      const c = cpu[k];
      return `client ${(c.client / c.wall).toFixed(2)} + Backend ${
        (c.backend / c.wall).toFixed(2)
      } + runtime ${(c.runtime / c.wall).toFixed(2)}`;
    };
    const backendUsPerEvent = (k: string) => (cpu[k].backend * 1000) / (cfg.deltas * cfg.repeats);
    const busy: Record<string, string> = {
      together: `cores busy during the turns: ${
        cores("together")
      } of ${navigator.hardwareConcurrency}; Backend ${
        backendUsPerEvent("together").toFixed(1)
      } µs CPU per forwarded event`,
      alone: `cores busy: direct turns ${cores("alone_direct")}; proxied turns ${
        cores("alone_proxy")
      } (of ${navigator.hardwareConcurrency}); Backend ${
        backendUsPerEvent("alone_proxy").toFixed(1)
      } µs CPU per forwarded event`,
    };
    for (const [label, d, p] of pairs) {
      const ratio = p.eventsPerS / d.eventsPerS;
      const lag = d.lagReconnects + p.controlFrames > 0
        ? `; direct lag-resubscribes ${d.lagReconnects}, proxy control frames ${p.controlFrames}`
        : "";
      const key = label.startsWith("together") ? "together" : "alone";
      rows.push(
        row({
          id: `events.stream.${key}_vs_direct`,
          scenario: S,
          metric: `one turn of ${cfg.deltas} deltas (×${cfg.repeats}), ${label}: events/s`,
          value: ratio,
          unit: "×",
          target: { op: ">=", value: 0.8 },
          baseline: { name: "direct", value: d.eventsPerS, unit: "ev/s" },
          samples: [ratio],
          show: {
            baseline: `direct ${fmtRate(d.eventsPerS, " ev/s")}`,
            measured: fmtRate(p.eventsPerS, " ev/s"),
            compare: fmtRatio(ratio),
          },
          values: {
            direct_events_per_s: round(d.eventsPerS, 0),
            proxy_events_per_s: round(p.eventsPerS, 0),
          },
          note: `${busy[key]}${lag}`,
        }),
        row({
          id: `events.stream.${key}_p50_added_ms`,
          scenario: S,
          metric: `${label}: delivery latency p50 added`,
          value: p.p50 - d.p50,
          unit: "ms",
          target: null,
          baseline: { name: "direct p50", value: d.p50, unit: "ms" },
          samples: [p.p50 - d.p50],
          show: {
            baseline: `direct ${fmtMs(d.p50)}`,
            measured: fmtMs(p.p50),
            compare: fmtDelta(p.p50 - d.p50),
          },
        }),
        row({
          id: `events.stream.${key}_p99_added_ms`,
          scenario: S,
          metric: `${label}: delivery latency p99 added`,
          value: p.p99 - d.p99,
          unit: "ms",
          target: { op: "<=", value: 2 },
          baseline: { name: "direct p99", value: d.p99, unit: "ms" },
          samples: [p.p99 - d.p99],
          show: {
            baseline: `direct ${fmtMs(d.p99)}`,
            measured: fmtMs(p.p99),
            compare: fmtDelta(p.p99 - d.p99),
          },
        }),
      );
    }
    const rr = replayProxy / replayDirect;
    rows.push(row({
      id: "events.stream.replay_vs_direct",
      scenario: S,
      metric: `replay of a finished turn (${end - startSeq} events): events/s`,
      value: rr,
      unit: "×",
      target: null,
      baseline: { name: "direct", value: replayDirect, unit: "ev/s" },
      samples: replayRates.proxy.map((x, i) => x / replayRates.direct[i]),
      show: {
        baseline: `direct ${fmtRate(replayDirect, " ev/s")}`,
        measured: fmtRate(replayProxy, " ev/s"),
        compare: fmtRatio(rr),
      },
      note: "no producer in the loop: the streaming path's own ceiling (mean of 2 runs each)",
    }));
    const statsJson = (s: TurnStats) =>
      Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v, 2)]));
    return {
      rows,
      raw: {
        deltas: cfg.deltas,
        repeats: cfg.repeats,
        store: cfg.store,
        together: { direct: statsJson(together.direct), proxy: statsJson(together.proxy) },
        per_turn_p99_ms: Object.fromEntries(
          Object.entries(runs).map(([k, v]) => [
            k,
            v.map((x) => round(summarize(x.r.latencies).p99, 2)),
          ]),
        ),
        cpu_ms: Object.fromEntries(
          Object.entries(cpu).map(([k, c]) => [k, {
            client: round(c.client, 1),
            backend: round(c.backend, 1),
            runtime: round(c.runtime, 1),
            wall: round(c.wall, 1),
          }]),
        ),
        alone: { direct: statsJson(aloneDirect), proxy: statsJson(aloneProxy) },
        replay_events_per_s: {
          direct: replayRates.direct.map((x) => round(x, 0)),
          proxy: replayRates.proxy.map((x) => round(x, 0)),
        },
      },
    };
  } finally {
    await procs.stopAll([be, rt]);
    if (dataDir) procs.dropDir(dataDir);
  }
}
