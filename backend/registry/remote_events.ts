/**
 * The reconnecting follower of a remote worker's event stream: one logical
 * stream across upstream drops, runtime restarts, endpoint edits (a new client
 * from the registry) and removal of the runtime. The Backend runs one per
 * followed worker and fans it out to every browser ({@link ./event_fanout.ts}).
 *
 * Every seq is yielded at most once and in increasing order. An upstream that
 * drops yields one `stream.reconnecting`, reconnects from the last yielded seq
 * with backoff and yields `stream.resumed` once connected again; an upstream
 * `stream.ended {reason: "shutdown"}` (a runtime stopping) is resumed the same
 * way, `stream_lagging` silently. A frame that cannot be used at all becomes a
 * `stream.error` and a reconnect from the last seq, never a silent gap.
 *
 * Each event is parsed once, checked (`seq`, `worker_id`, `type`) and passed on
 * as the text the runtime sent ({@link RelayFrame}), so a fan-out never
 * re-serialises it.
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

/** One frame as the follower passes it on: the text to forward and what it is. */
export interface RelayFrame {
  /** The event's seq; null for a control frame. */
  seq: number | null;
  /** The frame as a browser receives it: for an event, the text the runtime sent. */
  text: string;
  /** The parsed frame (an event as the runtime sent it, or a control frame). */
  frame: StreamFrame;
}

/** A control frame of the follower's own, with its text. */
function control(frame: ControlFrame): RelayFrame {
  return { seq: null, text: JSON.stringify(frame), frame };
}

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

/**
 * An {@link UpstreamSource} over a registry handle: `lease` gives the current client (it
 * throws while the runtime is not ready: retried later), `removed` names why the stream
 * ends once the runtime is taken out of service (`runtime_removed`, or `shutdown`).
 */
export function leasedSource(runtimeId: string, handle: {
  removed(): "runtime_removed" | "shutdown" | null;
  lease(): Promise<UpstreamLease>;
}): UpstreamSource {
  const ended = (): ControlFrame | null => {
    const reason = handle.removed();
    return reason === null ? null : { type: "stream.ended", reason };
  };
  return {
    runtimeId,
    acquire: async () => {
      const end = ended();
      if (end) return end;
      try {
        return await handle.lease();
      } catch {
        return ended();
      }
    },
  };
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
  for await (const r of followRelay(source, workerId, after, opts)) {
    yield r.seq === null ? r.frame : toEvent(r.frame as WorkerEvent);
  }
}

/** Like {@link followEvents}, but yields each frame with the text to forward. */
export async function* followRelay(
  source: UpstreamSource,
  workerId: string,
  after: number,
  opts: FollowOptions,
): AsyncGenerator<RelayFrame, void, undefined> {
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
      yield control({ ...lease, after: lastSeq });
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
                yield control(terminal);
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
                yield control({ type: "stream.resumed", after: lastSeq });
              }
              const startSeq = lastSeq;
              let upstream: "lagging" | "resume" | "error" | null = null;
              for (let msg = await sock.next(); msg !== null; msg = await sock.next()) {
                const relay = relayFrame(msg, workerId);
                if (relay === null) {
                  yield control({
                    type: "stream.error",
                    code: "remote_runtime_malformed_response",
                    message: `Runtime "${runtimeId}" sent an event frame that could not be read; ` +
                      `resuming from seq ${lastSeq}.`,
                    after: lastSeq,
                  });
                  upstream = "error";
                  break;
                }
                if (relay.seq !== null) {
                  if (relay.seq <= lastSeq) continue; // already yielded: never a duplicate
                  lastSeq = relay.seq;
                  yield relay;
                  continue;
                }
                const frame = relay.frame as ControlFrame;
                if (frame.type === "stream.ended") {
                  if (frame.reason === "shutdown") {
                    upstream = "resume"; // a runtime stopping: resume from the last seq
                    break;
                  }
                  yield control({ type: "stream.ended", reason: frame.reason, after: lastSeq });
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
                yield control({
                  type: "stream.closed",
                  code: isKnownCode(frame.code) ? frame.code : "remote_runtime_error",
                  message: `Runtime "${runtimeId}" closed the event stream.`,
                  after: lastSeq,
                });
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
      yield control({ type: "stream.reconnecting" });
    }
    if (outcome === "swapped") {
      attempt = 0; // a new client: connect to it at once
      continue;
    }
    if (attempt >= maxAttempts) {
      yield control({
        type: "stream.closed",
        code: "remote_runtime_unavailable",
        message: `Lost the event stream of runtime "${runtimeId}"; gave up after ${attempt} ` +
          `reconnect attempts.`,
        after: lastSeq,
      });
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
  const r = relayFrame(text, workerId);
  if (r === null) return null;
  return r.seq === null ? r.frame : toEvent(r.frame as WorkerEvent);
}

/**
 * One WS message checked once: a control frame, or an event of `workerId` kept as the text
 * the runtime sent. An event without a string `at` or an object `data` is passed on with
 * those filled in (its text rebuilt), so a browser always gets the `WorkerEvent` shape.
 */
export function relayFrame(text: string, workerId: string): RelayFrame | null {
  const raw = parseJson(text);
  if (isControlFrame(raw)) {
    const r = ControlFrameSchema.safeParse(raw);
    return r.success ? { seq: null, text, frame: r.data } : null;
  }
  if (typeof raw !== "object" || raw === null) return null;
  const e = raw as Record<string, unknown>;
  if (
    !Number.isSafeInteger(e.seq) || (e.seq as number) < 1 || e.worker_id !== workerId ||
    typeof e.type !== "string" || e.type === "" || e.type.length > 100
  ) return null;
  const seq = e.seq as number;
  if (typeof e.at === "string" && isRecord(e.data)) {
    return { seq, text, frame: e as unknown as WorkerEvent };
  }
  const event = toEvent(e as unknown as WorkerEvent);
  return { seq, text: JSON.stringify(event), frame: event };
}

/** The five fields of an event, defaults filled in (`at` "", `data` {}). */
function toEvent(e: WorkerEvent): WorkerEvent {
  return {
    seq: e.seq,
    worker_id: e.worker_id,
    at: typeof e.at === "string" ? e.at : "",
    type: e.type,
    data: isRecord(e.data) ? e.data : {},
  } as WorkerEvent;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
