/**
 * Secret references (DESIGN §8) against a real Backend process: a token_ref naming a variable
 * the operator did not allow is refused at add, edit and candidate test, and a connection
 * already in the file with such a ref is `unconfigured`. A listening canary server records
 * every request; it must never see the value of a non-allowed variable — through add, edit,
 * test, health checks or worker calls — while allowed refs (YOI_ prefix, token_env_allow) do
 * reach it, which proves the recorder would have caught a leak.
 * @module
 */
import assert from "node:assert/strict";
import { BackendProcess } from "./support/backend_process.ts";
import { rawCall } from "./support/raw_call.ts";
import { waitUntil } from "./support/wait.ts";

const BASE = "/api/settings/runtime-connections";
const AWS = "canary-aws-3b7e10";
const OTHER = "canary-other-9d2c44";
const ALLOWED = "allowed-yoi-5e1a";
const LISTED = "allowed-listed-77f0";

const call = rawCall;

Deno.test("token_ref policy: non-allowed variables are refused and never reach a canary endpoint", async () => {
  // The canary: records every request line, header and body it receives; answers 401.
  const seen: string[] = [];
  const canary = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen.push(`${req.method} ${req.url}\n${[...req.headers].join("\n")}\n${await req.text()}`);
    return Response.json({ error: { code: "unauthorized", message: "no" }, diagnostics: [] }, {
      status: 401,
    });
  });
  const endpoint = `http://127.0.0.1:${canary.addr.port}`;
  const bp = await BackendProcess.start({
    config: `[server]\ntoken_env_allow = ["BUILD_TOKEN"]\n\n` +
      `[[runtimes.remote]]\nid = "pre"\nendpoint = "${endpoint}"\n` +
      `token_ref = "env:AWS_SECRET_ACCESS_KEY"\n`,
    env: {
      AWS_SECRET_ACCESS_KEY: AWS,
      OTHER_SECRET: OTHER,
      YOI_ALLOWED: ALLOWED,
      BUILD_TOKEN: LISTED,
    },
    extraArgs: ["--health-interval-ms", "50"],
  });
  try {
    // Already in the file: unconfigured, with a diagnostic naming the rule.
    const list = await call(bp, "GET", BASE);
    const pre = list.body.connections.find((r: { id: string }) => r.id === "pre");
    assert.equal(pre.state, "unconfigured", list.text);
    assert.ok(
      pre.diagnostics.some((d: { code: string }) => d.code === "token_ref_not_allowed"),
      list.text,
    );

    for (const ref of ["env:AWS_SECRET_ACCESS_KEY", "env:OTHER_SECRET", "env:HOME", "env:PATH"]) {
      const add = await call(bp, "POST", BASE, { id: "x", endpoint, token_ref: ref });
      assert.equal(add.status, 400, add.text);
      assert.equal(add.body.error.code, "token_ref_not_allowed", ref);
      const edit = await call(bp, "PATCH", `${BASE}/pre`, { token_ref: ref });
      assert.equal(edit.status, 400, edit.text);
      assert.equal(edit.body.error.code, "token_ref_not_allowed", ref);
      const cand = await call(bp, "POST", `${BASE}/test`, { id: "x", endpoint, token_ref: ref });
      assert.equal(cand.status, 400, cand.text);
      assert.equal(cand.body.error.code, "token_ref_not_allowed", ref);
    }
    for (const ref of ["file:../x", "file:/etc/passwd"]) {
      const add = await call(bp, "POST", BASE, { id: "x", endpoint, token_ref: ref });
      assert.equal(add.body.error.code, "token_ref_not_allowed", ref);
    }

    // Saved test and worker calls on the pre-existing entry: typed errors, nothing sent.
    const test = await call(bp, "POST", `${BASE}/pre/test`);
    assert.equal(test.status, 200, test.text);
    assert.equal(test.body.reachable, false);
    assert.deepEqual(test.body.diagnostics.map((d: { code: string }) => d.code), [
      "token_ref_not_allowed",
    ]);
    const workers = await call(bp, "GET", "/api/runtimes/pre/workers");
    assert.equal(workers.body.error.code, "token_ref_not_allowed", workers.text);
    const create = await call(bp, "POST", "/api/runtimes/pre/workers", { display_name: "w" });
    assert.equal(create.body.error.code, "token_ref_not_allowed", create.text);
    const input = await call(bp, "POST", "/api/runtimes/pre/workers/w_1/input", { text: "hi" });
    assert.ok(input.status >= 400, input.text);

    // Allowed refs do reach the canary (so the recorder would have seen a leak).
    for (const [id, ref] of [["yoi", "env:YOI_ALLOWED"], ["listed", "env:BUILD_TOKEN"]]) {
      const cand = await call(bp, "POST", `${BASE}/test`, { id, endpoint, token_ref: ref });
      assert.equal(cand.status, 200, cand.text);
      const add = await call(bp, "POST", BASE, { id, endpoint, token_ref: ref });
      assert.equal(add.status, 201, add.text);
    }
    // Health checks of the allowed ones run every 50 ms; wait until both were seen.
    await waitUntil(
      "allowed tokens at the canary",
      () => seen.some((s) => s.includes(ALLOWED)) && seen.some((s) => s.includes(LISTED)),
    );
    const all = seen.join("\n");
    assert.ok(!all.includes(AWS), "AWS_SECRET_ACCESS_KEY reached the canary");
    assert.ok(!all.includes(OTHER), "OTHER_SECRET reached the canary");
    assert.ok(!bp.output.includes(AWS) && !bp.output.includes(OTHER), "a secret was logged");
  } finally {
    await bp.kill();
    await canary.shutdown();
  }
});
