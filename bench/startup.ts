/**
 * Scenario 5 — startup. Time from spawning `main.ts` to its first
 * `200` on `GET /api/runtimes`, polled every few ms on a port chosen up front,
 * with 0 and with 8 healthy remote runtimes configured (median of a few runs).
 * @module
 */
import { BackendProcess } from "../tests/support/backend_process.ts";
import type { RuntimeProcess } from "../tests/support/runtime_process.ts";
import { freePort, type Procs, remotesToml, sleep } from "./procs.ts";
import { fmtMs, fmtRatio, type Row, row } from "./report.ts";
import { median, round } from "./stats.ts";

export interface StartupConfig {
  runs: number;
  /** Remote runtime counts; the first is the baseline. */
  remotes: number[];
  pollMs: number;
  timeoutMs: number;
}

/** Polls until `/api/runtimes` answers 200; returns ms since `t0`. */
async function firstOk(url: string, t0: number, pollMs: number, timeoutMs: number) {
  while (performance.now() - t0 < timeoutMs) {
    try {
      const res = await fetch(`${url}/api/runtimes`, { signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - t0;
    } catch { /* not listening yet */ }
    await sleep(pollMs);
  }
  throw new Error(`backend gave no 200 on /api/runtimes within ${timeoutMs} ms`);
}

async function once(
  procs: Procs,
  remotes: RuntimeProcess[],
  cfg: StartupConfig,
): Promise<number> {
  const stateDir = await procs.backendStateDir();
  await Deno.writeTextFile(
    `${stateDir}/workspace-backend.local.toml`,
    remotesToml(remotes.map((r) => ({ id: r.id, endpoint: r.url }))),
  );
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  // With stateDir given and no config text, start() spawns before its first await.
  const starting = BackendProcess.start({ stateDir, port, embeddedStore: "memory" });
  starting.then((p) => procs.adoptBackend(p), () => {});
  try {
    return await firstOk(url, t0, cfg.pollMs, cfg.timeoutMs);
  } finally {
    await starting.then((p) => procs.stop(p), () => {});
  }
}

export async function startupScenario(
  procs: Procs,
  fleet: RuntimeProcess[],
  cfg: StartupConfig,
): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const samples = new Map<number, number[]>();
  for (let i = 0; i < cfg.runs; i++) {
    for (const n of cfg.remotes) {
      const t = await once(procs, fleet.slice(0, n), cfg);
      samples.set(n, [...(samples.get(n) ?? []), t]);
    }
  }
  const base = median(samples.get(cfg.remotes[0])!);
  const rows: Row[] = cfg.remotes.map((n) => {
    const m = median(samples.get(n)!);
    return row({
      id: `startup.backend_${n}_remotes_ms`,
      scenario: "5 startup",
      metric: `Backend start → first 200 /api/runtimes, ${n} remotes`,
      value: m,
      unit: "ms",
      target: null,
      baseline: { name: "0 remotes", value: base, unit: "ms" },
      samples: samples.get(n)!,
      show: {
        baseline: `0 remotes ${fmtMs(base)}`,
        measured: fmtMs(m),
        compare: fmtRatio(m / base),
      },
    });
  });
  return {
    rows,
    raw: Object.fromEntries(
      [...samples].map(([n, v]) => [`remotes_${n}_ms`, v.map((x) => round(x, 1))]),
    ),
  };
}
