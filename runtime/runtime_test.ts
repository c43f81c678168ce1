/**
 * Library-level tests of {@link Runtime} on the memory store: lifecycle,
 * idempotent create, subscriptions (replay + live, lagging, resume) and shutdown.
 * @module
 */
import { sleep, waitUntil } from "../tests/support/wait.ts";
import assert from "node:assert/strict";
import {
  ApiError,
  type ErrorCode,
  newWorkerId,
  type WorkerEvent,
  WorkerEventSchema,
} from "../shared/mod.ts";
import type { ProfileSpec } from "./config.ts";
import { MemoryStore } from "./memory_store.ts";
import { Runtime } from "./runtime.ts";
import type { RuntimeOptions } from "./runtime_options.ts";
import type { Subscription } from "./subscription.ts";

const DEADLINE_MS = 20_000;

const PROFILES: Record<string, ProfileSpec> = {
  fast: { engine: "echo", chunk_chars: 1 },
  slow: { engine: "echo", chunk_chars: 1, delay_ms: 50 },
  slowish: { engine: "echo", chunk_chars: 1, delay_ms: 2 },
};

function open(opts: Partial<RuntimeOptions> = {}): Promise<Runtime> {
  return Runtime.open({ runtimeId: "lib", store: new MemoryStore(), profiles: PROFILES, ...opts });
}

function waitIdle(rt: Runtime, id: string, turns = 1) {
  return waitUntil(`worker idle after ${turns} turns`, () => {
    const d = rt.getWorker(id);
    return d.status === "idle" && d.turn_count >= turns ? d : undefined;
  });
}

async function transcript(rt: Runtime, id: string): Promise<WorkerEvent[]> {
  const all: WorkerEvent[] = [];
  for (let after = 0, i = 0; i < 10_000; i++) {
    const p = await rt.transcript(id, after, 100);
    if (p.entries.length === 0) return all;
    all.push(...p.entries);
    after = p.next_after;
  }
  throw new Error("transcript paging did not end");
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: ErrorCode) {
  await assert.rejects(
    async () => await (typeof p === "function" ? p() : p),
    (e: unknown) => e instanceof ApiError && e.code === code,
    `expected ${code}`,
  );
}

/** Reads from `sub` until an event with `seq >= until`, bounded by a deadline. */
async function readUntil(sub: Subscription, until: number): Promise<WorkerEvent[]> {
  const out: WorkerEvent[] = [];
  const end = Date.now() + DEADLINE_MS;
  while (out.length === 0 || out[out.length - 1].seq < until) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const e = await Promise.race([
      sub.next(),
      new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), end - Date.now())),
    ]);
    clearTimeout(timer);
    if (e === "timeout") throw new Error(`no event after ${out.at(-1)?.seq ?? "start"}`);
    assert.ok(e !== null, `subscription closed early: ${JSON.stringify(sub.closeReason)}`);
    out.push(e);
  }
  return out;
}

function seqs(events: WorkerEvent[]): number[] {
  return events.map((e) => e.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

Deno.test("lifecycle: create, input, turn, cancel, stop", async () => {
  const rt = await open();
  try {
    const s = rt.summary();
    assert.deepEqual(s.profiles, ["echo", "fast", "slow", "slowish"]);
    assert.equal(s.worker_count, 0);
    assert.equal(s.status, "running");

    const w = await rt.createWorker({ profile: "fast", display_name: "W" });
    assert.equal(w.status, "idle");
    assert.equal(w.last_seq, 2);
    assert.deepEqual(rt.listWorkers().map((x) => x.worker_id), [w.worker_id]);

    const ack = await rt.input(w.worker_id, "héllo");
    assert.deepEqual(ack, { worker_id: w.worker_id, status: "busy", seq: 3 });
    await rejectsWith(rt.input(w.worker_id, "again"), "worker_busy");
    const d = await waitIdle(rt, w.worker_id);
    assert.equal(d.last_turn_outcome, "completed");
    const log = await transcript(rt, w.worker_id);
    for (const e of log) WorkerEventSchema.parse(e);
    assert.deepEqual(seqs(log), range(1, d.last_seq));
    assert.deepEqual(log.map((e) => e.type), [
      "worker.created",
      "worker.status",
      "input.accepted",
      "worker.status",
      "turn.started",
      "output.delta",
      "output.delta",
      "output.delta",
      "output.delta",
      "output.delta",
      "turn.completed",
      "worker.status",
    ]);
    assert.deepEqual(log.filter((e) => e.type === "output.delta").map((e) => e.data.text), [
      "h",
      "é",
      "l",
      "l",
      "o",
    ]);

    // Cancel a slow turn: idle, cancelled, usable again.
    const slow = await rt.createWorker({ profile: "slow" });
    await rt.input(slow.worker_id, "z".repeat(500));
    const c = await rt.cancel(slow.worker_id);
    assert.equal(c.status, "idle");
    const afterCancel = await transcript(rt, slow.worker_id);
    assert.equal(c.seq, afterCancel.at(-1)!.seq);
    assert.deepEqual(afterCancel.slice(-2).map((e) => e.type), ["turn.cancelled", "worker.status"]);
    assert.equal(rt.getWorker(slow.worker_id).last_turn_outcome, "cancelled");
    await rt.input(slow.worker_id, "ok");
    assert.equal((await waitIdle(rt, slow.worker_id, 2)).last_turn_outcome, "completed");

    // Stop while busy.
    await rt.input(slow.worker_id, "z".repeat(500));
    const st = await rt.stop(slow.worker_id);
    assert.equal(st.status, "stopped");
    const afterStop = await transcript(rt, slow.worker_id);
    assert.deepEqual(
      afterStop.slice(-3).map((e) => e.type),
      ["turn.cancelled", "worker.status", "worker.stopped"],
    );
    assert.deepEqual(seqs(afterStop), range(1, st.seq));
    await rejectsWith(rt.input(slow.worker_id, "x"), "worker_stopped");
    assert.deepEqual(await rt.stop(slow.worker_id), st);

    // Ids.
    await rejectsWith(() => rt.getWorker("nope"), "invalid_id");
    await rejectsWith(() => rt.getWorker(newWorkerId()), "worker_not_found");
    await rejectsWith(rt.input("../x", "t"), "invalid_id");
    await rejectsWith(() => rt.subscribe(newWorkerId()), "worker_not_found");
    await rejectsWith(rt.createWorker({ profile: "missing" }), "unknown_profile");
  } finally {
    await rt.shutdown();
  }
});

Deno.test("create is idempotent per request_id, also for concurrent calls", async () => {
  const rt = await open();
  try {
    const all = await Promise.all(
      Array.from({ length: 10 }, () => rt.createWorker({ request_id: "same" })),
    );
    assert.equal(new Set(all.map((w) => w.worker_id)).size, 1);
    assert.equal(rt.summary().worker_count, 1);
    const again = await rt.createWorker({ request_id: "same", display_name: "ignored" });
    assert.equal(again.worker_id, all[0].worker_id);
    // A retry returns the worker as it is now.
    await rt.input(again.worker_id, "x");
    await waitIdle(rt, again.worker_id);
    const later = await rt.createWorker({ request_id: "same" });
    assert.equal(later.turn_count, 1);
    const other = await rt.createWorker({ request_id: "other" });
    assert.notEqual(other.worker_id, again.worker_id);
    assert.equal(rt.summary().worker_count, 2);
    // A failed create does not poison its request_id.
    await rejectsWith(rt.createWorker({ request_id: "r3", profile: "missing" }), "unknown_profile");
    const ok = await rt.createWorker({ request_id: "r3" });
    assert.equal((await rt.createWorker({ request_id: "r3" })).worker_id, ok.worker_id);
  } finally {
    await rt.shutdown();
  }
});

Deno.test("request_id survives a reopen of the same store", async () => {
  const store = new MemoryStore();
  const rt = await open({ store });
  const w = await rt.createWorker({ request_id: "persisted" });
  await rt.shutdown();
  const rt2 = await open({ store });
  try {
    assert.equal((await rt2.createWorker({ request_id: "persisted" })).worker_id, w.worker_id);
    assert.equal(rt2.summary().worker_count, 1);
  } finally {
    await rt2.shutdown();
  }
});

Deno.test("subscribe: replay then live, no gap and no duplicate, even mid-turn", async () => {
  const rt = await open();
  try {
    const w = await rt.createWorker({ profile: "slowish" });
    await rt.input(w.worker_id, "first");
    const d1 = await waitIdle(rt, w.worker_id);

    // Replay from 0 and from the middle.
    const full = rt.subscribe(w.worker_id, 0);
    assert.deepEqual(await readUntil(full, d1.last_seq), await transcript(rt, w.worker_id));
    const mid = rt.subscribe(w.worker_id, 4);
    assert.deepEqual(seqs(await readUntil(mid, d1.last_seq)), range(5, d1.last_seq));

    // Subscribers that join while a turn is streaming each see every seq once.
    const text = "q".repeat(200);
    await rt.input(w.worker_id, text);
    const joiners: Promise<WorkerEvent[]>[] = [];
    for (let i = 0; i < 8; i++) {
      const after = Math.floor(Math.random() * rt.getWorker(w.worker_id).last_seq);
      const sub = rt.subscribe(w.worker_id, after);
      joiners.push(
        (async () => {
          const got: WorkerEvent[] = [];
          // Ends once the turn is over and everything up to then was read.
          for (;;) {
            const d = rt.getWorker(w.worker_id);
            if (d.status === "idle" && d.turn_count === 2 && got.at(-1)?.seq === d.last_seq) break;
            got.push(...await readUntil(sub, (got.at(-1)?.seq ?? after) + 1));
          }
          sub.close();
          assert.deepEqual(seqs(got), range(after + 1, got.at(-1)!.seq), `joined at ${after}`);
          return got;
        })(),
      );
      await sleep(1);
    }
    const d2 = await waitIdle(rt, w.worker_id, 2);
    const results = await Promise.all(joiners);
    for (const r of results) assert.equal(r.at(-1)!.seq, d2.last_seq);
    const live = [...await readUntil(full, d2.last_seq)];
    assert.deepEqual(seqs(live), range(d1.last_seq + 1, d2.last_seq));
    assert.deepEqual(live, (await transcript(rt, w.worker_id)).slice(d1.last_seq));
    full.close();
    mid.close();
    assert.equal(await full.next(), null);
  } finally {
    await rt.shutdown();
  }
});

Deno.test("a lagging subscriber is closed with stream_lagging and resumes without a gap", async () => {
  const rt = await open({ subscriberQueueMax: 5 });
  try {
    const w = await rt.createWorker({ profile: "fast" });
    const sub = rt.subscribe(w.worker_id, 0);
    const seen: number[] = [];
    // Consume the replay (seq 1, 2); the next read switches the subscription to live.
    for (const e of await readUntil(sub, 2)) seen.push(e.seq);
    const pending = sub.next();

    // Produce ~55 events while nobody reads.
    await rt.input(w.worker_id, "L".repeat(50));
    const d = await waitIdle(rt, w.worker_id);
    assert.ok(d.last_seq >= 50);

    // Drain: whatever was delivered, then null with a typed reason.
    let e = await pending;
    for (let i = 0; e && i < 100; i++) {
      seen.push(e.seq);
      e = await sub.next();
    }
    assert.equal(e, null);
    assert.equal(sub.closed, true);
    assert.equal(sub.closeReason?.code, "stream_lagging");
    assert.match(sub.closeReason!.message, /after=\d+/);
    const lastSeen = seen.at(-1)!;
    assert.ok(lastSeen < d.last_seq, "it did fall behind");
    assert.deepEqual(seen, range(1, lastSeen));

    // Resume from the last seen seq: the rest, no gap, no duplicate.
    const resumed = rt.subscribe(w.worker_id, lastSeen);
    const rest = await readUntil(resumed, d.last_seq);
    resumed.close();
    assert.deepEqual([...seen, ...seqs(rest)], range(1, d.last_seq));
    assert.deepEqual(rest, (await transcript(rt, w.worker_id)).slice(lastSeen));
  } finally {
    await rt.shutdown();
  }
});

Deno.test("shutdown cancels running turns, closes streams and refuses new work", async () => {
  const store = new MemoryStore();
  const rt = await open({ store });
  const busy = await rt.createWorker({ profile: "slow" });
  const idle = await rt.createWorker();
  await rt.input(busy.worker_id, "s".repeat(500));
  const sub = rt.subscribe(busy.worker_id, 0);
  await readUntil(sub, 5);
  await rt.shutdown();
  assert.equal(rt.stopping, true);
  assert.equal(rt.summary().status, "stopping");

  // The subscriber got everything up to the cancel, then a typed close.
  const rest: WorkerEvent[] = [];
  for (let e = await sub.next(); e; e = await sub.next()) rest.push(e);
  assert.equal(sub.closeReason?.code, "runtime_stopping");
  const log = await transcript(rt, busy.worker_id);
  assert.deepEqual(log.slice(-2).map((e) => e.type), ["turn.cancelled", "worker.status"]);
  assert.equal(log.at(-2)!.data.reason, "runtime stopping");
  assert.equal(rt.getWorker(busy.worker_id).status, "idle");

  await rejectsWith(rt.input(idle.worker_id, "x"), "runtime_stopping");
  await rejectsWith(rt.createWorker(), "runtime_stopping");
  await rejectsWith(() => rt.subscribe(idle.worker_id), "runtime_stopping");
  await rt.shutdown(); // idempotent

  // Reopened: nothing was interrupted, the worker is idle and usable.
  const rt2 = await open({ store });
  try {
    assert.deepEqual(rt2.diagnostics, []);
    const d = rt2.getWorker(busy.worker_id);
    assert.equal(d.status, "idle");
    assert.equal(d.last_turn_outcome, "cancelled");
    assert.equal(d.turn_count, 1);
    await rt2.input(busy.worker_id, "ok");
    const d2 = await waitIdle(rt2, busy.worker_id, 2);
    assert.deepEqual(seqs(await transcript(rt2, busy.worker_id)), range(1, d2.last_seq));
  } finally {
    await rt2.shutdown();
  }
});

Deno.test("a turn left open in the store is failed on open with a diagnostic", async () => {
  const store = new MemoryStore();
  await store.open();
  const id = newWorkerId();
  const at = new Date().toISOString();
  await store.createWorker({ worker_id: id, profile: "echo", display_name: "W", created_at: at });
  const ev = (seq: number, type: WorkerEvent["type"], data: Record<string, unknown>) => ({
    seq,
    worker_id: id,
    at,
    type,
    data,
  });
  await store.append(id, [
    ev(1, "worker.created", { profile: "echo", display_name: "W" }),
    ev(2, "worker.status", { status: "idle" }),
    ev(3, "input.accepted", { text: "hi" }),
    ev(4, "worker.status", { status: "busy" }),
    ev(5, "turn.started", { turn: 1 }),
    ev(6, "output.delta", { text: "h" }),
  ]);
  const rt = await open({ store });
  try {
    assert.deepEqual(rt.diagnostics.map((d) => d.code), ["turn_interrupted_by_restart"]);
    const d = rt.getWorker(id);
    assert.equal(d.status, "idle");
    assert.equal(d.last_turn_outcome, "failed");
    assert.equal(d.last_seq, 8);
    const log = await transcript(rt, id);
    assert.deepEqual(seqs(log), range(1, 8));
    assert.equal(log[6].type, "turn.failed");
    assert.match(String(log[6].data.reason), /restart/);
    assert.equal(log[6].data.turn, 1);
    assert.deepEqual(log[7].data, { status: "idle" });
    await rt.input(id, "again");
    assert.equal((await waitIdle(rt, id, 2)).last_turn_outcome, "completed");
  } finally {
    await rt.shutdown();
  }
});
