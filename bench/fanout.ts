/**
 * Scenario 2 — fan-out. `GET /api/workers` through a Backend configured with
 * N remote runtime processes (each holding the same number of workers), then
 * with one hung runtime added (a socket that accepts and never answers).
 * Each time is the median of several requests after a warm-up; healthy times
 * are compared with N = 1, hung times with the configured fan-out deadline.
 * @module
 */
import type { RuntimeProcess } from "../tests/support/runtime_process.ts";
import { cpuMs, createWorkers, type Procs, remotesToml, REQUEST_TIMEOUT_MS } from "./procs.ts";
import { fmtMs, fmtRatio, type Row } from "./report.ts";
import { median, round } from "./stats.ts";

export interface FanoutConfig {
  /** Runtime counts to measure, ascending; the first is the single-runtime baseline. */
  sizes: number[];
  workersPerRuntime: number;
  warmup: number;
  samples: number;
  hungSamples: number;
  deadlineMs: number;
  /** Runtimes started at once (2 cores: batches, not all 32 together). */
  batch: number;
}

export interface Fleet {
  runtimes: RuntimeProcess[];
  startMs: number;
  createMs: number;
}

/** Starts `n` runtime processes in batches and gives each `workers` workers. */
export async function startFleet(
  procs: Procs,
  n: number,
  workers: number,
  batch: number,
): Promise<Fleet> {
  const t0 = performance.now();
  const runtimes = await procs.runtimes(n, "fan", batch);
  const t1 = performance.now();
  for (const rt of runtimes) await createWorkers(rt.url, workers);
  return { runtimes, startMs: t1 - t0, createMs: performance.now() - t1 };
}

function sumCpu(pids: number[]): number {
  return pids.reduce((n, p) => n + cpuMs(p), 0);
}

interface ListAnswer {
  workers: unknown[];
  diagnostics: { code: string }[];
}

/** Times `count` sequential `GET /api/workers`; checks each answer's size. */
async function timeList(
  url: string,
  count: number,
  expectWorkers: number,
  expectDiag: string | null,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/api/workers`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = await res.json() as ListAnswer;
    times.push(performance.now() - t0);
    if (res.status !== 200 || body.workers.length !== expectWorkers) {
      throw new Error(
        `/api/workers: HTTP ${res.status}, ${body.workers?.length} workers, want ${expectWorkers}`,
      );
    }
    const codes = body.diagnostics.map((d) => d.code);
    if (expectDiag ? !codes.includes(expectDiag) : codes.length > 0) {
      throw new Error(`/api/workers: unexpected diagnostics ${codes.join(", ") || "(none)"}`);
    }
  }
  return times;
}

export async function fanoutScenario(
  procs: Procs,
  fleet: Fleet,
  cfg: FanoutConfig,
): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const healthy = new Map<number, number>();
  const hung = new Map<number, number>();
  /** CPU ms per request: bench client, Backend, all N runtimes together. */
  const cpu = new Map<number, { client: number; backend: number; runtimes: number }>();
  const samples: Record<string, number[]> = {};
  for (const n of cfg.sizes) {
    const remotes = fleet.runtimes.slice(0, n).map((r) => ({ id: r.id, endpoint: r.url }));
    const expect = n * cfg.workersPerRuntime;
    const extraArgs = ["--fanout-deadline-ms", String(cfg.deadlineMs)];

    const be = await procs.backend({ config: remotesToml(remotes), extraArgs });
    try {
      await timeList(be.url, cfg.warmup, expect, null);
      const pids = fleet.runtimes.slice(0, n).map((r) => r.child.pid);
      const before = [cpuMs("self"), cpuMs(be.child.pid), sumCpu(pids)];
      const t = await timeList(be.url, cfg.samples, expect, null);
      const after = [cpuMs("self"), cpuMs(be.child.pid), sumCpu(pids)];
      const [client, backend, runtimes] = after.map((a, i) => (a - before[i]) / cfg.samples);
      cpu.set(n, { client, backend, runtimes });
      samples[`healthy_${n}`] = t.map((x) => round(x, 2));
      healthy.set(n, median(t));
    } finally {
      await procs.stop(be);
    }

    const stuck = procs.hungRuntime();
    const beHung = await procs.backend({
      config: remotesToml([...remotes, { id: "hung", endpoint: stuck.endpoint }]),
      extraArgs,
    });
    try {
      await timeList(beHung.url, 1, expect, "remote_runtime_timeout");
      const t = await timeList(beHung.url, cfg.hungSamples, expect, "remote_runtime_timeout");
      samples[`hung_${n}`] = t.map((x) => round(x, 2));
      hung.set(n, median(t));
    } finally {
      await procs.stop(beHung);
      stuck.close();
    }
  }

  const S = "2 fan-out";
  const base = healthy.get(cfg.sizes[0])!;
  const largest = cfg.sizes[cfg.sizes.length - 1];
  const rows: Row[] = [];
  for (const n of cfg.sizes) {
    const ratio = healthy.get(n)! / base;
    const targeted = n === largest && n > cfg.sizes[0];
    const c = cpu.get(n)!;
    rows.push({
      scenario: S,
      metric: `GET /api/workers, N=${n} healthy (${n * cfg.workersPerRuntime} workers)`,
      baseline: `N=${cfg.sizes[0]} ${fmtMs(base)}`,
      measured: fmtMs(healthy.get(n)!),
      compare: fmtRatio(ratio),
      target: targeted ? "≤ 3×" : "—",
      met: targeted ? ratio <= 3 : null,
      values: {
        median_ms: round(healthy.get(n)!, 2),
        ratio: round(ratio, 3),
        cpu_client_ms: round(c.client, 2),
        cpu_backend_ms: round(c.backend, 2),
        cpu_runtimes_ms: round(c.runtimes, 2),
      },
      note: Number.isFinite(c.backend)
        ? `CPU per request: client ${c.client.toFixed(2)} + Backend ${
          c.backend.toFixed(2)
        } + ${n} runtime${n === 1 ? "" : "s"} ${c.runtimes.toFixed(2)} ms`
        : undefined,
    });
  }
  for (const n of cfg.sizes) {
    const t = hung.get(n)!;
    const over = t - cfg.deadlineMs;
    rows.push({
      scenario: S,
      metric: `GET /api/workers, N=${n} + 1 hung`,
      baseline: `deadline ${fmtMs(cfg.deadlineMs)}`,
      measured: fmtMs(t),
      compare: `${over >= 0 ? "+" : "−"}${fmtMs(Math.abs(over))} vs deadline, ${
        fmtRatio(t / healthy.get(n)!)
      } healthy`,
      target: "≤ deadline + 100 ms",
      met: over <= 100,
      values: {
        median_ms: round(t, 2),
        over_deadline_ms: round(over, 2),
        deadline_ms: cfg.deadlineMs,
      },
    });
  }
  return {
    rows,
    raw: {
      sizes: cfg.sizes,
      workers_per_runtime: cfg.workersPerRuntime,
      deadline_ms: cfg.deadlineMs,
      fleet_start_ms: round(fleet.startMs, 0),
      fleet_worker_create_ms: round(fleet.createMs, 0),
      samples_ms: samples,
    },
  };
}

/** Health-check interval of the "checks on" side: far shorter than the 15 s default. */
export const HEALTH_BENCH_INTERVAL_MS = 1000;

/**
 * `GET /api/workers` over the whole fleet with periodic health checks on (every
 * {@link HEALTH_BENCH_INTERVAL_MS} ms, i.e. N×4 checks a second) and off, side by side in
 * alternating rounds. Checks run off the request path, so the ratio should stay near 1.
 */
export async function healthScenario(
  procs: Procs,
  fleet: Fleet,
  cfg: FanoutConfig,
  rounds = 6,
): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const n = fleet.runtimes.length;
  const expect = n * cfg.workersPerRuntime;
  const config = remotesToml(fleet.runtimes.map((r) => ({ id: r.id, endpoint: r.url })));
  const base = ["--fanout-deadline-ms", String(cfg.deadlineMs)];
  const on = await procs.backend({
    config,
    extraArgs: [...base, "--health-interval-ms", String(HEALTH_BENCH_INTERVAL_MS)],
  });
  const off = await procs.backend({ config, extraArgs: [...base, "--health-interval-ms", "0"] });
  const times = { on: [] as number[], off: [] as number[] };
  /** on/off ratio of each round's medians: the two sides of one round share its noise. */
  const roundRatios: number[] = [];
  try {
    await timeList(on.url, cfg.warmup, expect, null);
    await timeList(off.url, cfg.warmup, expect, null);
    const per = Math.max(3, Math.ceil(cfg.samples / rounds));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? (["off", "on"] as const) : (["on", "off"] as const);
      const m = { on: 0, off: 0 };
      for (const side of order) {
        const t = await timeList((side === "on" ? on : off).url, per, expect, null);
        times[side].push(...t);
        m[side] = median(t);
      }
      roundRatios.push(m.on / m.off);
    }
  } finally {
    await procs.stop(on);
    await procs.stop(off);
  }
  const mOn = median(times.on);
  const mOff = median(times.off);
  const ratio = median(roundRatios);
  return {
    rows: [{
      scenario: "2 fan-out",
      metric: `GET /api/workers, N=${n}, health checks every ${HEALTH_BENCH_INTERVAL_MS} ms`,
      baseline: `checks off ${fmtMs(mOff)}`,
      measured: fmtMs(mOn),
      compare: fmtRatio(ratio),
      target: "≤ 1.2×",
      met: ratio <= 1.2,
      values: {
        median_on_ms: round(mOn, 2),
        median_off_ms: round(mOff, 2),
        ratio: round(ratio, 3),
      },
      note: `${n} runtimes × ${1000 / HEALTH_BENCH_INTERVAL_MS} checks/s while listing; ratio = ` +
        `median of ${rounds} paired rounds (${roundRatios.map((x) => x.toFixed(2)).join(", ")})`,
    }],
    raw: {
      health_on_ms: times.on.map((x) => round(x, 2)),
      health_off_ms: times.off.map((x) => round(x, 2)),
    },
  };
}

/** For `--profile fanout`: repeated `GET /api/workers` over the whole fleet, nothing else. */
export async function fanoutProfileRun(
  procs: Procs,
  fleet: Fleet,
  cfg: FanoutConfig,
  requests: number,
  denoArgs: string[],
): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const n = fleet.runtimes.length;
  const be = await procs.backend({
    config: remotesToml(fleet.runtimes.map((r) => ({ id: r.id, endpoint: r.url }))),
    extraArgs: ["--fanout-deadline-ms", String(cfg.deadlineMs)],
    denoArgs,
  });
  try {
    await timeList(be.url, cfg.warmup, n * cfg.workersPerRuntime, null);
    const t = await timeList(be.url, requests, n * cfg.workersPerRuntime, null);
    return { rows: [], raw: { runtimes: n, requests, median_ms: round(median(t), 2) } };
  } finally {
    await procs.stop(be);
  }
}
