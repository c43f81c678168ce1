/**
 * Crash test: a runtime on the fs store is SIGKILLed with a long log and a
 * busy worker, a torn line is appended, and a restart on the same data dir
 * must bring back every acknowledged event unchanged.
 * @module
 */
import { waitUntil } from "./support/wait.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AckEnvelopeSchema,
  ErrorBodySchema,
  TranscriptEnvelopeSchema,
  type WorkerDetail,
  WorkerEnvelopeSchema,
  type WorkerEvent,
  WorkerEventSchema,
  WorkerListEnvelopeSchema,
} from "../shared/mod.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";

const DEADLINE_MS = 60_000;

const CONFIG = `
[profiles.chars]
engine = "echo"
chunk_chars = 1

[profiles.slow]
engine = "echo"
chunk_chars = 1
delay_ms = 50
`;

async function get(url: string): Promise<unknown> {
  const res = await fetch(url);
  const text = await res.text();
  assert.equal(res.status, 200, `${url}: ${text}`);
  return JSON.parse(text);
}

async function post(url: string, body: unknown, status: number): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, status, `${url}: ${text}`);
  if (status >= 400) ErrorBodySchema.parse(JSON.parse(text));
  return JSON.parse(text);
}

async function create(rt: RuntimeProcess, profile: string): Promise<WorkerDetail> {
  return WorkerEnvelopeSchema.parse(await post(`${rt.url}/v1/workers`, { profile }, 201)).worker;
}

async function detail(rt: RuntimeProcess, id: string): Promise<WorkerDetail> {
  return WorkerEnvelopeSchema.parse(await get(`${rt.url}/v1/workers/${id}`)).worker;
}

async function input(rt: RuntimeProcess, id: string, text: string) {
  return AckEnvelopeSchema.parse(await post(`${rt.url}/v1/workers/${id}/input`, { text }, 202))
    .ack;
}

/** Every event of the transcript, paged with a limit smaller than the log. */
async function transcript(rt: RuntimeProcess, id: string): Promise<WorkerEvent[]> {
  const all: WorkerEvent[] = [];
  let after = 0;
  for (let i = 0; i < 1000; i++) {
    const page = TranscriptEnvelopeSchema.parse(
      await get(`${rt.url}/v1/workers/${id}/transcript?after=${after}&limit=256`),
    );
    if (page.entries.length === 0) return all;
    all.push(...page.entries);
    after = page.next_after;
  }
  throw new Error("transcript paging did not end");
}

function assertStrictlyIncreasing(events: WorkerEvent[], what: string) {
  for (let i = 0; i < events.length; i++) {
    assert.equal(events[i].seq, i + 1, `${what}: seq ${events[i].seq} at position ${i}`);
  }
}

Deno.test("SIGKILL with a torn last line: restart restores every acknowledged event", async () => {
  const dir = await Deno.makeTempDir({ prefix: "runtime_crash_test_" });
  try {
    let longId: string;
    let busyId: string;
    let before: WorkerEvent[];
    let busyBefore: WorkerEvent[];
    {
      await using rt = await RuntimeProcess.start({ store: "fs", dataDir: dir, config: CONFIG });
      const long = await create(rt, "chars");
      const busy = await create(rt, "slow");
      longId = long.worker_id;
      busyId = busy.worker_id;

      // ~1000 output deltas, one per character.
      const text = Array.from({ length: 1000 }, (_, i) => "abcdefghijklmnopqrstuvwxyzäö✓"[i % 29])
        .join("");
      await input(rt, longId, text);
      const done = await waitUntil("the long turn to complete", async () => {
        const d = await detail(rt, longId);
        return d.status === "idle" && d.turn_count === 1 ? d : undefined;
      }, DEADLINE_MS);
      assert.equal(done.last_turn_outcome, "completed");
      before = await transcript(rt, longId);
      assert.ok(before.length >= 1000, `only ${before.length} events`);
      assert.equal(before.length, done.last_seq);
      assertStrictlyIncreasing(before, "before the crash");
      assert.equal(
        before.filter((e) => e.type === "output.delta").map((e) => e.data.text).join(""),
        text,
      );

      // A second worker is mid-turn when the process dies.
      await input(rt, busyId, "s".repeat(2000));
      busyBefore = await waitUntil("the slow turn to stream", async () => {
        const t = await transcript(rt, busyId);
        return t.filter((e) => e.type === "output.delta").length >= 3 ? t : undefined;
      }, DEADLINE_MS);
      const status = await rt.kill("SIGKILL");
      assert.equal(status.signal, "SIGKILL");
    }

    // A crash mid-append leaves a partial last line.
    const eventsFile = join(dir, "workers", longId, "events.jsonl");
    const torn = `{"seq":99999,"worker_id":"${longId}","at":"2`;
    await Deno.writeTextFile(eventsFile, torn, { append: true });

    await using rt2 = await RuntimeProcess.start({ store: "fs", dataDir: dir, config: CONFIG });

    // Every acknowledged event is back, unchanged.
    const after = await transcript(rt2, longId);
    assert.equal(after.length, before.length);
    assert.deepEqual(
      after.map((e) => [e.seq, e.type, e.data, e.at, e.worker_id]),
      before.map((e) => [e.seq, e.type, e.data, e.at, e.worker_id]),
    );
    const d = await detail(rt2, longId);
    assert.equal(d.status, "idle");
    assert.equal(d.last_seq, before.length);
    assert.equal(d.turn_count, 1);
    assert.equal(d.last_turn_outcome, "completed");

    // The torn line is gone from the file: it ends with a newline and every line parses.
    const content = await Deno.readTextFile(eventsFile);
    assert.ok(content.endsWith("\n"), "log ends with a newline");
    assert.ok(!content.includes('"seq":99999'), "torn line removed");
    const lines = content.slice(0, -1).split("\n");
    assert.equal(lines.length, before.length);
    lines.forEach((l, i) => assert.equal(WorkerEventSchema.parse(JSON.parse(l)).seq, i + 1));

    // The repair is reported, in the API and on stderr, without paths.
    const list = WorkerListEnvelopeSchema.parse(await get(`${rt2.url}/v1/workers`));
    const codes = list.diagnostics.map((x) => x.code);
    assert.ok(codes.includes("store_torn_line_truncated"), JSON.stringify(list.diagnostics));
    assert.ok(codes.includes("turn_interrupted_by_restart"), JSON.stringify(list.diagnostics));
    for (const x of list.diagnostics) assert.ok(!x.message.includes(dir), x.message);
    assert.match(rt2.output, /store_torn_line_truncated/);
    assert.ok(!rt2.output.includes(dir), "stderr does not name the data dir");

    // The busy worker came back idle, its turn failed because of the restart.
    const b = await detail(rt2, busyId);
    assert.equal(b.status, "idle");
    assert.equal(b.last_turn_outcome, "failed");
    const bl = await transcript(rt2, busyId);
    assertStrictlyIncreasing(bl, "busy worker after restart");
    assert.ok(bl.length > busyBefore.length);
    // Whatever was acknowledged before the kill is still there, unchanged.
    assert.deepEqual(bl.slice(0, busyBefore.length), busyBefore);
    const failed = bl.filter((e) => e.type === "turn.failed");
    assert.equal(failed.length, 1);
    assert.match(String(failed[0].data.reason), /restart/);
    assert.deepEqual(bl.at(-1)!.data, { status: "idle" });
    assert.equal(bl.at(-1)!.type, "worker.status");

    // Both workers keep going with seq continuing after the log.
    const ack = await input(rt2, longId, "again");
    assert.equal(ack.seq, before.length + 1);
    const ack2 = await input(rt2, busyId, "ok");
    assert.equal(ack2.seq, bl.length + 1);
    for (const id of [longId, busyId]) {
      await waitUntil("the new turn", async () => {
        const x = await detail(rt2, id);
        return x.status === "idle" && x.turn_count === 2;
      }, DEADLINE_MS);
      assertStrictlyIncreasing(await transcript(rt2, id), "after the new turn");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
