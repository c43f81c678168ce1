/**
 * The load client's framing: where a response ends for Content-Length and
 * chunked bodies, when it arrives in pieces, and what a request looks like.
 * @module
 */
import assert from "node:assert/strict";
import { buildRequest, frameResponse } from "./http_framing.ts";

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);

Deno.test("framing: a Content-Length response ends after its body, not before", () => {
  const r = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 7\r\n\r\n{"a":1}';
  const b = bytes(r);
  assert.deepEqual(frameResponse(b, 0, b.length), { status: 200, end: b.length, close: false });
  // Every shorter prefix is incomplete.
  for (let n = 0; n < b.length; n++) assert.equal(frameResponse(b, 0, n), null, `prefix ${n}`);
});

Deno.test("framing: header names are case-insensitive; status and connection: close are read", () => {
  const b = bytes("HTTP/1.1 404 Not Found\r\nCONTENT-LENGTH:  2\r\nConnection: Close\r\n\r\n{}");
  assert.deepEqual(frameResponse(b, 0, b.length), { status: 404, end: b.length, close: true });
});

Deno.test("framing: a chunked body ends after the last chunk, with or without trailers", () => {
  const plain = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "5\r\nhello\r\nA;ext=1\r\n0123456789\r\n0\r\n\r\n";
  const b = bytes(plain);
  assert.deepEqual(frameResponse(b, 0, b.length), { status: 200, end: b.length, close: false });
  for (let n = 0; n < b.length; n++) assert.equal(frameResponse(b, 0, n), null, `prefix ${n}`);

  const trailers = bytes(
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
  );
  assert.equal(frameResponse(trailers, 0, trailers.length)?.end, trailers.length);
});

Deno.test("framing: a body-less 204 ends at its head; garbage and unframed bodies throw", () => {
  const b = bytes("HTTP/1.1 204 No Content\r\n\r\n");
  assert.deepEqual(frameResponse(b, 0, b.length), { status: 204, end: b.length, close: false });
  assert.throws(() => frameResponse(bytes("hello world\r\n\r\n"), 0, 15), /not an HTTP response/);
  const unframed = bytes("HTTP/1.1 200 OK\r\n\r\nbody");
  assert.throws(() => frameResponse(unframed, 0, unframed.length), /Content-Length/);
});

Deno.test("framing: a request carries its Host, its body and the body's length", () => {
  const req = new TextDecoder().decode(
    buildRequest("POST", "/v1/workers/x/input", { host: "127.0.0.1:9" }, '{"text":"hé"}'),
  );
  assert.equal(
    req,
    'POST /v1/workers/x/input HTTP/1.1\r\nhost: 127.0.0.1:9\r\ncontent-length: 14\r\n\r\n{"text":"hé"}',
  );
  assert.throws(() => buildRequest("GET", "/", {}), /Host/);
  assert.throws(() => buildRequest("GET", "/", { host: "a", x: "1\r\ny: 2" }), /bad header/);
});
