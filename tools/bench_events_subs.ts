/**
 * Issue 15, shared event streams: many WebSocket subscribers on one worker,
 * direct to the runtime vs through the Backend, with an optional second
 * Backend built from older code ("before") measured in the same run.
 *
 *   deno run -A tools/bench_events_subs.ts [--subs 50] [--chars 600] [--delay-ms 5]
 *     [--rounds 3] [--before DIR]
 *
 * DIR is a checkout of the code to compare with, e.g.
 *   git archive <commit> | tar -x -C /tmp/yoi-before && ln -s "$PWD/node_modules" /tmp/yoi-before/
 *
 * One runtime (fs store) runs a worker whose echo profile emits one
 * `output.delta` per character every `delay-ms` (the producer's fixed rate).
 * Per round and target, `subs` sockets open at the worker's last seq, one turn
 * is sent, and every socket reads to `turn.completed`. Targets run one at a
 * time, in rotated order. Latency = receive time − the event's `at` (same
 * machine clock, 1 ms resolution); events/s = deltas received by all sockets /
 * (last delta received − input sent). Not a pass/fail test: the official row
 * lives in `deno task bench` (bench/).
 * @module
 */
import { parseArgs } from "node:util";
import { RuntimeProcess } from "../tests/support/runtime_process.ts";
import { spawnListening } from "../tests/support/spawn.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: Object.fromEntries(
    ["subs", "chars", "delay-ms", "rounds", "before", "json"].map((k) => [k, { type: "string" }]),
  ) as Record<string, { type: "string" }>,
});
const SUBS = Number(args.subs ?? 50);
const CHARS = Number(args.chars ?? 600);
const DELAY_MS = Number(args["delay-ms"] ?? 5);
const ROUNDS = Number(args.rounds ?? 3);
const TURN_TIMEOUT_MS = 120_000;
const HERE = new URL("..", import.meta.url).pathname;

const now = () => performance.timeOrigin + performance.now();

function cpuMs(pid: number): number {
  try {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    const tick = 100; // USER_HZ on Linux
    return ((Number(f[11]) + Number(f[12])) * 1000) / tick;
  } catch {
    return NaN;
  }
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const median = (xs: number[]) => pct(xs, 50);

interface Result {
  deltas: number;
  latencies: number[];
  lastDeltaRecv: number;
  controls: number;
  lagging: number;
}

/** One subscriber reading until `turn.completed`. */
function subscriber(url: string, opened: (ok: boolean) => void): Promise<Result> {
  const r: Result = { deltas: 0, latencies: [], lastDeltaRecv: 0, controls: 0, lagging: 0 };
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error("turn not read in time"));
    }, TURN_TIMEOUT_MS);
    ws.onopen = () => opened(true);
    ws.onerror = () => opened(false);
    ws.onmessage = (m) => {
      const t = now();
      const f = JSON.parse(m.data as string);
      if (f.seq === undefined) {
        r.controls++;
        if (f.code === "stream_lagging") r.lagging++;
        return;
      }
      if (f.type === "output.delta") {
        r.deltas++;
        r.lastDeltaRecv = t;
        r.latencies.push(t - Date.parse(f.at));
      } else if (f.type === "turn.completed" || f.type === "turn.failed") {
        clearTimeout(timer);
        ws.close();
        resolve(r);
      }
    };
    ws.onclose = () => {
      clearTimeout(timer);
      resolve(r);
    };
  });
}

interface Target {
  name: string;
  url: (wid: string) => string;
  pid: number | null;
}

async function startBackend(root: string, runtimeUrl: string, label: string) {
  const stateDir = await Deno.makeTempDir({ prefix: `yoi-evbench-${label}-` });
  await Deno.writeTextFile(
    `${stateDir}/workspace-backend.local.toml`,
    `[[runtimes.remote]]\nid = "s"\nendpoint = "${runtimeUrl}"\n`,
  );
  const p = await spawnListening(
    label,
    [
      "run",
      "-A",
      `${root}/main.ts`,
      "--state-dir",
      stateDir,
      "--listen",
      "127.0.0.1:0",
      "--embedded-store",
      "memory",
    ],
    {},
    60_000,
  );
  return { ...p, stateDir };
}

async function main() {
  const dataDir = await Deno.makeTempDir({ prefix: "yoi-evbench-rt-" });
  const rt = await RuntimeProcess.start({
    id: "s",
    store: "fs",
    dataDir,
    config: `[profiles.stream]\nengine = "echo"\nchunk_chars = 1\ndelay_ms = ${DELAY_MS}\n`,
  });
  const backends = [await startBackend(HERE, rt.url, "after")];
  if (args.before) backends.push(await startBackend(args.before, rt.url, "before"));
  try {
    const ws = (base: string) => base.replace(/^http/, "ws");
    const targets: Target[] = [
      { name: "direct", url: (w) => `${ws(rt.url)}/v1/workers/${w}/events`, pid: null },
      ...backends.map((b, i) => ({
        name: i === 0 ? "after (this tree)" : "before",
        url: (w: string) =>
          `${ws(`http://127.0.0.1:${b.port}`)}/api/runtimes/s/workers/${w}/events`,
        pid: b.child.pid,
      })),
    ];
    const res = await fetch(`${rt.url}/v1/workers`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ profile: "stream" }),
    });
    const wid = (await res.json()).worker.worker_id as string;
    const lastSeq = async () =>
      (await (await fetch(`${rt.url}/v1/workers/${wid}`)).json()).worker.last_seq as number;

    const turn = async (t: Target) => {
      const after = await lastSeq();
      const opens: Promise<boolean>[] = [];
      const subs: Promise<Result>[] = [];
      for (let i = 0; i < SUBS; i++) {
        let ok!: (v: boolean) => void;
        opens.push(new Promise((r) => ok = r));
        subs.push(subscriber(`${t.url(wid)}?after=${after}`, ok));
      }
      if (!(await Promise.all(opens)).every(Boolean)) throw new Error(`${t.name}: open failed`);
      await new Promise((r) => setTimeout(r, 300)); // upstreams connected
      const cpu0 = t.pid ? cpuMs(t.pid) : NaN;
      const sentAt = now();
      await (await fetch(`${rt.url}/v1/workers/${wid}/input`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "x".repeat(CHARS) }),
      })).body?.cancel();
      const results = await Promise.all(subs);
      const cpu1 = t.pid ? cpuMs(t.pid) : NaN;
      const deltas = results.reduce((n, r) => n + r.deltas, 0);
      const end = Math.max(...results.map((r) => r.lastDeltaRecv));
      // Let the worker settle (its last status event) before the next turn.
      for (let i = 0; i < 100; i++) {
        const w = (await (await fetch(`${rt.url}/v1/workers/${wid}`)).json()).worker;
        if (w.status === "idle") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      return {
        latencies: results.flatMap((r) => r.latencies),
        eventsPerS: deltas / ((end - sentAt) / 1000),
        complete: deltas === SUBS * CHARS,
        lagging: results.reduce((n, r) => n + r.lagging, 0),
        backendCpuMs: cpu1 - cpu0,
      };
    };

    // Warm-up: one turn per target, not counted.
    for (const t of targets) await turn(t);
    const per: Record<string, { p50: number[]; p99: number[]; eps: number[]; cpu: number[] }> = {};
    const notes: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = targets.map((_, i) => targets[(i + r) % targets.length]);
      for (const t of order) {
        const m = await turn(t);
        const acc = per[t.name] ??= { p50: [], p99: [], eps: [], cpu: [] };
        acc.p50.push(pct(m.latencies, 50));
        acc.p99.push(pct(m.latencies, 99));
        acc.eps.push(m.eventsPerS);
        acc.cpu.push(m.backendCpuMs);
        if (!m.complete || m.lagging) {
          notes.push(`${t.name} round ${r}: complete=${m.complete} lagging drops=${m.lagging}`);
        }
        console.error(
          `round ${r} ${t.name}: p50 ${pct(m.latencies, 50).toFixed(1)} ms, p99 ${
            pct(m.latencies, 99).toFixed(1)
          } ms, ${m.eventsPerS.toFixed(0)} ev/s`,
        );
      }
    }
    const d = per.direct;
    const rows = targets.map((t) => {
      const x = per[t.name];
      const p50 = median(x.p50), p99 = median(x.p99), eps = median(x.eps);
      return {
        target: t.name,
        p50_ms: +p50.toFixed(1),
        p99_ms: +p99.toFixed(1),
        p50_added_ms: +(p50 - median(d.p50)).toFixed(1),
        p99_added_ms: +(p99 - median(d.p99)).toFixed(1),
        events_per_s: Math.round(eps),
        vs_direct: +(eps / median(d.eps)).toFixed(3),
        backend_cpu_ms_per_turn: t.pid ? Math.round(median(x.cpu)) : null,
      };
    });
    console.log(
      `\n${SUBS} subscribers, one worker, ${CHARS} deltas per turn at ${DELAY_MS} ms ` +
        `(producer ≈ ${
          Math.round(1000 / Math.max(DELAY_MS, 0.001))
        } ev/s), medians of ${ROUNDS} rounds\n`,
    );
    console.log(
      "| target | p50 ms | p99 ms | p50 added | p99 added | total ev/s | vs direct | Backend CPU ms/turn |",
    );
    console.log("|---|---|---|---|---|---|---|---|");
    for (const r of rows) {
      console.log(
        `| ${r.target} | ${r.p50_ms} | ${r.p99_ms} | ${r.p50_added_ms} | ${r.p99_added_ms} | ` +
          `${r.events_per_s} | ${r.vs_direct}× | ${r.backend_cpu_ms_per_turn ?? "–"} |`,
      );
    }
    for (const n of notes) console.log(`note: ${n}`);
    if (args.json) {
      await Deno.writeTextFile(
        args.json,
        JSON.stringify(
          { subs: SUBS, chars: CHARS, delay_ms: DELAY_MS, rounds: ROUNDS, rows },
          null,
          2,
        ),
      );
    }
  } finally {
    for (const b of backends) {
      try {
        b.child.kill("SIGKILL");
      } catch { /* gone */ }
      await b.child.status;
      await b.done;
      await Deno.remove(b.stateDir, { recursive: true }).catch(() => {});
    }
    await rt.kill("SIGKILL");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

await main();
