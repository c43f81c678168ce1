import assert from "node:assert/strict";
import { createLogger, log } from "./log.ts";

const CANARY_SECRET = "canary-secret-123";
const CANARY_URL = "http://canary-host.internal:9999/x";

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ write: (l) => lines.push(l) });
  return { lines, logger };
}

Deno.test("log: one JSON line per call with at/level/event and fields", () => {
  const { lines, logger } = capture();
  logger.info("backend.started", { port: 1234, nested: { ok: true } });
  logger.warn("w");
  logger.error("e", { event: "spoof", level: "spoof" });
  assert.equal(lines.length, 3);
  for (const l of lines) assert.ok(!l.includes("\n"));
  const a = JSON.parse(lines[0]);
  assert.equal(a.level, "info");
  assert.equal(a.event, "backend.started");
  assert.ok(!Number.isNaN(Date.parse(a.at)));
  assert.equal(a.port, 1234);
  assert.deepEqual(a.nested, { ok: true });
  assert.equal(JSON.parse(lines[1]).level, "warn");
  const c = JSON.parse(lines[2]);
  assert.equal(c.level, "error");
  assert.equal(c.event, "e");
  assert.equal(c._event, "spoof");
});

Deno.test("log: canaries never reach the output", () => {
  const { lines, logger } = capture();
  logger.addSecret(CANARY_SECRET);
  const err = new Error(`connect to ${CANARY_URL} with ${CANARY_SECRET} failed`);
  logger.error("remote.failed", {
    msg: `token was ${CANARY_SECRET}!`,
    nested: { deeper: [`x ${CANARY_SECRET} y`, { where: `see ${CANARY_URL} now` }] },
    ws: "wss://canary-host.internal:9999/v1/ws",
    err,
    wrapped: { cause: err },
    toJsonThing: { toJSON: () => ({ inner: `${CANARY_URL}` }) },
    map: new Map([["k", CANARY_SECRET]]),
  });
  assert.equal(lines.length, 1);
  const out = lines[0];
  assert.ok(!out.includes("canary-secret"), out);
  assert.ok(!out.includes("canary-host"), out);
  assert.ok(!out.includes("stack"), out);
  const v = JSON.parse(out);
  assert.equal(v.msg, "token was [redacted]!");
  assert.equal(v.nested.deeper[1].where, "see [url] now");
  assert.equal(v.ws, "[url]");
  assert.deepEqual(v.err, { name: "Error", message: "connect to [url] with [redacted] failed" });
  assert.deepEqual(v.toJsonThing, { inner: "[url]" });
});

Deno.test("log: secret-named keys are redacted whatever their value", () => {
  const { lines, logger } = capture();
  logger.info("x", {
    Token: "t1",
    AUTHORIZATION: "Bearer abc",
    password: "p",
    secret: { a: 1 },
    bearer_token: "b",
    endpoint: "e",
    url: "u",
    inner: { Url: "u2", keep: "fine" },
    token_ref: "env:YOI_TOKEN",
  });
  const v = JSON.parse(lines[0]);
  for (const k of ["Token", "AUTHORIZATION", "password", "secret", "bearer_token", "endpoint"]) {
    assert.equal(v[k], "[redacted]", k);
  }
  assert.equal(v.url, "[redacted]");
  assert.deepEqual(v.inner, { Url: "[redacted]", keep: "fine" });
  assert.equal(v.token_ref, "env:YOI_TOKEN");
});

Deno.test("log: cycles, bigint, undefined and throwing writers are harmless", () => {
  const { lines, logger } = capture();
  const cyc: Record<string, unknown> = { name: "c" };
  cyc.self = cyc;
  logger.info("x", { cyc, big: 10n, none: undefined, arr: [undefined, 1] });
  const v = JSON.parse(lines[0]);
  assert.equal(v.cyc.self, "[circular]");
  assert.equal(v.big, "10");
  assert.ok(!("none" in v));
  assert.deepEqual(v.arr, [null, 1]);
  const throwing = createLogger({
    write: () => {
      throw new Error("boom");
    },
  });
  throwing.info("x");
});

Deno.test("log: default instance exists", () => {
  assert.equal(typeof log.info, "function");
  assert.equal(typeof log.addSecret, "function");
});
