import assert from "node:assert/strict";
import { readSse, SseError, type SseEvent } from "./sse.ts";

function body(parts: string[], endOpen = false): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(enc.encode(p));
      if (!endOpen) c.close();
    },
  });
}

async function all(s: ReadableStream<Uint8Array>, max = 1000, idle = 5000): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of readSse(s, { maxEventChars: max, idleTimeoutMs: idle })) out.push(e);
  return out;
}

Deno.test("events split across chunks, CRLF and CR line ends, comments, multi-line data", async () => {
  const ev = await all(body([
    ": keep-alive\r\n",
    'data: {"a"',
    ":1}\r\n\r\nevent: x\rdata:two\rdata: lines\r\r",
    "data: [DONE]\n\n",
  ]));
  assert.deepEqual(ev, [
    { data: '{"a":1}' },
    { event: "x", data: "two\nlines" },
    { data: "[DONE]" },
  ]);
});

Deno.test("a character split between chunks is decoded whole", async () => {
  const bytes = new TextEncoder().encode("data: é€\n\n");
  const s = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(bytes.subarray(0, 7));
      c.enqueue(bytes.subarray(7));
      c.close();
    },
  });
  assert.deepEqual(await all(s), [{ data: "é€" }]);
});

Deno.test("an unfinished last event is not dispatched (the caller sees the stream end)", async () => {
  assert.deepEqual(await all(body(["data: whole\n\n", "data: half"])), [{ data: "whole" }]);
});

Deno.test("an event over the cap fails as too_large instead of growing a buffer", async () => {
  await assert.rejects(
    all(body(["data: " + "x".repeat(5000)], true), 1000),
    (e) => e instanceof SseError && e.kind === "too_large",
  );
});

Deno.test("silence longer than the idle timeout fails as idle_timeout and cancels the body", async () => {
  let cancelled = false;
  const enc = new TextEncoder();
  const s = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc.encode("data: first\n\n"));
    },
    cancel() {
      cancelled = true;
    },
  });
  const got: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of readSse(s, { maxEventChars: 100, idleTimeoutMs: 50 })) got.push(e.data);
    })(),
    (e) => e instanceof SseError && e.kind === "idle_timeout",
  );
  assert.deepEqual(got, ["first"]);
  assert.equal(cancelled, true);
});
