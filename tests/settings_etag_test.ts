/**
 * The runtime connection list answers 304 to a poll when nothing changed (README "Why
 * polling"): the embedded runtime's check times, which are the request's own time, do not
 * change its ETag. Found by the OpenAPI replay, which expects the documented 304 live.
 * @module
 */
import assert from "node:assert/strict";
import { createBackend } from "../backend/mod.ts";

Deno.test("connection list: an unchanged list answers 304 to its ETag, a change does not", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "yoi-etag-" });
  const backend = await createBackend({
    stateDir,
    port: 8787,
    embeddedStore: "memory",
    backendKey: null,
    healthIntervalMs: 0,
  });
  const list = (headers: Record<string, string> = {}) =>
    backend.app.request("http://127.0.0.1:8787/api/settings/runtime-connections", {
      headers: { host: "127.0.0.1:8787", ...headers },
    });
  try {
    const first = await list();
    assert.equal(first.status, 200);
    const etag = first.headers.get("etag")!;
    const body = await first.json();
    assert.ok(body.connections[0].built_in && body.connections[0].last_checked_at);
    await new Promise((r) => setTimeout(r, 20)); // the embedded row's times move on
    const again = await list({ "if-none-match": etag });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), "");
    assert.equal(again.headers.get("etag"), etag);

    // A real change (a hand edit adding a connection) is a new ETag and a 200.
    await Deno.writeTextFile(
      `${stateDir}/workspace-backend.local.toml`,
      '[[runtimes.remote]]\nid = "box"\nendpoint = "http://127.0.0.1:9"\n',
    );
    const changed = await list({ "if-none-match": etag });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get("etag"), etag);
    await changed.body?.cancel();
  } finally {
    await backend.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});
