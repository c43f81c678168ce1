/**
 * The runtime's worker list kept as text (issue 15): the version changes with every listed
 * field, a worker coming or going and a restart; the text equals the objects `listWorkers`
 * builds; over HTTP a matching `If-None-Match` gets a 304 that still names the runtime and
 * still needs auth.
 * @module
 */
import assert from "node:assert/strict";
import { waitUntil } from "../tests/support/wait.ts";
import { authHeaders, RuntimeProcess } from "../tests/support/runtime_process.ts";
import { RUNTIME_ID_HEADER, type WorkerStatus } from "../shared/mod.ts";
import { MemoryStore } from "./memory_store.ts";
import { Runtime } from "./runtime.ts";
import { etagMatches } from "./worker_list.ts";

function open(): Promise<Runtime> {
  return Runtime.open({
    runtimeId: "lib",
    store: new MemoryStore(),
    profiles: { fast: { engine: "echo", chunk_chars: 1 } },
  });
}

/** The text answer parsed must equal the objects the runtime builds for the same list. */
function assertSameAsObjects(rt: Runtime, status?: WorkerStatus) {
  const parsed = JSON.parse(rt.listWorkersJson(status).json);
  assert.deepEqual(parsed, { workers: rt.listWorkers(status), diagnostics: rt.diagnostics });
}

Deno.test("list version: changes on create, input, rename, stop, delete; text equals objects", async () => {
  const rt = await open();
  try {
    const seen = new Set<string>();
    const next = (what: string) => {
      const { etag } = rt.listWorkersJson();
      assert.ok(!seen.has(etag), `a new version after ${what}`);
      seen.add(etag);
      assertSameAsObjects(rt);
      return etag;
    };
    const e0 = next("start");
    assert.equal(rt.listWorkersJson().etag, e0, "unchanged without a change");
    const a = await rt.createWorker({ profile: "fast" });
    next("create");
    const b = await rt.createWorker({ profile: "fast", display_name: "second" });
    next("second create");
    await rt.input(a.worker_id, "hi");
    await waitUntil("turn over", () => rt.getWorker(a.worker_id).status === "idle");
    next("a turn (status and last_seq)");
    await rt.rename(b.worker_id, "renamed");
    next("rename");
    await rt.stop(b.worker_id);
    next("stop");
    for (const s of ["idle", "stopped", "busy"] as const) assertSameAsObjects(rt, s);
    await rt.deleteWorker(b.worker_id);
    const last = next("delete");
    assert.equal(JSON.parse(rt.listWorkersJson().json).workers.length, 1);
    assert.equal(rt.listWorkersJson().etag, last);
  } finally {
    await rt.shutdown();
  }
});

Deno.test("list version: one per status filter, and never shared by two runtime processes", async () => {
  const one = await open();
  const two = await open();
  try {
    const all = one.listWorkersJson().etag;
    const idle = one.listWorkersJson("idle").etag;
    assert.notEqual(all, idle);
    assert.notEqual(one.listWorkersJson("busy").etag, idle);
    // Same content, same number of changes: a restarted runtime never matches an old version.
    assert.equal(one.listWorkersJson().json, two.listWorkersJson().json);
    assert.notEqual(two.listWorkersJson().etag, all);
  } finally {
    await one.shutdown();
    await two.shutdown();
  }
});

Deno.test("etagMatches: lists, weak tags and *", () => {
  assert.ok(etagMatches('"a"', '"a"'));
  assert.ok(etagMatches('"x", W/"a"', '"a"'));
  assert.ok(etagMatches("*", '"a"'));
  assert.ok(!etagMatches('"ab"', '"a"'));
  assert.ok(!etagMatches(undefined, '"a"'));
});

Deno.test("GET /v1/workers: ETag, 304 with Yoi-Runtime-Id, auth before the 304, filter", async () => {
  const token = "list-etag-token";
  await using rt = await RuntimeProcess.start({ id: "etag", token });
  const list = (query = "", headers: Record<string, string> = {}, tok: string | null = token) =>
    fetch(`${rt.url}/v1/workers${query}`, {
      headers: { ...authHeaders(tok ?? undefined), ...headers },
    });
  const first = await list();
  assert.equal(first.status, 200);
  assert.deepEqual(await first.json(), { workers: [], diagnostics: [] });
  const etag = first.headers.get("etag")!;
  assert.match(etag, /^"[^"]+"$/);

  const same = await list("", { "if-none-match": etag });
  assert.equal(same.status, 304);
  assert.equal(same.headers.get(RUNTIME_ID_HEADER), "etag");
  assert.equal(same.headers.get("etag"), etag);
  assert.equal(await same.text(), "");

  const anon = await list("", { "if-none-match": etag }, null);
  assert.equal(anon.status, 401, "a 304 is no way around auth");
  await anon.body?.cancel();

  const created = await fetch(`${rt.url}/v1/workers`, {
    method: "POST",
    headers: { ...authHeaders(token), "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(created.status, 201);
  const { worker } = await created.json();
  const after = await list("", { "if-none-match": etag });
  assert.equal(after.status, 200, "a new worker is a new version");
  assert.deepEqual((await after.json()).workers.map((w: { worker_id: string }) => w.worker_id), [
    worker.worker_id,
  ]);
  const etag2 = after.headers.get("etag")!;
  assert.notEqual(etag2, etag);

  const idle = await list("?status=idle", { "if-none-match": etag2 });
  assert.equal(idle.status, 200, "the filtered list has its own version");
  const idleTag = idle.headers.get("etag")!;
  assert.equal((await idle.json()).workers.length, 1);
  const idleAgain = await list("?status=idle", { "if-none-match": idleTag });
  assert.equal(idleAgain.status, 304);
  await idleAgain.body?.cancel();

  const doc = await (await fetch(`${rt.url}/v1/openapi.json`, { headers: authHeaders(token) }))
    .json();
  assert.ok(doc.paths["/v1/workers"].get.responses["304"], "the 304 is documented");
});
