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

Deno.test("requests to a down runtime re-check it ever less often (a polling page is not a check per second)", async () => {
  await using down = downPort();
  const h = new RemoteRuntimeHandle({ id: "down", endpoint: down.endpoint }, {});
  try {
    h.startHealth(60_000); // one scheduled check now, the next in a minute
    await h.check();
    const rounds = 12;
    for (let i = 0; i < rounds; i++) {
      await assert.rejects(() => h.listWorkers());
      await new Promise((r) => setTimeout(r, 300)); // a poller: more than 250 ms apart
    }
    const checks = h.health().health_history.length;
    // Every call used to re-check (≥ 13 entries); with the doubling window: 250 ms·2^failures.
    assert.ok(checks >= 2 && checks <= 6, `${checks} checks for ${rounds} polls`);
    assert.equal(h.state, "unreachable");
  } finally {
    h.remove();
  }
});

Deno.test("after a long outage a request still re-checks a down runtime within 2 s (it may be back)", async () => {
  await using down = downPort();
  const h = new RemoteRuntimeHandle({ id: "down", endpoint: down.endpoint }, {});
  try {
    h.startHealth(60_000);
    for (let i = 0; i < 8; i++) await h.check(); // 8+ failures: 250 ms·2^8 would be > 60 s
    const before = h.health().health_history.length;
    await new Promise((r) => setTimeout(r, 2_100));
    await assert.rejects(() => h.listWorkers());
    assert.equal(h.health().health_history.length, before + 1, "one inline re-check");
  } finally {
    h.remove();
  }
});

/**
 * A port the test keeps, where every connection is closed at once: each check fails at once.
 * (A freed port could be taken by another test's server meanwhile.)
 */
function downPort() {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closing = (async () => {
    for await (const conn of l) conn.close();
  })().catch(() => {});
  return {
    endpoint: `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`,
    async [Symbol.asyncDispose]() {
      l.close();
      await closing;
    },
  };
}
