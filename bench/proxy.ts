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
import type { LoadClient, TargetSpec, ThroughputAnswer } from "./load.ts";
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
import { fmtDelta, fmtMs, fmtRate, fmtRatio, fmtUs, type Row, row } from "./report.ts";
import { median, round } from "./stats.ts";

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

interface Setup {
  targets: Map<string, TargetSpec>;
  input: { direct: TargetSpec; backend: TargetSpec };
  watch: Record<string, number[]>;
  skipped: string[];
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

async function measure(s: Setup, load: LoadClient, cfg: ProxyConfig): Promise<ProxyResult> {
  const names = [...s.targets.keys()];
  /** Per target, per round. */
  const tp = new Map<string, ThroughputAnswer[]>(names.map((n) => [n, []]));
  const lat = new Map<string, { p50: number; p99: number }[]>(names.map((n) => [n, []]));
  const inp = { direct: [] as ThroughputAnswer[], backend: [] as ThroughputAnswer[] };
  const clientC1: number[] = [];

  for (let r = 0; r < cfg.rounds; r++) {
    for (const name of rotated(names, r)) {
      const a = await load.throughput({
        target: s.targets.get(name)!,
        concurrency: cfg.concurrency,
        warmupMs: cfg.warmupMs,
        durationMs: cfg.windowMs,
        watch: s.watch,
      });
      checkAnswer(name, a);
      tp.get(name)!.push(a);
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
      const a = await load.throughput({
        target: s.input[side],
        concurrency: cfg.inputConcurrency,
        warmupMs: cfg.warmupMs,
        durationMs: cfg.windowMs,
        watch: { backend: s.watch.backend, runtime: s.watch.runtime },
      });
      // 409 worker_busy would mean a worker got input mid-turn: tolerated, counted.
      checkAnswer(`input ${side}`, a, 0.01);
      inp[side].push(a);
    }
  }
  return { rows: proxyRows(s, tp, lat, inp, clientC1, cfg), raw: proxyRaw(tp, lat, inp, s) };
}

const rps = (a: ThroughputAnswer) => a.rps;
const names = (tp: Map<string, unknown>) => [...tp.keys()];

/** Per-round ratio of two targets' req/s (NaN when one was not measured). */
function ratios(tp: Map<string, ThroughputAnswer[]>, num: string, den: string): number[] {
  const a = tp.get(num);
  const b = tp.get(den);
  if (!a || !b) return [];
  return a.map((x, i) => x.rps / b[i].rps);
}

function proxyRows(
  s: Setup,
  tp: Map<string, ThroughputAnswer[]>,
  lat: Map<string, { p50: number; p99: number }[]>,
  inp: { direct: ThroughputAnswer[]; backend: ThroughputAnswer[] },
  clientC1: number[],
  cfg: ProxyConfig,
): Row[] {
  const S = "1 proxy";
  const c = cfg.concurrency;
  const med = (name: string, f: (a: ThroughputAnswer) => number) =>
    median((tp.get(name) ?? []).map(f));
  const cpu = (name: string, proc: string) => med(name, (a) => a.watched_cpu_us[proc] ?? NaN);
  const hasNginx = tp.has("nginx");
  const skipNote = s.skipped.join("; ") || undefined;
  const rows: Row[] = [];

  const vsNginx = ratios(tp, "backend", "nginx");
  rows.push(row({
    id: "proxy.c32.backend_vs_nginx",
    scenario: S,
    metric: `GET worker detail via Backend, c=${c}: req/s vs nginx`,
    value: median(vsNginx),
    unit: "×",
    target: { op: ">=", value: 0.6 },
    baseline: { name: "nginx", value: med("nginx", rps), unit: "req/s" },
    samples: vsNginx,
    show: {
      baseline: hasNginx ? `nginx ${fmtRate(med("nginx", rps))}` : "nginx skipped",
      measured: fmtRate(med("backend", rps)),
      compare: fmtRatio(median(vsNginx)),
    },
    note: hasNginx ? undefined : skipNote,
  }));
  const beCpu = (tp.get("backend") ?? []).map((a) => a.watched_cpu_us.backend);
  rows.push(row({
    id: "proxy.c32.backend_cpu_us",
    scenario: S,
    metric: `Backend CPU per proxied GET, c=${c} (utime+stime / requests)`,
    value: median(beCpu),
    unit: "µs",
    target: { op: "<=", value: 50 },
    baseline: { name: "nginx", value: cpu("nginx", "nginx"), unit: "µs" },
    samples: beCpu,
    show: {
      baseline: hasNginx ? `nginx ${fmtUs(cpu("nginx", "nginx"))}` : "nginx skipped",
      measured: fmtUs(median(beCpu)),
      compare: `forwarder ${fmtUs(cpu("forwarder", "forwarder"))}`,
    },
  }));
  const added = (lat.get("backend") ?? []).map((b, i) => b.p50 - lat.get("direct")![i].p50);
  rows.push(row({
    id: "proxy.c1.p50_added_ms",
    scenario: S,
    metric: "GET worker detail via Backend, c=1: p50 added over direct",
    value: median(added),
    unit: "ms",
    target: { op: "<=", value: 0.15 },
    baseline: {
      name: "direct p50",
      value: median(lat.get("direct")!.map((x) => x.p50)),
      unit: "ms",
    },
    samples: added,
    show: {
      baseline: `direct ${fmtMs(median(lat.get("direct")!.map((x) => x.p50)))}`,
      measured: fmtMs(median(lat.get("backend")!.map((x) => x.p50))),
      compare: fmtDelta(median(added)),
    },
  }));
  const inRatio = inp.backend.map((b, i) => b.rps / inp.direct[i].rps);
  rows.push(row({
    id: "input.c8.backend_vs_direct",
    scenario: S,
    metric: `POST input via Backend vs direct, c=${cfg.inputConcurrency}: req/s`,
    value: median(inRatio),
    unit: "×",
    target: { op: ">=", value: 0.8 },
    baseline: { name: "direct", value: median(inp.direct.map(rps)), unit: "req/s" },
    samples: inRatio,
    show: {
      baseline: `direct ${fmtRate(median(inp.direct.map(rps)))}`,
      measured: fmtRate(median(inp.backend.map(rps))),
      compare: fmtRatio(median(inRatio)),
    },
    note: `CPU per input: Backend ${
      fmtUs(median(inp.backend.map((a) => a.watched_cpu_us.backend)))
    }, runtime ${fmtUs(median(inp.backend.map((a) => a.watched_cpu_us.runtime)))} via Backend vs ${
      fmtUs(median(inp.direct.map((a) => a.watched_cpu_us.runtime)))
    } direct; ${
      [...inp.direct, ...inp.backend].reduce((n, a) => n + a.bad, 0)
    } answers were not 202 (worker busy)`,
  }));
  const emb = ratios(tp, "embedded", "direct");
  rows.push(row({
    id: "embedded.c32.vs_direct",
    scenario: S,
    metric: `GET worker detail of an embedded worker via Backend, c=${c}: req/s vs direct`,
    value: median(emb),
    unit: "×",
    target: { op: ">=", value: 0.9 },
    baseline: { name: "direct", value: med("direct", rps), unit: "req/s" },
    samples: emb,
    show: {
      baseline: `direct ${fmtRate(med("direct", rps))}`,
      measured: fmtRate(med("embedded", rps)),
      compare: fmtRatio(median(emb)),
    },
    note: "direct = the same Runtime library served by its own runtime process over HTTP",
  }));

  // Informational rows: every anchor's req/s and CPU split, the client's own cost.
  for (const name of ["direct", "nginx", "forwarder", "backend", "embedded"]) {
    if (!tp.has(name)) continue;
    const vsDirect = ratios(tp, name, "direct");
    const procs = Object.keys(s.watch).filter((p) =>
      name === "embedded" ? p === "backend" : p === "runtime" || p === name
    );
    const split = [`client ${fmtUs(med(name, (a) => a.client_cpu_us))}`]
      .concat(procs.map((p) => `${p} ${fmtUs(cpu(name, p))}`)).join(" + ");
    rows.push(row({
      id: `proxy.c32.${name}_rps`,
      scenario: S,
      metric: `GET worker detail, c=${c}, ${name}: req/s`,
      value: med(name, rps),
      unit: "req/s",
      target: null,
      baseline: { name: "direct", value: med("direct", rps), unit: "req/s" },
      samples: (tp.get(name) ?? []).map(rps),
      show: {
        baseline: `direct ${fmtRate(med("direct", rps))}`,
        measured: fmtRate(med(name, rps)),
        compare: fmtRatio(median(vsDirect)),
      },
      values: Object.fromEntries(
        ["client", ...procs].map((p) => [
          `${p}_cpu_us`,
          round(p === "client" ? med(name, (a) => a.client_cpu_us) : cpu(name, p), 1),
        ]),
      ),
      note: `CPU per request: ${split}`,
    }));
  }
  const rtVia = cpu("backend", "runtime");
  const rtDirect = cpu("direct", "runtime");
  rows.push(row({
    id: "proxy.c32.runtime_cpu_via_backend_vs_direct",
    scenario: S,
    metric: "runtime CPU per GET when the Backend calls it vs called directly",
    value: rtVia / rtDirect,
    unit: "×",
    target: null,
    baseline: { name: "direct", value: rtDirect, unit: "µs" },
    samples: (tp.get("backend") ?? []).map((a, i) =>
      a.watched_cpu_us.runtime / tp.get("direct")![i].watched_cpu_us.runtime
    ),
    show: {
      baseline: `direct ${fmtUs(rtDirect)}`,
      measured: fmtUs(rtVia),
      compare: fmtRatio(rtVia / rtDirect),
    },
    note: "direct calls carry a bearer token; the Backend's carry a read-scoped capability token",
  }));
  const p99Added = (lat.get("backend") ?? []).map((b, i) => b.p99 - lat.get("direct")![i].p99);
  rows.push(row({
    id: "proxy.c1.p99_added_ms",
    scenario: S,
    metric: "GET worker detail via Backend, c=1: p99 added over direct",
    value: median(p99Added),
    unit: "ms",
    target: null,
    baseline: {
      name: "direct p99",
      value: median(lat.get("direct")!.map((x) => x.p99)),
      unit: "ms",
    },
    samples: p99Added,
    show: {
      baseline: `direct ${fmtMs(median(lat.get("direct")!.map((x) => x.p99)))}`,
      measured: fmtMs(median(lat.get("backend")!.map((x) => x.p99))),
      compare: fmtDelta(median(p99Added)),
    },
    note: `c=1 p50 of the other paths: ${
      [...lat].map(([n, v]) => `${n} ${fmtMs(median(v.map((x) => x.p50)))}`).join(", ")
    }`,
  }));
  // The client's cost matters where it could bound the result: the fastest target (direct).
  const clientUs = (tp.get("direct") ?? []).map((a) => a.client_cpu_us);
  const perTarget = names(tp).map((n) => `${n} ${fmtUs(med(n, (a) => a.client_cpu_us))}`)
    .join(", ");
  rows.push(row({
    id: "load.client_cpu_us",
    scenario: S,
    metric: `load client's own CPU per request, c=${c}, direct windows`,
    value: median(clientUs),
    unit: "µs",
    target: { op: "<=", value: 20 },
    baseline: null,
    samples: clientUs,
    show: {
      baseline: "—",
      measured: fmtUs(median(clientUs)),
      compare: `c=1 ${fmtUs(median(clientC1))}`,
    },
    note: "raw keep-alive HTTP/1.1 over Deno.connect in its own process (bench/load_client.ts); " +
      `per target: ${perTarget} (a slower server wakes the client once per answer, so its ` +
      "cost per request rises where it is idle most of the time)",
  }));
  return rows;
}

function proxyRaw(
  tp: Map<string, ThroughputAnswer[]>,
  lat: Map<string, { p50: number; p99: number }[]>,
  inp: { direct: ThroughputAnswer[]; backend: ThroughputAnswer[] },
  s: Setup,
): Record<string, unknown> {
  const slim = (a: ThroughputAnswer) => ({
    requests: a.requests,
    rps: round(a.rps, 0),
    client_cpu_us: round(a.client_cpu_us, 1),
    cpu_us: Object.fromEntries(Object.entries(a.watched_cpu_us).map(([k, v]) => [k, round(v, 1)])),
    bad: a.bad,
  });
  return {
    skipped: s.skipped,
    c32_rounds: Object.fromEntries([...tp].map(([k, v]) => [k, v.map(slim)])),
    c1_rounds_ms: Object.fromEntries(
      [...lat].map(([k, v]) => [k, v.map((x) => ({ p50: round(x.p50, 3), p99: round(x.p99, 3) }))]),
    ),
    input_rounds: { direct: inp.direct.map(slim), backend: inp.backend.map(slim) },
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
