import assert from "node:assert/strict";
import { RemoteRuntimeHandle } from "./remote_handle.ts";
import { ApiError } from "../../shared/mod.ts";

const CANARY_HOST = "canary-host-5d1e.invalid";
const CANARY_TOKEN = "canary-token-5d1e";

Deno.test("a remote handle never shows its endpoint or token in toString, toJSON or inspect", () => {
  const h = new RemoteRuntimeHandle(
    { id: "canary", endpoint: `http://${CANARY_HOST}:8790`, token_ref: "env:YOI_CANARY_TOKEN" },
    { env: (n) => n === "YOI_CANARY_TOKEN" ? CANARY_TOKEN : undefined },
  );
  for (
    const shown of [
      String(h),
      JSON.stringify(h),
      Deno.inspect(h, { depth: 10 }),
      JSON.stringify({ h }),
    ]
  ) {
    assert.ok(!shown.includes(CANARY_HOST), shown);
    assert.ok(!shown.includes(CANARY_TOKEN), shown);
    assert.match(shown, /canary/); // the id is fine to show
  }
});

Deno.test("an unresolvable token_ref fails closed: every call is token_ref_unresolved, none connects", async () => {
  const h = new RemoteRuntimeHandle(
    { id: "locked", endpoint: "http://127.0.0.1:9", token_ref: "env:YOI_UNSET_FOR_TEST" },
    { env: () => undefined },
  );
  const entry = await h.describe();
  assert.equal(entry.state, "unconfigured");
  assert.equal(entry.diagnostics[0].code, "token_ref_unresolved");
  assert.equal(entry.can_create_worker, false);
  for (const call of [() => h.listWorkers(), () => h.createWorker({})]) {
    await assert.rejects(call, (e) => e instanceof ApiError && e.code === "token_ref_unresolved");
  }
  await h.check();
  assert.equal(h.state, "unconfigured");
  assert.equal(h.health().health_history[0].code, "token_ref_unresolved");
});
