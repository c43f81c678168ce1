import assert from "node:assert/strict";
import { absoluteTime, LOCAL_TIME, relativeTime } from "./relative_time.tsx";

const AT = "2026-03-04T10:00:00.000Z";
const t = Date.parse(AT);

Deno.test("relativeTime: seconds, minutes, hours, days; never negative", () => {
  assert.equal(relativeTime(AT, t), "just now");
  assert.equal(relativeTime(AT, t - 3000), "just now", "a clock a bit behind is not the future");
  assert.equal(relativeTime(AT, t + 12_400), "12 s ago");
  assert.equal(relativeTime(AT, t + 59_999), "59 s ago");
  assert.equal(relativeTime(AT, t + 60_000), "1 min ago");
  assert.equal(relativeTime(AT, t + 3 * 3600_000 + 5), "3 h ago");
  assert.equal(relativeTime(AT, t + 2 * 86_400_000), "2 d ago");
  assert.equal(relativeTime("not a time", t), "not a time");
});

Deno.test("absoluteTime: UTC on the server, the local time zone in the browser", () => {
  assert.equal(absoluteTime(AT, false), "2026-03-04 10:00 UTC");
  const local = absoluteTime(AT, true);
  assert.equal(local, new Date(AT).toLocaleString(undefined, LOCAL_TIME));
  assert.match(local, /2026/);
  assert.notEqual(local, absoluteTime(AT, false));
});
