/**
 * A standalone probe (not part of `deno task bench`): runtime restart cost on an fs store
 * with 1,000 workers and ~1k vs ~100k stored events, and FsStore append throughput with
 * 8 concurrent writers, for two checkouts side by side (e.g. `main` and a branch).
 *
 *   deno run -A bench/restart_probe.ts --impl before=/work/main --impl after=. [--rounds 3]
 *
 * Each checkout seeds its own data folders through its own `FsStore` (closed gracefully),
 * then every round starts each (checkout, size) in rotation, in a fresh process:
 * `open` is `Runtime.open` timed inside the process; `ready` is spawn of
 * `runtime/main.ts --store fs` to its first 200 on `GET /v1/runtime`.
 * @module
 */
import { join, resolve } from "node:path";
import process from "node:process";

const WORKERS = 1_000;
/** Events per worker: 1 (~1k in all) and 100 (~100k in all). */
const SIZES = [1, 100];
const WRITERS = 8;
const APPENDS_PER_WRITER = 4_000;

interface RuntimeLib {
  // deno-lint-ignore no-explicit-any
  Runtime: any;
  // deno-lint-ignore no-explicit-any
  FsStore: any;
}

async function lib(impl: string): Promise<RuntimeLib> {
  return await import(`file://${resolve(impl)}/runtime/mod.ts`);
}

function workerId(n: number): string {
  // UUIDv7 shaped, sorted by n.
  const hex = n.toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${"0".repeat(12)}`;
}

/** The events an echo worker writes: created, idle, then turns of 7 events. */
function eventsFor(id: string, n: number) {
  const at = new Date().toISOString();
  const out: Record<string, unknown>[] = [];
  const push = (type: string, data: Record<string, unknown>) =>
    out.length < n && out.push({ seq: out.length + 1, worker_id: id, at, type, data });
  push("worker.created", { profile: "echo", display_name: "probe" });
  push("worker.status", { status: "idle" });
  for (let turn = 1; out.length < n; turn++) {
    push("input.accepted", { text: `instruction number ${turn}` });
    push("worker.status", { status: "busy" });
    push("turn.started", { turn });
    push("output.delta", { text: "the first half of an answer, about forty ch" });
    push("output.delta", { text: "and the second half of the same answer here" });
    push("turn.completed", { turn });
    push("worker.status", { status: "idle" });
  }
  return out;
}

async function seed(impl: string, dir: string, perWorker: number): Promise<void> {
  const { FsStore } = await lib(impl);
  const store = new FsStore(dir);
  await store.open();
  for (let i = 0; i < WORKERS; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, WORKERS - i) }, async (_, k) => {
      const id = workerId(i + k + 1);
      await store.createWorker({
        worker_id: id,
        profile: "echo",
        display_name: "probe",
        created_at: new Date().toISOString(),
      });
      const evs = eventsFor(id, perWorker);
      for (let s = 0; s < evs.length; s += 10) await store.append(id, evs.slice(s, s + 10));
    }));
  }
  await store.flush();
  await store.close();
}

/** Wall ms of `Runtime.open`, and the process CPU ms it took (all threads). */
async function openOnce(impl: string, dir: string): Promise<{ ms: number; cpuMs: number }> {
  const { Runtime, FsStore } = await lib(impl);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const rt = await Runtime.open({ runtimeId: "probe", store: new FsStore(dir) });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  if (rt.summary().worker_count !== WORKERS) throw new Error("wrong worker count");
  await rt.shutdown();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function readyOnce(impl: string, dir: string): Promise<number> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${resolve(impl)}/runtime/main.ts`,
      "--id",
      "probe",
      "--listen",
      `127.0.0.1:${port}`,
      "--store",
      "fs",
      "--data-dir",
      dir,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  child.status.then(() => exited = true);
  try {
    for (let i = 0; i < 20_000 && !exited; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1/runtime`);
        const body = await res.json();
        if (res.status === 200 && body.runtime?.runtime_id === "probe") {
          return performance.now() - t0;
        }
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error(`runtime did not come up (${exited ? "it exited" : "timeout"})`);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  }
}

/**
 * Events/s with 8 writers, each awaiting its appends (on one worker, or one worker each), and
 * the process CPU per event (less disturbed than wall time by other load on the machine).
 */
async function appendRate(
  impl: string,
  dir: string,
  shared: boolean,
): Promise<{ rate: number; cpuUs: number }> {
  const { FsStore } = await lib(impl);
  const store = new FsStore(dir);
  await store.open();
  const ids = Array.from({ length: shared ? 1 : WRITERS }, (_, i) => workerId(i + 1));
  for (const id of ids) {
    await store.createWorker({
      worker_id: id,
      profile: "echo",
      display_name: "probe",
      created_at: new Date().toISOString(),
    });
  }
  const seqs = ids.map(() => 0);
  const at = new Date().toISOString();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
    const k = shared ? 0 : w;
    for (let i = 0; i < APPENDS_PER_WRITER; i++) {
      const ev = {
        seq: ++seqs[k],
        worker_id: ids[k],
        at,
        type: "output.delta",
        data: { text: "a chunk of output of about forty characters" },
      };
      await store.append(ids[k], [ev]);
    }
  }));
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  await store.close();
  const n = WRITERS * APPENDS_PER_WRITER;
  return { rate: n / s, cpuUs: (cpu.user + cpu.system) / n };
}

async function child(args: string[]): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`child ${args.join(" ")} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function orchestrate(impls: [string, string][], rounds: number): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "yoi-restart-probe-" });
  try {
    const dirs = new Map<string, string>();
    for (const [name, path] of impls) {
      for (const n of SIZES) {
        const dir = join(root, `${name}-${n}`);
        const t0 = performance.now();
        await child(["seed", path, dir, String(n)]);
        console.error(`seeded ${name} ${n}/worker in ${(performance.now() - t0).toFixed(0)} ms`);
        // A first start after seeding (builds whatever the checkout builds), not measured.
        await child(["open", path, dir]);
        dirs.set(`${name}-${n}`, dir);
      }
    }
    const open = new Map<string, number[]>();
    const openCpu = new Map<string, number[]>();
    const ready = new Map<string, number[]>();
    const rate = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    const cases = impls.flatMap(([name, path]) => SIZES.map((n) => ({ name, path, n })));
    for (let r = 0; r < rounds; r++) {
      // Rotate the order each round so no case always runs first.
      const order = cases.map((_, i) => cases[(i + r) % cases.length]);
      for (const c of order) {
        const key = `${c.name}-${c.n}`;
        const o = await child(["open", c.path, dirs.get(key)!]) as { ms: number; cpuMs: number };
        const ms = await readyOnce(c.path, dirs.get(key)!);
        open.set(key, [...open.get(key) ?? [], o.ms]);
        openCpu.set(key, [...openCpu.get(key) ?? [], o.cpuMs]);
        ready.set(key, [...ready.get(key) ?? [], ms]);
      }
      for (let i = 0; i < impls.length; i++) {
        const [name, path] = impls[(i + r) % impls.length];
        for (const shared of [true, false]) {
          const dir = join(root, `append-${name}-${r}-${shared}`);
          const v = await child(["append", path, dir, String(shared)]) as {
            rate: number;
            cpuUs: number;
          };
          const key = `${name} ${shared ? "1 worker" : "8 workers"}`;
          rate.set(key, [...rate.get(key) ?? [], v.rate]);
          cpu.set(key, [...cpu.get(key) ?? [], v.cpuUs]);
          await Deno.remove(dir, { recursive: true });
        }
      }
    }
    const f = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
    console.log(`restart, ${WORKERS} workers (ms per round; median)`);
    for (const [name] of impls) {
      for (const n of SIZES) {
        const key = `${name}-${n}`;
        console.log(
          `  ${name.padEnd(8)} ${String(n * WORKERS).padStart(7)} events: ` +
            `Runtime.open [${f(open.get(key)!)}] → ${median(open.get(key)!).toFixed(0)} ms ` +
            `(CPU [${f(openCpu.get(key)!)}] → ${median(openCpu.get(key)!).toFixed(0)} ms); ` +
            `process ready [${f(ready.get(key)!)}] → ${median(ready.get(key)!).toFixed(0)} ms`,
        );
      }
      const big = `${name}-${SIZES[1]}`;
      const small = `${name}-${SIZES[0]}`;
      console.log(
        `  ${name.padEnd(8)} ratio 100k/1k: open ${
          (median(open.get(big)!) / median(open.get(small)!)).toFixed(2)
        }× (CPU ${(median(openCpu.get(big)!) / median(openCpu.get(small)!)).toFixed(2)}×), ready ${
          (median(ready.get(big)!) / median(ready.get(small)!)).toFixed(2)
        }×`,
      );
    }
    console.log(`append, ${WRITERS} concurrent writers × ${APPENDS_PER_WRITER} awaited appends`);
    for (const [key, xs] of rate) {
      const c = cpu.get(key)!;
      console.log(
        `  ${key.padEnd(20)} [${f(xs)}] → ${median(xs).toFixed(0)} events/s; CPU per event ` +
          `[${c.map((x) => x.toFixed(1)).join(", ")}] → ${median(c).toFixed(1)} µs`,
      );
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) {
  const [cmd, ...rest] = Deno.args;
  if (cmd === "seed") {
    await seed(rest[0], rest[1], Number(rest[2]));
    console.log("null");
  } else if (cmd === "open") {
    console.log(JSON.stringify(await openOnce(rest[0], rest[1])));
  } else if (cmd === "append") {
    console.log(JSON.stringify(await appendRate(rest[0], rest[1], rest[2] === "true")));
  } else {
    const impls: [string, string][] = [];
    let rounds = 3;
    for (let i = 0; i < Deno.args.length; i++) {
      if (Deno.args[i] === "--impl") {
        const [name, path] = Deno.args[++i].split("=");
        impls.push([name, path]);
      } else if (Deno.args[i] === "--rounds") rounds = Number(Deno.args[++i]);
    }
    if (impls.length === 0) impls.push(["current", "."]);
    await orchestrate(impls, rounds);
  }
}
