import assert from "node:assert/strict";
import { type Conn, connText, connTone, downHeadline } from "./conn.ts";

Deno.test("connText and connTone: one sentence and tone per connection state", () => {
  const cases: [Conn, string, string][] = [
    [{ state: "connecting" }, "Connecting to the event stream…", "neutral"],
    [{ state: "live" }, "Live", "success"],
    [{ state: "reconnecting", attempt: 2 }, "Reconnecting… (attempt 2)", "warning"],
    [{ state: "upstream-reconnecting" }, "Reconnecting… to the runtime.", "warning"],
    [{ state: "resumed", after: 41 }, "Resumed from event 41; no events were missed.", "success"],
    [{ state: "closed", message: "gone." }, "The event stream closed: gone.", "danger"],
  ];
  for (const [c, text, tone] of cases) {
    assert.equal(connText(c), text);
    assert.equal(connTone(c), tone, c.state);
  }
});

Deno.test("downHeadline: who is unreachable and a whole-second countdown", () => {
  const now = 1_000_000;
  assert.equal(
    downHeadline({ reason: "", at: now + 1001 }, "box", now),
    "Runtime box is unreachable — retrying in 2 s",
  );
  assert.equal(
    downHeadline({ reason: "", at: now + 250, backend: true }, "box", now),
    "The Backend is unreachable — retrying in 1 s",
  );
  assert.equal(
    downHeadline({ reason: "", at: now }, "box", now),
    "Runtime box is unreachable — retrying…",
    "due now: no countdown",
  );
});
