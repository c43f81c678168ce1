/**
 * Endpoint target policy (DESIGN §8) against a real Backend process: every spelling of a
 * metadata, link-local or unspecified address is refused at add, edit and candidate test with
 * 400 `endpoint_not_allowed`, and a connection already in the file with such an endpoint is
 * `unconfigured` and never contacted. (A host *name* resolving to such an address is covered
 * in backend/settings/endpoint_policy_test.ts with an injected resolver: this machine's hosts file
 * names no such address and tests must not edit it.)
 * @module
 */
import assert from "node:assert/strict";
import { BackendProcess } from "./support/backend_process.ts";
import { rawCall } from "./support/raw_call.ts";
import { REFUSED_ENDPOINTS } from "./support/refused_endpoints.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";

const BASE = "/api/settings/runtime-connections";
const REFUSED = REFUSED_ENDPOINTS;

const call = rawCall;

Deno.test("endpoint policy: refused spellings → 400 endpoint_not_allowed; saved ones are unconfigured", async () => {
  await using rt = await RuntimeProcess.start({ id: "ok" });
  const bp = await BackendProcess.start({
    config: `[[runtimes.remote]]\nid = "meta"\nendpoint = "http://2852039166:8790"\n\n` +
      `[[runtimes.remote]]\nid = "ok"\nendpoint = "${rt.url}"\n`,
  });
  try {
    for (const endpoint of REFUSED) {
      const add = await call(bp, "POST", BASE, { id: "x", endpoint });
      assert.equal(add.status, 400, `${endpoint}: ${add.text}`);
      assert.equal(add.body.error.code, "endpoint_not_allowed", endpoint);
      assert.deepEqual(add.body.diagnostics, []);
      assert.ok(!add.text.includes("169.254"), "the message echoes the address");
      const cand = await call(bp, "POST", `${BASE}/test`, { id: "x", endpoint });
      assert.equal(cand.body.error.code, "endpoint_not_allowed", endpoint);
      const edit = await call(bp, "PATCH", `${BASE}/ok`, { endpoint });
      assert.equal(edit.body.error.code, "endpoint_not_allowed", endpoint);
    }
    // Loopback stays allowed: the real runtime is added, edited and tested.
    const edit = await call(bp, "PATCH", `${BASE}/ok`, { endpoint: rt.url });
    assert.equal(edit.status, 200, edit.text);
    const ok = await call(bp, "POST", `${BASE}/ok/test`);
    assert.equal(ok.body.reachable, true, ok.text);

    // Already in the file: unconfigured with the diagnostic; the saved test contacts nothing.
    const list = await call(bp, "GET", BASE);
    const meta = list.body.connections.find((r: { id: string }) => r.id === "meta");
    assert.equal(meta.state, "unconfigured", list.text);
    assert.ok(meta.diagnostics.some((d: { code: string }) => d.code === "endpoint_not_allowed"));
    const test = await call(bp, "POST", `${BASE}/meta/test`);
    assert.equal(test.body.reachable, false, test.text);
    assert.deepEqual(test.body.diagnostics.map((d: { code: string }) => d.code), [
      "endpoint_not_allowed",
    ]);
    const workers = await call(bp, "GET", "/api/runtimes/meta/workers");
    assert.equal(workers.body.error.code, "endpoint_not_allowed", workers.text);
  } finally {
    await bp.kill();
  }
});
