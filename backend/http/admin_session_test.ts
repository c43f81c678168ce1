import assert from "node:assert/strict";
import {
  AdminSessions,
  LOGIN_FAILURES_MAX,
  LoginLimiter,
  SESSION_IDLE_MS,
} from "./admin_session.ts";

Deno.test("sessions: random ids, 12 h idle expiry refreshed by use, revoked at logout", async () => {
  let now = 0;
  const s = new AdminSessions({ now: () => now });
  const a = await s.create();
  const b = await s.create();
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  now += SESSION_IDLE_MS - 1;
  assert.ok(await s.touch(a), "used within the idle time");
  now += SESSION_IDLE_MS - 1;
  assert.ok(await s.touch(a), "the idle timer restarted at the last use");
  assert.ok(!(await s.touch(b)), "b idled out");
  await s.revoke(a);
  assert.ok(!(await s.touch(a)), "revoked");
  assert.ok(!(await s.touch(undefined)) && !(await s.touch("x".repeat(500))));
});

Deno.test("login limiter: blocked after 10 failures within a minute, per address", () => {
  let now = 0;
  const l = new LoginLimiter({ now: () => now });
  for (let i = 0; i < LOGIN_FAILURES_MAX; i++) {
    assert.ok(!l.blocked("10.0.0.1"));
    l.fail("10.0.0.1");
  }
  assert.ok(l.blocked("10.0.0.1"));
  assert.ok(!l.blocked("10.0.0.2"), "another address is not affected");
  now += 60_001;
  assert.ok(!l.blocked("10.0.0.1"), "the window slid past");
});
