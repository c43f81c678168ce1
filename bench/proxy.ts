/**
 * Scenario 1 — proxy overhead. `GET worker detail` straight to a runtime
 * process (`/v1/workers/{wid}`) vs through the Backend to that remote runtime
 * (`/api/runtimes/a/workers/{wid}`) vs through the Backend to its embedded
 * runtime (`/api/runtimes/embedded/workers/{wid}`). The embedded row's
 * baseline is the same remote-direct call: both answer from the same Runtime
 * library behind one HTTP hop, so the difference is the Backend's own routing,
 * guards and validation.
 *
 * Concurrency 1: the three targets are interleaved request by request (order
 * rotating) so drift on a shared machine hits all of them alike.
 * Concurrency 32: a fixed count per target, split into rounds run in
 * alternating order.
 * @module
 */
import type { BackendProcess } from "../tests/support/backend_process.ts";
import { cpuMs, MUTATING, postJson, type Procs, remotesToml } from "./procs.ts";
import { fmtDelta, fmtMs, fmtRate, fmtRatio, type Row } from "./report.ts";
import { round, summarize, type Summary } from "./stats.ts";

export interface ProxyConfig {
  warmup: number;
  /** Requests per target at concurrency 1. */
  c1Requests: number;
  /** Requests per target at concurrency {@link concurrency}. */
  cNRequests: number;
  concurrency: number;
  /** Rounds the concurrent count is split into (order alternates per round). */
  rounds: number;
  /** Extra `deno run` flags for the Backend (the profiler). */
  backendDenoArgs?: string[];
}

interface Target {
  name: string;
  url: string;
}

export interface ProxyResult {
  rows: Row[];
  raw: Record<string, unknown>;
}

async function hit(url: string): Promise<void> {
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${new URL(url).pathname}: HTTP ${res.status}`);
}

/** Concurrency 1, interleaved; latency samples per target in ms. */
async function latencies(targets: Target[], n: number): Promise<Map<string, number[]>> {
  const out = new Map(targets.map((t) => [t.name, [] as number[]]));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(i + k) % targets.length];
      const t0 = performance.now();
      await hit(t.url);
      out.get(t.name)!.push(performance.now() - t0);
    }
  }
  return out;
}

/** `count` requests with `concurrency` in flight; returns elapsed ms. */
async function burst(url: string, count: number, concurrency: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        next++;
        await hit(url);
      }
    }),
  );
  return performance.now() - t0;
}

/** CPU ms used per process during the concurrent bursts of one target. */
interface CpuUse {
  client: number;
  backend: number;
  runtime: number;
}

/**
 * Requests/s per target at the configured concurrency, rounds in alternating
 * order, plus the CPU each process spent per request (from /proc): on a
 * shared 2-core machine CPU per request is the steadier number.
 */
async function throughput(
  targets: Target[],
  cfg: ProxyConfig,
  pids: { backend: number; runtime: number },
): Promise<{ rps: Map<string, number>; cpuUs: Map<string, CpuUse> }> {
  const elapsed = new Map(targets.map((t) => [t.name, 0]));
  const cpu = new Map(targets.map((t) => [t.name, { client: 0, backend: 0, runtime: 0 }]));
  const snap = () => ({
    client: cpuMs("self"),
    backend: cpuMs(pids.backend),
    runtime: cpuMs(pids.runtime),
  });
  const per = Math.ceil(cfg.cNRequests / cfg.rounds);
  for (let r = 0; r < cfg.rounds; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      const before = snap();
      elapsed.set(t.name, elapsed.get(t.name)! + await burst(t.url, per, cfg.concurrency));
      const after = snap();
      const c = cpu.get(t.name)!;
      c.client += after.client - before.client;
      c.backend += after.backend - before.backend;
      c.runtime += after.runtime - before.runtime;
    }
  }
  const total = per * cfg.rounds;
  return {
    rps: new Map(targets.map((t) => [t.name, total / (elapsed.get(t.name)! / 1000)])),
    cpuUs: new Map(
      [...cpu].map(([k, c]) => [k, {
        client: (c.client * 1000) / total,
        backend: (c.backend * 1000) / total,
        runtime: (c.runtime * 1000) / total,
      }]),
    ),
  };
}

/** Starts a runtime and a Backend pointing at it; returns the three targets. */
export async function proxySetup(procs: Procs, backendDenoArgs?: string[]) {
  const rt = await procs.runtime({ id: "a" });
  const be: BackendProcess = await procs.backend({
    config: remotesToml([{ id: "a", endpoint: rt.url }]),
    denoArgs: backendDenoArgs,
  });
  const wid = (await postJson<{ worker: { worker_id: string } }>(`${rt.url}/v1/workers`, {}))
    .worker.worker_id;
  const ewid = (await postJson<{ worker: { worker_id: string } }>(
    `${be.url}/api/runtimes/embedded/workers`,
    {},
    MUTATING,
  )).worker.worker_id;
  const targets: Target[] = [
    { name: "direct", url: `${rt.url}/v1/workers/${wid}` },
    { name: "remote", url: `${be.url}/api/runtimes/a/workers/${wid}` },
    { name: "embedded", url: `${be.url}/api/runtimes/embedded/workers/${ewid}` },
  ];
  return { rt, be, targets };
}

export async function proxyScenario(procs: Procs, cfg: ProxyConfig): Promise<ProxyResult> {
  const { rt, be, targets } = await proxySetup(procs, cfg.backendDenoArgs);
  try {
    await latencies(targets, cfg.warmup);
    const lat = await latencies(targets, cfg.c1Requests);
    const { rps, cpuUs } = await throughput(targets, cfg, {
      backend: be.child.pid,
      runtime: rt.child.pid,
    });
    const s = new Map<string, Summary>([...lat].map(([k, v]) => [k, summarize(v)]));
    const d = s.get("direct")!;
    const rows: Row[] = [];
    const S = "1 proxy";
    for (const [name, label] of [["remote", "Backend→remote"], ["embedded", "Backend→embedded"]]) {
      const m = s.get(name)!;
      const dp50 = m.p50 - d.p50;
      const dp99 = m.p99 - d.p99;
      const ratio = rps.get(name)! / rps.get("direct")!;
      rows.push({
        scenario: S,
        metric: `${label} GET worker, c=1, p50`,
        baseline: `direct ${fmtMs(d.p50)}`,
        measured: fmtMs(m.p50),
        compare: fmtDelta(dp50),
        target: "≤ +0.5 ms",
        met: dp50 <= 0.5,
        values: {
          direct_p50_ms: round(d.p50, 3),
          p50_ms: round(m.p50, 3),
          added_ms: round(dp50, 3),
        },
        note: name === "embedded"
          ? "baseline is the remote runtime's own HTTP answer (same Runtime library, one HTTP hop), not an in-process call"
          : undefined,
      }, {
        scenario: S,
        metric: `${label} GET worker, c=1, p99`,
        baseline: `direct ${fmtMs(d.p99)}`,
        measured: fmtMs(m.p99),
        compare: fmtDelta(dp99),
        target: "≤ +2 ms",
        met: dp99 <= 2,
        values: {
          direct_p99_ms: round(d.p99, 3),
          p99_ms: round(m.p99, 3),
          added_ms: round(dp99, 3),
        },
      }, {
        scenario: S,
        metric: `${label} GET worker, c=${cfg.concurrency}, req/s`,
        baseline: `direct ${fmtRate(rps.get("direct")!)}`,
        measured: fmtRate(rps.get(name)!),
        compare: fmtRatio(ratio),
        target: "≥ 0.6×",
        met: ratio >= 0.6,
        values: {
          direct_rps: round(rps.get("direct")!, 0),
          rps: round(rps.get(name)!, 0),
          ratio: round(ratio, 3),
        },
      });
      const dc = cpuUs.get("direct")!;
      const mc = cpuUs.get(name)!;
      const sum = (c: CpuUse) => c.client + c.backend + c.runtime;
      const split = (c: CpuUse) =>
        `client ${c.client.toFixed(0)} + Backend ${c.backend.toFixed(0)} + runtime ${
          c.runtime.toFixed(0)
        } µs`;
      if (Number.isFinite(sum(mc))) {
        rows.push({
          scenario: S,
          metric: `${label} GET worker, c=${cfg.concurrency}, CPU per request (all processes)`,
          baseline: `direct ${sum(dc).toFixed(0)} µs`,
          measured: `${sum(mc).toFixed(0)} µs`,
          compare: fmtRatio(sum(mc) / sum(dc)),
          target: "—",
          met: null,
          values: {
            direct_client_us: round(dc.client, 1),
            direct_runtime_us: round(dc.runtime, 1),
            client_us: round(mc.client, 1),
            backend_us: round(mc.backend, 1),
            runtime_us: round(mc.runtime, 1),
          },
          note: `from /proc CPU time during the c=${cfg.concurrency} bursts: direct = ${
            split(dc)
          }; via Backend = ${split(mc)}`,
        });
      }
    }
    return {
      rows,
      raw: {
        requests_c1_per_target: cfg.c1Requests,
        requests_cN_per_target: cfg.cNRequests,
        concurrency: cfg.concurrency,
        latency_ms: Object.fromEntries(
          [...s].map((
            [k, v],
          ) => [k, Object.fromEntries(Object.entries(v).map(([a, b]) => [a, round(b, 3)]))]),
        ),
        rps: Object.fromEntries([...rps].map(([k, v]) => [k, round(v, 0)])),
        cpu_us_per_request: Object.fromEntries(
          [...cpuUs].map(([k, c]) => [k, {
            client: round(c.client, 1),
            backend: round(c.backend, 1),
            runtime: round(c.runtime, 1),
          }]),
        ),
      },
    };
  } finally {
    await procs.stopAll([be, rt]);
  }
}

/**
 * For `--profile proxy`: only the proxied path under load, so the Backend's
 * profile is the c=N phase and nothing else. Returns requests/s.
 */
export async function proxyProfileRun(
  procs: Procs,
  cfg: ProxyConfig,
): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const { rt, be, targets } = await proxySetup(procs, cfg.backendDenoArgs);
  try {
    const remote = targets.find((t) => t.name === "remote")!;
    await burst(remote.url, cfg.warmup, cfg.concurrency);
    const ms = await burst(remote.url, cfg.cNRequests, cfg.concurrency);
    return {
      rows: [],
      raw: { requests: cfg.cNRequests, rps: round(cfg.cNRequests / (ms / 1000), 0) },
    };
  } finally {
    await procs.stopAll([be, rt]);
  }
}
