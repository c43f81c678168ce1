import assert from "node:assert/strict";
import { ApiError, type RuntimeEntry, type WorkerSummary } from "../../shared/mod.ts";
import { RuntimeRegistry } from "./registry.ts";
import type { RuntimeHandle, WorkerList } from "./runtime_handle.ts";

/** A stand-in handle: the registry's own logic (routing, deadlines) is what is tested here. */
function handle(id: string, behave: "ok" | "hang" | "fail", workers = 1): RuntimeHandle {
  const list = (signal?: AbortSignal): Promise<WorkerList> => {
    if (behave === "fail") {
      return Promise.reject(new ApiError("remote_runtime_unavailable", `Runtime ${id} is down.`));
    }
    if (behave === "hang") {
      return new Promise((_, reject) =>
        signal?.addEventListener("abort", () => reject(new Error("aborted")))
      );
    }
    const ws: WorkerSummary[] = Array.from({ length: workers }, (_, i) => ({
      runtime_id: id,
      worker_id: `0190a000-0000-7000-8000-00000000000${i}`,
      display_name: `w${i}`,
      profile: "echo",
      status: "idle",
      created_at: "2026-01-01T00:00:00Z",
      last_seq: 2,
    }));
    return Promise.resolve({ workers: ws, diagnostics: [] });
  };
  const entry: RuntimeEntry = {
    state: "ready",
    last_checked_at: null,
    last_ok_at: null,
    latency_ms: null,
    health_history: [],
    runtime_id: id,
    kind: "remote",
    display_name: id,
    status: "running",
    protocol: { name: "yoi-worker-runtime", version: 1 },
    capabilities: null,
    profiles: [],
    worker_count: workers,
    can_create_worker: true,
    os: null,
    arch: null,
    diagnostics: [],
  };
  const unused = () => Promise.reject(new Error("not used"));
  return {
    runtimeId: id,
    kind: "remote",
    displayName: id,
    describe: (signal) => list(signal).then(() => entry),
    listWorkers: list,
    getWorker: unused,
    workerEnvelope: unused,
    createWorker: unused,
    input: unused,
    cancel: unused,
    stop: unused,
    restore: unused,
    pause: unused,
    resume: unused,
    rename: unused,
    deleteWorker: unused,
    transcript: unused,
    transcriptEnvelope: unused,
    streamEvents: unused,
    close: () => Promise.resolve(),
  };
}

Deno.test("registry: ids are checked before lookup; unknown ids are runtime_not_found", () => {
  const reg = new RuntimeRegistry([handle("a", "ok")]);
  assert.equal(reg.get("a").runtimeId, "a");
  assert.throws(() => reg.get("../a"), (e) => e instanceof ApiError && e.code === "invalid_id");
  assert.throws(() => reg.get("b"), (e) => e instanceof ApiError && e.code === "runtime_not_found");
});

Deno.test("registry: fan-out returns within the deadline with one diagnostic per slow or failed runtime", async () => {
  const reg = new RuntimeRegistry(
    [handle("a", "ok", 2), handle("slow", "hang"), handle("down", "fail"), handle("b", "ok", 1)],
    { fanoutDeadlineMs: 300 },
  );
  const t0 = performance.now();
  const { workers, diagnostics } = await reg.listWorkers();
  const took = performance.now() - t0;
  assert.ok(took < 300 + 1000, `took ${took} ms`);
  assert.deepEqual(workers.map((w) => w.runtime_id), ["a", "a", "b"]);
  assert.deepEqual(diagnostics.map((d) => d.code).sort(), [
    "remote_runtime_timeout",
    "remote_runtime_unavailable",
  ]);
  assert.ok(diagnostics.every((d) => /slow|down/.test(d.message)), "each names its runtime");

  const { runtimes } = await reg.listRuntimes();
  assert.deepEqual(runtimes.map((r) => [r.runtime_id, r.status]), [
    ["a", "running"],
    ["slow", "unreachable"],
    ["down", "unreachable"],
    ["b", "running"],
  ]);
});
