/**
 * The one backpressure loop: push refuses a peer past its mark, pull waits for
 * it to drain and stops once it closed. The outlet is a stand-in whose buffer
 * the test drains by hand (a real stalled browser is in tests/event_fanout_test.ts).
 * @module
 */
import assert from "node:assert/strict";
import { drained, offer, type Outlet, sendPaced } from "./backpressure.ts";

class Buffered implements Outlet {
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  send(data: string) {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(data);
    this.bufferedAmount += data.length;
  }
}

Deno.test("backpressure: push sends until the peer is past its mark, then refuses", () => {
  const o = new Buffered();
  assert.equal(offer(o, "12345", 8), "sent");
  assert.equal(offer(o, "12345", 8), "sent"); // 5 ≤ 8 before this send
  assert.equal(offer(o, "x", 8), "full");
  assert.deepEqual(o.sent, ["12345", "12345"]);
  o.readyState = 3;
  assert.equal(offer(o, "x", 100), "closed");
});

Deno.test("backpressure: pull waits for the peer to drain, and stops when it closes", async () => {
  const o = new Buffered();
  assert.equal(await sendPaced(o, "abc", 10), true, "below the mark: no wait");
  let done = false;
  const waiting = sendPaced(o, "x".repeat(20), 10).then((v) => (done = true, v));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(done, false, "waits while more than the mark is buffered");
  o.bufferedAmount = 0;
  assert.equal(await waiting, true);

  o.bufferedAmount = 50;
  const stopped = drained(o, 10);
  o.readyState = 3;
  assert.equal(await stopped, false, "a closed peer ends the wait");
  assert.equal(await sendPaced(o, "y", 10), false, "nothing is sent to a closed peer");
  const ac = new AbortController();
  o.readyState = 1;
  const aborted = drained(o, 10, ac.signal);
  ac.abort();
  assert.equal(await aborted, false);
});
