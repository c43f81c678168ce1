/**
 * A worker event subscription: replays the persisted log from `after`, then
 * follows live events, handing out every seq exactly once and in order.
 * @module
 */
import type { ErrorCode, WorkerEvent } from "../shared/mod.ts";

export interface SubscriptionOptions {
  /** Live events that may wait for the consumer before it is closed as lagging. */
  queueMax?: number;
}

/** Why a subscription ended, when the runtime ended it. */
export interface CloseReason {
  code: ErrorCode;
  message: string;
}

interface Init {
  after: number;
  queueMax: number;
  read: (after: number, limit: number) => Promise<WorkerEvent[]>;
  /** Highest seq already persisted and pushed to live subscribers. */
  publishedSeq: () => number;
  onClose: () => void;
}

const REPLAY_PAGE = 1000;

export class Subscription implements AsyncIterable<WorkerEvent> {
  #init: Init;
  /** Last seq handed to the consumer (or queued for it). */
  #cursor: number;
  #live = false;
  #queue: WorkerEvent[] = [];
  #wake: (() => void) | null = null;
  #closed = false;
  /** Set when the runtime closed the stream (lagging, shutdown). */
  closeReason: CloseReason | null = null;

  constructor(init: Init) {
    this.#init = init;
    this.#cursor = init.after;
  }

  /** Last seq this subscription has queued; a resume passes it as `after`. */
  get cursor(): number {
    return this.#cursor;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Called by the Runtime for each published event. */
  push(e: WorkerEvent): void {
    if (this.#closed || !this.#live || e.seq <= this.#cursor) return;
    if (this.#queue.length >= this.#init.queueMax) {
      this.close({
        code: "stream_lagging",
        message: `Consumer fell more than ${this.#init.queueMax} events behind; resume with after=${
          this.#queue[0].seq - 1
        }.`,
      });
      return;
    }
    this.#queue.push(e);
    this.#cursor = e.seq;
    this.#notify();
  }

  /** The next event, or null once closed. */
  async next(): Promise<WorkerEvent | null> {
    while (!this.#closed) {
      const e = this.#queue.shift();
      if (e) return e;
      if (!this.#live) {
        const page = await this.#init.read(this.#cursor, REPLAY_PAGE);
        if (this.#closed) break;
        for (const ev of page) {
          if (ev.seq > this.#cursor && ev.seq <= this.#init.publishedSeq()) {
            this.#queue.push(ev);
            this.#cursor = ev.seq;
          }
        }
        // Switch without awaiting in between: every later publish has a higher seq.
        if (this.#queue.length === 0 && this.#cursor >= this.#init.publishedSeq()) {
          this.#live = true;
        }
        continue;
      }
      await new Promise<void>((r) => this.#wake = r);
    }
    return null;
  }

  close(reason?: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    if (reason) this.closeReason = reason;
    this.#queue = [];
    this.#init.onClose();
    this.#notify();
  }

  #notify() {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WorkerEvent> {
    try {
      for (let e = await this.next(); e; e = await this.next()) yield e;
    } finally {
      this.close();
    }
  }
}
