/**
 * The Backend's router (issue 15): the whole app — `/api` and the pages mounted on it — stays
 * on Hono's RegExpRouter. One route SmartRouter's first choice cannot take makes it fall back
 * to TrieRouter for every request; the candidate test route beside a saved connection's test
 * route did exactly that. The public paths stay those of the table (DESIGN §6).
 * @module
 */
import assert from "node:assert/strict";
import { createWorkspace } from "../workspace.ts";

const HOST = "127.0.0.1:8787";

Deno.test("the workspace app routes with RegExpRouter and keeps every settings path", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "yoi-router-" });
  const ws = await createWorkspace({
    stateDir,
    port: 8787,
    embeddedStore: "memory",
    backendKey: null,
    healthIntervalMs: 0,
  });
  const call = (method: string, path: string, body?: unknown) =>
    ws.app.request(`http://${HOST}${path}`, {
      method,
      headers: {
        host: HOST,
        "x-yoi-request": "1",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  try {
    const list = await call("GET", "/api/runtimes");
    assert.equal(list.status, 200);
    await list.body?.cancel();
    assert.equal(ws.app.router.name, "SmartRouter + RegExpRouter");

    // The candidate probe (`…/test`) is still its own route: an invalid candidate is a 400
    // from its schema, not a 405 for an unknown connection path.
    const candidate = await call("POST", "/api/settings/runtime-connections/test", {});
    assert.equal(candidate.status, 400);
    assert.equal((await candidate.json()).error.code, "invalid_id");

    // A saved connection's probe keeps its path: an unknown id is a typed 404.
    const saved = await call("POST", "/api/settings/runtime-connections/nope/test");
    assert.equal(saved.status, 404);
    assert.equal((await saved.json()).error.code, "runtime_not_found");

    // Any other last segment is not the candidate route: 405 with the methods the path takes.
    const other = await call("POST", "/api/settings/runtime-connections/tests");
    assert.equal(other.status, 405);
    assert.equal(other.headers.get("allow"), "PATCH, DELETE");
    assert.equal((await other.json()).error.code, "method_not_allowed");

    // Pages still answer beside the API.
    const page = await call("GET", "/settings/runtime-connections");
    assert.equal(page.status, 200);
    await page.body?.cancel();
  } finally {
    await ws.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});
