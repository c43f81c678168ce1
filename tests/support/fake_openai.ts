/**
 * A scripted OpenAI-compatible Chat Completions server on 127.0.0.1 — the one
 * fake in these tests: no model runs on these machines, so the provider is
 * played by a script of replies, one per request, in order. Everything else
 * (runtime process, store, files, processes) is real.
 * @module
 */

/** One scripted answer to one `POST /chat/completions`. */
export type Reply =
  /** An SSE stream of `chunks`, then `[DONE]` unless `cut` (the connection just ends). */
  | { stream: unknown[]; cut?: boolean; gapMs?: number }
  /** A plain HTTP error. */
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Streams `chunks`, then stays open and silent until the client goes away. */
  | { hang: unknown[] };

export interface SeenRequest {
  body: {
    model?: string;
    messages?: { role: string; content?: string | null; tool_call_id?: string }[];
    tools?: unknown[];
  };
  authorization: string | null;
}

const enc = new TextEncoder();

export class FakeOpenAI {
  readonly url: string;
  readonly requests: SeenRequest[] = [];
  /** Replies still to give; a request when it is empty gets a 500. */
  readonly script: Reply[];
  /** Resolves each time a hanging reply's client went away. */
  hangsClosed = 0;
  #server: Deno.HttpServer<Deno.NetAddr>;

  constructor(script: Reply[] = []) {
    this.script = script;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => this.#handle(req),
    );
    this.url = `http://127.0.0.1:${this.#server.addr.port}/v1`;
  }

  async #handle(req: Request): Promise<Response> {
    const u = new URL(req.url);
    if (req.method !== "POST" || u.pathname !== "/v1/chat/completions") {
      return new Response("not found", { status: 404 });
    }
    this.requests.push({
      body: await req.json(),
      authorization: req.headers.get("authorization"),
    });
    const r = this.script.shift() ?? { status: 500 };
    if ("status" in r) {
      return new Response(r.body ?? JSON.stringify({ error: { message: "scripted" } }), {
        status: r.status,
        headers: r.headers,
      });
    }
    const chunks = "stream" in r ? r.stream : r.hang;
    const gap = "stream" in r ? r.gapMs ?? 0 : 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: async (c) => {
        for (const ch of chunks) {
          c.enqueue(enc.encode(`data: ${JSON.stringify(ch)}\n\n`));
          if (gap > 0) await new Promise((res) => (timer = setTimeout(res, gap)));
        }
        if ("stream" in r) {
          if (!r.cut) c.enqueue(enc.encode("data: [DONE]\n\n"));
          c.close();
        }
      },
      cancel: () => {
        clearTimeout(timer);
        if ("hang" in r) this.hangsClosed++;
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  }

  async close(): Promise<void> {
    await this.#server.shutdown();
  }

  async [Symbol.asyncDispose]() {
    await this.close();
  }
}

/** Chunks that stream `parts` as text and end with `usage`. */
export function textAnswer(parts: string[], usage = { prompt: 11, completion: 7 }): unknown[] {
  return [
    ...parts.map((p) => ({ choices: [{ index: 0, delta: { content: p }, finish_reason: null }] })),
    { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    {
      choices: [],
      usage: {
        prompt_tokens: usage.prompt,
        completion_tokens: usage.completion,
        total_tokens: usage.prompt + usage.completion,
      },
    },
  ];
}

/** Chunks of one step that asks for `calls` (arguments split in two chunks, as real servers do). */
export function toolCalls(
  calls: { id: string; name: string; args: unknown }[],
  usage = { prompt: 5, completion: 3 },
): unknown[] {
  const out: unknown[] = [];
  calls.forEach((c, index) => {
    const a = JSON.stringify(c.args);
    const half = Math.floor(a.length / 2);
    out.push({
      choices: [{
        index: 0,
        delta: {
          tool_calls: [{
            index,
            id: c.id,
            type: "function",
            function: { name: c.name, arguments: a.slice(0, half) },
          }],
        },
      }],
    });
    out.push({
      choices: [{
        index: 0,
        delta: { tool_calls: [{ index, function: { arguments: a.slice(half) } }] },
      }],
    });
  });
  out.push({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] });
  out.push({
    choices: [],
    usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion },
  });
  return out;
}
