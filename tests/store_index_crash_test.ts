/**
 * The fs store's index under a real crash: a runtime process is SIGKILLed while three
 * workers stream output (their logs run ahead of their indexes), and a restart on the same
 * folder brings back every acknowledged event once, at its seq, with the turns cut off by
 * the crash marked failed; a graceful stop then leaves every index covering its whole log.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  TranscriptEnvelopeSchema,
  type WorkerDetail,
  WorkerEnvelopeSchema,
  type WorkerEvent,
} from "../shared/mod.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";
import { waitUntil } from "./support/wait.ts";

const CONFIG = `
[profiles.stream]
engine = "echo"
chunk_chars = 1
delay_ms = 1
`;
const WORKERS = 3;
const TEXT_CHARS = 20_000;

async function call(url: string, method = "GET", body?: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function transcript(rt: RuntimeProcess, id: string): Promise<WorkerEvent[]> {
  const all: WorkerEvent[] = [];
  for (let after = 0, i = 0; i < 1_000; i++) {
    const page = TranscriptEnvelopeSchema.parse(
      await call(`${rt.url}/v1/workers/${id}/transcript?after=${after}&limit=500`),
    );
    if (page.entries.length === 0) return all;
    all.push(...page.entries);
    after = page.next_after;
  }
  throw new Error("transcript paging did not end");
}

async function detail(rt: RuntimeProcess, id: string): Promise<WorkerDetail> {
  return WorkerEnvelopeSchema.parse(await call(`${rt.url}/v1/workers/${id}`)).worker;
}

/** `log_bytes` of a worker's saved index, or undefined while it has none. */
async function indexed(dir: string, id: string): Promise<number | undefined> {
  try {
    const text = await Deno.readTextFile(join(dir, "workers", id, "events.index"));
    return JSON.parse(text.split("\n")[0]).log_bytes;
  } catch {
    return undefined;
  }
}

const logSize = async (dir: string, id: string) =>
  (await Deno.stat(join(dir, "workers", id, "events.jsonl"))).size;

Deno.test("kill -9 while workers stream: the restart recovers the logs past their indexes, every acked event once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "store_index_crash_test_" });
  try {
    const ids: string[] = [];
    const acked = new Map<string, WorkerEvent[]>();
    const lag: number[] = [];
    {
      await using rt = await RuntimeProcess.start({ store: "fs", dataDir: dir, config: CONFIG });
      for (let i = 0; i < WORKERS; i++) {
        const body = await call(`${rt.url}/v1/workers`, "POST", {
          profile: "stream",
          input: "x".repeat(TEXT_CHARS),
        });
        ids.push(WorkerEnvelopeSchema.parse(body).worker.worker_id);
      }
      // Streaming, and each log has been indexed at least once.
      await waitUntil("every worker to stream past its first index save", async () => {
        for (const id of ids) {
          if ((await indexed(dir, id)) === undefined) return false;
          if ((await detail(rt, id)).last_seq < 500) return false;
        }
        return true;
      }, 60_000);
      // What the runtime acknowledged (the transcript shows only published events)…
      for (const id of ids) acked.set(id, await transcript(rt, id));
      // …then the process dies mid-write.
      assert.equal((await rt.kill("SIGKILL")).signal, "SIGKILL");
      for (const id of ids) {
        assert.equal(await detail(rt, id).catch(() => null), null, "the process is gone");
        lag.push((await logSize(dir, id)) - (await indexed(dir, id))!);
      }
    }
    assert.ok(lag.every((n) => n >= 0), `indexes never run ahead of their logs: ${lag}`);
    assert.ok(lag.some((n) => n > 0), `a log ran ahead of its index at the kill: ${lag}`);

    {
      const rt = await RuntimeProcess.start({ store: "fs", dataDir: dir, config: CONFIG });
      try {
        for (const id of ids) {
          const log = await transcript(rt, id);
          const before = acked.get(id)!;
          // Every acknowledged event is back, unchanged; seqs are 1..N with no duplicate.
          assert.deepEqual(log.slice(0, before.length), before);
          assert.deepEqual(log.map((e) => e.seq), log.map((_, i) => i + 1));
          // The turn cut off by the crash is failed once, and the worker is idle again.
          assert.deepEqual(log.filter((e) => e.type === "turn.failed").length, 1);
          assert.deepEqual(log.at(-1)!.data, { status: "idle" });
          const d = await detail(rt, id);
          assert.deepEqual(
            [d.last_seq, d.status, d.turn_count, d.last_turn_outcome],
            [log.length, "idle", 1, "failed"],
          );
          // Seq continues after the log.
          const ack = await call(`${rt.url}/v1/workers/${id}/input`, "POST", { text: "ok" });
          assert.equal((ack as { ack: { seq: number } }).ack.seq, log.length + 1);
        }
        for (const id of ids) {
          await waitUntil("the new turn to end", async () => {
            const d = await detail(rt, id);
            return d.status === "idle" && d.turn_count === 2;
          }, 60_000);
        }
      } finally {
        assert.equal((await rt.kill("SIGTERM")).code, 0);
      }
    }
    // A graceful stop leaves every index covering its whole log: the next start scans no tail.
    for (const id of ids) assert.equal(await indexed(dir, id), await logSize(dir, id));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
