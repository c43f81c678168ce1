/**
 * Scenario 4 — persistence.
 *
 * FsStore append throughput, in-process on a temp dir, with the durability the
 * store promises: `append` resolves once the bytes are written to the OS (one
 * write per drain, no fsync), `flush` fsyncs. Measured three ways, side by side
 * with the in-memory store: one worker awaiting every append (the Runtime's
 * pattern for a streaming turn), one worker with every append issued at once
 * (the store batches what queues up during a write), and many workers at once.
 *
 * Connection settings: concurrent `POST /api/settings/runtime-connections`
 * through a Backend process, then the config file is parsed with smol-toml and
 * every acknowledged id must be in it.
 * @module
 */
import { parse } from "smol-toml";
import { newWorkerId, type WorkerEvent } from "../shared/mod.ts";
import { type EventStore, FsStore, MemoryStore } from "../runtime/mod.ts";
import { MUTATING, type Procs, REQUEST_TIMEOUT_MS } from "./procs.ts";
import { fmtMs, fmtRate, fmtRatio, type Row, row } from "./report.ts";
import { round, summarize } from "./stats.ts";

export interface PersistenceConfig {
  /** Events appended per measurement. */
  events: number;
  /** Workers in the many-workers measurement. */
  workers: number;
  /** Concurrent connection adds. */
  connections: number;
}

type Mode = "awaited" | "concurrent" | "workers";

function eventsFor(workerId: string, n: number): WorkerEvent[] {
  const at = new Date().toISOString();
  return Array.from({ length: n }, (_, i) => ({
    seq: i + 1,
    worker_id: workerId,
    at,
    type: "output.delta" as const,
    data: { text: "x" },
  }));
}

interface AppendResult {
  appendMs: number;
  flushMs: number;
  events: number;
}

/** Opens a store, creates the workers, appends `total` events in `mode`, then flushes. */
async function appendRun(
  make: () => EventStore,
  mode: Mode,
  total: number,
  workers: number,
): Promise<AppendResult> {
  const store = make();
  await store.open();
  const count = mode === "workers" ? workers : 1;
  const ids = Array.from({ length: count }, () => newWorkerId());
  for (const id of ids) {
    await store.createWorker({
      worker_id: id,
      profile: "echo",
      display_name: "bench",
      created_at: new Date().toISOString(),
    });
  }
  const per = Math.ceil(total / count);
  const logs = ids.map((id) => eventsFor(id, per));
  try {
    const t0 = performance.now();
    if (mode === "awaited") {
      for (const ev of logs[0]) await store.append(ids[0], [ev]);
    } else if (mode === "concurrent") {
      await Promise.all(logs[0].map((ev) => store.append(ids[0], [ev])));
    } else {
      await Promise.all(ids.map(async (id, w) => {
        for (const ev of logs[w]) await store.append(id, [ev]);
      }));
    }
    const t1 = performance.now();
    await store.flush();
    const t2 = performance.now();
    return { appendMs: t1 - t0, flushMs: t2 - t1, events: per * count };
  } finally {
    await store.close();
  }
}

/** Concurrent connection adds through a Backend; counts what the file holds afterwards. */
async function connectionAdds(procs: Procs, n: number) {
  const be = await procs.backend({});
  try {
    const ids = Array.from({ length: n }, (_, i) => `bench-${String(i).padStart(3, "0")}`);
    const lat: number[] = [];
    const t0 = performance.now();
    const statuses = await Promise.all(ids.map(async (id, i) => {
      const s = performance.now();
      const res = await fetch(`${be.url}/api/settings/runtime-connections`, {
        method: "POST",
        headers: { "content-type": "application/json", ...MUTATING },
        body: JSON.stringify({ id, endpoint: `http://127.0.0.1:${20000 + i}` }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      lat.push(performance.now() - s);
      return res.status;
    }));
    const totalMs = performance.now() - t0;
    const acked = ids.filter((_, i) => statuses[i] === 201);
    const doc = parse(await Deno.readTextFile(`${be.stateDir}/workspace-backend.local.toml`)) as {
      runtimes?: { remote?: { id?: string }[] };
    };
    const inFile = new Set((doc.runtimes?.remote ?? []).map((r) => r.id));
    const lost = acked.filter((id) => !inFile.has(id)).length;
    return { totalMs, acked: acked.length, inFile: inFile.size, lost, latency: summarize(lat) };
  } finally {
    await procs.stop(be);
  }
}

export async function persistenceScenario(
  procs: Procs,
  cfg: PersistenceConfig,
): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const dirs: string[] = [];
  const fs = () => {
    const d = Deno.makeTempDirSync({ prefix: "yoi-bench-fs-" });
    dirs.push(d);
    return new FsStore(d);
  };
  const mem = () => new MemoryStore();
  const results: Record<string, AppendResult> = {};
  try {
    // Warm-up (JIT, first file creation), then the measured runs.
    await appendRun(fs, "awaited", Math.min(2000, cfg.events), cfg.workers);
    for (const mode of ["awaited", "concurrent", "workers"] as const) {
      results[`memory_${mode}`] = await appendRun(mem, mode, cfg.events, cfg.workers);
      results[`fs_${mode}`] = await appendRun(fs, mode, cfg.events, cfg.workers);
    }
  } finally {
    for (const d of dirs) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
  const rate = (r: AppendResult) => r.events / (r.appendMs / 1000);
  const rateWithFlush = (r: AppendResult) => r.events / ((r.appendMs + r.flushMs) / 1000);
  const S = "4 persistence";
  const label: Record<Mode, string> = {
    awaited: "1 worker, each append awaited",
    concurrent: "1 worker, all appends at once (batched)",
    workers: `${cfg.workers} workers at once, each awaited`,
  };
  const rows: Row[] = (["awaited", "concurrent", "workers"] as const).map((mode) => {
    const f = results[`fs_${mode}`];
    const m = results[`memory_${mode}`];
    return row({
      id: `persistence.fs_append_${mode}_ev_s`,
      scenario: S,
      metric: `FsStore append, ${label[mode]} (${f.events} events)`,
      value: rate(f),
      unit: "ev/s",
      target: null,
      baseline: { name: "memory", value: rate(m), unit: "ev/s" },
      samples: [rate(f)],
      show: {
        baseline: `memory ${fmtRate(rate(m), " ev/s")}`,
        measured: fmtRate(rate(f), " ev/s"),
        compare: fmtRatio(rate(f) / rate(m)),
      },
      values: {
        fs_events_per_s: round(rate(f), 0),
        fs_events_per_s_incl_flush: round(rateWithFlush(f), 0),
        fs_flush_ms: round(f.flushMs, 2),
        memory_events_per_s: round(rate(m), 0),
      },
      note: `then flush (fsync) ${fmtMs(f.flushMs)}; ${
        fmtRate(rateWithFlush(f), " ev/s")
      } including it`,
    });
  });

  const c = await connectionAdds(procs, cfg.connections);
  rows.push(row({
    id: "persistence.connection_adds_lost",
    scenario: S,
    metric:
      `${cfg.connections} concurrent connection adds via Backend: acknowledged but not in the file`,
    value: c.lost + (cfg.connections - c.acked),
    unit: "count",
    target: { op: "<=", value: 0 },
    baseline: null,
    samples: [c.lost],
    show: {
      baseline: `${c.acked}/${cfg.connections} acked 201`,
      measured: `${fmtMs(c.totalMs)} total`,
      compare: `${c.lost} lost (${c.inFile} in file)`,
    },
    values: {
      total_ms: round(c.totalMs, 1),
      acked: c.acked,
      in_file: c.inFile,
      lost: c.lost,
      per_add_p50_ms: round(c.latency.p50, 2),
      per_add_p99_ms: round(c.latency.p99, 2),
    },
    note: `each add is a locked read-modify-write with fsync + rename; per-request p50 ${
      fmtMs(c.latency.p50)
    }, p99 ${fmtMs(c.latency.p99)} (queued behind each other)`,
  }));
  return {
    rows,
    raw: Object.fromEntries(
      Object.entries(results).map(([k, r]) => [k, {
        events: r.events,
        append_ms: round(r.appendMs, 2),
        flush_ms: round(r.flushMs, 2),
        events_per_s: round(rate(r), 0),
      }]),
    ),
  };
}
