/**
 * The orchestrator's handle on the load client process (`load_client.ts`):
 * one process for the whole run, one JSON command per measurement window.
 * Kept in its own process so its CPU per request is read apart from the
 * orchestrator's (which holds WebSockets and timers of other scenarios).
 * @module
 */
import type {
  LatencyAnswer,
  LatencyCommand,
  TargetSpec,
  ThroughputAnswer,
  ThroughputCommand,
} from "./load_client.ts";

export type { LatencyAnswer, TargetSpec, ThroughputAnswer, ThroughputCommand };

import { stopChild } from "../tests/support/spawn.ts";

const SCRIPT = new URL("./load_client.ts", import.meta.url).pathname;
/** Upper bound for one command beyond its own warm-up and window. */
const COMMAND_SLACK_MS = 30_000;

export class LoadClient {
  readonly child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #closed = false;

  private constructor(child: Deno.ChildProcess) {
    this.child = child;
    this.#writer = child.stdin.getWriter();
    this.#lines = readLines(child.stdout)[Symbol.asyncIterator]();
  }

  static async start(): Promise<LoadClient> {
    const child = new Deno.Command(Deno.execPath(), {
      // -A: Deno lets a script read /proc only with all permissions.
      args: ["run", "-A", SCRIPT],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const c = new LoadClient(child);
    const first = await c.#next(COMMAND_SLACK_MS);
    if (!(first as { ready?: boolean }).ready) throw new Error("load client did not start");
    return c;
  }

  get pid(): number {
    return this.child.pid;
  }

  async #next(timeoutMs: number): Promise<Record<string, unknown>> {
    let t: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, rej) =>
      t = setTimeout(() => rej(new Error("load client: no answer in time")), timeoutMs)
    );
    try {
      const r = await Promise.race([this.#lines.next(), timeout]);
      if (r.done) throw new Error("load client exited");
      return JSON.parse(r.value);
    } finally {
      clearTimeout(t);
    }
  }

  async #call<T>(cmd: Record<string, unknown>, budgetMs: number): Promise<T> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(cmd) + "\n"));
    const a = await this.#next(budgetMs + COMMAND_SLACK_MS);
    if (a.error) throw new Error(`load client: ${a.error}`);
    return a.ok as T;
  }

  /** Requests/s at a fixed concurrency over a timed window (after a warm-up). */
  throughput(cmd: ThroughputCommand): Promise<ThroughputAnswer> {
    return this.#call({ op: "throughput", ...cmd }, cmd.warmupMs + cmd.durationMs);
  }

  /** c=1 latency, the targets interleaved request by request. */
  latency(cmd: LatencyCommand): Promise<LatencyAnswer> {
    return this.#call({ op: "latency", ...cmd }, cmd.warmupMs + cmd.durationMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#writer.write(new TextEncoder().encode(`{"op":"exit"}\n`));
      await this.#writer.close();
    } catch { /* already gone */ }
    await stopChild(this.child, 5_000, null); // asked to exit above; killed if it does not
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, nl);
      pending = pending.slice(nl + 1);
    }
  }
}

/** A target spec for a GET (or another method) on one base URL. */
export function target(
  name: string,
  baseUrl: string,
  paths: string[],
  opts: { method?: string; headers?: Record<string, string>; body?: string; expect?: number[] } =
    {},
): TargetSpec {
  const u = new URL(baseUrl);
  const headers: Record<string, string> = { host: u.host, ...opts.headers };
  if (opts.body !== undefined) headers["content-type"] ??= "application/json";
  return {
    name,
    host: u.hostname,
    port: Number(u.port),
    requests: paths.map((path) => ({
      method: opts.method ?? "GET",
      path,
      headers,
      body: opts.body,
    })),
    expect: opts.expect,
  };
}
