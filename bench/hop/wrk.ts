/**
 * Load for the REST-hop measurements of issue 15 (`bench/hop/`): Debian's `wrk` (C, a few
 * µs per request, so the client is never the bottleneck) driven one short window at a time,
 * with the CPU each watched process spent in the same window.
 * @module
 */
import { cpuMs } from "../procs.ts";

export interface Target {
  name: string;
  url: string;
  headers?: Record<string, string>;
  /** A wrk Lua script (e.g. POST bodies cycling over workers). */
  script?: string;
  /** Pids whose CPU per request is reported, by label. */
  watch: Record<string, number>;
}

export interface Window {
  rps: number;
  requests: number;
  /** wrk's latency percentiles, ms. */
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU µs per request per watched label, and `wrk` itself. */
  cpuUs: Record<string, number>;
}

function parseDuration(s: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "ms" ? v : m[2] === "s" ? v * 1000 : v * 60_000;
}

/** One wrk window against `t`. */
export async function wrk(
  t: Target,
  concurrency: number,
  seconds: number,
): Promise<Window> {
  const args = ["-t1", `-c${concurrency}`, `-d${seconds}s`, "--latency"];
  for (const [k, v] of Object.entries(t.headers ?? {})) args.push("-H", `${k}: ${v}`);
  if (t.script) args.push("-s", t.script);
  args.push(t.url);
  const before = Object.fromEntries(Object.entries(t.watch).map(([k, pid]) => [k, cpuMs(pid)]));
  const child = new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).spawn();
  const wrkPid = child.pid;
  let wrkCpu = 0;
  // wrk's own CPU, sampled just before it exits (its /proc entry goes away after).
  const sampler = setInterval(() => {
    const v = cpuMs(wrkPid);
    if (Number.isFinite(v)) wrkCpu = v;
  }, 100);
  const out = await child.output();
  clearInterval(sampler);
  const after = Object.fromEntries(Object.entries(t.watch).map(([k, pid]) => [k, cpuMs(pid)]));
  const text = new TextDecoder().decode(out.stdout);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const p50 = parseDuration(/\s50%\s+(\S+)/.exec(text)?.[1] ?? "");
  const p99 = parseDuration(/\s99%\s+(\S+)/.exec(text)?.[1] ?? "");
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const e = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const errors = e ? e.slice(1).reduce((a, x) => a + Number(x), 0) : 0;
  if (!Number.isFinite(requests)) throw new Error(`wrk ${t.name}: ${text}`);
  const cpuUs: Record<string, number> = {};
  for (const k of Object.keys(t.watch)) cpuUs[k] = (after[k] - before[k]) * 1000 / requests;
  cpuUs.wrk = wrkCpu * 1000 / requests;
  return { rps, requests, p50, p99, non2xx, errors, cpuUs };
}

export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Rounds of one window per target, the order rotated each round so drift on a shared
 * machine hits every target alike; medians per target.
 */
export async function rotated(
  targets: Target[],
  concurrency: number,
  seconds: number,
  rounds: number,
  warmupSeconds = 1,
): Promise<Map<string, Window & { windows: Window[] }>> {
  for (const t of targets) await wrk(t, concurrency, warmupSeconds);
  const all = new Map<string, Window[]>(targets.map((t) => [t.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(k + r) % targets.length];
      const w = await wrk(t, concurrency, seconds);
      all.get(t.name)!.push(w);
      console.error(
        `  ${t.name} c=${concurrency}: ${w.rps.toFixed(0)} req/s p50 ${w.p50.toFixed(3)} ms ` +
          Object.entries(w.cpuUs).map(([k, v]) => `${k} ${v.toFixed(1)}µs`).join(" ") +
          (w.non2xx || w.errors ? ` non2xx ${w.non2xx} errors ${w.errors}` : ""),
      );
    }
  }
  const out = new Map<string, Window & { windows: Window[] }>();
  for (const [name, ws] of all) {
    const cpu: Record<string, number> = {};
    for (const k of Object.keys(ws[0].cpuUs)) cpu[k] = median(ws.map((w) => w.cpuUs[k]));
    out.set(name, {
      rps: median(ws.map((w) => w.rps)),
      requests: ws.reduce((a, w) => a + w.requests, 0),
      p50: median(ws.map((w) => w.p50)),
      p99: median(ws.map((w) => w.p99)),
      non2xx: ws.reduce((a, w) => a + w.non2xx, 0),
      errors: ws.reduce((a, w) => a + w.errors, 0),
      cpuUs: cpu,
      windows: ws,
    });
  }
  return out;
}

/** A CPU figure for a table cell. */
export function fmt(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(1);
}
