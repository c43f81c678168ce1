/** The response-head parser of the HTTP/1.1 client (the framing itself is exercised by
 * `http_pool_test.ts` against real and raw-socket servers). */
import assert from "node:assert/strict";
import { HttpPoolError, parseHead } from "./http_framing.ts";

Deno.test("parseHead: status line and headers, tolerant of spacing, strict about the form", () => {
  const h = parseHead(
    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nX-A:  1 \r\nx-a: 2\r\nEmpty:",
  );
  assert.equal(h.status, 404);
  assert.equal(h.http11, true);
  assert.deepEqual([...h.headers], [["content-type", "application/json"], ["x-a", "1, 2"], [
    "empty",
    "",
  ]]);
  assert.equal(parseHead("HTTP/1.0 200").http11, false);
  assert.equal(parseHead("HTTP/1.1 204 ").status, 204);
  for (const bad of ["HTTP/2 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2x0 OK", "HTTP/1.1 200OK", "x"]) {
    assert.throws(() => parseHead(bad), HttpPoolError, bad);
  }
  assert.throws(() => parseHead("HTTP/1.1 200 OK\r\nno colon here"), HttpPoolError);
});

Deno.test("parseHead: fields read on demand match the eager reading, whatever the case", () => {
  const head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nYoi-Runtime-Id: Rt-A\r\n" +
    'ETag: "W/AbC"\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\nX-Empty:\r\ncontent-length:\t17 ';
  const h = parseHead(head).headers;
  assert.equal(h.get("content-type"), "application/json");
  // Values keep their case (an ETag or an observed runtime id is compared as sent).
  assert.equal(h.get("yoi-runtime-id"), "Rt-A");
  assert.equal(h.get("etag"), '"W/AbC"');
  assert.equal(h.get("set-cookie"), "a=1, b=2");
  assert.equal(h.get("x-empty"), "");
  assert.equal(h.get("content-length"), "17");
  assert.equal(h.get("content"), undefined);
  assert.equal(h.get("type"), undefined);
  // A name with blanks around it (which the form tolerates) is read the same way.
  const spaced = parseHead("HTTP/1.1 200 OK\r\nContent-Length : 5\r\nA: 1").headers;
  assert.equal(spaced.get("content-length"), "5");
  assert.equal(spaced.get("a"), "1");
});
