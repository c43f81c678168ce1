/**
 * Worker lifecycle through a real Backend process (issue 17, DESIGN §6): restore,
 * pause/resume, create with input, rename, delete, `?status=` and `worker_counts`,
 * routed to the embedded runtime and to a real remote runtime process.
 * @module
 */
import assert from "node:assert/strict";
import { ApiClientError, type WorkspaceClient } from "../shared/client.ts";
import type { WorkerStatus } from "../shared/mod.ts";
import { describeOperation } from "../backend/http/audit.ts";
import { BackendProcess } from "./support/backend_process.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";
import { waitUntil } from "./support/wait.ts";

const SLOW = `
[profiles.slow]
engine = "echo"
chunk_chars = 1
delay_ms = 40
`;
const LONG = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(2);

async function rejectsWith(p: Promise<unknown>, status: number, code: string) {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof ApiClientError, String(e));
    assert.equal(e.httpStatus, status, e.message);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

async function statusOf(c: WorkspaceClient, rid: string, wid: string): Promise<WorkerStatus> {
  return (await c.getWorker(rid, wid)).worker.status;
}

Deno.test("Backend: restore, pause/resume, create with input, rename, delete, ?status= and worker_counts on embedded and remote runtimes", async () => {
  await using alpha = await RuntimeProcess.start({ id: "alpha", config: SLOW });
  await using bp = await BackendProcess.start({
    embeddedConfig: SLOW,
    config: `[server]
health_interval_ms = 200

[[runtimes.remote]]
id = "alpha"
endpoint = "http://127.0.0.1:${alpha.port}"
`,
  });
  const c = bp.client;
  await waitUntil(
    "alpha ready",
    async () => (await c.getRuntime("alpha")).runtime.state === "ready",
  );

  const ids: Record<string, Record<WorkerStatus, string>> = {};
  for (const rid of ["embedded", "alpha"]) {
    // Create with a first instruction; the retry with the same request_id starts nothing new.
    const first = (await c.createWorker(rid, { profile: "slow", input: LONG, request_id: "r1" }))
      .worker;
    assert.equal(first.status, "busy");
    const again = (await c.createWorker(rid, { profile: "slow", input: LONG, request_id: "r1" }))
      .worker;
    assert.equal(again.worker_id, first.worker_id);
    const paused = first.worker_id;

    const p = await c.pause(rid, paused);
    assert.deepEqual([p.ack.runtime_id, p.ack.status], [rid, "paused"]);
    const busy = (await c.createWorker(rid, { profile: "slow", input: LONG })).worker.worker_id;
    const idle = (await c.createWorker(rid, {})).worker.worker_id;
    const stopped = (await c.createWorker(rid, {})).worker.worker_id;
    await c.stop(rid, stopped);
    ids[rid] = { idle, busy, paused, stopped };

    for (const [status, wid] of Object.entries(ids[rid]) as [WorkerStatus, string][]) {
      const list = await c.listWorkers(rid, status);
      assert.deepEqual(list.workers.map((w) => w.worker_id), [wid], `${rid} ?status=${status}`);
    }
    await waitUntil(`${rid} worker_counts`, async () => {
      const counts = (await c.getRuntime(rid)).runtime.worker_counts;
      return JSON.stringify(counts) ===
        JSON.stringify({ idle: 1, busy: 1, paused: 1, stopped: 1 });
    });

    // Conflicts are typed 409s, passed through from the runtime.
    await rejectsWith(c.restore(rid, idle), 409, "worker_not_stopped");
    await rejectsWith(c.deleteWorker(rid, idle), 409, "worker_not_stopped");
    await rejectsWith(c.resume(rid, idle), 409, "worker_not_paused");
    await rejectsWith(c.pause(rid, idle), 409, "worker_not_busy");

    // Resume and finish; restore with a dry run first; rename; delete.
    assert.equal((await c.resume(rid, paused)).ack.status, "busy");
    await c.cancel(rid, busy);
    const dry = await c.restore(rid, stopped, true);
    assert.deepEqual([dry.dry_run, dry.ack.status], [true, "stopped"]);
    assert.equal(await statusOf(c, rid, stopped), "stopped");
    const r = await c.restore(rid, stopped);
    assert.deepEqual([r.dry_run, r.ack.status, r.ack.runtime_id], [false, "idle", rid]);
    const renamed = await c.rename(rid, stopped, "Renamed");
    assert.deepEqual([renamed.worker.display_name, renamed.worker.runtime_id], ["Renamed", rid]);
    await c.stop(rid, idle);
    assert.deepEqual((await c.deleteWorker(rid, idle)).deleted, {
      runtime_id: rid,
      worker_id: idle,
    });
    await rejectsWith(c.getWorker(rid, idle), 404, "worker_not_found");
  }

  // Across runtimes: the paused workers finish; /api/workers?status= filters everywhere.
  for (const rid of ["embedded", "alpha"]) {
    await waitUntil(
      `${rid} turn done`,
      async () => (await statusOf(c, rid, ids[rid].paused)) === "idle",
    );
  }
  const idleAll = await c.listAllWorkers("idle");
  assert.deepEqual(
    idleAll.workers.map((w) => `${w.runtime_id}/${w.worker_id}`).sort(),
    ["embedded", "alpha"].flatMap((rid) => [
      `${rid}/${ids[rid].busy}`,
      `${rid}/${ids[rid].paused}`,
      `${rid}/${ids[rid].stopped}`,
    ]).sort(),
  );
  assert.deepEqual((await c.listAllWorkers("paused")).workers, []);
  const bad = await fetch(`${bp.url}/api/workers?status=sleeping`);
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, "invalid_request");
});

Deno.test("audit names of the lifecycle routes", () => {
  const w = "/api/runtimes/r1/workers/w1";
  assert.equal(describeOperation("POST", `${w}/restore`).operation, "worker.restore");
  assert.equal(describeOperation("POST", `${w}/pause`).operation, "worker.pause");
  assert.equal(describeOperation("POST", `${w}/resume`).operation, "worker.resume");
  assert.equal(describeOperation("PATCH", w).operation, "worker.rename");
  assert.equal(describeOperation("DELETE", w).operation, "worker.delete");
});
