/**
 * Browser side of `GET /api/live` (DESIGN §6), zod-free so islands can ship it:
 * one WebSocket per tab shared by every island (a module singleton, and the
 * islands share one chunk), topics subscribed on demand, reconnect with
 * backoff, and a fresh snapshot after every reconnect (the subscriptions are
 * sent again, and the Backend answers each with a snapshot). Frames are
 * handed to listeners as they arrive; nothing is queued, so nothing grows
 * while the socket is down.
 * @module
 */
import type { Diagnostic } from "./error_codes.ts";
import type { WorkerSummary } from "./runtime_dto.ts";
import { apiPath } from "./routes/backend_paths.ts";

/** The topics `/api/live` serves. */
export type LiveTopic = "workers" | "runtimes";

/** A `workers` topic frame. */
export type WorkersFrame =
  | { topic: "workers"; type: "snapshot"; workers: WorkerSummary[]; diagnostics: Diagnostic[] }
  | { topic: "workers"; type: "upsert"; worker: WorkerSummary }
  | { topic: "workers"; type: "remove"; runtime_id: string; worker_id: string }
  | { topic: "workers"; type: "diagnostics"; diagnostics: Diagnostic[] };

/** Whether the socket is up; listeners show "live" or "reconnecting". */
export type LiveState = "connecting" | "live" | "down";

type Listener = (frame: Record<string, unknown>) => void;

/** Waits between reconnect attempts, ms; the last repeats. */
export const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];

/** One live socket with its subscribers; use {@link liveClient} for the tab's shared one. */
export class LiveClient {
  readonly #url: string;
  readonly #listeners = new Map<LiveTopic, Set<Listener>>();
  readonly #stateListeners = new Set<(s: LiveState) => void>();
  #ws: WebSocket | null = null;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  state: LiveState = "connecting";

  constructor(url: string) {
    this.#url = url;
  }

  /** Listens to a topic (connecting if needed); returns the unsubscribe function. */
  subscribe(topic: LiveTopic, fn: Listener): () => void {
    let set = this.#listeners.get(topic);
    const first = !set;
    if (!set) this.#listeners.set(topic, set = new Set());
    set.add(fn);
    if (!this.#ws) this.#connect();
    else if (first && this.#ws.readyState === WebSocket.OPEN) this.#send(topic);
    return () => void set.delete(fn);
  }

  /** Follows the socket's state; called at once with the current one. */
  onState(fn: (s: LiveState) => void): () => void {
    this.#stateListeners.add(fn);
    fn(this.state);
    return () => void this.#stateListeners.delete(fn);
  }

  #setState(s: LiveState) {
    this.state = s;
    for (const fn of this.#stateListeners) fn(s);
  }

  #send(topic: LiveTopic) {
    this.#ws?.send(JSON.stringify({ op: "subscribe", topic }));
  }

  #connect() {
    clearTimeout(this.#timer);
    const ws = new WebSocket(this.#url);
    this.#ws = ws;
    ws.onopen = () => {
      this.#attempt = 0;
      for (const topic of this.#listeners.keys()) this.#send(topic);
      this.#setState("live");
    };
    ws.onmessage = (e) => {
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(String(e.data));
      } catch {
        return;
      }
      const set = this.#listeners.get(frame.topic as LiveTopic);
      if (set) { for (const fn of set) fn(frame); }
    };
    ws.onclose = () => {
      if (this.#ws !== ws) return;
      this.#setState("down");
      const wait = BACKOFF_MS[Math.min(this.#attempt++, BACKOFF_MS.length - 1)];
      this.#timer = setTimeout(() => this.#connect(), wait * (0.75 + Math.random() / 2));
    };
  }
}

let shared: LiveClient | null = null;

/** The tab's one live socket (DESIGN §6: one WebSocket per tab). */
export function liveClient(): LiveClient {
  return shared ??= new LiveClient(
    `${location.origin.replace(/^http/, "ws")}${apiPath("live.connect")}`,
  );
}

/** Keyed list of workers kept current from `workers` frames. */
export function applyWorkersFrame(
  list: WorkerSummary[],
  frame: WorkersFrame,
): WorkerSummary[] {
  const same = (w: WorkerSummary, r: string, id: string) =>
    w.runtime_id === r && w.worker_id === id;
  switch (frame.type) {
    case "snapshot":
      return frame.workers;
    case "upsert": {
      const w = frame.worker;
      const i = list.findIndex((x) => same(x, w.runtime_id, w.worker_id));
      return i < 0 ? [...list, w] : list.with(i, w);
    }
    case "remove":
      return list.filter((x) => !same(x, frame.runtime_id, frame.worker_id));
    default:
      return list;
  }
}
