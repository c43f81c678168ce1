/**
 * The pure parts of the live lists: applying `workers` frames to a list, and the Workers
 * page's filter.
 * @module
 */
import assert from "node:assert/strict";
import { applyWorkersFrame } from "./live_client.ts";
import type { WorkerSummary } from "./runtime_dto.ts";
import { filterWorkers } from "../web/workspace/islands/workers_list.tsx";

const w = (runtime_id: string, worker_id: string, extra: Partial<WorkerSummary> = {}) =>
  ({
    runtime_id,
    worker_id,
    display_name: worker_id,
    profile: "default",
    status: "idle",
    created_at: "2026-01-01T00:00:00Z",
    last_seq: 1,
    ...extra,
  }) as WorkerSummary;

Deno.test("workers frames: snapshot replaces, upsert adds or updates in place, remove drops", () => {
  let list = applyWorkersFrame([w("a", "1")], {
    topic: "workers",
    type: "snapshot",
    workers: [w("a", "2"), w("b", "2")],
    diagnostics: [],
  });
  assert.deepEqual(list.map((x) => `${x.runtime_id}/${x.worker_id}`), ["a/2", "b/2"]);
  list = applyWorkersFrame(list, {
    topic: "workers",
    type: "upsert",
    worker: w("b", "2", { last_seq: 9 }),
  });
  assert.deepEqual(list.map((x) => x.last_seq), [1, 9]);
  list = applyWorkersFrame(list, { topic: "workers", type: "upsert", worker: w("c", "3") });
  assert.equal(list.length, 3);
  list = applyWorkersFrame(list, {
    topic: "workers",
    type: "remove",
    runtime_id: "a",
    worker_id: "2",
  });
  assert.deepEqual(list.map((x) => x.runtime_id), ["b", "c"]);
  // The same worker id on another runtime is another worker.
  list = applyWorkersFrame(list, {
    topic: "workers",
    type: "remove",
    runtime_id: "a",
    worker_id: "3",
  });
  assert.equal(list.length, 2);
});

Deno.test("the Workers filter: runtime and status exact, text in name, id or profile", () => {
  const list = [
    w("a", "x1", { display_name: "Build bot", status: "busy" }),
    w("b", "x2", { display_name: "Docs", profile: "writer" }),
  ];
  const f = { runtime: "", status: "", text: "" };
  assert.equal(filterWorkers(list, f).length, 2);
  assert.deepEqual(filterWorkers(list, { ...f, runtime: "b" }).map((x) => x.worker_id), ["x2"]);
  assert.deepEqual(filterWorkers(list, { ...f, status: "busy" }).map((x) => x.worker_id), ["x1"]);
  assert.deepEqual(filterWorkers(list, { ...f, text: " BUILD " }).map((x) => x.worker_id), ["x1"]);
  assert.deepEqual(filterWorkers(list, { ...f, text: "writer" }).map((x) => x.worker_id), ["x2"]);
});
