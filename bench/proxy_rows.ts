/**
 * The rows of scenario 1 (proxy) from its per-round measurements: the goal
 * rows of issue 15 (`proxy.c32.backend_vs_nginx`, `proxy.c32.backend_cpu_us`,
 * `proxy.c1.p50_added_ms`, `input.c8.backend_vs_direct`,
 * `embedded.c32.vs_direct`, `load.client_cpu_us`) and informational ones.
 * @module
 */
import type { ThroughputAnswer } from "./load.ts";
import type { ProxyConfig } from "./proxy.ts";
import { fmtDelta, fmtMs, fmtRate, fmtRatio, fmtUs, type Row, row } from "./report.ts";
import { median, round } from "./stats.ts";

/** What the rows need to know of the setup. */
export interface SetupInfo {
  /** Lines saying which anchors were skipped and why. */
  skipped: string[];
  /** Process groups whose CPU was read (backend, runtime, nginx, forwarder). */
  watch: Record<string, number[]>;
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

export function proxyRows(
  s: SetupInfo,
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

export function proxyRaw(
  tp: Map<string, ThroughputAnswer[]>,
  lat: Map<string, { p50: number; p99: number }[]>,
  inp: { direct: ThroughputAnswer[]; backend: ThroughputAnswer[] },
  s: SetupInfo,
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
