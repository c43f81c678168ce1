/**
 * Acceptance tests of engine `openai` (issue 16, DESIGN §13) through a real
 * runtime process with an fs store and real workspace folders and processes.
 *
 * The one fake: the LLM provider. No model runs on these machines, so a
 * scripted OpenAI-compatible server on 127.0.0.1 (tests/support/fake_openai.ts)
 * plays it, one scripted reply per request.
 * @module
 */
import assert from "node:assert/strict";
import { openWebSocket } from "../shared/deno_ws.ts";
import {
  AckEnvelopeSchema,
  ErrorBodySchema,
  TranscriptEnvelopeSchema,
  type WorkerDetail,
  WorkerEnvelopeSchema,
  type WorkerEvent,
} from "../shared/mod.ts";
import { FakeOpenAI, textAnswer, toolCalls } from "./support/fake_openai.ts";
import { liveInGroup } from "./support/procs.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";
import { waitUntil } from "./support/wait.ts";

/** Must never show up outside the config's environment and the provider's request header. */
const CANARY = "sk-canary-7f3c9e1d-never-shown";

/** Every body and frame the runtime sent to these tests, for the canary check. */
const seen: string[] = [];

function config(baseUrl: string): string {
  return `
[profiles.coder]
engine = "openai"
base_url = "${baseUrl}"
model = "scripted-model"
api_key_ref = "env:YOI_TEST_OPENAI_KEY"
system_prompt = "You are a careful coding agent."
tools = ["read_file", "write_file", "list_dir", "run_command"]
run_command_allow = ["ls", "sh", "env"]
max_steps = 4
max_retries = 1
request_timeout_ms = 10000
stream_idle_timeout_ms = 10000
command_timeout_ms = 30000
`;
}

async function call(url: string, method: string, body?: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  seen.push(text);
  if (res.status >= 400) {
    ErrorBodySchema.parse(JSON.parse(text));
    throw new Error(`${method} ${url}: ${res.status} ${text}`);
  }
  return JSON.parse(text);
}

async function create(rt: RuntimeProcess): Promise<WorkerDetail> {
  return WorkerEnvelopeSchema.parse(
    await call(`${rt.url}/v1/workers`, "POST", { profile: "coder" }),
  )
    .worker;
}

async function input(rt: RuntimeProcess, id: string, text: string) {
  return AckEnvelopeSchema.parse(await call(`${rt.url}/v1/workers/${id}/input`, "POST", { text }))
    .ack;
}

async function transcript(rt: RuntimeProcess, id: string): Promise<WorkerEvent[]> {
  const all: WorkerEvent[] = [];
  let after = 0;
  for (let i = 0; i < 100; i++) {
    const page = TranscriptEnvelopeSchema.parse(
      await call(`${rt.url}/v1/workers/${id}/transcript?after=${after}&limit=500`, "GET"),
    );
    if (page.entries.length === 0) return all;
    all.push(...page.entries);
    after = page.next_after;
  }
  throw new Error("transcript paging did not end");
}

const TURN_END = ["turn.completed", "turn.failed", "turn.cancelled"];

/** Sends input and waits until that turn has ended; returns the turn's events. */
async function turn(rt: RuntimeProcess, id: string, text: string): Promise<WorkerEvent[]> {
  const ack = await input(rt, id, text);
  return await waitUntil(`turn "${text}" ends`, async () => {
    const ev = (await transcript(rt, id)).filter((e) => e.seq >= ack.seq);
    return ev.some((e) => TURN_END.includes(e.type)) ? ev : null;
  });
}

function end(events: WorkerEvent[]): WorkerEvent {
  const e = events.find((e) => TURN_END.includes(e.type));
  assert.ok(e, "the turn ended");
  return e;
}

function outputOf(events: WorkerEvent[]): string {
  return events.filter((e) => e.type === "output.delta").map((e) => e.data.text).join("");
}

function results(events: WorkerEvent[]): Record<string, { ok: boolean; output: string }> {
  const out: Record<string, { ok: boolean; output: string }> = {};
  for (const e of events) {
    if (e.type === "tool.result") {
      out[e.data.call_id as string] = { ok: e.data.ok as boolean, output: e.data.output as string };
    }
  }
  return out;
}

/** Pids of processes whose command line contains `marker`. */
function pidsWith(marker: string): number[] {
  const pids: number[] = [];
  for (const d of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(d.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${d.name}/cmdline`).replaceAll("\0", " ");
      if (cmd.includes(marker)) pids.push(Number(d.name));
    } catch { /* gone */ }
  }
  return pids;
}

function pgidOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

async function walkFiles(dir: string, out: string[] = []): Promise<string[]> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) await walkFiles(p, out);
    else if (e.isFile) out.push(p);
  }
  return out;
}

Deno.test("engine openai through a real runtime process", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "openai_engine_test_" });
  const outside = await Deno.makeTempDir({ prefix: "openai_engine_outside_" });
  await using fake = new FakeOpenAI();
  const opts = {
    store: "fs" as const,
    dataDir: dir,
    config: config(fake.url),
    env: { YOI_TEST_OPENAI_KEY: CANARY },
  };
  let rt = await RuntimeProcess.start(opts);
  const logs: string[] = [];
  try {
    const w = (await create(rt)).worker_id;
    const workspace = `${dir}/workspaces/${w}`;

    await t.step("a streamed answer: deltas in order, turn.completed with usage", async () => {
      fake.script.push({ stream: textAnswer(["Hel", "lo, ", "wor", "ld"]) });
      const ev = await turn(rt, w, "say hello");
      const deltas = ev.filter((e) => e.type === "output.delta").map((e) => e.data.text);
      assert.deepEqual(deltas, ["Hel", "lo, ", "wor", "ld"]);
      const done = end(ev);
      assert.equal(done.type, "turn.completed");
      assert.deepEqual(done.data.usage, { prompt_tokens: 11, completion_tokens: 7 });
      const req = fake.requests.at(-1)!;
      assert.equal(req.authorization, `Bearer ${CANARY}`, "the key reaches the provider");
      assert.equal(req.body.model, "scripted-model");
      assert.deepEqual(req.body.messages?.map((m) => m.role), ["system", "user"]);
      assert.equal(req.body.tools?.length, 4);
    });

    await t.step("write_file then read_file: the file is in the worker's folder", async () => {
      fake.script.push(
        {
          stream: toolCalls([{
            id: "w1",
            name: "write_file",
            args: { path: "src/deep/hello.txt", content: "hi from the model" },
          }]),
        },
        {
          stream: toolCalls([{
            id: "r1",
            name: "read_file",
            args: { path: "src/deep/hello.txt" },
          }]),
        },
        { stream: textAnswer(["done"]) },
      );
      const ev = await turn(rt, w, "write and read");
      assert.equal(end(ev).type, "turn.completed");
      assert.equal(await Deno.readTextFile(`${workspace}/src/deep/hello.txt`), "hi from the model");
      const calls = ev.filter((e) => e.type === "tool.call").map((e) => e.data);
      assert.deepEqual(calls.map((c) => [c.call_id, c.name]), [["w1", "write_file"], [
        "r1",
        "read_file",
      ]]);
      const r = results(ev);
      assert.equal(r.w1.ok, true);
      assert.deepEqual(r.r1, { ok: true, output: "hi from the model" });
      // The third request carries both tool results back to the model.
      const msgs = fake.requests.at(-1)!.body.messages!;
      assert.deepEqual(
        msgs.filter((m) => m.role === "tool").map((m) => m.tool_call_id),
        ["w1", "r1"],
      );
      // Usage is summed over the turn's three steps (5+5+11, 3+3+7).
      assert.deepEqual(end(ev).data.usage, { prompt_tokens: 21, completion_tokens: 13 });
    });

    await t.step("run_command: allowed program runs; refused program does not", async () => {
      fake.script.push(
        {
          stream: toolCalls([
            { id: "c1", name: "run_command", args: { argv: ["ls", "src"] } },
            { id: "c2", name: "run_command", args: { argv: ["rm", "-rf", "src"] } },
            { id: "c3", name: "run_command", args: { argv: ["env"] } },
          ]),
        },
        { stream: textAnswer(["ok"]) },
      );
      const ev = await turn(rt, w, "run things");
      assert.equal(end(ev).type, "turn.completed");
      const r = results(ev);
      assert.equal(r.c1.ok, true);
      assert.match(r.c1.output, /exit code 0\nstdout:\ndeep\n/);
      assert.equal(r.c2.ok, false);
      assert.match(r.c2.output, /not allowed/);
      assert.ok(await Deno.stat(`${workspace}/src`), "the refused rm did not run");
      // The child's environment is clean: the provider key is not in it.
      assert.equal(r.c3.ok, true);
      assert.match(r.c3.output, /PATH=/);
      assert.doesNotMatch(r.c3.output, /YOI_TEST_OPENAI_KEY|sk-canary/);
    });

    await t.step("../../etc/passwd and a symlink escape give tool.result ok: false", async () => {
      await Deno.writeTextFile(`${outside}/secret.txt`, "outside secret");
      await Deno.symlink(outside, `${workspace}/escape`);
      fake.script.push(
        {
          stream: toolCalls([
            { id: "p1", name: "read_file", args: { path: "../../etc/passwd" } },
            { id: "p2", name: "read_file", args: { path: "escape/secret.txt" } },
            { id: "p3", name: "write_file", args: { path: "escape/new.txt", content: "x" } },
            { id: "p4", name: "read_file", args: { path: "/etc/passwd" } },
            { id: "p5", name: "list_dir", args: { path: "escape" } },
          ]),
        },
        { stream: textAnswer(["refused"]) },
      );
      const ev = await turn(rt, w, "escape please");
      assert.equal(end(ev).type, "turn.completed");
      const r = results(ev);
      for (const id of ["p1", "p2", "p3", "p4", "p5"]) {
        assert.equal(r[id].ok, false, `${id}: ${r[id].output}`);
        assert.doesNotMatch(r[id].output, /root:|outside secret/);
      }
      await assert.rejects(Deno.stat(`${outside}/new.txt`), Deno.errors.NotFound);
    });

    await t.step("401 ends the turn provider_auth_failed without a retry", async () => {
      const before = fake.requests.length;
      fake.script.push({ status: 401, body: `{"error":{"message":"bad key ${CANARY}"}}` });
      const ev = await turn(rt, w, "auth");
      const e = end(ev);
      assert.equal(e.type, "turn.failed");
      assert.equal(e.data.reason, "provider_auth_failed");
      assert.equal(e.data.http_status, 401);
      assert.equal(fake.requests.length - before, 1);
    });

    await t.step(
      "429 with Retry-After is retried; 429 again is provider_rate_limited",
      async () => {
        let before = fake.requests.length;
        fake.script.push({ status: 429, headers: { "retry-after": "1" } }, {
          stream: textAnswer(["after the wait"]),
        });
        let ev = await turn(rt, w, "rate 1");
        assert.equal(end(ev).type, "turn.completed");
        assert.equal(outputOf(ev), "after the wait");
        assert.equal(fake.requests.length - before, 2);

        before = fake.requests.length;
        fake.script.push({ status: 429, headers: { "retry-after": "0" } }, {
          status: 429,
          headers: { "retry-after": "0" },
        });
        ev = await turn(rt, w, "rate 2");
        assert.equal(end(ev).data.reason, "provider_rate_limited");
        assert.equal(fake.requests.length - before, 2, "max_retries = 1: two requests");
      },
    );

    await t.step("500 twice is provider_unavailable", async () => {
      const before = fake.requests.length;
      fake.script.push({ status: 500 }, { status: 503 });
      const ev = await turn(rt, w, "five hundred");
      const e = end(ev);
      assert.equal(e.data.reason, "provider_unavailable");
      assert.equal(e.data.http_status, 503);
      assert.equal(fake.requests.length - before, 2);
    });

    await t.step("a stream cut mid-answer: partial output kept, no retry", async () => {
      const before = fake.requests.length;
      fake.script.push({ stream: textAnswer(["partial ", "answ"]).slice(0, 2), cut: true });
      const ev = await turn(rt, w, "cut");
      const e = end(ev);
      assert.equal(e.type, "turn.failed");
      assert.equal(e.data.reason, "provider_unavailable");
      assert.equal(outputOf(ev), "partial answ");
      assert.equal(fake.requests.length - before, 1, "no retry once output streamed");
    });

    await t.step("cancel during a slow stream ends the request to the provider", async () => {
      const hangs = fake.hangsClosed;
      fake.script.push({ hang: textAnswer(["slow "]).slice(0, 1) });
      const ack = await input(rt, w, "slow");
      await waitUntil(
        "the first delta",
        async () =>
          (await transcript(rt, w)).some((e) => e.seq > ack.seq && e.type === "output.delta"),
      );
      await call(`${rt.url}/v1/workers/${w}/cancel`, "POST");
      const ev = (await transcript(rt, w)).filter((e) => e.seq >= ack.seq);
      assert.equal(end(ev).type, "turn.cancelled");
      await waitUntil("the provider sees the client go", () => fake.hangsClosed > hangs);
    });

    await t.step("cancel during a running command kills its whole process group", async () => {
      const marker = "31.4159";
      fake.script.push({
        stream: toolCalls([{
          id: "s1",
          name: "run_command",
          args: { argv: ["sh", "-c", `sleep ${marker} & sleep ${marker}; echo never`] },
        }]),
      });
      const ack = await input(rt, w, "long command");
      const pids = await waitUntil("both sleeps run", () => {
        const p = pidsWith(`sleep ${marker}`);
        return p.length >= 2 ? p : null;
      });
      const pgid = pgidOf(pids[0]);
      assert.ok(liveInGroup(pgid).length >= 2);
      await call(`${rt.url}/v1/workers/${w}/cancel`, "POST");
      const ev = (await transcript(rt, w)).filter((e) => e.seq >= ack.seq);
      assert.equal(end(ev).type, "turn.cancelled");
      await waitUntil("no process of the group is left", () => liveInGroup(pgid).length === 0);
      assert.deepEqual(pidsWith(`sleep ${marker}`), []);
    });

    await t.step(
      "restart between turns: the next request carries the earlier history",
      async () => {
        const w2 = (await create(rt)).worker_id;
        fake.script.push(
          { stream: toolCalls([{ id: "h1", name: "list_dir", args: {} }]) },
          { stream: textAnswer(["first ", "answer"]) },
        );
        assert.equal(end(await turn(rt, w2, "turn one")).type, "turn.completed");
        logs.push(rt.output);
        await rt.kill("SIGTERM");
        rt = await RuntimeProcess.start(opts);
        fake.script.push({ stream: textAnswer(["second"]) });
        assert.equal(end(await turn(rt, w2, "turn two")).type, "turn.completed");
        const msgs = fake.requests.at(-1)!.body.messages!;
        assert.deepEqual(
          msgs.map((m) => [m.role, m.content ?? null, m.tool_call_id ?? null]),
          [
            ["system", "You are a careful coding agent.", null],
            ["user", "turn one", null],
            ["assistant", null, null],
            ["tool", "", "h1"],
            ["assistant", "first answer", null],
            ["user", "turn two", null],
          ],
        );
      },
    );

    await t.step("the canary key appears in no response, frame, log line or file", async () => {
      const info = await call(`${rt.url}/v1/runtime`, "GET");
      assert.ok(info);
      // One WS replay of the whole log of the worker that saw every failure.
      const frames: string[] = [];
      const last = (await transcript(rt, w)).at(-1)!.seq;
      const ws = openWebSocket(`${rt.url.replace("http", "ws")}/v1/workers/${w}/events?after=0`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error("the replay did not reach the last seq")),
          20_000,
        );
        ws.onmessage = (m) => {
          frames.push(String(m.data));
          if (String(m.data).includes(`"seq":${last},`)) ws.close();
        };
        ws.onclose = () => resolve();
        ws.onerror = () => reject(new Error("ws error"));
      }).finally(() => clearTimeout(timer));
      assert.ok(frames.length > 50);
      logs.push(rt.output);
      const files = await walkFiles(dir);
      assert.ok(files.length > 3);
      for (const f of files) {
        assert.ok(!(await Deno.readTextFile(f)).includes(CANARY), `file ${f}`);
      }
      for (const [what, texts] of [["response", seen], ["frame", frames], ["log", logs]] as const) {
        for (const s of texts) assert.ok(!s.includes(CANARY), `${what} carries the key: ${s}`);
      }
    });
  } finally {
    await rt.kill("SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.remove(outside, { recursive: true }).catch(() => {});
  }
});

Deno.test("a runtime with an invalid openai profile refuses to start, naming the key", async () => {
  const err = await RuntimeProcess.start({
    config: config("http://127.0.0.1:9/v1").replace("env:YOI_TEST_OPENAI_KEY", "env:HOME"),
  }).then(() => null, (e: Error) => e);
  assert.ok(err, "the runtime must not start");
  assert.match(err.message, /exited with 2/);
  assert.match(err.message, /profiles\.coder\.api_key_ref/);
  const unset = await RuntimeProcess.start({ config: config("http://127.0.0.1:9/v1") })
    .then(() => null, (e: Error) => e);
  assert.match(String(unset?.message), /YOI_TEST_OPENAI_KEY is empty or unset/);
});
