/**
 * Shared upstream event streams (issue 15): one upstream subscription per
 * (runtime, worker), however many browsers follow that worker. The upstream
 * is opened by the first subscriber, kept while any subscriber stays and
 * closed a short linger after the last one left.
 *
 * The shared stream starts at the worker's head (its last published seq), or
 * at the first subscribers' `after` when that is only a few events behind. A
 * subscriber whose `after` is behind the shared stream first catches up on its
 * own — pages of the transcript, sent paced by its own socket — and then joins
 * the live frames from the seq it reached, with no gap and no duplicate (every
 * subscriber gets each seq once, in order, whatever joined when). Live frames
 * go to every subscriber as the same text (parsed once upstream, never
 * re-serialised per subscriber); a subscriber more than the high-water mark
 * behind is dropped with `stream.closed {code: "stream_lagging", after}` and
 * resumes by seq, so one slow browser never slows the others.
 *
 * Upstream control frames reach every subscriber: `stream.reconnecting` /
 * `stream.resumed` (paired per subscriber), `stream.error`, and the terminal
 * `stream.ended` / `stream.closed`, which end every subscriber of the stream.
 * @module
 */
import { ApiError, type ControlFrame, type WorkerEvent } from "../../shared/mod.ts";
import { DEFAULT_HIGH_WATER, offer, type Outlet, sendPaced } from "../../shared/backpressure.ts";
import { abortableSleep as sleep } from "../../shared/abortable_sleep.ts";
import type { RelayFrame } from "./remote_events.ts";

export type { RelayFrame } from "./remote_events.ts";

/** Where a fan-out reads from: a handle's live follower and its transcript. */
export interface FanoutSource {
  /** The worker's last published seq: where a new shared stream starts. */
  head(workerId: string, signal: AbortSignal): Promise<number>;
  /**
   * The worker's frames after `after`, live, until `signal` aborts. It reconnects on its own
   * and ends with a terminal `stream.ended` / `stream.closed` frame (or returns on abort).
   */
  follow(workerId: string, after: number, signal: AbortSignal): AsyncIterable<RelayFrame>;
  /** Persisted events with `seq > after`, at most `limit`: a late subscriber's catch-up. */
  replay(workerId: string, after: number, limit: number): Promise<WorkerEvent[]>;
}

/** A browser's socket as the fan-out uses it (a server-side WebSocket fits). */
export interface EventSink extends Outlet {
  close(code?: number, reason?: string): void;
}

export interface FanoutOptions {
  /** How long an upstream with no subscriber is kept for one that comes back, ms (default 2000). */
  lingerMs?: number;
  /** Bytes buffered towards one browser before it is dropped as lagging (default 1 MiB). */
  highWater?: number;
  /** Pauses between failed catch-up reads, ms; the last value repeats. */
  retryMs?: readonly number[];
  /** Events per catch-up read (default 1000). */
  replayPage?: number;
}

/** How a subscription ended. */
export type SubscriptionEnd = "left" | "lagging" | "ended";

/** WS close code for a stream the Backend ends for a typed reason (as the runtime does). */
export const WS_CLOSE_TYPED = 4000;
const DEFAULT_LINGER_MS = 2000;
const DEFAULT_RETRY_MS: readonly number[] = [100, 200, 400, 800, 1600, 3200];
/** Empty catch-up reads in a row (while behind the live stream) before a subscriber gives up. */
const MAX_EMPTY_READS = 3;
/** Catch-up errors that no retry can fix: the subscriber's stream ends with them. */
const TERMINAL_REPLAY = new Set([
  "worker_not_found",
  "invalid_id",
  "remote_runtime_unsupported",
  "unsupported_operation",
]);

interface Subscriber {
  readonly sink: EventSink;
  /** Last seq sent to this subscriber (or its `after`). */
  cursor: number;
  /** A `stream.reconnecting` went out and no `stream.resumed` yet. */
  reconnecting: boolean;
  live: boolean;
  gone: boolean;
  readonly signal: AbortSignal;
  finish(end: SubscriptionEnd): void;
}

interface Shared {
  readonly workerId: string;
  /** Last seq the upstream delivered; -1 until the head is known. */
  lastSeq: number;
  /** The upstream said `stream.reconnecting` and not yet `stream.resumed`. */
  upstreamDown: boolean;
  readonly subs: Set<Subscriber>;
  readonly ac: AbortController;
  linger: ReturnType<typeof setTimeout> | undefined;
  ended: boolean;
}

/** The shared event streams of one runtime handle. */
export class EventFanout {
  readonly #source: FanoutSource;
  readonly #lingerMs: number;
  readonly #highWater: number;
  readonly #retryMs: readonly number[];
  readonly #page: number;
  readonly #streams = new Map<string, Shared>();

  constructor(source: FanoutSource, opts: FanoutOptions = {}) {
    this.#source = source;
    this.#lingerMs = opts.lingerMs ?? DEFAULT_LINGER_MS;
    this.#highWater = opts.highWater ?? DEFAULT_HIGH_WATER;
    this.#retryMs = opts.retryMs?.length ? opts.retryMs : DEFAULT_RETRY_MS;
    this.#page = opts.replayPage ?? 1000;
  }

  /** Upstream subscriptions open now (one per followed worker, lingering ones included). */
  get upstreams(): number {
    return this.#streams.size;
  }

  /** Subscribers of `workerId`'s shared stream now. */
  subscribers(workerId: string): number {
    return this.#streams.get(workerId)?.subs.size ?? 0;
  }

  /**
   * Feeds `sink` the worker's events with `seq > after`, then live, until `signal` aborts
   * (the browser left), the sink falls too far behind (`lagging`) or the stream ends. The
   * sink must be open. Resolves with how it ended; the fan-out has closed the sink unless
   * the subscriber left.
   */
  subscribe(
    workerId: string,
    after: number,
    sink: EventSink,
    signal: AbortSignal,
  ): Promise<SubscriptionEnd> {
    if (signal.aborted) return Promise.resolve("left");
    let s = this.#streams.get(workerId);
    if (s === undefined || s.ended) s = this.#open(workerId);
    clearTimeout(s.linger);
    s.linger = undefined;
    const shared = s;
    return new Promise<SubscriptionEnd>((resolve) => {
      const sub: Subscriber = {
        sink,
        cursor: after,
        reconnecting: false,
        live: false,
        gone: false,
        signal,
        finish: (end) => {
          if (sub.gone) return;
          sub.gone = true;
          signal.removeEventListener("abort", onAbort);
          this.#remove(shared, sub);
          resolve(end);
        },
      };
      const onAbort = () => sub.finish("left");
      signal.addEventListener("abort", onAbort, { once: true });
      shared.subs.add(sub);
      // While the head is unknown the subscriber waits; #start places it.
      if (shared.lastSeq >= 0) this.#place(shared, sub);
    });
  }

  #open(workerId: string): Shared {
    const s: Shared = {
      workerId,
      lastSeq: -1,
      upstreamDown: false,
      subs: new Set(),
      ac: new AbortController(),
      linger: undefined,
      ended: false,
    };
    this.#streams.set(workerId, s);
    this.#run(s).catch(() => {});
    return s;
  }

  async #run(s: Shared): Promise<void> {
    let terminal: RelayFrame | null = null;
    try {
      const start = await this.#start(s);
      if (s.ac.signal.aborted) return;
      s.lastSeq = start;
      for (const sub of [...s.subs]) this.#place(s, sub);
      for await (const f of this.#source.follow(s.workerId, start, s.ac.signal)) {
        if (f.seq !== null) {
          if (f.seq <= s.lastSeq) continue;
          s.lastSeq = f.seq;
          for (const sub of s.subs) if (sub.live && f.seq > sub.cursor) this.#push(sub, f);
          continue;
        }
        const type = f.frame.type;
        if (type === "stream.ended" || type === "stream.closed") {
          terminal = f;
          break;
        }
        if (type === "stream.reconnecting") s.upstreamDown = true;
        if (type === "stream.resumed") s.upstreamDown = false;
        for (const sub of [...s.subs]) if (sub.live) this.#control(sub, f);
      }
    } finally {
      this.#stop(s);
      for (const sub of [...s.subs]) {
        if (terminal) this.#end(sub, terminal);
        else {
          // The upstream returned without a word (it was stopped): nothing to resume from here.
          closeSink(sub.sink, 1011, "upstream ended");
          sub.finish("ended");
        }
      }
    }
  }

  /**
   * Where the upstream starts: at the first subscribers' `after` when that is at most one
   * catch-up page behind the worker's head (the upstream replays those few for them), else at
   * the head, so a long backlog is read paced per subscriber instead of pushed to everyone.
   */
  async #start(s: Shared): Promise<number> {
    let head: number | null = null;
    try {
      head = await this.#source.head(s.workerId, s.ac.signal);
    } catch { /* not known now: the upstream replays for the subscribers */ }
    const behind = Math.min(...[...s.subs].map((x) => x.cursor));
    if (head === null) return Number.isFinite(behind) ? behind : 0;
    if (!Number.isFinite(behind)) return head;
    return behind >= head - this.#page ? Math.min(behind, head) : head;
  }

  /** Sends a joining subscriber live, or lets it catch up first. */
  #place(s: Shared, sub: Subscriber): void {
    if (sub.gone) return;
    if (sub.cursor >= s.lastSeq) this.#goLive(s, sub);
    else this.#catchUp(s, sub).catch(() => sub.finish("left"));
  }

  /** Joins the live frames; the reconnecting state is brought in line with the upstream's. */
  #goLive(s: Shared, sub: Subscriber): void {
    sub.live = true;
    if (s.upstreamDown && !sub.reconnecting) {
      this.#control(sub, control({ type: "stream.reconnecting" }));
    } else if (!s.upstreamDown && sub.reconnecting) {
      this.#control(sub, control({ type: "stream.resumed", after: sub.cursor }));
    }
  }

  /**
   * A late subscriber's own replay: transcript pages from its cursor, each event sent paced
   * by its own socket, until it reached the live stream; then it goes live without awaiting
   * in between, so every later live frame has a higher seq than what it was sent.
   */
  async #catchUp(s: Shared, sub: Subscriber): Promise<void> {
    let failures = 0;
    let empty = 0;
    while (!sub.gone && !s.ended) {
      if (sub.cursor >= s.lastSeq) return this.#goLive(s, sub);
      let page: WorkerEvent[];
      try {
        page = await this.#source.replay(s.workerId, sub.cursor, this.#page);
      } catch (e) {
        if (sub.gone || s.ended) return;
        if (e instanceof ApiError && TERMINAL_REPLAY.has(e.code)) {
          return this.#end(
            sub,
            control({
              type: "stream.closed",
              code: e.code,
              message: e.message,
            }),
          );
        }
        if (!sub.reconnecting) this.#control(sub, control({ type: "stream.reconnecting" }));
        await sleep(this.#retryMs[Math.min(failures++, this.#retryMs.length - 1)], sub.signal);
        continue;
      }
      failures = 0;
      if (sub.gone || s.ended) return;
      if (sub.reconnecting && !s.upstreamDown) {
        this.#control(sub, control({ type: "stream.resumed", after: sub.cursor }));
      }
      let sent = 0;
      for (const e of page) {
        if (e.seq <= sub.cursor) continue;
        if (!(await sendPaced(sub.sink, JSON.stringify(e), this.#highWater, sub.signal))) {
          return sub.finish("left");
        }
        if (sub.gone) return;
        sub.cursor = e.seq;
        sent++;
      }
      if (sent > 0) empty = 0;
      else if (sub.cursor < s.lastSeq && ++empty >= MAX_EMPTY_READS) {
        // The runtime streamed seqs its transcript does not have: never paper over a gap.
        return this.#end(
          sub,
          control({
            type: "stream.closed",
            code: "remote_runtime_malformed_response",
            message: `The transcript ends at seq ${sub.cursor} but the stream is at ${s.lastSeq}.`,
          }),
        );
      } else if (sent === 0) await sleep(this.#retryMs[0], sub.signal);
    }
  }

  /** One live event to one subscriber; past the high-water mark it is dropped as lagging. */
  #push(sub: Subscriber, f: RelayFrame): void {
    const r = offer(sub.sink, f.text, this.#highWater);
    if (r === "sent") {
      sub.cursor = f.seq!;
      return;
    }
    if (r === "closed") return sub.finish("left");
    // Too slow for a shared stream: tell it where to resume and let it go (DESIGN §4, §11).
    const after = sub.cursor;
    trySend(
      sub.sink,
      JSON.stringify({
        type: "stream.closed",
        code: "stream_lagging",
        message: `This browser fell more than ${this.#highWater} bytes behind the stream; ` +
          `resume with after=${after}.`,
        after,
      }),
    );
    closeSink(sub.sink, WS_CLOSE_TYPED, "stream_lagging");
    sub.finish("lagging");
  }

  /** A non-terminal control frame, `after` set to what this subscriber was sent. */
  #control(sub: Subscriber, f: RelayFrame): void {
    const c = f.frame as ControlFrame;
    if (c.type === "stream.reconnecting") {
      if (sub.reconnecting) return;
      sub.reconnecting = true;
    } else if (c.type === "stream.resumed") {
      if (!sub.reconnecting) return;
      sub.reconnecting = false;
    }
    trySend(sub.sink, textFor(f, sub.cursor));
  }

  /** A terminal frame: sent, then the sink is closed (1001 when the Backend is stopping). */
  #end(sub: Subscriber, f: RelayFrame): void {
    const c = f.frame as ControlFrame;
    trySend(sub.sink, textFor(f, sub.cursor));
    const shutdown = c.type === "stream.ended" && c.reason === "shutdown";
    closeSink(sub.sink, shutdown ? 1001 : 1000, shutdown ? "shutdown" : "stream ended");
    sub.finish("ended");
  }

  #remove(s: Shared, sub: Subscriber): void {
    s.subs.delete(sub);
    if (s.subs.size > 0 || s.ended || s.linger !== undefined) return;
    s.linger = setTimeout(() => {
      s.linger = undefined;
      if (s.subs.size === 0) this.#stop(s);
    }, this.#lingerMs);
    Deno.unrefTimer(s.linger);
  }

  #stop(s: Shared): void {
    s.ended = true;
    clearTimeout(s.linger);
    s.linger = undefined;
    s.ac.abort();
    if (this.#streams.get(s.workerId) === s) this.#streams.delete(s.workerId);
  }
}

function control(frame: ControlFrame): RelayFrame {
  return { seq: null, text: JSON.stringify(frame), frame };
}

/** The frame's text, with `after` rewritten to `cursor` when the frame carries another one. */
function textFor(f: RelayFrame, cursor: number): string {
  const c = f.frame as ControlFrame;
  if (c.after === undefined || c.after === cursor) return f.text;
  return JSON.stringify({ ...c, after: cursor });
}

function trySend(sink: EventSink, text: string): void {
  if (sink.readyState !== 1) return;
  try {
    sink.send(text);
  } catch { /* closed meanwhile */ }
}

function closeSink(sink: EventSink, code: number, reason: string): void {
  if (sink.readyState !== 0 && sink.readyState !== 1) return;
  try {
    sink.close(code, reason);
  } catch { /* already closing */ }
}
