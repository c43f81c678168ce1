/**
 * Shared event streams (issue 15) on a real embedded Runtime (memory store):
 * one library subscription per worker whatever the number of subscribers,
 * closed after the last leaves; late joiners catch up from `after` and hand
 * over to the live frames with no gap and no duplicate; a stalled subscriber
 * is dropped with `stream_lagging` while the others get every frame.
 *
 * The subscribers are {@link RecordingSink}s, stand-ins for browser sockets,
 * so a test can hold one's send buffer full deterministically (a real stalled
 * browser is in tests/event_fanout_test.ts).
 * @module
 */
import assert from "node:assert/strict";
import { type ControlFrame, type WorkerEvent } from "../../shared/mod.ts";
import { MemoryStore, Runtime } from "../../runtime/mod.ts";
import { waitUntil } from "../../tests/support/wait.ts";
import { EmbeddedRuntimeHandle } from "./embedded_handle.ts";
import {
  EventFanout,
  type EventSink,
  type FanoutSource,
  type RelayFrame,
  WS_CLOSE_TYPED,
} from "./event_fanout.ts";

/** A browser socket stand-in: records what it is sent; a stalled one never drains. */
class RecordingSink implements EventSink {
  readyState = 1;
  bufferedAmount = 0;
  readonly texts: string[] = [];
  closeCode: number | null = null;

  constructor(readonly stalled = false) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("send on a closed sink");
    this.texts.push(data);
    if (this.stalled) this.bufferedAmount += data.length;
  }

  close(code?: number): void {
    this.readyState = 3;
    this.closeCode = code ?? 1005;
  }

  frames(): Record<string, unknown>[] {
    return this.texts.map((t) => JSON.parse(t));
  }

  events(): WorkerEvent[] {
    return this.frames().filter((f) => "seq" in f) as WorkerEvent[];
  }

  seqs(): number[] {
    return this.events().map((e) => e.seq);
  }

  controls(): ControlFrame[] {
    return this.frames().filter((f) => !("seq" in f)) as ControlFrame[];
  }
}

const PROFILES = {
  fast: { engine: "echo" as const, chunk_chars: 1 },
  slowish: { engine: "echo" as const, chunk_chars: 1, delay_ms: 2 },
};

/** A real runtime whose library subscriptions are counted (opened, and open now). */
async function countedRuntime() {
  const runtime = await Runtime.open({
    runtimeId: "embedded",
    store: new MemoryStore(),
    profiles: PROFILES,
  });
  const subs: { closed: boolean }[] = [];
  const subscribe = runtime.subscribe.bind(runtime);
  runtime.subscribe = (...args: Parameters<Runtime["subscribe"]>) => {
    const s = subscribe(...args);
    subs.push(s);
    return s;
  };
  return {
    runtime,
    opened: () => subs.length,
    open: () => subs.filter((s) => !s.closed).length,
  };
}

async function transcript(rt: Runtime, id: string, after = 0): Promise<WorkerEvent[]> {
  const out: WorkerEvent[] = [];
  for (let i = 0; i < 1000; i++) {
    const p = await rt.transcript(id, after, 500);
    if (p.entries.length === 0) return out;
    out.push(...p.entries);
    after = p.next_after;
  }
  throw new Error("transcript paging did not end");
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

async function idleAfter(rt: Runtime, id: string, turns: number) {
  await waitUntil(`${turns} turns done`, () => {
    const d = rt.getWorker(id);
    return d.status === "idle" && d.turn_count >= turns;
  });
}

Deno.test("fan-out: N subscribers share one runtime subscription, each gets every frame once; the last to leave closes it", async () => {
  const { runtime, opened, open } = await countedRuntime();
  const handle = new EmbeddedRuntimeHandle(runtime, { lingerMs: 20 });
  try {
    const w = await runtime.createWorker({ profile: "fast" });
    const sinks = Array.from({ length: 5 }, () => new RecordingSink());
    const acs = sinks.map(() => new AbortController());
    const ends = sinks.map((s, i) => handle.streamEvents(w.worker_id, 0, s, acs[i].signal));
    await runtime.input(w.worker_id, "hello fan-out");
    await idleAfter(runtime, w.worker_id, 1);
    const all = await transcript(runtime, w.worker_id);
    const last = all.at(-1)!.seq;
    await waitUntil(
      "every sink has the last seq",
      () => sinks.every((s) => s.seqs().at(-1) === last),
    );

    assert.equal(opened(), 1, "one runtime subscription for five subscribers");
    assert.equal(handle.fanout.upstreams, 1);
    assert.equal(handle.fanout.subscribers(w.worker_id), 5);
    for (const s of sinks) {
      assert.deepEqual(s.events(), all, "every seq once, in order, as persisted");
      assert.deepEqual(s.controls(), []);
    }
    // The live frames are the same text for every subscriber (serialised once).
    assert.deepEqual(new Set(sinks.map((s) => s.texts.join("\n"))).size, 1);

    for (const ac of acs.slice(0, 4)) ac.abort();
    assert.equal(open(), 1, "kept while one subscriber stays");
    acs[4].abort();
    assert.deepEqual(await Promise.all(ends), ["left", "left", "left", "left", "left"]);
    await waitUntil("the upstream closed after the linger", () => open() === 0);
    assert.equal(handle.fanout.upstreams, 0);

    // A later subscriber opens a new one.
    const again = new RecordingSink();
    const ac = new AbortController();
    const end = handle.streamEvents(w.worker_id, last, again, ac.signal);
    await runtime.input(w.worker_id, "again");
    await idleAfter(runtime, w.worker_id, 2);
    const more = await transcript(runtime, w.worker_id, last);
    await waitUntil("the new turn", () => again.seqs().at(-1) === more.at(-1)!.seq);
    assert.deepEqual(again.events(), more);
    assert.equal(opened(), 2);
    ac.abort();
    await end;
  } finally {
    await handle.close();
  }
});

Deno.test("fan-out: late joiners with after=k get k+1.. with no gap or duplicate while the worker writes", async () => {
  const { runtime, opened } = await countedRuntime();
  // A small catch-up page, so joiners far behind read several pages before they go live.
  const handle = new EmbeddedRuntimeHandle(runtime, { lingerMs: 20, replayPage: 7 });
  try {
    const w = await runtime.createWorker({ profile: "slowish" });
    await runtime.input(w.worker_id, "a".repeat(40));
    await idleAfter(runtime, w.worker_id, 1);
    const head = runtime.getWorker(w.worker_id).last_seq;

    const first = new RecordingSink();
    const ac = new AbortController();
    const endFirst = handle.streamEvents(w.worker_id, head, first, ac.signal);
    await runtime.input(w.worker_id, "b".repeat(150)); // ~300 ms of output
    const joiners: [number, RecordingSink, AbortController][] = [];
    // Join mid-turn at several points behind the live stream (0 = the whole history), and
    // one ahead of it (the seqs up to its `after` are not sent to it).
    for (const at of [0, 3, head - 1, head + 5, "ahead"] as const) {
      await waitUntil("more output", () => first.seqs().length >= joiners.length * 20 + 10);
      const k = at === "ahead" ? first.seqs().at(-1)! + 10 : at;
      const s = new RecordingSink();
      const jac = new AbortController();
      joiners.push([k, s, jac]);
      handle.streamEvents(w.worker_id, k, s, jac.signal);
    }
    await idleAfter(runtime, w.worker_id, 2);
    const all = await transcript(runtime, w.worker_id);
    const last = all.at(-1)!.seq;
    const everyone = [first, ...joiners.map((j) => j[1])];
    await waitUntil(
      "everyone at the last seq",
      () => everyone.every((s) => s.seqs().at(-1) === last),
    );

    assert.deepEqual(first.seqs(), range(head + 1, last));
    for (const [k, s] of joiners) {
      assert.deepEqual(s.seqs(), range(k + 1, last), `after=${k}: k+1..last, once each`);
      assert.deepEqual(s.events(), all.slice(k), `after=${k}: the persisted events`);
    }
    assert.equal(opened(), 1, "late joiners caught up without another runtime subscription");
    ac.abort();
    for (const [, , jac] of joiners) jac.abort();
    assert.equal(await endFirst, "left");
  } finally {
    await handle.close();
  }
});

Deno.test("fan-out: a stalled subscriber is dropped with stream_lagging; the others get every frame in order; it resumes by seq", async () => {
  const { runtime, opened } = await countedRuntime();
  const handle = new EmbeddedRuntimeHandle(runtime, { lingerMs: 20, highWater: 2_000 });
  try {
    const w = await runtime.createWorker({ profile: "fast" });
    const head = runtime.getWorker(w.worker_id).last_seq;
    const ok = [new RecordingSink(), new RecordingSink()];
    const stalled = new RecordingSink(true);
    const acs = [0, 1, 2].map(() => new AbortController());
    const ends = [...ok, stalled].map((s, i) =>
      handle.streamEvents(w.worker_id, head, s, acs[i].signal)
    );
    await runtime.input(w.worker_id, "z".repeat(300));
    await idleAfter(runtime, w.worker_id, 1);
    const all = await transcript(runtime, w.worker_id, head);
    const last = all.at(-1)!.seq;
    await waitUntil("the readers have everything", () => ok.every((s) => s.seqs().at(-1) === last));

    assert.equal(await ends[2], "lagging");
    for (const s of ok) assert.deepEqual(s.events(), all, "the others: every frame, in order");
    const got = stalled.seqs();
    const closed = stalled.frames().at(-1)!;
    assert.equal(closed.type, "stream.closed");
    assert.equal(closed.code, "stream_lagging");
    assert.equal(closed.after, got.at(-1), "after = the last seq it was sent");
    assert.deepEqual(got, range(head + 1, closed.after as number), "no gap before the drop");
    assert.ok(got.length < all.length, "dropped before the end");
    assert.equal(stalled.closeCode, WS_CLOSE_TYPED);

    // It resumes by seq: k+1.. exactly, without a new runtime subscription.
    const again = new RecordingSink();
    const ac = new AbortController();
    handle.streamEvents(w.worker_id, closed.after as number, again, ac.signal);
    await waitUntil("the resumed subscriber catches up", () => again.seqs().at(-1) === last);
    assert.deepEqual(again.events(), all.slice(got.length));
    assert.equal(opened(), 1);
    ac.abort();
    for (const a of acs) a.abort();
  } finally {
    await handle.close();
  }
});

Deno.test("fan-out: the runtime stopping ends every subscriber with stream.ended shutdown (close 1001)", async () => {
  const { runtime } = await countedRuntime();
  const handle = new EmbeddedRuntimeHandle(runtime);
  const w = await runtime.createWorker({ profile: "fast" });
  const sinks = [new RecordingSink(), new RecordingSink()];
  const ac = new AbortController();
  const ends = sinks.map((s) => handle.streamEvents(w.worker_id, 0, s, ac.signal));
  await waitUntil("both joined", () => handle.fanout.subscribers(w.worker_id) === 2);
  await handle.close();
  assert.deepEqual(await Promise.all(ends), ["ended", "ended"]);
  for (const s of sinks) {
    const last = s.frames().at(-1)!;
    assert.deepEqual([last.type, last.reason], ["stream.ended", "shutdown"]);
    assert.equal(s.closeCode, 1001);
  }
  assert.equal(handle.fanout.upstreams, 0);
});

/**
 * FAKE: an upstream scripted frame by frame, for interleavings real processes cannot be
 * made to hit on cue (a subscriber joining exactly while the upstream reconnects).
 */
class ScriptedSource implements FanoutSource {
  readonly follows: number[] = [];
  #queue: RelayFrame[] = [];
  #wake: (() => void) | null = null;
  #events: WorkerEvent[] = [];

  head(): Promise<number> {
    return Promise.resolve(this.#events.at(-1)?.seq ?? 0);
  }

  async *follow(_w: string, after: number, signal: AbortSignal): AsyncIterable<RelayFrame> {
    this.follows.push(after);
    while (!signal.aborted) {
      const f = this.#queue.shift();
      if (f) {
        yield f;
        if (f.frame.type === "stream.ended") return;
        continue;
      }
      await new Promise<void>((r) => {
        this.#wake = r;
        signal.addEventListener("abort", () => r(), { once: true });
      });
    }
  }

  replay(_w: string, after: number, limit: number): Promise<WorkerEvent[]> {
    return Promise.resolve(this.#events.filter((e) => e.seq > after).slice(0, limit));
  }

  event(seq: number): void {
    const e = { seq, worker_id: "w", at: "t", type: "output.delta", data: { n: seq } };
    this.#events.push(e as WorkerEvent);
    this.#push({ seq, text: JSON.stringify(e), frame: e as WorkerEvent });
  }

  control(frame: ControlFrame): void {
    this.#push({ seq: null, text: JSON.stringify(frame), frame });
  }

  #push(f: RelayFrame) {
    this.#queue.push(f);
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
}

Deno.test("fan-out: reconnecting/resumed reach every subscriber, paired, also one that joined mid-outage; stream.ended reaches all", async () => {
  const src = new ScriptedSource();
  const fanout = new EventFanout(src, { lingerMs: 10 });
  const a = new RecordingSink();
  const ac = new AbortController();
  const endA = fanout.subscribe("w", 0, a, ac.signal);
  for (const s of [1, 2]) src.event(s);
  await waitUntil("a has 2", () => a.seqs().length === 2);
  src.control({ type: "stream.reconnecting" });
  await waitUntil("a told", () => a.controls().length === 1);
  // b joins during the outage, behind: it catches up from the log, then hears the outage.
  const b = new RecordingSink();
  const endB = fanout.subscribe("w", 0, b, ac.signal);
  await waitUntil("b caught up and told", () => b.controls().length === 1);
  src.control({ type: "stream.resumed", after: 2 });
  for (const s of [3, 4]) src.event(s);
  src.control({ type: "stream.ended", reason: "runtime_removed", after: 4 });
  assert.deepEqual(await Promise.all([endA, endB]), ["ended", "ended"]);
  const shape = (s: RecordingSink) =>
    s.frames().map((f) => "seq" in f ? f.seq : `${f.type}${"after" in f ? `@${f.after}` : ""}`);
  for (const s of [a, b]) {
    assert.deepEqual(shape(s), [
      1,
      2,
      "stream.reconnecting",
      "stream.resumed@2",
      3,
      4,
      "stream.ended@4",
    ]);
    assert.equal(s.closeCode, 1000);
  }
  assert.deepEqual(src.follows, [0], "one upstream");
  assert.equal(fanout.upstreams, 0);
});
