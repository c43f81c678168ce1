/**
 * The one backpressure loop for WebSockets (issue 13): every place that sends
 * frames to a peer — the Runtime's event stream, the Backend's event proxy and
 * its `/api/live` hub — decides here what to do when the peer reads slower
 * than frames come. A WebSocket has no "drain" event, so the buffered amount
 * is polled.
 *
 * Two policies, one measure (`bufferedAmount` against a high-water mark):
 * - **pull** ({@link sendPaced}): the sender can wait (it reads from a log or a
 *   bounded queue), so it sends and then waits until the peer drained;
 * - **push** ({@link offer}): the sender feeds many peers from one stream and
 *   must never wait for one of them, so a peer past the mark is refused and
 *   the caller drops it (it resumes by `seq`).
 * @module
 */

/** The part of a WebSocket that backpressure looks at. */
export interface Outlet {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
}

/** Bytes buffered towards one peer before a sender waits (pull) or drops it (push). */
export const DEFAULT_HIGH_WATER = 1 << 20;

/** Poll interval while waiting for a peer to drain, ms. */
const POLL_MS = 5;
/** `WebSocket.OPEN`, without needing the global in every caller's environment. */
const OPEN = 1;

/** What {@link offer} did with a frame. */
export type Offered = "sent" | "full" | "closed";

/**
 * Push policy: sends `text` unless the outlet is closed or already holds more than
 * `highWater` bytes. A `"full"` outlet is too slow for a shared stream; the caller ends it.
 */
export function offer(outlet: Outlet, text: string, highWater: number): Offered {
  if (outlet.readyState !== OPEN) return "closed";
  if (outlet.bufferedAmount > highWater) return "full";
  try {
    outlet.send(text);
  } catch {
    return "closed"; // closed between the check and the send
  }
  return "sent";
}

/**
 * Resolves true once at most `highWater` bytes are buffered, false as soon as the outlet is
 * no longer open or `signal` aborts. Returns without a timer when nothing waits.
 */
export async function drained(
  outlet: Outlet,
  highWater: number,
  signal?: AbortSignal,
): Promise<boolean> {
  for (;;) {
    if (outlet.readyState !== OPEN || signal?.aborted) return false;
    if (outlet.bufferedAmount <= highWater) return true;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * Pull policy: sends `text`, then waits while more than `highWater` bytes are buffered.
 * Resolves false when the outlet is closed (before or while waiting), so the caller stops.
 */
export async function sendPaced(
  outlet: Outlet,
  text: string,
  highWater: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (outlet.readyState !== OPEN || signal?.aborted) return false;
  try {
    outlet.send(text);
  } catch {
    return false;
  }
  if (outlet.bufferedAmount <= highWater) return true;
  return await drained(outlet, highWater, signal);
}
