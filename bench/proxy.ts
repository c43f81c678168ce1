/**
 * Scenario 1 — proxy. `GET worker detail` of one worker on a remote runtime,
 * side by side in the same run, through:
 *
 * - **direct**: the runtime itself (`/v1/workers/{wid}`, bench bearer token);
 * - **nginx**: a plain reverse proxy (see `nginx.ts`), the floor of one hop;
 * - **forwarder**: `Deno.serve` + `fetch` in ~20 lines (`forwarder.ts`), one
 *   hop on this platform with nothing else;
 * - **backend**: the Backend (`/api/runtimes/a/workers/{wid}`, capability
 *   tokens towards the runtime as in the default configuration);
 * - **embedded**: the Backend's embedded runtime (`/api/runtimes/embedded/…`),
 *   compared with *direct* (the same Runtime library behind its own HTTP server).
 *
 * c=32: timed windows per target, all targets once per round, the order
 * rotating each round; a row's value is the median of its per-round values
 * (ratios are taken within a round, so both sides share that round's noise).
 * CPU per request of every process comes from `/proc/<pid>/stat` over the same
 * window. c=1: the targets interleaved request by request. Input: `POST input`
 * at c=8 through the Backend vs direct, over many workers so none is busy.
 * @module
 */
import { spawnListening } from "../tests/support/spawn.ts";
import type { LoadClient, TargetSpec, ThroughputAnswer, ThroughputCommand } from "./load.ts";
import { target } from "./load.ts";
import { ensureNginx, startNginx } from "./nginx.ts";
import {
  createWorkers,
  getJson,
  MUTATING,
  postJson,
  type Procs,
  remotesToml,
  type Stoppable,
} from "./procs.ts";
import { proxyRaw, proxyRows, type SetupInfo } from "./proxy_rows.ts";
import type { Row } from "./report.ts";
import { median, round } from "./stats.ts";
import { inputCeilingRow, tokenCosts } from "./input_ceiling.ts";

export interface ProxyConfig {
  rounds: number;
  warmupMs: number;
  windowMs: number;
  concurrency: number;
  /** c=1 interleaved window per round. */
  c1WindowMs: number;
  inputConcurrency: number;
  /** Workers per input connection (each gets input in turn). */
  inputWorkersPerConn: number;
  /** Extra `deno run` flags for the Backend (the profiler). */
  backendDenoArgs?: string[];
}

const FORWARDER = new URL("./forwarder.ts", import.meta.url).pathname;

interface Setup extends SetupInfo {
  targets: Map<string, TargetSpec>;
  input: { direct: TargetSpec; backend: TargetSpec };
  /** Stops every process this setup started. */
  stop(): Promise<void>;
}

/** Starts the runtime, the Backend and the anchors; returns the targets. */
async function setup(procs: Procs, cfg: ProxyConfig): Promise<Setup> {
  const skipped: string[] = [];
  const rt = await procs.runtime({ id: "a" });
  const be = await procs.backend({
    config: remotesToml([{ id: "a", endpoint: rt.url }]),
    denoArgs: cfg.backendDenoArgs,
  });
  const wid = (await postJson<{ worker: { worker_id: string } }>(
    `${rt.url}/v1/workers`,
    {},
    procs.auth,
  )).worker.worker_id;
  const ewid = (await postJson<{ worker: { worker_id: string } }>(
    `${be.url}/api/runtimes/embedded/workers`,
    {},
    MUTATING,
  )).worker.worker_id;
  const path = `/v1/workers/${wid}`;
  const targets = new Map<string, TargetSpec>();
  const watch: Record<string, number[]> = {
    backend: [be.child.pid],
    runtime: [rt.child.pid],
  };
  targets.set("direct", target("direct", rt.url, [path], { headers: procs.auth }));

  const others: Stoppable[] = [];
  const stop = async () => {
    for (const o of others) await procs.stopOther(o);
    await procs.stopAll([be, rt]);
  };
  const nginx = await ensureNginx();
  if ("path" in nginx) {
    const n = await startNginx(procs, nginx.path, rt.port);
    others.push(n);
    targets.set("nginx", target("nginx", n.url, [path], { headers: procs.auth }));
    watch.nginx = n.pids();
  } else {
    skipped.push(`nginx rows skipped: ${nginx.skip}`);
    console.error(`  nginx rows skipped: ${nginx.skip}`);
  }

  const fwd = await spawnListening(
    "forwarder",
    ["run", "--allow-net=127.0.0.1", FORWARDER, rt.url],
    {},
    20_000,
  );
  const forwarder: Stoppable = {
    pids: () => [fwd.child.pid],
    stop: async () => {
      try {
        fwd.child.kill("SIGTERM");
      } catch { /* gone */ }
      await fwd.child.status;
      await fwd.done;
    },
  };
  procs.adopt(forwarder);
  others.push(forwarder);
  const fwdUrl = `http://127.0.0.1:${fwd.port}`;
  targets.set("forwarder", target("forwarder", fwdUrl, [path], { headers: procs.auth }));
  watch.forwarder = [fwd.child.pid];

  targets.set("backend", target("backend", be.url, [`/api/runtimes/a/workers/${wid}`]));
  targets.set(
    "embedded",
    target("embedded", be.url, [`/api/runtimes/embedded/workers/${ewid}`]),
  );

  // Every target answers this very worker (not an error page from a misrouted hop).
  for (const [name, t] of targets) {
    const r = t.requests[0];
    const body = await getJson<{ worker: { worker_id: string } }>(
      `http://${t.host}:${t.port}${r.path}`,
      Object.fromEntries(Object.entries(r.headers).filter(([k]) => k !== "host")),
    );
    const want = name === "embedded" ? ewid : wid;
    if (body.worker?.worker_id !== want) throw new Error(`${name}: answered another worker`);
  }

  // Input: workers on the remote runtime, shared by both sides (idle between windows).
  const n = cfg.inputConcurrency * cfg.inputWorkersPerConn;
  const wids = [];
  for (let i = 0; i < n; i += 32) {
    wids.push(...await createWorkers(rt.url, Math.min(32, n - i), procs.auth));
  }
  const body = JSON.stringify({ text: "hi" });
  const input = {
    direct: target("input-direct", rt.url, wids.map((w) => `/v1/workers/${w}/input`), {
      method: "POST",
      headers: procs.auth,
      body,
      expect: [202],
    }),
    backend: target(
      "input-backend",
      be.url,
      wids.map((w) => `/api/runtimes/a/workers/${w}/input`),
      { method: "POST", headers: MUTATING, body, expect: [202] },
    ),
  };
  return { targets, input, watch, skipped, stop };
}

/** The order of round `r`: the list rotated by `r`. */
function rotated<T>(xs: T[], r: number): T[] {
  const k = r % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

function checkAnswer(name: string, a: ThroughputAnswer, allowBad = 0) {
  if (a.requests === 0) throw new Error(`${name}: no request completed in the window`);
  if (a.bad > allowBad * a.requests) {
    throw new Error(`${name}: ${a.bad} of ${a.requests} answers unexpected: ${a.bad_sample}`);
  }
}

export interface ProxyResult {
  rows: Row[];
  raw: Record<string, unknown>;
}

export async function proxyScenario(
  procs: Procs,
  load: LoadClient,
  cfg: ProxyConfig,
): Promise<ProxyResult> {
  const s = await setup(procs, cfg);
  try {
    return await measure(s, load, cfg);
  } finally {
    await s.stop();
  }
}

/**
 * One timed window; a window in which nothing completed (a process starved
 * for the whole of a short window on an overloaded machine) is run again once,
 * twice as long, before it counts as a failure.
 */
async function window(
  load: LoadClient,
  name: string,
  cmd: ThroughputCommand,
  allowBad = 0,
): Promise<ThroughputAnswer> {
  let a = await load.throughput(cmd);
  if (a.requests === 0) {
    console.error(`  ${name}: nothing completed in a ${cmd.durationMs} ms window; once more`);
    a = await load.throughput({ ...cmd, durationMs: cmd.durationMs * 2 });
  }
  checkAnswer(name, a, allowBad);
  return a;
}

async function measure(s: Setup, load: LoadClient, cfg: ProxyConfig): Promise<ProxyResult> {
  const names = [...s.targets.keys()];
  /** Per target, per round. */
  const tp = new Map<string, ThroughputAnswer[]>(names.map((n) => [n, []]));
  const lat = new Map<string, { p50: number; p99: number }[]>(names.map((n) => [n, []]));
  const inp = { direct: [] as ThroughputAnswer[], backend: [] as ThroughputAnswer[] };
  const clientC1: number[] = [];

  for (let r = 0; r < cfg.rounds; r++) {
    for (const name of rotated(names, r)) {
      tp.get(name)!.push(
        await window(load, name, {
          target: s.targets.get(name)!,
          concurrency: cfg.concurrency,
          warmupMs: cfg.warmupMs,
          durationMs: cfg.windowMs,
          watch: s.watch,
        }),
      );
    }
  }
  for (let r = 0; r < cfg.rounds; r++) {
    const l = await load.latency({
      targets: rotated(names, r).map((n) => s.targets.get(n)!),
      warmupMs: Math.min(cfg.warmupMs, 300),
      durationMs: cfg.c1WindowMs,
    });
    if (l.bad) throw new Error(`c=1: ${l.bad} unexpected answers: ${l.bad_sample}`);
    for (const n of names) lat.get(n)!.push(l.latency[n]);
    clientC1.push(l.client_cpu_us);
  }
  for (let r = 0; r < cfg.rounds; r++) {
    for (const side of r % 2 ? ["backend", "direct"] as const : ["direct", "backend"] as const) {
      // 409 worker_busy would mean a worker got input mid-turn: tolerated, counted.
      inp[side].push(
        await window(load, `input ${side}`, {
          target: s.input[side],
          concurrency: cfg.inputConcurrency,
          warmupMs: cfg.warmupMs,
          durationMs: cfg.windowMs,
          watch: { backend: s.watch.backend, runtime: s.watch.runtime },
        }, 0.01),
      );
    }
  }
  // The token's own cost, timed here between windows: the input ceiling row (informational).
  const costs = await tokenCosts();
  const nginxCpu = median((tp.get("nginx") ?? []).map((a) => a.watched_cpu_us.nginx ?? NaN));
  const ceiling = inputCeilingRow(inp.direct, costs, nginxCpu, cfg.inputConcurrency);
  return {
    rows: [...proxyRows(s, tp, lat, inp, clientC1, cfg), ceiling],
    raw: { ...proxyRaw(tp, lat, inp, s), token_costs_us: costs },
  };
}

/** For `--profile proxy`: only the Backend target at c=N, so the profile is that and nothing else. */
export async function proxyProfileRun(
  procs: Procs,
  load: LoadClient,
  cfg: ProxyConfig,
): Promise<ProxyResult> {
  const s = await setup(procs, cfg);
  try {
    const a = await load.throughput({
      target: s.targets.get("backend")!,
      concurrency: cfg.concurrency,
      warmupMs: cfg.warmupMs,
      durationMs: cfg.windowMs,
      watch: s.watch,
    });
    checkAnswer("backend", a);
    return { rows: [], raw: { backend: { rps: round(a.rps, 0), cpu_us: a.watched_cpu_us } } };
  } finally {
    await s.stop();
  }
}
