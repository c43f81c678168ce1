/**
 * The reconnecting follower of a remote worker's event stream: one logical
 * stream to the browser across upstream drops, runtime restarts, endpoint
 * edits (a new client from the registry) and removal of the runtime.
 *
 * Every seq is yielded at most once and in increasing order. An upstream that
 * drops yields one `stream.reconnecting`, reconnects from the last yielded seq
 * with backoff and yields `stream.resumed` once connected again; an upstream
 * `stream.ended {reason: "shutdown"}` (a runtime stopping) is resumed the same
 * way, `stream_lagging` silently. A frame that cannot be used at all becomes a
 * `stream.error` and a reconnect from the last seq, never a silent gap.
 * @module
 */
import {
  type ControlFrame,
  ControlFrameSchema,
  ERROR_CODES,
  type ErrorCode,
  isControlFrame,
  type WorkerEvent,
} from "../../shared/mod.ts";
import type { RemoteRuntimeClient } from "./remote_client.ts";
import { abortableSleep as sleep } from "../../shared/abortable_sleep.ts";

/** What {@link followEvents} yields. */
export type StreamFrame = WorkerEvent | ControlFrame;

/** The client to connect with now, and a signal that fires when it is replaced or removed. */
export interface UpstreamLease {
  client: RemoteRuntimeClient;
  retired: AbortSignal;
}

/** Where a follower gets its client from; a registry handle swaps clients on edit. */
export interface UpstreamSource {
  readonly runtimeId: string;
  /**
   * The lease for the next connection attempt; a control frame when the stream must end
   * (the runtime was removed), or null when the runtime is not `ready` now (retry later).
   * Called before every reconnect, so a handle re-checks the runtime inline here.
   */
  acquire(signal: AbortSignal): Promise<UpstreamLease | ControlFrame | null>;
}

export interface FollowOptions {
  /** Aborting ends the stream: the socket is closed and the generator returns. */
  signal: AbortSignal;
  /** Pauses between reconnect attempts; the last value repeats. */
  backoffMs?: readonly number[];
  /** Reconnect attempts per outage before giving up (default: unlimited). */
  maxAttempts?: number;
  /** Messages buffered ahead of the consumer before the socket is dropped and resumed. */
  maxBufferedFrames?: number;
}

const DEFAULT_BACKOFF: readonly number[] = [100, 200, 400, 800, 1600, 3200];

type Outcome = "dropped" | "lagging" | "lagging_no_progress" | "swapped";

/** Follows `workerId`'s events after `after` through whatever client `source` lends. */
export async function* followEvents(
  source: UpstreamSource,
  workerId: string,
  after: number,
  opts: FollowOptions,
): AsyncGenerator<StreamFrame, void, undefined> {
  const { signal } = opts;
  const backoff = opts.backoffMs?.length ? opts.backoffMs : DEFAULT_BACKOFF;
  const maxAttempts = opts.maxAttempts ?? Infinity;
  const runtimeId = source.runtimeId;
  let lastSeq = after;
  let reconnecting = false; // a stream.reconnecting is out and no stream.resumed yet
  let attempt = 0; // reconnect attempts in the current outage

  while (!signal.aborted) {
    const lease = await source.acquire(signal);
    if (signal.aborted) return;
    let outcome: Outcome = "dropped";
    if (lease !== null && "type" in lease) {
      yield { ...lease, after: lastSeq };
      return;
    }
    if (lease !== null) {
      const { client, retired } = lease;
      const connSignal = AbortSignal.any([signal, retired]);
      // null: refused before connecting (target policy, a name that does not resolve): a
      // dropped connection, retried with backoff through the handle's own checks.
      const sock = await client.openSocket(workerId, lastSeq, connSignal, opts.maxBufferedFrames)
        .catch(() => null);
      if (sock !== null) {
        try {
          if (!(await sock.opened)) {
            if (signal.aborted) return;
            if (retired.aborted) {
              outcome = "swapped";
            } else {
              const terminal = await client.classifyFailedUpgrade(
                workerId,
                sock.upgradeStatus,
                signal,
              );
              if (signal.aborted) return;
              if (terminal) {
                yield terminal;
                return;
              }
            }
          } else {
            const first = await sock.next();
            const opened = first === null ? null : parseJson(first);
            const named = isOpenedFrame(opened) ? opened.runtime_id : null;
            if (first === null) {
              outcome = "dropped";
            } else if (named !== runtimeId) {
              // Another runtime behind the same endpoint: nothing it sends is forwarded.
              client.identityMismatch(named);
              outcome = "dropped";
            } else {
              attempt = 0;
              if (reconnecting) {
                reconnecting = false;
                yield { type: "stream.resumed", after: lastSeq };
              }
              const startSeq = lastSeq;
              let upstream: "lagging" | "resume" | "error" | null = null;
              for (let msg = await sock.next(); msg !== null; msg = await sock.next()) {
                const frame = parseFrame(msg, workerId);
                if (frame === null) {
                  yield {
                    type: "stream.error",
                    code: "remote_runtime_malformed_response",
                    message: `Runtime "${runtimeId}" sent an event frame that could not be read; ` +
                      `resuming from seq ${lastSeq}.`,
                    after: lastSeq,
                  };
                  upstream = "error";
                  break;
                }
                if ("seq" in frame) {
                  if (frame.seq <= lastSeq) continue; // already yielded: never a duplicate
                  lastSeq = frame.seq;
                  yield frame;
                  continue;
                }
                if (frame.type === "stream.ended") {
                  if (frame.reason === "shutdown") {
                    upstream = "resume"; // a runtime stopping: resume from the last seq
                    break;
                  }
                  yield { type: "stream.ended", reason: frame.reason, after: lastSeq };
                  return;
                }
                if (frame.type !== "stream.closed") continue; // other control frames are ours
                if (frame.code === "stream_lagging") {
                  upstream = "lagging";
                  break;
                }
                if (frame.code === "runtime_stopping") {
                  upstream = "resume";
                  break;
                }
                yield {
                  type: "stream.closed",
                  code: isKnownCode(frame.code) ? frame.code : "remote_runtime_error",
                  message: `Runtime "${runtimeId}" closed the event stream.`,
                  after: lastSeq,
                };
                return;
              }
              if (signal.aborted) return;
              if (retired.aborted) outcome = "swapped";
              else if (upstream === "lagging" || sock.overflowed) {
                outcome = lastSeq > startSeq ? "lagging" : "lagging_no_progress";
              } else outcome = "dropped";
            }
          }
        } finally {
          await sock.close();
        }
      }
    }

    if (outcome === "lagging") continue; // resume at once, silently
    if (outcome === "lagging_no_progress") {
      await sleep(backoff[0], signal);
      continue;
    }
    if (!reconnecting) {
      reconnecting = true;
      yield { type: "stream.reconnecting" };
    }
    if (outcome === "swapped") {
      attempt = 0; // a new client: connect to it at once
      continue;
    }
    if (attempt >= maxAttempts) {
      yield {
        type: "stream.closed",
        code: "remote_runtime_unavailable",
        message: `Lost the event stream of runtime "${runtimeId}"; gave up after ${attempt} ` +
          `reconnect attempts.`,
        after: lastSeq,
      };
      return;
    }
    await sleep(backoff[Math.min(attempt, backoff.length - 1)], signal);
    attempt++;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isOpenedFrame(v: unknown): v is { type: "stream.opened"; runtime_id: string | null } {
  return isControlFrame(v) && v.type === "stream.opened" &&
    typeof (v as { runtime_id?: unknown }).runtime_id === "string";
}

function isKnownCode(code: string | undefined): code is ErrorCode {
  return code !== undefined && Object.hasOwn(ERROR_CODES, code);
}

/**
 * One WS message as a control frame or an event of `workerId`; null when it cannot be used.
 * An event is forwarded when it has `seq`, `worker_id` and `type`, whatever its type: the
 * list of event types is open (DESIGN §4, §11). Another worker's event is unusable too.
 */
export function parseFrame(text: string, workerId: string): StreamFrame | null {
  const raw = parseJson(text);
  if (isControlFrame(raw)) {
    const r = ControlFrameSchema.safeParse(raw);
    return r.success ? r.data : null;
  }
  if (typeof raw !== "object" || raw === null) return null;
  const e = raw as Record<string, unknown>;
  if (
    !Number.isSafeInteger(e.seq) || (e.seq as number) < 1 || e.worker_id !== workerId ||
    typeof e.type !== "string" || e.type === "" || e.type.length > 100
  ) return null;
  return {
    seq: e.seq as number,
    worker_id: workerId,
    at: typeof e.at === "string" ? e.at : "",
    type: e.type,
    data: typeof e.data === "object" && e.data !== null && !Array.isArray(e.data)
      ? e.data as Record<string, unknown>
      : {},
  } as WorkerEvent;
}
