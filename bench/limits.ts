/**
 * Scenario 6 — limits (DESIGN §11): what idle workers cost a runtime process
 * (RSS and open descriptors with 0 / 1,000 / 10,000 idle workers on the fs
 * store), and whether a transcript page costs the same near the end of a
 * 1,000-event log as of a 100,000-event one (pages are read from disk by
 * byte offset, so it should be flat).
 * @module
 */
import { newWorkerId, type WorkerEvent } from "../shared/mod.ts";
import { FsStore } from "../runtime/mod.ts";
import type { Procs } from "./procs.ts";
import { fmtMs, fmtRatio, type Row, row } from "./report.ts";
import { round, summarize } from "./stats.ts";

export interface LimitsConfig {
  /** Idle worker counts at which RSS and fds are read (ascending). */
  workerSteps: number[];
  /** Concurrent creates while filling the runtime. */
  createConcurrency: number;
  /** Log lengths compared for transcript page time. */
  logSizes: [number, number];
  /** Page reads per log size. */
  pageSamples: number;
}

/**
 * Descriptors idle workers may add at most: the fs store's LRU of open logs
 * (128) plus slack for sockets and files opened lazily after the first
 * reading (lock, trust file, workspaces folder). Bounded means independent
 * of the worker count.
 */
const FD_BOUND = 128 + 32;

function procStatus(pid: number): { rssKiB: number; fds: number } {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  let fds = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) fds++;
  return { rssKiB: m ? Number(m[1]) : 0, fds };
}

/** Writes a worker with `n` events straight through the store (no runtime needed). */
async function seedLog(dir: string, n: number): Promise<string> {
  const store = new FsStore(dir);
  await store.open();
  const id = newWorkerId();
  await store.createWorker({
    worker_id: id,
    profile: "echo",
    display_name: `bench ${n}`,
    created_at: new Date().toISOString(),
  });
  const at = new Date().toISOString();
  for (let seq = 1; seq <= n;) {
    const batch: WorkerEvent[] = [];
    for (let i = 0; i < 5_000 && seq <= n; i++, seq++) {
      batch.push({ seq, worker_id: id, at, type: "output.delta", data: { text: `line ${seq}` } });
    }
    await store.append(id, batch);
  }
  await store.close();
  return id;
}

export async function limitsScenario(
  procs: Procs,
  cfg: LimitsConfig,
): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const rows: Row[] = [];
  const raw: Record<string, unknown> = {};
  if (Deno.build.os !== "linux") return { rows, raw }; // reads /proc

  // RSS and fds with idle workers.
  const max = cfg.workerSteps[cfg.workerSteps.length - 1];
  const dir = await procs.tempDir("bench_limits_");
  const rt = await procs.runtime({
    store: "fs",
    dataDir: dir,
    extraArgs: ["--max-workers", String(max + 1)],
  });
  const steps: { workers: number; rssKiB: number; fds: number }[] = [];
  let made = 0;
  for (const target of cfg.workerSteps) {
    while (made < target) {
      const n = Math.min(cfg.createConcurrency, target - made);
      await Promise.all(Array.from({ length: n }, async () => {
        const r = await fetch(`${rt.url}/v1/workers`, {
          method: "POST",
          headers: { "content-type": "application/json", ...procs.auth },
          body: "{}",
        });
        await r.body?.cancel();
        if (r.status !== 201) throw new Error(`create answered ${r.status}`);
      }));
      made += n;
    }
    steps.push({ workers: target, ...procStatus(rt.child.pid) });
  }
  await procs.stopAll([rt]);
  procs.dropDir(dir);
  raw.idle_workers = steps;
  const base = steps[0];
  for (const s of steps.slice(1)) {
    rows.push(row({
      id: `limits.fds_${s.workers}_idle_workers`,
      scenario: "6 limits",
      metric: `runtime open fds (and RSS), ${s.workers.toLocaleString("en")} idle workers (fs)`,
      value: s.fds,
      unit: "count",
      target: { op: "<=", value: base.fds + FD_BOUND },
      baseline: { name: "0 workers", value: base.fds, unit: "count" },
      samples: [s.fds],
      show: {
        baseline: `0 workers ${round(base.rssKiB / 1024, 1)} MiB, ${base.fds} fds`,
        measured: `${round(s.rssKiB / 1024, 1)} MiB, ${s.fds} fds`,
        compare: `+${round((s.rssKiB - base.rssKiB) / s.workers, 2)} KiB/worker`,
        target: "fds bounded (LRU)",
      },
      values: { ...s },
    }));
  }

  // Transcript page time: a page near the end of a small vs a large log.
  const pageMs: Record<number, number[]> = {};
  const logDir = await procs.tempDir("bench_pages_");
  const ids: Record<number, string> = {};
  for (const n of cfg.logSizes) ids[n] = await seedLog(logDir, n);
  const rt2 = await procs.runtime({ store: "fs", dataDir: logDir });
  for (const n of cfg.logSizes) {
    const xs: number[] = [];
    for (let i = 0; i < cfg.pageSamples; i++) {
      const after = n - 100 - (i % 50) * 10; // pages near the end, where a live client reads
      const t0 = performance.now();
      const r = await fetch(
        `${rt2.url}/v1/workers/${ids[n]}/transcript?after=${after}&limit=100`,
        { headers: procs.auth },
      );
      const body = await r.json();
      xs.push(performance.now() - t0);
      if (body.entries?.length !== 100) throw new Error(`page of ${body.entries?.length}`);
    }
    pageMs[n] = xs;
  }
  const rss2 = procStatus(rt2.child.pid);
  await procs.stopAll([rt2]);
  procs.dropDir(logDir);
  const [small, large] = cfg.logSizes;
  const s = summarize(pageMs[small]);
  const l = summarize(pageMs[large]);
  raw.transcript_pages = { [small]: s, [large]: l, runtime_after_open: rss2 };
  rows.push(row({
    id: "limits.transcript_page_large_vs_small",
    scenario: "6 limits",
    metric: `transcript page (100) p50, ${small.toLocaleString("en")} vs ${
      large.toLocaleString("en")
    }-event log`,
    value: l.p50 / s.p50,
    unit: "×",
    target: { op: "<=", value: 2 },
    baseline: { name: `${small} events`, value: s.p50, unit: "ms" },
    samples: [l.p50 / s.p50],
    show: {
      baseline: `${small.toLocaleString("en")} ${fmtMs(s.p50)}`,
      measured: `${large.toLocaleString("en")} ${fmtMs(l.p50)}`,
      compare: fmtRatio(l.p50 / s.p50),
    },
    values: { small_p50_ms: s.p50, large_p50_ms: l.p50, small_p99_ms: s.p99, large_p99_ms: l.p99 },
  }));
  return { rows, raw };
}
