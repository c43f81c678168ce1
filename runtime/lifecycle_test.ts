/**
 * Worker lifecycle through real runtime processes (issue 17, DESIGN §4): restore with
 * contiguous seq and a dry run, a removed profile, pause/resume of echo and command turns,
 * cancel/stop/restart while paused, create with `input`, `?status=` and `worker_counts`,
 * rename and delete.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ErrorBodySchema,
  type WorkerDetail,
  type WorkerEvent,
  type WorkerStatus,
} from "../shared/mod.ts";
import { liveInGroup } from "../tests/support/procs.ts";
import { RuntimeProcess } from "../tests/support/runtime_process.ts";
import { sleep, waitUntil } from "../tests/support/wait.ts";

/** A small JSON client; every answer is checked for "never 500" and the typed error shape. */
function client(rt: RuntimeProcess) {
  async function call(method: string, path: string, json?: unknown) {
    const res = await fetch(rt.url + path, {
      method,
      headers: json === undefined ? {} : { "content-type": "application/json" },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const text = await res.text();
    assert.notEqual(res.status, 500, `${method} ${path}: ${text}`);
    const body = text ? JSON.parse(text) : undefined;
    if (res.status >= 400) ErrorBodySchema.parse(body);
    return { status: res.status, body };
  }
  async function ok(method: string, path: string, json?: unknown, status = 200) {
    const r = await call(method, path, json);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  }
  async function fails(
    method: string,
    path: string,
    status: number,
    code: string,
    json?: unknown,
  ) {
    const r = await call(method, path, json);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, code);
    return r.body.error.message as string;
  }
  const w = (id: string) => `/v1/workers/${id}`;
  return {
    call,
    ok,
    fails,
    create: async (req: Record<string, unknown> = {}): Promise<WorkerDetail> =>
      (await ok("POST", "/v1/workers", req, 201)).worker,
    detail: async (id: string): Promise<WorkerDetail> => (await ok("GET", w(id))).worker,
    input: (id: string, text: string) => ok("POST", `${w(id)}/input`, { text }, 202),
    op: async (id: string, op: string) => (await ok("POST", `${w(id)}/${op}`)).ack,
    log: async (id: string): Promise<WorkerEvent[]> =>
      (await ok("GET", `${w(id)}/transcript?limit=5000`)).entries,
    waitStatus: (id: string, status: WorkerStatus, turns = 1) =>
      waitUntil(`${id} ${status} after ${turns} turn(s)`, async () => {
        const d = (await ok("GET", w(id))).worker as WorkerDetail;
        return d.status === status && d.turn_count >= turns ? d : undefined;
      }),
  };
}

function types(log: WorkerEvent[]): string[] {
  return log.map((e) => e.type);
}

function deltas(log: WorkerEvent[]): WorkerEvent[] {
  return log.filter((e) => e.type === "output.delta");
}

function text(log: WorkerEvent[]): string {
  return deltas(log).map((e) => String(e.data.text)).join("");
}

function assertContiguous(log: WorkerEvent[]) {
  assert.deepEqual(log.map((e) => e.seq), log.map((_, i) => i + 1), "contiguous seq from 1");
}

function toml(profiles: Record<string, Record<string, unknown>>): string {
  return Object.entries(profiles).map(([name, spec]) =>
    `[profiles.${name}]\n` +
    Object.entries(spec).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join("\n")
  ).join("\n") + "\n";
}

const SLOW = { engine: "echo", chunk_chars: 1, delay_ms: 40 };
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

Deno.test("restore: stop → dry run → restore → input; removed profile → 409; rename, delete, restart while paused", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "lifecycle_restore_" });
  try {
    const config = toml({ slow: SLOW, gone: { engine: "echo" } });
    let rt = await RuntimeProcess.start({ store: "fs", dataDir, config });
    let c = client(rt);
    const a = await c.create();
    await c.input(a.worker_id, "first");
    await c.waitStatus(a.worker_id, "idle");
    await c.fails("POST", `/v1/workers/${a.worker_id}/restore`, 409, "worker_not_stopped");
    await c.op(a.worker_id, "stop");
    const before = await c.log(a.worker_id);

    // Dry run: answers, changes nothing.
    const dry = await c.ok("POST", `/v1/workers/${a.worker_id}/restore?dry_run=true`);
    assert.equal(dry.dry_run, true);
    assert.equal(dry.ack.status, "stopped");
    assert.deepEqual(await c.log(a.worker_id), before);
    assert.equal((await c.detail(a.worker_id)).status, "stopped");
    await c.fails(
      "POST",
      `/v1/workers/${a.worker_id}/restore?dry_run=maybe`,
      400,
      "invalid_request",
    );

    const restored = await c.ok("POST", `/v1/workers/${a.worker_id}/restore`);
    assert.deepEqual([restored.dry_run, restored.ack.status], [false, "idle"]);
    await c.input(a.worker_id, "second");
    await c.waitStatus(a.worker_id, "idle", 2);
    const log = await c.log(a.worker_id);
    assertContiguous(log);
    const t = types(log);
    assert.ok(t.indexOf("worker.stopped") < t.indexOf("worker.restored"));
    assert.ok(t.lastIndexOf("turn.completed") > t.indexOf("worker.restored"));
    assert.equal(t.filter((x) => x === "turn.completed").length, 2);

    // Rename (also of a stopped worker) and delete (only when stopped).
    const g = await c.create({ profile: "gone" });
    const renamed = await c.ok("PATCH", `/v1/workers/${g.worker_id}`, { display_name: "Kept" });
    assert.equal(renamed.worker.display_name, "Kept");
    const bad = await c.call("PATCH", `/v1/workers/${g.worker_id}`, { display_name: "a\u0007" });
    assert.equal(bad.status, 400);
    await c.fails("DELETE", `/v1/workers/${a.worker_id}`, 409, "worker_not_stopped");
    await c.op(g.worker_id, "stop");
    const doomed = await c.create();
    await c.op(doomed.worker_id, "stop");
    assert.deepEqual((await c.ok("DELETE", `/v1/workers/${doomed.worker_id}`)).deleted, {
      worker_id: doomed.worker_id,
    });
    await c.fails("GET", `/v1/workers/${doomed.worker_id}`, 404, "worker_not_found");

    // A turn paused when the runtime dies is recorded failed like any interrupted turn.
    const p = await c.create({ profile: "slow" });
    await c.input(p.worker_id, ALPHABET);
    await waitUntil("first deltas", async () => deltas(await c.log(p.worker_id)).length >= 2);
    await c.op(p.worker_id, "pause");
    await rt.kill("SIGKILL");

    // Same data dir, config without profile "gone".
    rt = await RuntimeProcess.start({ store: "fs", dataDir, config: toml({ slow: SLOW }) });
    c = client(rt);
    try {
      const msg = await c.fails(
        "POST",
        `/v1/workers/${g.worker_id}/restore?dry_run=true`,
        409,
        "profile_not_found",
      );
      assert.match(msg, /"gone"/);
      await c.fails("POST", `/v1/workers/${g.worker_id}/restore`, 409, "profile_not_found");
      const gd = await c.detail(g.worker_id);
      assert.deepEqual([gd.status, gd.display_name], ["stopped", "Kept"]);
      await c.fails("GET", `/v1/workers/${doomed.worker_id}`, 404, "worker_not_found");

      const pd = await c.detail(p.worker_id);
      assert.deepEqual([pd.status, pd.last_turn_outcome], ["idle", "failed"]);
      const plog = await c.log(p.worker_id);
      assertContiguous(plog);
      assert.deepEqual(types(plog).slice(-4), [
        "turn.paused",
        "worker.status",
        "turn.failed",
        "worker.status",
      ]);
    } finally {
      await rt.kill();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("pause: a slow echo turn emits nothing while paused, resumes with every chunk once; cancel and stop work while paused", async () => {
  await using rt = await RuntimeProcess.start({ config: toml({ slow: SLOW }) });
  const c = client(rt);
  const w = (await c.create({ profile: "slow" })).worker_id;
  await c.input(w, ALPHABET);
  await waitUntil("3 deltas", async () => deltas(await c.log(w)).length >= 3);
  const ack = await c.op(w, "pause");
  assert.equal(ack.status, "paused");
  assert.equal((await c.op(w, "pause")).status, "paused", "pause is idempotent");
  const atPause = await c.log(w);
  await sleep(2_000);
  const later = await c.log(w);
  assert.deepEqual(later, atPause, "nothing recorded for 2 s while paused");
  assert.equal((await c.detail(w)).status, "paused");
  await c.fails("POST", `/v1/workers/${w}/input`, 409, "worker_busy", { text: "more" });

  assert.equal((await c.op(w, "resume")).status, "busy");
  await c.waitStatus(w, "idle");
  const log = await c.log(w);
  assertContiguous(log);
  assert.equal(text(log), ALPHABET, "every chunk exactly once, in order");
  const paused = log.findIndex((e) => e.type === "turn.paused");
  const resumed = log.findIndex((e) => e.type === "turn.resumed");
  assert.ok(paused > 0 && resumed > paused);
  assert.deepEqual(
    log.slice(paused, resumed).filter((e) => e.type === "output.delta"),
    [],
    "no output between turn.paused and turn.resumed",
  );
  assert.equal(log.at(-2)!.type, "turn.completed");
  await c.fails("POST", `/v1/workers/${w}/resume`, 409, "worker_not_paused");

  // Cancel while paused ends the turn; stop while paused ends the worker.
  await c.input(w, ALPHABET);
  await waitUntil("a delta of turn 2", async () => deltas(await c.log(w)).length > 36);
  await c.op(w, "pause");
  assert.equal((await c.op(w, "cancel")).status, "idle");
  assert.deepEqual(types(await c.log(w)).slice(-2), ["turn.cancelled", "worker.status"]);
  await c.input(w, ALPHABET);
  await waitUntil("a delta of turn 3", async () => deltas(await c.log(w)).length > 37);
  await c.op(w, "pause");
  assert.equal((await c.op(w, "stop")).status, "stopped");
  assert.deepEqual(types(await c.log(w)).slice(-3), [
    "turn.cancelled",
    "worker.status",
    "worker.stopped",
  ]);
});

/** Process state letters (`/proc/PID/stat`) of the live processes of a group. */
function groupStates(pgid: number): string[] {
  return liveInGroup(pgid).map((pid) => {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    } catch {
      return "gone";
    }
  });
}

/**
 * Whether `sleep` has been exec'ed in the group. Why: dash forks with vfork, and a SIGSTOP that
 * lands between the fork and the exec leaves the parent in state D (waiting for its stopped
 * child) rather than T, which a state check cannot tell from "not stopped".
 */
function sleepRunning(pgid: number): boolean {
  return liveInGroup(pgid).some((pid) => {
    try {
      return Deno.readTextFileSync(`/proc/${pid}/comm`).trim() === "sleep";
    } catch {
      return false;
    }
  });
}

Deno.test({
  name: "pause: a command turn's process group is stopped (state T), its timeout clock too",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "lifecycle_cmd_" });
    const groups: number[] = [];
    try {
      const pg1 = join(dir, "pg1");
      const pg2 = join(dir, "pg2");
      await using rt = await RuntimeProcess.start({
        config: toml({
          // Timeout 2 s: held 2.5 s, the turn still completes because the clock paused too.
          nap: {
            engine: "command",
            argv: ["sh", "-c", `echo $$ > '${pg1}'; echo start; sleep 1; echo end`],
            timeout_ms: 2_000,
          },
          long: { engine: "command", argv: ["sh", "-c", `echo $$ > '${pg2}'; sleep 30`] },
        }),
      });
      const c = client(rt);
      const readPg = (f: string) =>
        waitUntil(`pgid in ${f}`, async () => {
          const s = await Deno.readTextFile(f).catch(() => "");
          return /^\d+\n$/.test(s) ? Number(s) : undefined;
        });

      const w = (await c.create({ profile: "nap" })).worker_id;
      await c.input(w, "x");
      const pgid = await readPg(pg1);
      groups.push(pgid);
      await waitUntil("start printed", async () => text(await c.log(w)).includes("start"));
      await waitUntil("sleep exec'ed", () => sleepRunning(pgid));
      await c.op(w, "pause");
      await waitUntil("every process stopped", () => {
        const s = groupStates(pgid);
        return s.length >= 2 && s.every((x) => x === "T");
      });
      await sleep(2_500);
      assert.ok(groupStates(pgid).every((x) => x === "T"), "still stopped after 2.5 s");
      assert.ok(!text(await c.log(w)).includes("end"));
      await c.op(w, "resume");
      const d = await c.waitStatus(w, "idle");
      assert.equal(d.last_turn_outcome, "completed");
      assert.equal(text(await c.log(w)), "start\nend\n");

      // Cancel while paused: the turn ends and no process is left.
      const l = (await c.create({ profile: "long" })).worker_id;
      await c.input(l, "x");
      const pgid2 = await readPg(pg2);
      groups.push(pgid2);
      await waitUntil("sleep exec'ed", () => sleepRunning(pgid2));
      await c.op(l, "pause");
      await waitUntil("stopped", () => groupStates(pgid2).every((x) => x === "T"));
      assert.equal((await c.op(l, "cancel")).status, "idle");
      await waitUntil("no process left", () => liveInGroup(pgid2).length === 0, 5_000);
      assert.deepEqual(types(await c.log(l)).slice(-2), ["turn.cancelled", "worker.status"]);
    } finally {
      // After a failure the runtime is SIGKILLed: a group it had stopped would stay stopped.
      for (const g of groups) {
        if (liveInGroup(g).length > 0) {
          try {
            Deno.kill(-g, "SIGKILL");
          } catch { /* gone */ }
        }
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("create with input starts the first turn; a retried request_id starts no second; ?status= and worker_counts", async () => {
  await using rt = await RuntimeProcess.start({ config: toml({ slow: SLOW }) });
  const c = client(rt);
  const first = await c.create({ input: "hello there", request_id: "req-1" });
  assert.equal(first.status, "busy");
  const again = await c.create({ input: "hello there", request_id: "req-1" });
  assert.equal(again.worker_id, first.worker_id);
  const d = await c.waitStatus(first.worker_id, "idle");
  assert.equal(d.turn_count, 1);
  const log = await c.log(first.worker_id);
  assertContiguous(log);
  assert.equal(types(log).filter((t) => t === "input.accepted").length, 1);
  assert.equal(text(log), "hello there");
  assert.equal((await c.call("POST", "/v1/workers", { input: "" })).status, 400);

  // One worker per state.
  const stopped = (await c.create()).worker_id;
  await c.op(stopped, "stop");
  const paused = (await c.create({ profile: "slow", input: ALPHABET.repeat(5) })).worker_id;
  await c.op(paused, "pause");
  const busy = (await c.create({ profile: "slow", input: ALPHABET.repeat(5) })).worker_id;
  const want = { idle: [first.worker_id], busy: [busy], paused: [paused], stopped: [stopped] };
  for (const [status, ids] of Object.entries(want)) {
    const list = (await c.ok("GET", `/v1/workers?status=${status}`)).workers;
    assert.deepEqual(list.map((x: WorkerDetail) => x.worker_id), ids, status);
    assert.ok(list.every((x: WorkerDetail) => x.status === status));
  }
  const summary = (await c.ok("GET", "/v1/runtime")).runtime;
  assert.deepEqual(summary.worker_counts, { idle: 1, busy: 1, paused: 1, stopped: 1 });
  assert.equal(summary.worker_count, 4);
  for (const op of ["restore", "pause", "rename", "delete"]) {
    assert.equal(summary.capabilities[op], true);
  }
  assert.equal((await c.call("GET", "/v1/workers?status=sleeping")).status, 400);
  await c.op(busy, "stop");
  await c.op(paused, "stop");
});
