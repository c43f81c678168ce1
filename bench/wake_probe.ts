/**
 * Where the fan-out's runtime CPU goes (issue 15, `fanout.n32_vs_n1`): the CPU one process
 * spends per request when requests come back to back (warm) and when they come 20 ms apart,
 * as each of the 32 runtimes of the fan-out sees them (one list per `GET /api/workers`). Two
 * servers side by side, alternating: a runtime with 50 workers answering `GET /v1/workers`
 * with 304 (`If-None-Match`), and a bare `Deno.serve` answering 304 — the floor of any Deno
 * process. CPU is the server's `utime+stime` (all threads, schedstat), not wall time.
 *
 *   deno run -A bench/wake_probe.ts
 * @module
 */
import { RuntimeProcess } from "../tests/support/runtime_process.ts";
import { cpuMs } from "./procs.ts";

const TOKEN = "wake-probe-token";
const ROUNDS = 3;

const rt = await RuntimeProcess.start({ id: "wake", token: TOKEN });
const auth = { authorization: `Bearer ${TOKEN}` };
const bare = new Deno.Command(Deno.execPath(), {
  args: [
    "eval",
    `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen(a) { console.log(a.port); } },
      () => new Response(null, { status: 304 }));`,
  ],
  stdout: "piped",
}).spawn();
try {
  const line = await bare.stdout.pipeThrough(new TextDecoderStream()).getReader().read();
  const bareUrl = `http://127.0.0.1:${Number(line.value!.trim())}/`;
  for (let i = 0; i < 50; i++) {
    const r = await fetch(`${rt.url}/v1/workers`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: "{}",
    });
    await r.body?.cancel();
  }
  const first = await fetch(`${rt.url}/v1/workers`, { headers: auth });
  await first.body?.cancel();
  const conditional = { ...auth, "if-none-match": first.headers.get("etag")! };

  /** CPU µs per request of `pid` over `n` requests `gapMs` apart (each answer must be 304). */
  const measure = async (url: string, headers: HeadersInit, pid: number, n: number, gapMs = 0) => {
    const c0 = cpuMs(pid);
    for (let i = 0; i < n; i++) {
      const r = await fetch(url, { headers });
      await r.body?.cancel();
      if (r.status !== 304) throw new Error(`HTTP ${r.status}, want 304`);
      if (gapMs) await new Promise((res) => setTimeout(res, gapMs));
    }
    return ((cpuMs(pid) - c0) * 1000) / n;
  };
  const sides = [
    ["runtime GET /v1/workers → 304", `${rt.url}/v1/workers`, conditional, rt.child.pid],
    ["bare Deno.serve → 304", bareUrl, {}, bare.pid],
  ] as const;
  for (const [, url, h, pid] of sides) await measure(url, h, pid, 300); // warm-up
  const out = new Map<string, { warm: number[]; apart: number[] }>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, url, h, pid] of sides) {
      const o = out.get(name) ?? { warm: [], apart: [] };
      o.warm.push(await measure(url, h, pid, 300));
      o.apart.push(await measure(url, h, pid, 50, 20));
      out.set(name, o);
    }
  }
  const load = Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
  console.log(`CPU per request (µs), ${ROUNDS} rounds each, load average ${load}\n`);
  console.log("| server | back to back | 20 ms apart |\n|---|---|---|");
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(" / ");
  for (const [name, o] of out) console.log(`| ${name} | ${fmt(o.warm)} | ${fmt(o.apart)} |`);
} finally {
  bare.kill();
  await bare.status;
  await rt.kill();
}
