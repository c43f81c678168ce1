/**
 * A browser-side WebSocket for tests: records every frame a Backend event
 * stream sends and waits (bounded) for conditions on them.
 * @module
 */
import assert from "node:assert/strict";
import { type WorkerEvent, WorkerEventSchema } from "../../shared/mod.ts";
import { sleep } from "./wait.ts";

const DEADLINE_MS = 30_000;

export type Frame = Record<string, unknown>;

/** A browser-side WebSocket that records every frame it receives. */
export class EventSocket {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly opened: Promise<boolean>;
  readonly closed: Promise<CloseEvent>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve) => {
      this.ws.addEventListener("open", () => resolve(true));
      this.ws.addEventListener("close", () => resolve(false));
    });
    this.closed = new Promise((resolve) => this.ws.addEventListener("close", resolve));
    this.ws.addEventListener("message", (ev) => {
      assert.equal(typeof ev.data, "string", "frames are text");
      this.frames.push(JSON.parse(ev.data as string));
    });
  }

  events(): WorkerEvent[] {
    return this.frames.filter((f) => "seq" in f).map((f) => WorkerEventSchema.parse(f));
  }

  controls(): string[] {
    return this.frames.filter((f) => !("seq" in f)).map((f) => String(f.type));
  }

  /** Waits until `pred` holds for the frames received so far. */
  async waitFor(what: string, pred: (s: EventSocket) => boolean): Promise<void> {
    const end = Date.now() + DEADLINE_MS;
    while (!pred(this)) {
      if (Date.now() > end) {
        throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames)}`);
      }
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      this.ws.close();
    }
    await this.closed;
  }

  async [Symbol.asyncDispose]() {
    await this.close();
  }
}
