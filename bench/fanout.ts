/**
 * Scenario 2 — fan-out. `GET /api/workers` through a Backend configured with
 * N remote runtime processes (each holding the same number of workers), then
 * with one hung runtime added (a socket that accepts and never answers).
 * Each time is the median of several requests after a warm-up; healthy times
 * are compared with N = 1, hung times with the configured fan-out deadline.
 * @module
 */
import type { RuntimeProcess } from "../tests/support/runtime_process.ts";
import {
  cpuMs,
  createWorkers,
  type Procs,
  remotesToml,
  REQUEST_TIMEOUT_MS,
  sleep,
} from "./procs.ts";
import { LoadClient, target } from "./load.ts";
import { fmtDelta, fmtMs, fmtRatio, type Row, row } from "./report.ts";
import { median, round } from "./stats.ts";

export interface FanoutConfig {
  /** Runtime counts to measure, ascending; the first is the single-runtime baseline. */
  sizes: number[];
  workersPerRuntime: number;
  warmup: number;
  /** Rounds over all sizes (order rotating); each size's value is the median of its rounds. */
  rounds: number;
  /** Sequential requests per size per round (the `fetch` timing and the CPU split). */
  perRound: number;
  /** Per round, the load client's window over all sizes interleaved request by request, ms. */
  windowMs: number;
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
  for (const rt of runtimes) await createWorkers(rt.url, workers, procs.auth);
  return { runtimes, startMs: t1 - t0, createMs: performance.now() - t1 };
}

function sumCpu(pids: number[]): number {
  return pids.reduce((n, p) => n + cpuMs(p), 0);
}

interface ListAnswer {
  workers: unknown[];
  diagnostics: { code: string }[];
}

/**
 * Waits until a freshly started Backend lists every worker of its fleet: it
 * verifies each remote runtime after start, and one not yet verified
 * contributes no workers. Bounded by {@link READY_TIMEOUT_MS}.
 */
async function waitListed(url: string, expectWorkers: number): Promise<void> {
  const end = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const res = await fetch(`${url}/api/workers`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = await res.json() as ListAnswer;
    if (res.status === 200 && body.workers?.length === expectWorkers) return;
    if (performance.now() > end) {
      throw new Error(`/api/workers: ${body.workers?.length} workers after ${READY_TIMEOUT_MS} ms`);
    }
    await sleep(100);
  }
}

const READY_TIMEOUT_MS = 60_000;
const API_WORKERS = "/api/workers";
const dec = new TextDecoder();

/**
 * Times `count` sequential `GET /api/workers`; checks each answer's size.
 * With `short`, an answer listing fewer workers is counted there instead of
 * failing the run (health checks may mark an overloaded runtime unreachable).
 */
async function timeList(
  url: string,
  count: number,
  expectWorkers: number,
  expectDiag: string | null,
  short?: { answers: number; fewest: number },
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/api/workers`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    // The window ends when the answer's bytes are in: parsing ~500 KB is the bench's own
    // cost, not the Backend's (like the load client, which never parses bodies).
    const bytes = await res.arrayBuffer();
    times.push(performance.now() - t0);
    const body = JSON.parse(dec.decode(bytes)) as ListAnswer;
    if (short && res.status === 200 && body.workers.length < expectWorkers) {
      short.answers++;
      short.fewest = Math.min(short.fewest, body.workers.length);
      continue;
    }
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

/**
 * Healthy fan-out: one Backend per size, all running; each round times every
 * size (order rotating) and the N / N₁ ratio is taken within the round. Then
 * one hung runtime (accepts, never answers) beside the smallest and the
 * largest fleet: time over the fan-out deadline.
 */
export async function fanoutScenario(
  procs: Procs,
  fleet: Fleet,
  cfg: FanoutConfig,
): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const extraArgs = ["--fanout-deadline-ms", String(cfg.deadlineMs)];
  const remotesOf = (n: number) =>
    fleet.runtimes.slice(0, n).map((r) => ({ id: r.id, endpoint: r.url }));
  /** Per size: per-round medians (`fetch` timing), all samples, CPU ms per request. */
  const perRound = new Map<number, number[]>(cfg.sizes.map((n) => [n, []]));
  /** Per size: per-round p50 of the load client (the goal row's timing). */
  const perRoundLoad = new Map<number, number[]>(cfg.sizes.map((n) => [n, []]));
  let loadClientCpuUs = 0;
  const load = await LoadClient.start();
  const samples: Record<string, number[]> = {};
  const cpu = new Map<number, { client: number; backend: number; runtimes: number }>();
  const backends: Awaited<ReturnType<Procs["backend"]>>[] = [];
  try {
    for (const n of cfg.sizes) {
      backends.push(await procs.backend({ config: remotesToml(remotesOf(n)), extraArgs }));
    }
    for (const [i, n] of cfg.sizes.entries()) {
      await waitListed(backends[i].url, n * cfg.workersPerRuntime);
      await timeList(backends[i].url, cfg.warmup, n * cfg.workersPerRuntime, null);
      cpu.set(n, { client: 0, backend: 0, runtimes: 0 });
    }
    for (let r = 0; r < cfg.rounds; r++) {
      const order = cfg.sizes.map((_, i) => (i + r) % cfg.sizes.length);
      for (const i of order) {
        const n = cfg.sizes[i];
        const be = backends[i];
        const pids = fleet.runtimes.slice(0, n).map((x) => x.child.pid);
        const before = [cpuMs("self"), cpuMs(be.child.pid), sumCpu(pids)];
        const t = await timeList(be.url, cfg.perRound, n * cfg.workersPerRuntime, null);
        const after = [cpuMs("self"), cpuMs(be.child.pid), sumCpu(pids)];
        const c = cpu.get(n)!;
        c.client += after[0] - before[0];
        c.backend += after[1] - before[1];
        c.runtimes += after[2] - before[2];
        (samples[`healthy_${n}`] ??= []).push(...t.map((x) => round(x, 2)));
        perRound.get(n)!.push(median(t));
      }
      // The goal row's timing: the bench's raw keep-alive client (no body parse, ~µs per
      // request), every size interleaved request by request in one window. `fetch` + reading
      // ~500 KB costs the orchestrator more CPU per list than the Backend spends on it.
      const lat = await load.latency({
        targets: cfg.sizes.map((n, i) => target(`n${n}`, backends[i].url, [API_WORKERS])),
        warmupMs: 100,
        durationMs: cfg.windowMs,
      });
      if (lat.bad > 0) throw new Error(`/api/workers: ${lat.bad} bad answers (${lat.bad_sample})`);
      for (const n of cfg.sizes) perRoundLoad.get(n)!.push(lat.latency[`n${n}`].p50);
      loadClientCpuUs = lat.client_cpu_us;
      // What the window timed still lists every worker (checked outside the timing).
      for (const [i, n] of cfg.sizes.entries()) {
        await timeList(backends[i].url, 1, n * cfg.workersPerRuntime, null);
      }
    }
  } finally {
    await load.close();
    await procs.stopAll(backends);
  }
  const total = cfg.rounds * cfg.perRound;
  for (const c of cpu.values()) {
    c.client /= total;
    c.backend /= total;
    c.runtimes /= total;
  }

  const hungSizes = [...new Set([cfg.sizes[0], cfg.sizes[cfg.sizes.length - 1]])];
  const hung = new Map<number, number[]>();
  for (const n of hungSizes) {
    const stuck = procs.hungRuntime();
    const beHung = await procs.backend({
      config: remotesToml([...remotesOf(n), { id: "hung", endpoint: stuck.endpoint }]),
      extraArgs,
    });
    try {
      const expect = n * cfg.workersPerRuntime;
      await waitListed(beHung.url, expect);
      await timeList(beHung.url, 1, expect, "remote_runtime_timeout");
      const t = await timeList(beHung.url, cfg.hungSamples, expect, "remote_runtime_timeout");
      samples[`hung_${n}`] = t.map((x) => round(x, 2));
      hung.set(n, t);
    } finally {
      await procs.stop(beHung);
      stuck.close();
    }
  }
  return {
    rows: fanoutRows(cfg, perRound, perRoundLoad, loadClientCpuUs, cpu, hung),
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

function fanoutRows(
  cfg: FanoutConfig,
  perRound: Map<number, number[]>,
  perRoundLoad: Map<number, number[]>,
  loadClientCpuUs: number,
  cpu: Map<number, { client: number; backend: number; runtimes: number }>,
  hung: Map<number, number[]>,
): Row[] {
  const S = "2 fan-out";
  const n1 = cfg.sizes[0];
  const largest = cfg.sizes[cfg.sizes.length - 1];
  const rows: Row[] = [];
  const baseLoad = median(perRoundLoad.get(n1)!);
  for (const n of cfg.sizes.slice(1)) {
    const ratios = perRoundLoad.get(n)!.map((t, i) => t / perRoundLoad.get(n1)![i]);
    const goal = n === largest && n === 32;
    rows.push(row({
      id: goal ? "fanout.n32_vs_n1" : `fanout.n${n}_vs_n${n1}`,
      scenario: S,
      metric: `GET /api/workers over ${n} runtimes vs ${n1} (${cfg.workersPerRuntime} workers ` +
        `each): p50, the load client, sizes interleaved`,
      value: median(ratios),
      unit: "×",
      target: goal ? { op: "<=", value: 3 } : null,
      baseline: { name: `N=${n1}`, value: baseLoad, unit: "ms" },
      samples: ratios,
      show: {
        baseline: `N=${n1} ${fmtMs(baseLoad)}`,
        measured: fmtMs(median(perRoundLoad.get(n)!)),
        compare: fmtRatio(median(ratios)),
      },
      values: { p50_ms: round(median(perRoundLoad.get(n)!), 3), client_cpu_us: loadClientCpuUs },
      note: `load client CPU ${loadClientCpuUs.toFixed(1)} µs per list (all sizes); the CPU ` +
        `split per list is in fanout.n${n}_vs_n${n1}_fetch`,
    }));
  }
  const base = median(perRound.get(n1)!);
  for (const n of cfg.sizes.slice(1)) {
    const ratios = perRound.get(n)!.map((t, i) => t / perRound.get(n1)![i]);
    const c = cpu.get(n)!;
    rows.push(row({
      id: `fanout.n${n}_vs_n${n1}_fetch`,
      scenario: S,
      metric: `the same, timed around the orchestrator's fetch + read of the whole body ` +
        `(sizes one after another)`,
      value: median(ratios),
      unit: "×",
      target: null,
      baseline: { name: `N=${n1}`, value: base, unit: "ms" },
      samples: ratios,
      show: {
        baseline: `N=${n1} ${fmtMs(base)}`,
        measured: fmtMs(median(perRound.get(n)!)),
        compare: fmtRatio(median(ratios)),
      },
      values: {
        median_ms: round(median(perRound.get(n)!), 2),
        cpu_client_ms: round(c.client, 2),
        cpu_backend_ms: round(c.backend, 2),
        cpu_runtimes_ms: round(c.runtimes, 2),
        backend_cpu_us_per_worker: round((c.backend * 1000) / (n * cfg.workersPerRuntime), 2),
      },
      note: Number.isFinite(c.backend)
        ? `CPU per request: client ${c.client.toFixed(2)} + Backend ${
          c.backend.toFixed(2)
        } + ${n} runtimes ${c.runtimes.toFixed(2)} ms (Backend ${
          ((c.backend * 1000) / (n * cfg.workersPerRuntime)).toFixed(1)
        } µs per listed worker); N=${n1}: Backend ${cpu.get(n1)!.backend.toFixed(2)} ms`
        : undefined,
    }));
  }
  for (const [n, t] of hung) {
    const over = t.map((x) => x - cfg.deadlineMs);
    const goal = n === largest;
    rows.push(row({
      id: goal ? "fanout.hung_over_deadline_ms" : `fanout.n${n}_hung_over_deadline_ms`,
      scenario: S,
      metric: `GET /api/workers, ${n} healthy + 1 hung runtime: time over the fan-out deadline`,
      value: median(over),
      unit: "ms",
      target: goal ? { op: "<=", value: 20 } : null,
      baseline: { name: "deadline", value: cfg.deadlineMs, unit: "ms" },
      samples: over,
      show: {
        baseline: `deadline ${fmtMs(cfg.deadlineMs)}`,
        measured: fmtMs(median(t)),
        compare: fmtDelta(median(over)),
      },
    }));
  }
  return rows;
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
  const short = { answers: 0, fewest: expect };
  try {
    await waitListed(on.url, expect);
    await waitListed(off.url, expect);
    await timeList(on.url, cfg.warmup, expect, null);
    await timeList(off.url, cfg.warmup, expect, null);
    const per = Math.max(3, cfg.perRound);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? (["off", "on"] as const) : (["on", "off"] as const);
      const m = { on: 0, off: 0 };
      for (const side of order) {
        const t = await timeList((side === "on" ? on : off).url, per, expect, null, short);
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
    rows: [row({
      id: "fanout.health_checks_on_vs_off",
      scenario: "2 fan-out",
      metric: `GET /api/workers, N=${n}, health checks every ${HEALTH_BENCH_INTERVAL_MS} ms vs off`,
      value: ratio,
      unit: "×",
      target: { op: "<=", value: 1.2 },
      baseline: { name: "checks off", value: mOff, unit: "ms" },
      samples: roundRatios,
      show: {
        baseline: `checks off ${fmtMs(mOff)}`,
        measured: fmtMs(mOn),
        compare: fmtRatio(ratio),
      },
      note: `${n} runtimes × ${1000 / HEALTH_BENCH_INTERVAL_MS} checks/s while listing; ratio = ` +
        `median of ${rounds} paired rounds` + (short.answers
          ? `; ${short.answers} answers listed fewer workers (fewest ${short.fewest} of ${expect}: ` +
            `runtimes the checks found unreachable under this load)`
          : ""),
    })],
    raw: {
      short_answers: short,
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
    await waitListed(be.url, n * cfg.workersPerRuntime);
    await timeList(be.url, cfg.warmup, n * cfg.workersPerRuntime, null);
    const t = await timeList(be.url, requests, n * cfg.workersPerRuntime, null);
    return { rows: [], raw: { runtimes: n, requests, median_ms: round(median(t), 2) } };
  } finally {
    await procs.stop(be);
  }
}
