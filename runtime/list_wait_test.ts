/**
 * `GET /v1/workers?wait=MS` (issue 15, the Backend's change feed): a request whose
 * `If-None-Match` names the current version is held until a listed field changes (200 with the
 * new list) or the wait ends (304); at most 64 are held, a stopping runtime answers them all, an
 * aborted one is let go. The wait of a held request in these tests is long (20–30 s) so an
 * answer that came from its timer, not from the change, would show as a failed or hung test.
 * @module
 */
import assert from "node:assert/strict";
import { authHeaders, RuntimeProcess } from "../tests/support/runtime_process.ts";
import { RUNTIME_ID_HEADER } from "../shared/mod.ts";
import { MAX_LIST_WAITERS, WorkerListCache } from "./worker_list.ts";
import type { WorkerState } from "./worker_state.ts";

const TOKEN = "list-wait-token";

function client(rt: RuntimeProcess) {
  const h = authHeaders(TOKEN) as Record<string, string>;
  const list = (query: string, etag?: string) =>
    fetch(`${rt.url}/v1/workers${query}`, {
      headers: etag ? { ...h, "if-none-match": etag } : h,
    });
  const send = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${rt.url}/v1/workers${path}`, {
      method,
      headers: { ...h, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(r.ok, `${method} ${path}: ${r.status}`);
    return await r.json();
  };
  return { list, send };
}

/** Holds a list request at version `etag`, runs `change`, and returns the held answer. */
async function heldAcross(
  list: (q: string, e?: string) => Promise<Response>,
  etag: string,
  change: () => Promise<unknown>,
) {
  const held = list("?wait=20000", etag);
  // The request is held before the change (a request answered at once would be a 304 here).
  await new Promise((r) => setTimeout(r, 100));
  await change();
  const res = await held;
  assert.equal(res.headers.get(RUNTIME_ID_HEADER), "lw");
  return res;
}

Deno.test("list wait: a held request answers 200 on create, status change, rename, delete", async () => {
  await using rt = await RuntimeProcess.start({
    id: "lw",
    token: TOKEN,
    config: '[profiles.fast]\nengine = "echo"\nchunk_chars = 64\n',
  });
  const { list, send } = client(rt);
  const first = await list("");
  const summary = await (await fetch(`${rt.url}/v1/runtime`, { headers: authHeaders(TOKEN) }))
    .json();
  assert.equal(summary.runtime.capabilities.list_wait, true, "the runtime advertises it");
  let etag = first.headers.get("etag")!;
  await first.body?.cancel();

  // Nothing changes: the wait ends with a 304 of the same version.
  const quiet = await list("?wait=200", etag);
  assert.equal(quiet.status, 304);
  assert.equal(quiet.headers.get("etag"), etag);
  assert.equal(quiet.headers.get(RUNTIME_ID_HEADER), "lw");

  let id = "";
  const created = await heldAcross(list, etag, async () => {
    id = (await send("POST", "", { profile: "fast" })).worker.worker_id;
  });
  assert.equal(created.status, 200, "a created worker answers the held request");
  const body = await created.json();
  assert.deepEqual(body.workers.map((w: { worker_id: string }) => w.worker_id), [id]);
  etag = created.headers.get("etag")!;

  const stopped = await heldAcross(list, etag, () => send("POST", `/${id}/stop`));
  assert.equal(stopped.status, 200, "a status change answers it");
  assert.equal((await stopped.json()).workers[0].status, "stopped");
  etag = stopped.headers.get("etag")!;

  const renamed = await heldAcross(
    list,
    etag,
    () => send("PATCH", `/${id}`, { display_name: "n" }),
  );
  assert.equal(renamed.status, 200, "a rename answers it");
  assert.equal((await renamed.json()).workers[0].display_name, "n");
  etag = renamed.headers.get("etag")!;

  // A delete publishes no event: the request's own end tells the held ones.
  const deleted = await heldAcross(list, etag, () => send("DELETE", `/${id}`));
  assert.equal(deleted.status, 200, "a delete answers it");
  assert.deepEqual((await deleted.json()).workers, []);
  etag = deleted.headers.get("etag")!;

  // Without a matching If-None-Match, or with wait=0, the answer comes at once as before.
  const unconditional = await list("?wait=20000");
  assert.equal(unconditional.status, 200);
  await unconditional.body?.cancel();
  const other = await list("?wait=20000", '"another"');
  assert.equal(other.status, 200);
  await other.body?.cancel();
  const zero = await list("?wait=0", etag);
  assert.equal(zero.status, 304);

  for (const bad of ["abc", "-1", "1e3", "30001"]) {
    const r = await list(`?wait=${bad}`, etag);
    assert.equal(r.status, 400, `wait=${bad}`);
    assert.equal((await r.json()).error.code, "invalid_request");
  }
  const doc = await (await fetch(`${rt.url}/v1/openapi.json`, { headers: authHeaders(TOKEN) }))
    .json();
  const params = doc.paths["/v1/workers"].get.parameters.map((p: { name: string }) => p.name);
  assert.ok(params.includes("wait"), "the OpenAPI doc declares wait");
});

Deno.test("list wait: the 65th held request is answered at once; a stop answers the rest", async () => {
  await using rt = await RuntimeProcess.start({ id: "lw", token: TOKEN });
  const { list } = client(rt);
  const first = await list("");
  const etag = first.headers.get("etag")!;
  await first.body?.cancel();

  const held: Promise<Response>[] = [];
  for (let i = 0; i < MAX_LIST_WAITERS; i++) held.push(list("?wait=30000", etag));
  await new Promise((r) => setTimeout(r, 300));
  const extra = await list("?wait=30000", etag);
  assert.equal(extra.status, 304, "past the bound: answered at once, not held");
  const PENDING = Symbol("pending");
  const state = await Promise.race([Promise.any(held), Promise.resolve(PENDING)]);
  assert.equal(state, PENDING, "the 64 are still held");

  await rt.kill("SIGTERM");
  const answers = await Promise.all(held);
  for (const r of answers) {
    assert.equal(r.status, 304, "a stopping runtime answers every held request");
    await r.body?.cancel();
  }
});

Deno.test("list wait: an aborted request is let go; waiters are bounded in the library too", async () => {
  const workers = new Map<string, WorkerState>();
  const cache = new WorkerListCache("lib", workers, []);
  const { etag } = cache.list();
  const ac = new AbortController();
  const p = cache.wait(undefined, etag, 30_000, ac.signal);
  assert.ok(p);
  assert.equal(cache.waiting, 1);
  ac.abort();
  assert.equal(await p, null);
  assert.equal(cache.waiting, 0, "the aborted waiter is gone (and its timer with it)");

  const many = [];
  for (let i = 0; i < MAX_LIST_WAITERS; i++) many.push(cache.wait(undefined, etag, 30_000));
  assert.ok(many.every((w) => w !== null));
  assert.equal(cache.wait(undefined, etag, 30_000), null, "the 65th is not held");
  await cache.close();
  assert.deepEqual(await Promise.all(many), many.map(() => null), "closed: all answered");
  assert.equal(cache.wait(undefined, etag, 30_000), null, "nothing is held after close");
});
