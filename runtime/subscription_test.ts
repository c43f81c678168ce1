/**
 * Replay→live hand-over under load (DESIGN §11): a subscriber that starts at
 * `after=0` while the worker writes thousands of events to a real fs store
 * receives exactly 1..N, in order, every time.
 * @module
 */
import assert from "node:assert/strict";
import type { WorkerEvent } from "../shared/mod.ts";
import { FsStore } from "./fs_store.ts";
import { Runtime } from "./runtime.ts";
import type { Subscription } from "./subscription.ts";

const EVENTS = 5_000;
const REPETITIONS = 50;

/** Reads until the turn's final `worker.status` idle; bounded by `max` events. */
async function readTurn(sub: Subscription, max: number): Promise<WorkerEvent[]> {
  const got: WorkerEvent[] = [];
  let turnEnded = false;
  while (got.length < max) {
    const e = await sub.next();
    if (e === null) throw new Error(`closed early: ${JSON.stringify(sub.closeReason)}`);
    got.push(e);
    if (e.type === "turn.completed") turnEnded = true;
    if (turnEnded && e.type === "worker.status" && e.data.status === "idle") return got;
  }
  throw new Error(`no turn end within ${max} events`);
}

Deno.test(`subscription from after=0 during a ${EVENTS}-event turn gets exactly 1..N (${REPETITIONS}×)`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "subscription_test_" });
  const rt = await Runtime.open({
    runtimeId: "sub",
    store: new FsStore(dir),
    profiles: { one: { engine: "echo", chunk_chars: 1 } },
  });
  try {
    // input.accepted + status + turn.started + one delta per char + completed + status.
    const text = "x".repeat(EVENTS - 7);
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const w = await rt.createWorker({ profile: "one" });
      await rt.input(w.worker_id, text);
      // Join at a different point of the write each time (the ack is already past seq 3).
      for (let i = 0; i < rep * 3; i++) await Promise.resolve();
      if (rep % 5 === 4) await new Promise((r) => setTimeout(r, rep % 3));
      const sub = rt.subscribe(w.worker_id, 0);
      const got = await readTurn(sub, EVENTS + 10);
      sub.close();
      const seqs = got.map((e) => e.seq);
      assert.equal(seqs.length, EVENTS, `repetition ${rep}: ${seqs.length} events`);
      for (let i = 0; i < seqs.length; i++) {
        if (seqs[i] !== i + 1) assert.fail(`repetition ${rep}: position ${i} has seq ${seqs[i]}`);
      }
      assert.equal(rt.getWorker(w.worker_id).last_seq, EVENTS);
    }
  } finally {
    await rt.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
