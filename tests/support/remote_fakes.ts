/**
 * Shared helpers of the remote client tests (`backend/registry/remote_*_test.ts`): a client
 * for a URL, the "nothing leaks" check, and FAKE remotes — tiny `Deno.serve` servers on
 * 127.0.0.1:0 for misbehaviour a real Runtime cannot be made to show.
 * @module
 */
import assert from "node:assert/strict";
import { ApiError, type ErrorCode, type WorkerDetail, type WorkerEvent } from "../../shared/mod.ts";
import { RemoteRuntimeClient } from "../../backend/registry/remote_client.ts";
import { RemoteEndpoint, Secret } from "../../backend/settings/secret.ts";

export const CANARY = "canary-token-XYZ";
export const SLOW_CONFIG = `[profiles.slow]\nengine = "echo"\nchunk_chars = 1\ndelay_ms = 20\n`;

export function clientFor(
  url: string,
  opts: { token?: string; timeoutMs?: number; maxResponseBytes?: number; id?: string } = {},
): RemoteRuntimeClient {
  return new RemoteRuntimeClient({
    runtimeId: opts.id ?? "test",
    endpoint: new RemoteEndpoint(url),
    token: opts.token === undefined ? undefined : new Secret(opts.token),
    timeoutMs: opts.timeoutMs,
    maxResponseBytes: opts.maxResponseBytes,
  });
}

/** Fails when a URL, host, port or token shows up anywhere an error or client is printed. */
export function assertNoLeak(subject: unknown, url: string, extra: string[] = []) {
  const u = new URL(url);
  const needles = [url, u.host, `:${u.port}`, u.port, u.hostname, CANARY, ...extra]
    .filter((n) => n !== "");
  const views: string[] = [String(subject), Deno.inspect(subject), JSON.stringify(subject)];
  if (subject instanceof ApiError) {
    views.push(subject.message, JSON.stringify(subject.toBody()));
  }
  for (const view of views) {
    for (const n of needles) {
      assert.ok(!view.includes(n), `leaked ${JSON.stringify(n)} in: ${view}`);
    }
  }
}

export async function expectApiError(p: Promise<unknown>, code: ErrorCode): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${e}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected ApiError ${code}, but the call succeeded`);
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
  what = "condition",
) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function waitIdle(c: RemoteRuntimeClient, id: string): Promise<WorkerDetail> {
  let d!: WorkerDetail;
  await waitFor(async () => (d = await c.getWorker(id)).status === "idle", 10_000, "idle");
  return d;
}

/**
 * A FAKE remote: a Deno.serve on 127.0.0.1:0 with the given handler. Its answers name
 * runtime `id` in `Yoi-Runtime-Id` (null: no header, like a server that is no runtime).
 */
export function fakeServer(
  handler: Deno.ServeHandler<Deno.NetAddr>,
  id: string | null = "test",
) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req, info) => {
      const res = await handler(req, info);
      if (id !== null && res.status !== 101) res.headers.set("yoi-runtime-id", id);
      return res;
    },
  );
  return { server, url: `http://127.0.0.1:${server.addr.port}` };
}

/** The frame a runtime's event stream opens with. */
export function openedFrame(runtimeId: string, workerId: string, after: number): string {
  return JSON.stringify({
    type: "stream.opened",
    runtime_id: runtimeId,
    worker_id: workerId,
    after,
  });
}

export function fakeDetail(workerId: string): WorkerDetail {
  const now = new Date().toISOString();
  return {
    runtime_id: "fake",
    worker_id: workerId,
    display_name: "fake worker",
    profile: "echo",
    status: "idle",
    created_at: now,
    updated_at: now,
    last_seq: 0,
    turn_count: 0,
    last_turn_outcome: null,
  };
}

export function fakeEvent(workerId: string, seq: number): WorkerEvent {
  return {
    seq,
    worker_id: workerId,
    at: new Date().toISOString(),
    type: "output.delta",
    data: { text: String(seq) },
  };
}
