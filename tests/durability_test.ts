/**
 * Durability under real faults (DESIGN §11), with real processes and files:
 * one writer per store, a full disk (a real small tmpfs, as root), descriptor
 * exhaustion (a real lowered fd limit), and the last-resort rejection handler.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { RuntimeProcess } from "./support/runtime_process.ts";
import { BackendProcess } from "./support/backend_process.ts";
import { assertNoUnhandledRejection } from "./support/spawn.ts";
import { waitUntil } from "./support/wait.ts";

const MAIN = new URL("../runtime/main.ts", import.meta.url).pathname;
const BACKEND_MAIN = new URL("../main.ts", import.meta.url).pathname;
const IS_ROOT = Deno.uid() === 0;

// deno-lint-ignore no-explicit-any
type Json = any;

async function call(rt: RuntimeProcess, method: string, path: string, body?: unknown) {
  const res = await fetch(`${rt.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json: Json = await res.json();
  return { status: res.status, body: json };
}

async function waitIdle(rt: RuntimeProcess, id: string): Promise<Json> {
  return await waitUntil(`worker ${id} idle`, async () => {
    const d = (await call(rt, "GET", `/v1/workers/${id}`)).body.worker;
    return d.status === "idle" ? d : undefined;
  });
}

async function transcript(rt: RuntimeProcess, id: string): Promise<Json[]> {
  const all: Json[] = [];
  for (let after = 0, i = 0; i < 1_000; i++) {
    const page = (await call(rt, "GET", `/v1/workers/${id}/transcript?after=${after}&limit=500`))
      .body;
    if (page.entries.length === 0) return all;
    all.push(...page.entries);
    after = page.next_after;
  }
  throw new Error("transcript did not end");
}

/** Every file under `dir` with its size and mtime: to show a process touched nothing. */
async function snapshot(dir: string): Promise<string[]> {
  const top = await Deno.stat(dir);
  const out: string[] = [`. ${top.mtime?.getTime()}`];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      const st = await Deno.stat(p);
      out.push(`${p} ${st.size} ${st.mtime?.getTime()}`);
      if (e.isDirectory) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

async function runToExit(args: string[]): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

Deno.test("two runtimes on one folder: the second exits 2 and touches nothing; kill -9 frees the lock", async () => {
  const dir = await Deno.makeTempDir({ prefix: "durability_lock_" });
  try {
    const first = await RuntimeProcess.start({ store: "fs", dataDir: dir });
    const w = (await call(first, "POST", "/v1/workers", {})).body.worker.worker_id;
    const acked: number[] = [];
    let second: Promise<{ code: number; out: string }> | undefined;
    for (let i = 0; i < 20; i++) {
      const r = await call(first, "POST", `/v1/workers/${w}/input`, { text: `input ${i}` });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      acked.push(r.body.ack.seq);
      // The second runtime starts while the first is writing.
      if (i === 5) {
        second = runToExit([
          "run",
          "-A",
          MAIN,
          "--id",
          "second",
          "--store",
          "fs",
          "--data-dir",
          dir,
          "--listen",
          "127.0.0.1:0",
        ]);
      }
      await waitIdle(first, w);
    }
    const before = await snapshot(dir);
    const refused = await second!;
    assert.equal(refused.code, 2, refused.out);
    assert.match(refused.out, /in use by another runtime process/);
    assert.doesNotMatch(refused.out, new RegExp(dir), "the message names no path");
    // Refused again, now on a quiet folder: not one file changed.
    const again = await runToExit(["run", "-A", MAIN, "--store", "fs", "--data-dir", dir]);
    assert.equal(again.code, 2, again.out);
    assert.deepEqual(await snapshot(dir), before);

    // The first lost nothing: all 20 acked inputs are in the transcript at their seq.
    const log = await transcript(first, w);
    const inputs = log.filter((e) => e.type === "input.accepted");
    assert.deepEqual(inputs.map((e) => e.seq), acked);
    assert.deepEqual(log.map((e) => e.seq), log.map((_, i) => i + 1));

    // A killed holder leaves no stale lock: a new runtime starts on the folder.
    assert.equal((await first.kill("SIGKILL")).signal, "SIGKILL");
    await using third = await RuntimeProcess.start({ store: "fs", dataDir: dir });
    const log3 = await transcript(third, w);
    assert.deepEqual(log3.filter((e) => e.type === "input.accepted").map((e) => e.seq), acked);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("two Backends on one state folder (fs embedded store): the second exits 2", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "durability_backend_lock_" });
  try {
    await using first = await BackendProcess.start({ stateDir, embeddedStore: "fs" });
    assert.ok(first.port > 0);
    const r = await runToExit([
      "run",
      "-A",
      BACKEND_MAIN,
      "--state-dir",
      stateDir,
      "--listen",
      "127.0.0.1:0",
      "--embedded-store",
      "fs",
    ]);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /in use by another runtime process/);
  } finally {
    await Deno.remove(stateDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("the last-resort handler logs an unhandled rejection, keeps the process up, and test support catches it", async () => {
  const lastResort = new URL("../runtime/last_resort.ts", import.meta.url).href;
  const script = `
    import { installLastResortHandler } from "${lastResort}";
    installLastResortHandler("probe");
    Promise.reject(new Error("nobody handles this"));
    setTimeout(() => console.log("still serving"), 50);
  `;
  const r = await runToExit(["eval", script]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /still serving/);
  assert.throws(() => assertNoUnhandledRejection("probe", r.out), /unhandled promise rejection/);
});

/** Mounts a real tmpfs of `size` at a new temp dir (root only); unmount with the returned function. */
async function smallDisk(size: string): Promise<{ dir: string; unmount: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "durability_disk_" });
  const m = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
  })
    .output();
  if (!m.success) throw new Error(`mount failed: ${new TextDecoder().decode(m.stderr)}`);
  return {
    dir,
    unmount: async () => {
      await new Deno.Command("umount", { args: ["-l", dir] }).output();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Fills the filesystem of `dir` with a filler file until ENOSPC; returns its path. */
async function fill(dir: string): Promise<string> {
  const path = join(dir, "filler");
  const f = await Deno.open(path, { write: true, create: true, append: true });
  try {
    const chunk = new Uint8Array(64 * 1024);
    for (let i = 0; i < 10_000; i++) {
      try {
        await f.write(chunk);
      } catch {
        break; // ENOSPC: full
      }
    }
    // Small writes too, down to the last byte.
    for (let i = 0; i < 100_000; i++) {
      try {
        if ((await f.write(new Uint8Array(64))) < 64) break;
      } catch {
        break;
      }
    }
  } finally {
    f.close();
  }
  return path;
}

Deno.test({
  name:
    "disk full (real tmpfs): 507 store_unavailable, stays up, reads work, seqs continue once space returns, restart on a full disk comes up",
  ignore: !IS_ROOT ? true : false,
  // Needs root to mount a real small filesystem; skipped otherwise (CI runs as root).
  fn: async () => {
    const disk = await smallDisk("2m");
    try {
      const config = `[profiles.chunky]\nengine = "echo"\nchunk_chars = 256\n`;
      let rt = await RuntimeProcess.start({ store: "fs", dataDir: join(disk.dir, "data"), config });
      try {
        const w = (await call(rt, "POST", "/v1/workers", { profile: "chunky" })).body.worker
          .worker_id;
        let r = await call(rt, "POST", `/v1/workers/${w}/input`, { text: "before" });
        assert.equal(r.status, 202);
        const d0 = await waitIdle(rt, w);

        // 1. Disk full before an input: 507, nothing accepted, the process stays up.
        // (Inputs larger than a page: the log's last page may have a little room left.)
        const filler = await fill(disk.dir);
        r = await call(rt, "POST", `/v1/workers/${w}/input`, { text: "r".repeat(10_000) });
        assert.equal(r.status, 507, JSON.stringify(r.body));
        assert.equal(r.body.error.code, "store_unavailable");
        assert.doesNotMatch(JSON.stringify(r.body), new RegExp(disk.dir));
        r = await call(rt, "POST", `/v1/workers/${w}/input`, { text: "r".repeat(10_000) });
        assert.equal(r.status, 507, "later inputs are 507, never worker_busy");
        // Reads work; the runtime reports the store state.
        assert.equal((await transcript(rt, w)).length, d0.last_seq);
        const diag = (await call(rt, "GET", "/v1/runtime")).body.diagnostics;
        assert.ok(diag.some((d: Json) => d.code === "store_unavailable"), JSON.stringify(diag));
        assert.equal((await call(rt, "POST", "/v1/workers", {})).status, 507);

        // 2. Space returns: the next input is acked with the next seq.
        await Deno.remove(filler);
        r = await call(rt, "POST", `/v1/workers/${w}/input`, { text: "after" });
        assert.equal(r.status, 202, JSON.stringify(r.body));
        assert.equal(r.body.ack.seq, d0.last_seq + 1);
        const d1 = await waitIdle(rt, w);

        // 3. A write failing mid-turn: 300 KiB left; the 200 KB input is accepted,
        //    its ~280 KB of echoed output does not fit.
        const filler2 = await fill(disk.dir);
        await Deno.truncate(filler2, (await Deno.stat(filler2)).size - 300 * 1024);
        r = await call(rt, "POST", `/v1/workers/${w}/input`, { text: "z".repeat(200_000) });
        assert.equal(r.status, 202, JSON.stringify(r.body));
        // The turn is aborted by the failed write; from then on inputs get 507, never
        // worker_busy, and the worker is not left busy.
        await waitUntil("the store failure", async () => {
          const d = (await call(rt, "GET", "/v1/runtime")).body.diagnostics;
          return d.some((x: Json) => x.code === "store_unavailable");
        });
        r = await call(rt, "POST", `/v1/workers/${w}/input`, { text: "x".repeat(10_000) });
        assert.equal(r.status, 507, JSON.stringify(r.body));
        await waitIdle(rt, w);
        r = await call(rt, "POST", `/v1/workers/${w}/input`, { text: "x".repeat(10_000) });
        assert.equal(r.status, 507, JSON.stringify(r.body));
        // Cancel and stop still answer (stop is recorded once writes work again).
        assert.equal((await call(rt, "POST", `/v1/workers/${w}/cancel`)).status, 200);
        const w2 = (await call(rt, "GET", "/v1/workers")).body.workers.length;
        assert.equal(w2, 1);
        await Deno.remove(filler2);
        // Once space returns, the aborted turn's end is recorded without waiting for an input.
        const ended = await waitUntil("the deferred turn end", async () => {
          const t = await transcript(rt, w);
          return t.at(-1)?.type === "worker.status" && t.some((e) => e.type === "turn.failed") && t;
        });
        assert.ok(ended.at(-2).type === "turn.failed");
        r = await call(rt, "POST", `/v1/workers/${w}/input`, { text: "recovered" });
        assert.equal(r.status, 202, JSON.stringify(r.body));
        assert.equal(r.body.ack.seq, ended.at(-1).seq + 1, "the next seq, none skipped");
        await waitIdle(rt, w);
        const log = await transcript(rt, w);
        assert.deepEqual(log.map((e) => e.seq), log.map((_, i) => i + 1), "no seq skipped");
        const failed = log.filter((e) => e.type === "turn.failed");
        assert.equal(failed.length, 1);
        assert.equal(failed[0].data.reason, "store_unavailable");
        assert.ok(failed[0].seq > d1.last_seq);
        assert.equal(log.at(-1).type, "worker.status");
        const last = log.at(-1).seq;

        // 4. Restart on a full disk: comes up, serves reads, reports the store state.
        await rt.kill("SIGTERM");
        await fill(disk.dir);
        rt = await RuntimeProcess.start({ store: "fs", dataDir: join(disk.dir, "data"), config });
        const s = (await call(rt, "GET", "/v1/runtime")).body;
        assert.ok(s.diagnostics.some((d: Json) => d.code === "store_unavailable"));
        assert.equal((await transcript(rt, w)).at(-1).seq, last);
        assert.equal(
          (await call(rt, "POST", `/v1/workers/${w}/input`, { text: "x".repeat(10_000) })).status,
          507,
        );
        const stop = await call(rt, "POST", `/v1/workers/${w}/stop`);
        assert.equal(stop.status, 200, JSON.stringify(stop.body));
        assert.equal(stop.body.ack.status, "stopped");

        // 5. Space returns: the stop is recorded by itself and the store state clears.
        await Deno.remove(join(disk.dir, "filler"));
        const stopped = await waitUntil("the deferred stop", async () => {
          const t = await transcript(rt, w);
          return t.at(-1)?.type === "worker.stopped" && t;
        });
        assert.deepEqual(stopped.map((e) => e.seq), stopped.map((_, i) => i + 1));
        await waitUntil("store state clear", async () => {
          const d = (await call(rt, "GET", "/v1/runtime")).body.diagnostics;
          return !d.some((x: Json) => x.code === "store_unavailable");
        });
        const status = await rt.kill("SIGTERM");
        assert.equal(status.code, 0, rt.output);
      } finally {
        await rt.kill("SIGTERM");
      }
    } finally {
      await disk.unmount();
    }
  },
});

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) : 0;
}

/** Connects, giving up after `ms` (a full accept backlog can hold a connect). */
async function connectWithin(port: number, ms: number): Promise<Deno.TcpConn | undefined> {
  let timer: number | undefined;
  const p = Deno.connect({ hostname: "127.0.0.1", port });
  const r = await Promise.race([
    p.catch(() => undefined),
    new Promise<undefined>((res) => timer = setTimeout(res, ms)),
  ]);
  clearTimeout(timer);
  if (!r) p.then((c) => c.close(), () => {}); // late connects are closed, never leaked
  return r;
}

interface Served {
  child: Deno.ChildProcess;
  port: number;
  readonly output: string;
  /** A normal request that must work again afterwards. */
  probe(): Promise<boolean>;
  kill(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Lowers the child's fd limit to 256, exhausts it with idle connections, frees them. */
async function exhaustDescriptors(label: string, p: Served): Promise<void> {
  const pid = p.child.pid;
  const lim = await new Deno.Command("prlimit", {
    args: ["--pid", String(pid), "--nofile=256:256"],
  }).output();
  assert.ok(lim.success, new TextDecoder().decode(lim.stderr));
  assert.ok(await p.probe());
  const baseline = rssKiB(pid);
  // Idle connections until the process runs out of descriptors (bounded: 600).
  const conns: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 600; i++) {
      const c = await connectWithin(p.port, 500);
      if (!c) break;
      conns.push(c);
      if (i % 50 === 49 && p.output.includes("listener lost")) break;
    }
    await waitUntil("EMFILE in the accept loop", () => p.output.includes("listener lost"));
  } finally {
    for (const c of conns) c.close();
  }
  // Descriptors free up: the listener is re-established and a normal request works.
  await waitUntil("serving again", async () => {
    try {
      return await p.probe();
    } catch {
      return false;
    }
  });
  await waitUntil("the re-listen log line", () => p.output.includes("listener re-established"));
  const after = rssKiB(pid);
  console.log(`${label}: ${conns.length} idle connections; RSS ${baseline} KiB -> ${after} KiB`);
  assert.ok(after < baseline + 64 * 1024, `RSS ${after} KiB vs baseline ${baseline} KiB`);
  const status = await p.kill("SIGTERM");
  assert.equal(status.code, 0, p.output);
}

Deno.test({
  name: "descriptor exhaustion (real fd limit 256): the Backend survives EMFILE and serves again",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using be = await BackendProcess.start();
    await exhaustDescriptors("backend", {
      child: be.child,
      port: be.port,
      get output() {
        return be.output;
      },
      probe: async () => {
        const r = await fetch(`${be.url}/api/runtimes`);
        await r.body?.cancel();
        return r.status === 200;
      },
      kill: (s) => be.kill(s),
    });
  },
});

Deno.test({
  name: "descriptor exhaustion (real fd limit 256): the runtime survives EMFILE and serves again",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using rt = await RuntimeProcess.start({ store: "memory" });
    await exhaustDescriptors("runtime", {
      child: rt.child,
      port: rt.port,
      get output() {
        return rt.output;
      },
      probe: async () => {
        const w = (await call(rt, "POST", "/v1/workers", {})).body.worker.worker_id;
        return (await call(rt, "POST", `/v1/workers/${w}/input`, { text: "hi" })).status === 202;
      },
      kill: (s) => rt.kill(s),
    });
    assert.match(rt.output, /open-file limit: \d+/, "the fd limit is reported at start");
  },
});
