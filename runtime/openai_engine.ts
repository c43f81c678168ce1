/**
 * Engine `openai` (DESIGN §13): a worker that is an LLM agent. Each turn
 * sends the conversation (rebuilt from the worker's event log) to any server
 * speaking the OpenAI Chat Completions API with streaming, streams the answer
 * as `output.delta`, runs the tools the model asks for inside the worker's
 * workspace folder (recorded as `tool.call`/`tool.result`), and loops until
 * the model answers without tools or `max_steps` is reached.
 *
 * Provider failures end the turn with a typed reason and never with the
 * provider's own text (which may echo the key): `provider_auth_failed`
 * (401/403), `provider_rate_limited` (429 after retries), `provider_unavailable`
 * (5xx, refused, timeout, stream cut), `provider_request_rejected` (other 4xx).
 * Retries happen only while nothing of the answer has been streamed.
 * @module
 */
import type { Engine, EngineEnv, TurnContext, TurnResult } from "./engine.ts";
import { type ChatMessage, historyMessages, type WireToolCall } from "./openai_history.ts";
import {
  apiKeyEnvName,
  DEFAULT_TOOLS,
  type OpenAIProfileSpec,
  type ToolName,
} from "./openai_profile.ts";
import { runTool, TOOL_SCHEMAS, type ToolOptions } from "./openai_tools.ts";
import { readSse, SseError } from "./sse.ts";
import { abortableSleep } from "../shared/abortable_sleep.ts";

const DEFAULTS = {
  max_steps: 20,
  request_timeout_ms: 120_000,
  stream_idle_timeout_ms: 120_000,
  command_timeout_ms: 120_000,
  max_retries: 3,
  max_output_bytes: 8 * 1024 * 1024,
  tool_output_max_bytes: 64 * 1024,
};
/** Largest single SSE event accepted from a provider. */
const MAX_EVENT_CHARS = 1024 * 1024;
/** Largest tool-call arguments text accepted from the model, per call. */
const MAX_ARGUMENTS_CHARS = 1024 * 1024;
/** A `Retry-After` longer than this is not waited for: the turn ends rate-limited at once. */
const RETRY_AFTER_MAX_MS = 60_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8_000;

/** Test seams: how the engine waits between retries and sees started commands. */
export interface OpenAIEngineHooks {
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  onSpawn?: (pid: number) => void;
}

/** Why a step failed, in DESIGN §13's words; `retryable` only counts before output streamed. */
interface StepFailure {
  kind: "failure";
  reason:
    | "provider_auth_failed"
    | "provider_rate_limited"
    | "provider_unavailable"
    | "provider_request_rejected"
    | "output_limit"
    | "cancelled";
  message: string;
  http_status?: number;
  retryable: boolean;
  retryAfterMs?: number;
  streamed: boolean;
}

interface StepAnswer {
  kind: "answer";
  text: string;
  toolCalls: WireToolCall[];
  usage?: { prompt_tokens: number; completion_tokens: number };
}

/** Runs turns for one `openai` profile; holds the resolved key, which it never shows. */
export class OpenAIEngine implements Engine {
  /**
   * Not pausable yet: a step is one streamed HTTP answer, and holding it open (or holding
   * between steps) is not built; pause answers 501 `unsupported_operation` for this engine.
   */
  readonly features = { pause: false };
  readonly #spec: OpenAIProfileSpec;
  readonly #key: string | undefined;
  readonly #workspaceRoot: string | undefined;
  readonly #tools: readonly ToolName[];
  readonly #hooks: OpenAIEngineHooks;
  readonly #url: string;

  constructor(spec: OpenAIProfileSpec, env: EngineEnv = {}, hooks: OpenAIEngineHooks = {}) {
    this.#spec = spec;
    this.#key = spec.api_key_ref ? Deno.env.get(apiKeyEnvName(spec.api_key_ref)) : undefined;
    this.#workspaceRoot = env.workspaceRoot;
    this.#tools = spec.tools ?? DEFAULT_TOOLS;
    this.#hooks = hooks;
    this.#url = `${spec.base_url.replace(/\/+$/, "")}/chat/completions`;
  }

  /** Never shows the key (or anything else) when logged or serialised. */
  toJSON(): string {
    return "[OpenAIEngine]";
  }
  toString(): string {
    return "[OpenAIEngine]";
  }
  [Symbol.for("Deno.customInspect")](): string {
    return "[OpenAIEngine]";
  }

  async runTurn(ctx: TurnContext): Promise<TurnResult> {
    const s = this.#spec;
    const maxSteps = s.max_steps ?? DEFAULTS.max_steps;
    const messages: ChatMessage[] = [];
    if (s.system_prompt) messages.push({ role: "system", content: s.system_prompt });
    if (ctx.history) messages.push(...historyMessages(await ctx.history()));
    messages.push({ role: "user", content: ctx.input });

    const usage = { prompt_tokens: 0, completion_tokens: 0 };
    const budget = { outputBytes: s.max_output_bytes ?? DEFAULTS.max_output_bytes };
    for (let step = 1; step <= maxSteps; step++) {
      const r = await this.#stepWithRetries(messages, ctx, budget);
      if (r.kind === "failure") {
        return {
          outcome: "failed",
          reason: r.reason,
          data: {
            message: r.message,
            ...(r.http_status !== undefined ? { http_status: r.http_status } : {}),
            usage,
          },
        };
      }
      if (r.usage) {
        usage.prompt_tokens += r.usage.prompt_tokens;
        usage.completion_tokens += r.usage.completion_tokens;
      }
      messages.push({
        role: "assistant",
        content: r.text === "" ? null : r.text,
        ...(r.toolCalls.length > 0 ? { tool_calls: r.toolCalls } : {}),
      });
      if (r.toolCalls.length === 0) return { outcome: "completed", data: { usage } };
      await this.#runTools(r.toolCalls, ctx, messages);
      if (ctx.signal.aborted) return { outcome: "failed", reason: "cancelled" };
    }
    return {
      outcome: "failed",
      reason: "max_steps",
      data: { message: `the model still asked for tools after ${maxSteps} steps`, usage },
    };
  }

  /** Records every call first, runs them in parallel, records each result as it ends. */
  async #runTools(calls: WireToolCall[], ctx: TurnContext, messages: ChatMessage[]) {
    for (const c of calls) {
      await ctx.record?.("tool.call", {
        call_id: c.id,
        name: c.function.name,
        arguments: c.function.arguments,
      });
    }
    const opts: ToolOptions | null = this.#workspaceRoot && ctx.workerId
      ? {
        root: `${this.#workspaceRoot}/${ctx.workerId}`,
        allow: this.#spec.run_command_allow ?? [],
        commandTimeoutMs: this.#spec.command_timeout_ms ?? DEFAULTS.command_timeout_ms,
        outputMaxBytes: this.#spec.tool_output_max_bytes ?? DEFAULTS.tool_output_max_bytes,
        onSpawn: this.#hooks.onSpawn,
      }
      : null;
    const results = await Promise.all(calls.map(async (c) => {
      const name = c.function.name;
      const outcome = !this.#tools.includes(name as ToolName)
        ? { ok: false, output: `error: tool ${JSON.stringify(name.slice(0, 64))} is not enabled` }
        : opts === null
        ? { ok: false, output: "error: this runtime has no workspace folder for tools" }
        : await runTool(name, c.function.arguments, opts, ctx.signal);
      await ctx.record?.("tool.result", { call_id: c.id, ok: outcome.ok, output: outcome.output });
      return outcome;
    }));
    calls.forEach((c, i) =>
      messages.push({ role: "tool", tool_call_id: c.id, content: results[i].output })
    );
  }

  async #stepWithRetries(
    messages: ChatMessage[],
    ctx: TurnContext,
    budget: { outputBytes: number },
  ): Promise<StepAnswer | StepFailure> {
    const maxRetries = this.#spec.max_retries ?? DEFAULTS.max_retries;
    for (let attempt = 0;; attempt++) {
      if (ctx.signal.aborted) return cancelled(false);
      const r = await this.#step(messages, ctx, budget);
      if (r.kind === "answer" || !r.retryable || r.streamed || attempt >= maxRetries) {
        if (r.kind === "failure" && r.retryable && !r.streamed && attempt > 0) {
          r.message += ` (after ${attempt} ${attempt === 1 ? "retry" : "retries"})`;
        }
        return r;
      }
      let wait = r.retryAfterMs ?? backoff(attempt);
      if (wait > RETRY_AFTER_MAX_MS) return r; // the provider asks for longer than we wait
      wait = Math.max(0, wait);
      await (this.#hooks.sleep ?? abortableSleep)(wait, ctx.signal);
    }
  }

  /** One request to the provider and its streamed answer. */
  async #step(
    messages: ChatMessage[],
    ctx: TurnContext,
    budget: { outputBytes: number },
  ): Promise<StepAnswer | StepFailure> {
    const s = this.#spec;
    const tools = this.#tools.map((t) => TOOL_SCHEMAS[t]);
    const body = JSON.stringify({
      model: s.model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
      ...(tools.length > 0 ? { tools } : {}),
      ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
    });
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "text/event-stream",
    };
    if (this.#key) headers.authorization = `Bearer ${this.#key}`;

    const ac = new AbortController();
    const onAbort = () => ac.abort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    let headerTimedOut = false;
    const headerTimer = setTimeout(() => {
      headerTimedOut = true;
      ac.abort();
    }, s.request_timeout_ms ?? DEFAULTS.request_timeout_ms);
    let streamed = false;
    try {
      let res: Response;
      try {
        res = await fetch(this.#url, {
          method: "POST",
          headers,
          body,
          signal: ac.signal,
          redirect: "error",
        });
      } catch {
        if (ctx.signal.aborted) return cancelled(false);
        return unavailable(
          headerTimedOut
            ? "the provider did not answer in time"
            : "the provider could not be reached",
          false,
        );
      } finally {
        clearTimeout(headerTimer);
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        return httpFailure(res);
      }
      if (!res.body) return unavailable("the provider sent no body", false);

      let text = "";
      const calls: { id: string; name: string; args: string }[] = [];
      let usage: StepAnswer["usage"];
      let finished = false;
      let done = false;
      try {
        for await (
          const ev of readSse(res.body, {
            maxEventChars: MAX_EVENT_CHARS,
            idleTimeoutMs: s.stream_idle_timeout_ms ?? DEFAULTS.stream_idle_timeout_ms,
          })
        ) {
          if (ev.data === "[DONE]") {
            done = true;
            break;
          }
          let chunk: ChunkShape;
          try {
            chunk = JSON.parse(ev.data);
          } catch {
            return unavailable("the provider sent a malformed stream", streamed);
          }
          if (chunk?.error) {
            return unavailable("the provider reported an error mid-stream", streamed);
          }
          if (chunk?.usage && typeof chunk.usage.prompt_tokens === "number") {
            usage = {
              prompt_tokens: chunk.usage.prompt_tokens,
              completion_tokens: Number(chunk.usage.completion_tokens) || 0,
            };
          }
          const choice = chunk?.choices?.[0];
          if (!choice) continue;
          const delta = choice.delta ?? {};
          if (typeof delta.content === "string" && delta.content !== "") {
            const bytes = new TextEncoder().encode(delta.content).length;
            budget.outputBytes -= bytes;
            if (budget.outputBytes < 0) {
              return {
                kind: "failure",
                reason: "output_limit",
                message: "the model's output passed the turn's limit",
                retryable: false,
                streamed: true,
              };
            }
            streamed = true;
            text += delta.content;
            await ctx.emit({ text: delta.content });
          }
          for (const tc of delta.tool_calls ?? []) {
            const i = typeof tc.index === "number" ? tc.index : calls.length;
            if (i < 0 || i > 127) continue;
            const c = calls[i] ??= { id: "", name: "", args: "" };
            if (typeof tc.id === "string" && tc.id) c.id = tc.id;
            if (typeof tc.function?.name === "string") c.name += tc.function.name;
            if (typeof tc.function?.arguments === "string") c.args += tc.function.arguments;
            if (c.args.length > MAX_ARGUMENTS_CHARS) {
              return unavailable("the model's tool arguments passed the size limit", streamed);
            }
          }
          if (choice.finish_reason) finished = true;
        }
      } catch (e) {
        if (ctx.signal.aborted) return cancelled(streamed);
        const why = e instanceof SseError && e.kind === "idle_timeout"
          ? "the provider's stream went silent"
          : e instanceof SseError && e.kind === "too_large"
          ? "the provider sent an oversized event"
          : "the provider's stream was cut";
        return unavailable(why, streamed);
      }
      if (ctx.signal.aborted) return cancelled(streamed);
      if (!done && !finished) {
        return unavailable("the provider's stream ended before the answer did", streamed);
      }
      const toolCalls: WireToolCall[] = calls.filter((c) => c && c.name !== "").map((c, i) => ({
        id: c.id || `call_${i}`,
        type: "function",
        function: { name: c.name, arguments: c.args },
      }));
      return { kind: "answer", text, toolCalls, usage };
    } finally {
      clearTimeout(headerTimer);
      ctx.signal.removeEventListener("abort", onAbort);
    }
  }
}

/** The parts of a streamed chunk this engine reads; everything is optional on the wire. */
interface ChunkShape {
  error?: unknown;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  choices?: {
    delta?: {
      content?: string | null;
      tool_calls?: {
        index?: number;
        id?: string;
        function?: { name?: string; arguments?: string };
      }[];
    };
    finish_reason?: string | null;
  }[];
}

function cancelled(streamed: boolean): StepFailure {
  return { kind: "failure", reason: "cancelled", message: "cancelled", retryable: false, streamed };
}

function unavailable(message: string, streamed: boolean, http_status?: number): StepFailure {
  return {
    kind: "failure",
    reason: "provider_unavailable",
    message,
    retryable: true,
    streamed,
    ...(http_status !== undefined ? { http_status } : {}),
  };
}

/** Maps a non-2xx answer to a reason; the provider's body is never read into any message. */
function httpFailure(res: Response): StepFailure {
  const status = res.status;
  if (status === 401 || status === 403) {
    return {
      kind: "failure",
      reason: "provider_auth_failed",
      message: `the provider refused the credentials (HTTP ${status})`,
      http_status: status,
      retryable: false,
      streamed: false,
    };
  }
  if (status === 429) {
    return {
      kind: "failure",
      reason: "provider_rate_limited",
      message: "the provider is rate-limiting this key (HTTP 429)",
      http_status: status,
      retryable: true,
      retryAfterMs: retryAfterMs(res.headers),
      streamed: false,
    };
  }
  if (status >= 500) {
    return {
      ...unavailable(`the provider failed (HTTP ${status})`, false, status),
      retryAfterMs: retryAfterMs(res.headers),
    };
  }
  return {
    kind: "failure",
    reason: "provider_request_rejected",
    message: `the provider rejected the request (HTTP ${status}); check model and base_url`,
    http_status: status,
    retryable: false,
    streamed: false,
  };
}

/** `retry-after-ms`, or `Retry-After` as seconds or an HTTP date; undefined when absent or bad. */
export function retryAfterMs(h: Headers, now = Date.now()): number | undefined {
  const ms = h.get("retry-after-ms");
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const v = h.get("retry-after");
  if (v === null) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function backoff(attempt: number): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
