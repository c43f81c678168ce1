/**
 * Limits and method handling of the Runtime API, in process (DESIGN §4, §11):
 * 405 + Allow for a known path with the wrong method, 501 for pausing an engine that
 * cannot pause, 429 `runtime_at_capacity`, the per-turn output cap.
 * @module
 */
import assert from "node:assert/strict";
import { newWorkerId, type WorkerEvent } from "../shared/mod.ts";
import { waitUntil } from "../tests/support/wait.ts";
import { MemoryStore } from "./memory_store.ts";
import { Runtime } from "./runtime.ts";
import type { RuntimeOptions } from "./runtime_options.ts";
import { createRuntimeApp } from "./server.ts";

async function withApp(
  opts: Partial<RuntimeOptions>,
  fn: (
    call: (method: string, path: string, body?: unknown) => Promise<Response>,
    rt: Runtime,
  ) => Promise<void>,
) {
  const rt = await Runtime.open({ runtimeId: "limits", store: new MemoryStore(), ...opts });
  const app = createRuntimeApp({ runtime: rt });
  const call = (method: string, path: string, body?: unknown) =>
    Promise.resolve(app.fetch(
      new Request(`http://127.0.0.1${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    ));
  try {
    await fn(call, rt);
  } finally {
    await rt.shutdown();
  }
}

async function expectError(res: Response, status: number, code: string) {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, "string");
  assert.deepEqual(body.diagnostics, []);
  assert.equal(res.headers.get("yoi-runtime-id"), "limits");
}

Deno.test("known path, wrong method → 405 method_not_allowed with Allow", async () => {
  await withApp({}, async (call) => {
    const w = newWorkerId();
    const cases: [string, string, string][] = [
      ["DELETE", "/v1/runtime", "GET"],
      ["PUT", "/v1/workers", "GET, POST"],
      ["GET", `/v1/workers/${w}/input`, "POST"],
      ["POST", `/v1/workers/${w}/transcript`, "GET"],
      ["PUT", `/v1/workers/${w}`, "GET, PATCH, DELETE"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await call(method, path);
      assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
      await expectError(res, 405, "method_not_allowed");
    }
    // An unknown path stays 404.
    await expectError(await call("GET", "/v1/nope"), 404, "not_found");
  });
});

Deno.test("pause/resume of an engine that cannot pause → 501 unsupported_operation", async () => {
  await withApp({
    profiles: { ai: { engine: "openai", base_url: "http://127.0.0.1:9/v1", model: "m" } },
  }, async (call, rt) => {
    const caps = rt.summary().capabilities;
    for (const op of ["pause", "restore", "rename", "delete"] as const) {
      assert.equal(caps[op], true, `${op} is offered`);
    }
    const w = (await rt.createWorker({ profile: "ai" })).worker_id;
    for (const op of ["pause", "resume"]) {
      await expectError(await call("POST", `/v1/workers/${w}/${op}`), 501, "unsupported_operation");
    }
    // The echo engine can: without a turn it is a conflict, not 501.
    const e = (await rt.createWorker()).worker_id;
    await expectError(await call("POST", `/v1/workers/${e}/pause`), 409, "worker_not_busy");
    await expectError(await call("POST", `/v1/workers/${e}/resume`), 409, "worker_not_paused");
  });
});

Deno.test("max workers → 429 runtime_at_capacity; nothing is created", async () => {
  await withApp({ maxWorkers: 3 }, async (call, rt) => {
    for (let i = 0; i < 3; i++) assert.equal((await call("POST", "/v1/workers", {})).status, 201);
    await expectError(await call("POST", "/v1/workers", {}), 429, "runtime_at_capacity");
    assert.equal(rt.listWorkers().length, 3);
  });
});

Deno.test("per-turn output cap ends the turn failed with output_limit; the worker stays usable", async () => {
  await withApp({
    maxOutputBytes: 1_000,
    profiles: { small: { engine: "echo", chunk_chars: 100, max_output_bytes: 300 } },
  }, async (_call, rt) => {
    for (const [profile, cap] of [["echo", 1_000], ["small", 300]] as const) {
      const w = (await rt.createWorker({ profile })).worker_id;
      await rt.input(w, "y".repeat(5_000));
      await waitUntil("turn end", () => rt.getWorker(w).status === "idle");
      const page = await rt.transcript(w, 0, 1000);
      const deltas = page.entries.filter((e) => e.type === "output.delta");
      const bytes = deltas.reduce((n, e) => n + String(e.data.text).length, 0);
      assert.ok(bytes <= cap, `${profile}: ${bytes} output bytes recorded, cap ${cap}`);
      const end = page.entries.find((e: WorkerEvent) =>
        e.type.startsWith("turn.") && e.type !== "turn.started"
      );
      assert.equal(end?.type, "turn.failed");
      assert.equal(end?.data.reason, "output_limit");
      // Usable afterwards: a small input completes.
      await rt.input(w, "ok");
      await waitUntil("second turn", () => rt.getWorker(w).last_turn_outcome === "completed");
    }
  });
});
