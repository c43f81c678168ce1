/**
 * Engine `openai` in-process, against the scripted provider of
 * tests/support/fake_openai.ts (the one fake: no model runs here). The
 * end-to-end acceptance tests through a runtime process are in
 * tests/openai_engine_test.ts; these pin retry waits, step limits and caps.
 * @module
 */
import assert from "node:assert/strict";
import { FakeOpenAI, textAnswer, toolCalls } from "../tests/support/fake_openai.ts";
import type { OutputChunk, TurnContext } from "./engine.ts";
import { OpenAIEngine, retryAfterMs } from "./openai_engine.ts";
import type { OpenAIProfileSpec } from "./openai_profile.ts";

interface Recorded {
  out: string[];
  events: { type: string; data: Record<string, unknown> }[];
}

function ctx(input: string, rec: Recorded, signal = new AbortController().signal): TurnContext {
  return {
    input,
    signal,
    workerId: "01900000-0000-7000-8000-000000000001",
    emit: (c: OutputChunk) => {
      rec.out.push(c.text);
      return Promise.resolve();
    },
    record: (type, data) => {
      rec.events.push({ type, data });
      return Promise.resolve();
    },
    history: () => Promise.resolve([]),
  };
}

function spec(url: string, extra: Partial<OpenAIProfileSpec> = {}): OpenAIProfileSpec {
  return { engine: "openai", base_url: url, model: "m", ...extra };
}

Deno.test("Retry-After (seconds, date, -ms) is what the engine waits; too long is not waited", async () => {
  await using fake = new FakeOpenAI([
    { status: 429, headers: { "retry-after": "2" } },
    { status: 503, headers: { "retry-after-ms": "1500" } },
    { stream: textAnswer(["ok"]) },
    { status: 429, headers: { "retry-after": "3600" } },
  ]);
  const waits: number[] = [];
  const engine = new OpenAIEngine(spec(fake.url, { max_retries: 3 }), {}, {
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  const rec: Recorded = { out: [], events: [] };
  assert.equal((await engine.runTurn(ctx("a", rec))).outcome, "completed");
  assert.deepEqual(waits, [2000, 1500]);
  const r = await engine.runTurn(ctx("b", rec));
  assert.equal(r.outcome === "failed" && r.reason, "provider_rate_limited");
  assert.deepEqual(waits, [2000, 1500], "an hour-long Retry-After is not waited for");
  assert.equal(fake.requests.length, 4);

  const date = new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString();
  const now = Date.UTC(2030, 0, 1, 0, 0, 0);
  assert.equal(retryAfterMs(new Headers({ "retry-after": date }), now), 10_000);
  assert.equal(retryAfterMs(new Headers({ "retry-after": "soon" })), undefined);
});

Deno.test("a refused connection is retried with growing backoff, then provider_unavailable", async () => {
  const waits: number[] = [];
  const sleep = (ms: number) => {
    waits.push(ms);
    return Promise.resolve();
  };
  // A port nothing listens on: take one, close it.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const engine = new OpenAIEngine(spec(`http://127.0.0.1:${port}/v1`, { max_retries: 2 }), {}, {
    sleep,
  });
  const r = await engine.runTurn(ctx("x", { out: [], events: [] }));
  assert.equal(r.outcome === "failed" && r.reason, "provider_unavailable");
  assert.equal(waits.length, 2);
  assert.ok(waits[1] > waits[0], `backoff grows: ${waits}`);
  assert.doesNotMatch(JSON.stringify(r), new RegExp(String(port)), "no URL in the result");
});

Deno.test("parallel tool calls of one step run at the same time", async () => {
  const root = await Deno.makeTempDir({ prefix: "openai_engine_unit_" });
  // Each command waits (bounded) for the other's file: run one after the other, both fail.
  const meet = (mine: string, other: string) =>
    `touch ${mine}; i=0; while [ ! -e ${other} ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; [ -e ${other} ]`;
  await using fake = new FakeOpenAI([
    {
      stream: toolCalls([
        { id: "a", name: "run_command", args: { argv: ["sh", "-c", meet("a", "b")] } },
        { id: "b", name: "run_command", args: { argv: ["sh", "-c", meet("b", "a")] } },
      ]),
    },
    { stream: textAnswer(["met"]) },
  ]);
  const engine = new OpenAIEngine(
    spec(fake.url, { tools: ["run_command"], run_command_allow: ["sh"] }),
    { workspaceRoot: root },
  );
  const rec: Recorded = { out: [], events: [] };
  const r = await engine.runTurn(ctx("meet", rec));
  await Deno.remove(root, { recursive: true });
  assert.equal(r.outcome, "completed");
  assert.deepEqual(rec.events.map((e) => e.type), [
    "tool.call",
    "tool.call",
    "tool.result",
    "tool.result",
  ]);
  for (const e of rec.events.filter((e) => e.type === "tool.result")) {
    assert.equal(e.data.ok, true, String(e.data.output));
  }
});

Deno.test("a model that keeps asking for tools ends max_steps; usage is still reported", async () => {
  const step = { stream: toolCalls([{ id: "l", name: "list_dir", args: {} }]) };
  await using fake = new FakeOpenAI([step, step, step]);
  const root = await Deno.makeTempDir({ prefix: "openai_engine_unit_" });
  const engine = new OpenAIEngine(spec(fake.url, { max_steps: 3 }), { workspaceRoot: root });
  const r = await engine.runTurn(ctx("loop", { out: [], events: [] }));
  await Deno.remove(root, { recursive: true });
  assert.equal(r.outcome === "failed" && r.reason, "max_steps");
  assert.deepEqual(r.data?.usage, { prompt_tokens: 15, completion_tokens: 9 });
  assert.equal(fake.requests.length, 3);
});

Deno.test("model output past max_output_bytes ends output_limit; a disabled tool is refused", async () => {
  await using fake = new FakeOpenAI([
    { stream: toolCalls([{ id: "r", name: "run_command", args: { argv: ["ls"] } }]) },
    { stream: textAnswer(["12345", "67890", "abcde"]) },
  ]);
  const root = await Deno.makeTempDir({ prefix: "openai_engine_unit_" });
  const engine = new OpenAIEngine(spec(fake.url, { max_output_bytes: 12 }), {
    workspaceRoot: root,
  });
  const rec: Recorded = { out: [], events: [] };
  const r = await engine.runTurn(ctx("big", rec));
  await Deno.remove(root, { recursive: true });
  assert.equal(r.outcome === "failed" && r.reason, "output_limit");
  assert.deepEqual(rec.out, ["12345", "67890"]);
  const result = rec.events.find((e) => e.type === "tool.result")!;
  assert.equal(result.data.ok, false);
  assert.match(String(result.data.output), /not enabled/);
  // run_command is not offered to the model when the profile does not list it.
  assert.equal(fake.requests[0].body.tools?.length, 3);
});

Deno.test("the engine never shows its key when inspected or serialised", () => {
  Deno.env.set("YOI_UNIT_KEY", "sk-unit-canary");
  const engine = new OpenAIEngine(
    spec("http://127.0.0.1:1/v1", { api_key_ref: "env:YOI_UNIT_KEY" }),
  );
  for (const s of [Deno.inspect(engine), JSON.stringify({ engine }), String(engine)]) {
    assert.doesNotMatch(s, /sk-unit-canary/);
  }
  Deno.env.delete("YOI_UNIT_KEY");
});
