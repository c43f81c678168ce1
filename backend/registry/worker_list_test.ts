/**
 * The Backend's side of kept worker lists (issue 15): the remote client asks with
 * `If-None-Match` and reuses its last answer on a 304 — whose `Yoi-Runtime-Id` is checked
 * like any answer — and `/api/workers` assembled from kept texts equals the list built from
 * the objects, stale workers of an unreachable runtime included.
 * @module
 */
import assert from "node:assert/strict";
import { ApiError, type WorkerStatus } from "../../shared/mod.ts";
import { RuntimeProcess } from "../../tests/support/runtime_process.ts";
import { CANARY, clientFor, expectApiError, fakeServer } from "../../tests/support/remote_fakes.ts";
import { waitUntil } from "../../tests/support/wait.ts";
import { MemoryStore, Runtime } from "../../runtime/mod.ts";
import { RemoteEndpoint, Secret } from "../settings/secret.ts";
import { EmbeddedRuntimeHandle } from "./embedded_handle.ts";
import { RemoteRuntimeClient } from "./remote_client.ts";
import { RemoteRuntimeHandle } from "./remote_handle.ts";
import { RuntimeRegistry } from "./registry.ts";
import { workerListBody } from "./worker_list_body.ts";

const dec = new TextDecoder();

Deno.test("remote list: an unchanged list is a 304 reusing the kept answer; a change is new", async () => {
  await using rt = await RuntimeProcess.start({ id: "rl", token: CANARY });
  const c = clientFor(rt.url, { token: CANARY, id: "rl" });
  try {
    const first = await c.listWorkers();
    assert.ok(first.etag, "the runtime sent a version");
    assert.deepEqual(first.workers, []);
    // The same object back means no body was read: the runtime answered 304.
    assert.equal(await c.listWorkers(), first);
    const made = await c.createWorker({});
    const second = await c.listWorkers();
    assert.notEqual(second, first);
    assert.deepEqual(second.workers.map((w) => [w.runtime_id, w.worker_id]), [
      ["rl", made.worker_id],
    ]);
    assert.deepEqual(second.texts.map((t) => JSON.parse(t)), second.workers);
    assert.equal(second.json, second.texts.join(","));
    assert.equal(await c.listWorkers(), second);
    const idle = await c.listWorkers(undefined, "idle");
    assert.notEqual(idle, second, "each filter keeps its own answer");
    assert.equal(await c.listWorkers(undefined, "idle"), idle);
    assert.deepEqual((await c.listWorkers(undefined, "busy")).workers, []);
  } finally {
    c.close();
  }
});

Deno.test("remote list: a 304 from another runtime (or naming none) is refused, not reused", async () => {
  // A fake: no real runtime answers 304 to another runtime's version (each run has its own),
  // so only a stand-in can show that the identity check also covers a 304.
  const body = JSON.stringify({
    workers: [{
      runtime_id: "rl",
      worker_id: "0190a000-0000-7000-8000-000000000001",
      display_name: "w",
      profile: "echo",
      status: "idle",
      created_at: "2026-01-01T00:00:00Z",
      last_seq: 2,
    }],
    diagnostics: [],
  });
  let answerAs: string | null = "rl";
  const inm: (string | null)[] = [];
  const { server, url } = fakeServer((req) => {
    inm.push(req.headers.get("if-none-match"));
    const headers: Record<string, string> = { etag: '"v1"' };
    if (answerAs) headers["yoi-runtime-id"] = answerAs;
    if (req.headers.get("if-none-match") === '"v1"') {
      return new Response(null, { status: 304, headers });
    }
    return new Response(body, {
      status: 200,
      headers: { ...headers, "content-type": "application/json" },
    });
  }, null);
  const mismatches: (string | null)[] = [];
  const c = new RemoteRuntimeClient({
    runtimeId: "rl",
    endpoint: new RemoteEndpoint(url),
    token: new Secret(CANARY),
    onIdentityMismatch: (seen) => mismatches.push(seen),
  });
  try {
    const first = await c.listWorkers();
    assert.equal(first.workers.length, 1);
    assert.equal(await c.listWorkers(), first);
    assert.deepEqual(inm, [null, '"v1"']);
    answerAs = "other";
    await expectApiError(c.listWorkers(), "runtime_id_mismatch");
    answerAs = null;
    const e = await c.listWorkers().catch((e) => e);
    assert.ok(e instanceof ApiError, String(e));
    assert.deepEqual(mismatches, ["other", null]);
  } finally {
    c.close();
    await server.shutdown();
  }
});

/** The list as the code before issue 15's work built it: objects serialised as a whole. */
async function reference(reg: RuntimeRegistry, status?: WorkerStatus) {
  const { workers, diagnostics } = await reg.listWorkers(status);
  return JSON.parse(JSON.stringify({ workers, diagnostics }));
}

async function assembled(reg: RuntimeRegistry, status?: WorkerStatus) {
  return JSON.parse(dec.decode((await reg.listWorkersBody(status)).bytes));
}

Deno.test("/api/workers assembled from kept texts equals the reference build, stale included", async () => {
  const token = "list-assembly-token";
  const a = await RuntimeProcess.start({ id: "ra", token });
  await using b = await RuntimeProcess.start({ id: "rb", token });
  const lib = await Runtime.open({ runtimeId: "local", store: new MemoryStore() });
  const env = (n: string) => n === "YOI_LIST_TOKEN" ? token : undefined;
  const remote = (rt: RuntimeProcess) =>
    new RemoteRuntimeHandle({ id: rt.id, endpoint: rt.url, token_ref: "env:YOI_LIST_TOKEN" }, {
      env,
    });
  const reg = new RuntimeRegistry([new EmbeddedRuntimeHandle(lib), remote(a), remote(b)], {
    fanoutDeadlineMs: 5000,
  });
  try {
    for (const rt of [a, b]) {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${rt.url}/v1/workers`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ display_name: `${rt.id} "${i}" ✓` }),
        });
        assert.equal(res.status, 201);
        await res.body?.cancel();
      }
    }
    await lib.createWorker({});
    await reg.checkAll();
    /** Straight from each runtime, in the registry's order: what the list must be. */
    const direct = async (status?: WorkerStatus, skip?: string) => {
      const workers: unknown[] = lib.listWorkers(status);
      for (const rt of [a, b]) {
        if (rt.id === skip) continue;
        const q = status ? `?status=${status}` : "";
        const res = await fetch(`${rt.url}/v1/workers${q}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        workers.push(...(await res.json()).workers);
      }
      return JSON.parse(JSON.stringify(workers));
    };
    const all = await assembled(reg);
    assert.equal(all.workers.length, 7);
    assert.deepEqual(all, { workers: await direct(), diagnostics: [] });
    assert.deepEqual(all, await reference(reg));
    assert.deepEqual(await assembled(reg), all, "the same again (every runtime answered 304)");
    const stopped = (await reg.listWorkers()).workers.find((w) => w.runtime_id === "rb")!;
    await reg.get("rb").stop(stopped.worker_id);
    for (const s of [undefined, "idle", "stopped", "busy"] as const) {
      const got = await assembled(reg, s);
      assert.deepEqual(got, { workers: await direct(s), diagnostics: [] }, `status ${s}`);
      assert.deepEqual(got, await reference(reg, s), `status ${s}`);
    }
    // One runtime goes away: its last-known workers (as of the last list) are listed stale.
    const renamed = all.workers.find((w: { runtime_id: string }) => w.runtime_id === "ra");
    const patch = await fetch(`${a.url}/v1/workers/${renamed.worker_id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ display_name: "renamed before the crash" }),
    });
    assert.equal(patch.status, 200);
    await patch.body?.cancel();
    assert.deepEqual(await assembled(reg), { workers: await direct(), diagnostics: [] });
    const lastOfA = (await direct(undefined, "rb")).filter((w: { runtime_id: string }) =>
      w.runtime_id === "ra"
    );
    await a.kill("SIGKILL");
    await reg.get("ra").listWorkers().catch(() => {});
    await waitUntil("ra unreachable", () => reg.remote("ra")!.state === "unreachable");
    const stale = await assembled(reg);
    assert.deepEqual(
      stale.workers.filter((w: { stale?: boolean }) => w.stale),
      lastOfA.map((w: object) => ({ ...w, stale: true })),
    );
    assert.deepEqual(stale, await reference(reg));
    // One runtime's own list (`/api/runtimes/{id}/workers`) is the same assembly.
    const one = await reg.get("rb").listWorkers();
    assert.deepEqual(
      JSON.parse(dec.decode(workerListBody([one]).bytes)),
      JSON.parse(JSON.stringify({ workers: one.workers, diagnostics: one.diagnostics })),
    );
  } finally {
    await reg.close();
    await lib.shutdown();
    await a.kill("SIGKILL").catch(() => {});
  }
});
