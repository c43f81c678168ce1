/**
 * The remote client's error mapping (DESIGN §5) against real runtimes and FAKE remotes:
 * auth, timeouts, dead ports, malformed and oversized answers, redirects, remote error
 * statuses — each a typed error naming the runtime id, never its address or token.
 */
import assert from "node:assert/strict";
import { newWorkerId } from "../../shared/mod.ts";
import { RuntimeProcess } from "../../tests/support/runtime_process.ts";
import {
  assertNoLeak,
  CANARY,
  clientFor,
  expectApiError,
  fakeServer,
} from "../../tests/support/remote_fakes.ts";

Deno.test("a wrong or missing token is remote_runtime_auth_failed", async () => {
  await using rt = await RuntimeProcess.start({ id: "rc-auth", token: CANARY });
  const wrong = clientFor(rt.url, { token: "wrong-token-ABC", id: "rc-auth" });
  const e1 = await expectApiError(wrong.runtime(), "remote_runtime_auth_failed");
  assert.equal(e1.status, 401);
  assertNoLeak(e1, rt.url, ["wrong-token-ABC"]);
  assertNoLeak(wrong, rt.url, ["wrong-token-ABC"]);
  assertNoLeak(
    await expectApiError(wrong.probeRuntime(), "remote_runtime_auth_failed"),
    rt.url,
  );
  const none = clientFor(rt.url, { id: "rc-auth" });
  const e2 = await expectApiError(none.listWorkers(), "remote_runtime_auth_failed");
  assert.match(e2.message, /none is configured/);
  assertNoLeak(e2, rt.url);
});

Deno.test("a server that never answers is remote_runtime_timeout within the deadline", async () => {
  // FAKE: accepts TCP connections and never writes a byte.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${listener.addr.port}`;
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) conns.push(conn);
    } catch { /* listener closed */ }
  })();
  try {
    const c = clientFor(url, { timeoutMs: 300, token: CANARY });
    const t0 = performance.now();
    const err = await expectApiError(c.runtime(), "remote_runtime_timeout");
    const took = performance.now() - t0;
    assert.ok(took >= 250 && took < 1800, `took ${took} ms`);
    assert.equal(err.status, 504);
    assertNoLeak(err, url);
    // A caller's own deadline is honoured too.
    const t1 = performance.now();
    await expectApiError(
      clientFor(url, { timeoutMs: 10_000 }).listWorkers(AbortSignal.timeout(200)),
      "remote_runtime_timeout",
    );
    assert.ok(performance.now() - t1 < 1800);
  } finally {
    listener.close();
    await accepting;
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }
});

Deno.test("a killed runtime or closed port is remote_runtime_unavailable", async () => {
  const rt = await RuntimeProcess.start({ id: "rc-dead", token: CANARY });
  const c = clientFor(rt.url, { token: CANARY, id: "rc-dead" });
  await c.runtime();
  await rt.kill("SIGKILL");
  const err = await expectApiError(c.runtime(), "remote_runtime_unavailable");
  assert.equal(err.status, 502);
  assert.match(err.message, /^Runtime "rc-dead" /);
  assertNoLeak(err, rt.url);
  assertNoLeak(
    await expectApiError(c.getWorker(newWorkerId()), "remote_runtime_unavailable"),
    rt.url,
  );
});

Deno.test("malformed answers are remote_runtime_malformed_response", async (t) => {
  const FIVE_MB = 5 * 1024 * 1024;
  let served = 0;
  // FAKE: a server that answers with garbage of several kinds.
  const { server, url } = fakeServer((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/text/v1/runtime") return new Response("<html>hello</html>");
    if (path === "/shape/v1/runtime") return Response.json({ runtime: { runtime_id: "x" } });
    if (path === "/huge/v1/runtime") {
      const chunk = new Uint8Array(64 * 1024).fill(0x20);
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(ctrl) {
            if (served >= FIVE_MB) return ctrl.close();
            served += chunk.byteLength;
            ctrl.enqueue(chunk);
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    }
    if (path === "/declared/v1/runtime") {
      return new Response("x".repeat(FIVE_MB), { headers: { "content-type": "application/json" } });
    }
    return new Response("?", { status: 418 });
  });
  try {
    for (const name of ["text", "shape", "huge", "declared"]) {
      await t.step(name, async () => {
        const c = clientFor(`${url}/${name}`, { token: CANARY });
        const err = await expectApiError(c.runtime(), "remote_runtime_malformed_response");
        assert.equal(err.status, 502);
        assertNoLeak(err, url);
      });
    }
    // The raw probe does no schema check but still refuses non-JSON and huge bodies.
    const shape = await clientFor(`${url}/shape`).probeRuntime();
    assert.deepEqual(shape, { runtime: { runtime_id: "x" } });
    await expectApiError(
      clientFor(`${url}/text`).probeRuntime(),
      "remote_runtime_malformed_response",
    );
    await expectApiError(
      clientFor(`${url}/huge`).probeRuntime(),
      "remote_runtime_malformed_response",
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("a redirect is remote_runtime_unavailable and its target is never contacted", async () => {
  let targetHits = 0;
  // FAKE: the redirect target counts every request it gets.
  const target = fakeServer(() => {
    targetHits++;
    return Response.json({ runtime: {} });
  });
  // FAKE: a server that redirects everything to the target.
  const redirector = fakeServer((req) =>
    new Response(null, {
      status: 307,
      headers: { location: `${target.url}${new URL(req.url).pathname}` },
    })
  );
  try {
    const c = clientFor(redirector.url, { token: CANARY });
    for (const call of [() => c.runtime(), () => c.probeRuntime(), () => c.createWorker({})]) {
      const err = await expectApiError(call(), "remote_runtime_unavailable");
      assert.match(err.message, /redirect/);
      assertNoLeak(err, redirector.url);
      assertNoLeak(err, target.url);
    }
    assert.equal(targetHits, 0);
  } finally {
    await redirector.server.shutdown();
    await target.server.shutdown();
  }
});

Deno.test("remote error statuses map to typed codes", async () => {
  // FAKE: answers each path with a chosen status and body.
  const { server, url } = fakeServer((req) => {
    const path = new URL(req.url).pathname;
    const body = (code: string) => ({
      error: { code, message: `remote says ${code}` },
      diagnostics: [],
    });
    switch (path.split("/")[1]) {
      case "e500":
        return Response.json(body("internal_error"), { status: 500 });
      case "plain500":
        return new Response("oops", { status: 500 });
      case "e501":
        return new Response("nope", { status: 501 });
      case "route404":
        return Response.json(body("not_found"), { status: 404 });
      case "bare404":
        return new Response("Not Found", { status: 404 });
      case "unsupported":
        return Response.json(body("unsupported_operation"), { status: 400 });
      case "stopping":
        return Response.json(body("runtime_stopping"), { status: 503 });
      case "forbidden":
        return new Response("no", { status: 403 });
      case "leaky":
        return Response.json({
          error: { code: "invalid_request", message: `bad \u0007 token ${CANARY} at ${req.url}` },
          diagnostics: [],
        }, { status: 400 });
    }
    return new Response("?", { status: 418 });
  }, "fake");
  const at = (p: string) => clientFor(`${url}/${p}`, { token: CANARY, id: "fake" });
  try {
    const e500 = await expectApiError(at("e500").runtime(), "remote_runtime_unavailable");
    assert.deepEqual(e500.diagnostics, [{
      code: "remote_runtime_error",
      severity: "error",
      message: "runtime fake answered 500 internal_error",
    }]);
    const plain = await expectApiError(at("plain500").listWorkers(), "remote_runtime_unavailable");
    assert.equal(plain.diagnostics[0].message, "runtime fake answered 500");
    await expectApiError(at("e501").listWorkers(), "remote_runtime_unsupported");
    await expectApiError(at("route404").listWorkers(), "remote_runtime_unsupported");
    await expectApiError(at("bare404").runtime(), "remote_runtime_unsupported");
    await expectApiError(at("unsupported").createWorker({}), "remote_runtime_unsupported");
    const stopping = await expectApiError(at("stopping").listWorkers(), "runtime_stopping");
    assert.equal(stopping.message, 'Runtime "fake": remote says runtime_stopping');
    await expectApiError(at("forbidden").runtime(), "remote_runtime_auth_failed");
    const leaky = await expectApiError(at("leaky").runtime(), "invalid_request");
    assert.ok(!leaky.message.includes("\u0007"));
    assertNoLeak(leaky, url);
    for (const e of [e500, plain, stopping]) assertNoLeak(e, url);
  } finally {
    await server.shutdown();
  }
});
