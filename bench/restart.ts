/**
 * Scenario 8 — restart. Two fs-store data folders with the same 1,000 workers'
 * worth of records, one holding only each worker's opening events (~2k in all),
 * the other ~100k (each worker also ran one turn of ~93 one-character deltas).
 * Both are written in-process through the Runtime library on `FsStore` — the
 * same code a runtime process runs — then a real `runtime/main.ts` is spawned
 * on each, alternating, and timed from spawn to its first `200` on
 * `GET /v1/workers` listing all 1,000 workers. An empty folder gives the
 * process's own start-up floor. One unmeasured start per folder first (a store
 * may build what it keeps beside the logs on its first open).
 * @module
 */
import { FsStore, Runtime } from "../runtime/mod.ts";
import { RuntimeProcess } from "../tests/support/runtime_process.ts";
import { freePort, type Procs, sleep } from "./procs.ts";
import { fmtMs, fmtRatio, type Row, row } from "./report.ts";
import { median, round } from "./stats.ts";

export interface RestartConfig {
  workers: number;
  /** Characters of the one input each worker of the large folder answers (one delta each). */
  turnChars: number;
  /** Measured starts per folder. */
  runs: number;
  pollMs: number;
  timeoutMs: number;
  /** Also time an empty folder (the process's own start-up floor, for the note). */
  floor: boolean;
}

const PROFILE = { engine: "echo" as const, chunk_chars: 1 };
/** Workers whose turns run at once while the large folder is written. */
const GENERATE_BATCH = 100;

/** Writes `workers` workers (each with a turn of `turnChars` deltas when > 0); returns the event count. */
async function generate(dir: string, workers: number, turnChars: number): Promise<number> {
  const rt = await Runtime.open({
    runtimeId: "restart",
    store: new FsStore(dir),
    profiles: { paced: PROFILE },
    maxWorkers: workers + 1,
  });
  let events = 0;
  try {
    const input = turnChars > 0 ? "z".repeat(turnChars) : undefined;
    for (let i = 0; i < workers; i += GENERATE_BATCH) {
      const n = Math.min(GENERATE_BATCH, workers - i);
      const made = await Promise.all(
        Array.from({ length: n }, () => rt.createWorker({ profile: "paced", input })),
      );
      // Bounded: a turn of ~100 one-character deltas ends in well under a second.
      const deadline = performance.now() + 60_000;
      for (const w of made) {
        while (rt.getWorker(w.worker_id).status === "busy") {
          if (performance.now() > deadline) throw new Error("restart: a turn did not end");
          await sleep(5);
        }
        events += rt.getWorker(w.worker_id).last_seq;
      }
    }
  } finally {
    await rt.shutdown();
  }
  return events;
}

/** Spawns a runtime on `dir` and polls `GET /v1/workers` until it lists `expect` workers. */
async function timeStart(
  procs: Procs,
  dir: string,
  expect: number,
  cfg: RestartConfig,
): Promise<number> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}/v1/workers`;
  const auth = await procs.runtimeAuth();
  const t0 = performance.now();
  const starting = RuntimeProcess.start({
    id: "restart",
    port,
    store: "fs",
    dataDir: dir,
    token: auth.token,
    extraArgs: [...auth.extraArgs!, "--max-workers", String(expect + 1)],
  });
  const adopted = starting.then((p) => {
    const s = { pids: () => [p.child.pid], stop: async () => void await p.kill("SIGTERM") };
    procs.adopt(s);
    return s;
  });
  adopted.catch(() => {});
  try {
    while (performance.now() - t0 < cfg.timeoutMs) {
      try {
        const res = await fetch(url, { headers: procs.auth });
        const text = await res.text();
        if (res.status === 200) {
          const n = (JSON.parse(text) as { workers: unknown[] }).workers.length;
          if (n !== expect) throw new Error(`restart: listed ${n} workers, want ${expect}`);
          return performance.now() - t0;
        }
      } catch (e) {
        if ((e as Error).message.startsWith("restart:")) throw e;
        /* not listening yet */
      }
      await sleep(cfg.pollMs);
    }
    throw new Error(`restart: no 200 within ${cfg.timeoutMs} ms`);
  } finally {
    const s = await adopted.catch(() => null);
    if (s) await procs.stopOther(s);
  }
}

export async function restartScenario(
  procs: Procs,
  cfg: RestartConfig,
): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const dirs = {
    empty: await procs.tempDir("yoi-bench-restart-0-"),
    small: await procs.tempDir("yoi-bench-restart-1k-"),
    large: await procs.tempDir("yoi-bench-restart-100k-"),
  };
  const g0 = performance.now();
  const events = {
    empty: 0,
    small: await generate(dirs.small, cfg.workers, 0),
    large: await generate(dirs.large, cfg.workers, cfg.turnChars),
  };
  const generateMs = performance.now() - g0;
  const expect = { empty: 0, small: cfg.workers, large: cfg.workers };
  const kinds = cfg.floor ? ["empty", "small", "large"] as const : ["small", "large"] as const;
  for (const k of kinds) await timeStart(procs, dirs[k], expect[k], cfg); // unmeasured first open
  const times = { empty: [] as number[], small: [] as number[], large: [] as number[] };
  for (let r = 0; r < cfg.runs; r++) {
    const order = r % 2 ? [...kinds].reverse() : kinds;
    for (const k of order) times[k].push(await timeStart(procs, dirs[k], expect[k], cfg));
  }
  for (const d of Object.values(dirs)) procs.dropDir(d);
  const m = { empty: median(times.empty), small: median(times.small), large: median(times.large) };
  const floor = cfg.floor
    ? `an empty data folder starts in ${fmtMs(m.empty)} (the process's own floor); `
    : "";
  const ratios = times.large.map((t, i) => t / times.small[i]);
  const S = "8 restart";
  const label = (n: number) => `${Math.round(n / 1000)}k events`;
  const rows: Row[] = [
    row({
      id: "runtime.restart_100k_vs_1k",
      scenario: S,
      metric: `runtime restart (spawn → GET /v1/workers 200), ${cfg.workers} workers on fs: ${
        label(events.large)
      } vs ${label(events.small)}`,
      value: median(ratios),
      unit: "×",
      target: { op: "<=", value: 1.5 },
      baseline: { name: label(events.small), value: m.small, unit: "ms" },
      samples: ratios,
      show: {
        baseline: `${label(events.small)} ${fmtMs(m.small)}`,
        measured: fmtMs(m.large),
        compare: fmtRatio(median(ratios)),
      },
      values: {
        events_small: events.small,
        events_large: events.large,
        small_ms: round(m.small, 1),
        large_ms: round(m.large, 1),
        empty_ms: round(m.empty, 1),
      },
      note: `${floor}generating both folders in-process took ${fmtMs(generateMs)}`,
    }),
    row({
      id: "runtime.restart_100k_ms",
      scenario: S,
      metric: `runtime restart with ${cfg.workers} workers and ${label(events.large)} (fs)`,
      value: m.large,
      unit: "ms",
      target: null,
      baseline: cfg.floor ? { name: "empty folder", value: m.empty, unit: "ms" } : null,
      samples: times.large,
      show: {
        baseline: cfg.floor ? `empty ${fmtMs(m.empty)}` : "—",
        measured: fmtMs(m.large),
        compare: cfg.floor ? `+${fmtMs(m.large - m.empty)}` : "—",
      },
    }),
  ];
  return {
    rows,
    raw: {
      events,
      generate_ms: round(generateMs, 0),
      times_ms: Object.fromEntries(
        Object.entries(times).map(([k, v]) => [k, v.map((x) => round(x, 1))]),
      ),
    },
  };
}
