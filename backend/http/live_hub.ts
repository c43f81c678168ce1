/**
 * `GET /api/live` (DESIGN §6): one WebSocket per browser tab for live lists.
 * A tab sends `{"op":"subscribe","topic":"workers"|"runtimes"}` and gets a
 * `snapshot`, then `upsert` / `remove` frames as things appear, change or go.
 *
 * The hub, not the tab, watches the registry: runtime entries follow the
 * registry's change notifications (health, edits, hand edits); worker lists
 * are read once per tick for all tabs together (one fan-out per tick, not one
 * per tab) and only while a tab listens, and sooner — after a short coalescing
 * pause — when a worker changes through this Backend or a remote runtime's list
 * feed reports a change. Bursts are coalesced into one diff.
 * @module
 */
import type { RuntimeEntry, WorkerSummary } from "../../shared/mod.ts";
import { type RuntimeRegistry } from "../registry/mod.ts";
import { offer } from "../../shared/backpressure.ts";

export type LiveTopic = "workers" | "runtimes";

export interface LiveHubOptions {
  /** How often worker lists are read while a tab listens, ms (default 1000). */
  workersIntervalMs?: number;
  /** Pause after a registry change before runtime entries are re-read, ms (default 100). */
  coalesceMs?: number;
  /** Most tabs at once; later upgrades are closed with 1013 (default 256). */
  maxSockets?: number;
  /** Bytes buffered towards one tab before it is closed as too slow (default 4 MiB). */
  maxBuffered?: number;
}

interface Tab {
  socket: WebSocket;
  topics: Set<LiveTopic>;
}

const key = (w: { runtime_id: string; worker_id: string }) => `${w.runtime_id}/${w.worker_id}`;

/** The live lists of one Backend; owns its timers and sockets. */
export class LiveHub {
  readonly #registry: RuntimeRegistry;
  readonly #opts: Required<LiveHubOptions>;
  readonly #tabs = new Set<Tab>();
  #workers = new Map<string, string>(); // key → JSON of the last sent summary
  #runtimes = new Map<string, string>(); // runtime_id → JSON of the last sent entry
  #workersTimer: ReturnType<typeof setTimeout> | undefined;
  #runtimesTimer: ReturnType<typeof setTimeout> | undefined;
  #unsubscribe: () => void;
  #closed = false;

  constructor(registry: RuntimeRegistry, opts: LiveHubOptions = {}) {
    this.#registry = registry;
    this.#opts = {
      workersIntervalMs: opts.workersIntervalMs ?? 1000,
      coalesceMs: opts.coalesceMs ?? 100,
      maxSockets: opts.maxSockets ?? 256,
      maxBuffered: opts.maxBuffered ?? 4 << 20,
    };
    const offRuntimes = registry.onChange(() => this.#scheduleRuntimes());
    // A remote runtime's list feed saw its workers change (made there, or a turn ended).
    const offWorkers = registry.onWorkersChange(() => this.nudgeWorkers());
    this.#unsubscribe = () => {
      offRuntimes();
      offWorkers();
    };
  }

  /** Upgrades `req` into a live socket of this hub. */
  accept(req: Request): Response {
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 30 });
    if (this.#closed || this.#tabs.size >= this.#opts.maxSockets) {
      socket.addEventListener("open", () => socket.close(1013, "too many live sockets"));
      return response;
    }
    const tab: Tab = { socket, topics: new Set() };
    this.#tabs.add(tab);
    socket.addEventListener("close", () => this.#tabs.delete(tab));
    socket.addEventListener("message", (ev) => {
      this.#onMessage(tab, ev.data).catch(() => socket.close(1011, "internal_error"));
    });
    return response;
  }

  get size(): number {
    return this.#tabs.size;
  }

  async #onMessage(tab: Tab, data: unknown): Promise<void> {
    let msg: { op?: unknown; topic?: unknown } | null = null;
    try {
      msg = typeof data === "string" ? JSON.parse(data) : null;
    } catch { /* answered below */ }
    const topic = msg?.topic;
    if (msg?.op !== "subscribe" || (topic !== "workers" && topic !== "runtimes")) {
      this.#send(tab, {
        type: "error",
        code: "invalid_request",
        message: 'Send {"op":"subscribe","topic":"workers"} or the topic "runtimes".',
      });
      return;
    }
    if (tab.topics.has(topic)) return;
    tab.topics.add(topic);
    // The snapshot's reading is also the tabs' shared baseline: what changed since the last
    // reading goes to the tabs already listening first, or they would never hear of it.
    if (topic === "runtimes") {
      const { runtimes, diagnostics } = await this.#registry.listRuntimes();
      this.#broadcast(topic, this.#diffRuntimes(runtimes), tab);
      this.#send(tab, { topic, type: "snapshot", runtimes, diagnostics });
    } else {
      const listing = await this.#registry.listWorkers();
      this.#broadcast(topic, this.#diffWorkers(listing), tab);
      const { workers, diagnostics } = listing;
      this.#send(tab, { topic, type: "snapshot", workers, diagnostics });
      this.#scheduleWorkers();
    }
  }

  #listening(topic: LiveTopic): Tab[] {
    return [...this.#tabs].filter((t) => t.topics.has(topic));
  }

  #send(tab: Tab, frame: unknown): void {
    this.#sendText(tab, JSON.stringify(frame));
  }

  /** Push policy of the one backpressure loop: a tab too far behind is closed, not waited for. */
  #sendText(tab: Tab, text: string): void {
    if (offer(tab.socket, text, this.#opts.maxBuffered) === "full") {
      tab.socket.close(1013, "too slow"); // it reconnects and gets a fresh snapshot
    }
  }

  /** Sends `frames` to every tab listening to `topic` except `but` (it gets a snapshot). */
  #broadcast(topic: LiveTopic, frames: unknown[], but?: Tab): void {
    if (frames.length === 0) return;
    const texts = frames.map((f) => JSON.stringify(f)); // once per frame, not per tab
    for (const tab of this.#listening(topic)) {
      if (tab !== but) { for (const t of texts) this.#sendText(tab, t); }
    }
  }

  /** `texts[i]` is `workers[i]` as JSON (kept by the registry's handles, not serialised here). */
  #rememberWorkers(workers: WorkerSummary[], texts: string[]) {
    this.#workers = new Map(workers.map((w, i) => [key(w), texts[i]]));
  }

  /**
   * A worker was changed through this Backend: tabs hear of it after the coalescing pause, not
   * at the next tick (a stop in one window shows in the others at once).
   */
  nudgeWorkers(): void {
    if (this.#closed || this.#listening("workers").length === 0) return;
    clearTimeout(this.#workersTimer);
    this.#workersTimer = undefined;
    this.#scheduleWorkers(this.#opts.coalesceMs);
  }

  #scheduleWorkers(delayMs = this.#opts.workersIntervalMs) {
    if (this.#closed || this.#workersTimer !== undefined) return;
    this.#workersTimer = setTimeout(async () => {
      this.#workersTimer = undefined;
      if (this.#listening("workers").length === 0) return; // nobody listens: stop reading
      try {
        this.#broadcast("workers", this.#diffWorkers(await this.#registry.listWorkers()));
      } finally {
        this.#scheduleWorkers();
      }
    }, delayMs);
  }

  /** The frames that take the tabs from the last reading to `listing`, which becomes the new one. */
  #diffWorkers(
    { workers, diagnostics, texts }: {
      workers: WorkerSummary[];
      diagnostics: unknown[];
      texts: string[];
    },
  ): unknown[] {
    const frames: unknown[] = [];
    const seen = new Set<string>();
    for (const [i, w] of workers.entries()) {
      const k = key(w);
      seen.add(k);
      if (this.#workers.get(k) !== texts[i]) {
        frames.push({ topic: "workers", type: "upsert", worker: w });
      }
    }
    for (const k of this.#workers.keys()) {
      if (seen.has(k)) continue;
      const [runtime_id, worker_id] = k.split("/");
      frames.push({ topic: "workers", type: "remove", runtime_id, worker_id });
    }
    this.#rememberWorkers(workers, texts);
    if (frames.length) frames.push({ topic: "workers", type: "diagnostics", diagnostics });
    return frames;
  }

  #scheduleRuntimes() {
    if (this.#closed || this.#runtimesTimer !== undefined) return;
    if (this.#listening("runtimes").length === 0) return;
    this.#runtimesTimer = setTimeout(async () => {
      this.#runtimesTimer = undefined;
      const { runtimes } = await this.#registry.listRuntimes();
      this.#broadcast("runtimes", this.#diffRuntimes(runtimes));
    }, this.#opts.coalesceMs);
  }

  #diffRuntimes(runtimes: RuntimeEntry[]): unknown[] {
    const frames: unknown[] = [];
    const seen = new Set<string>();
    for (const r of runtimes) {
      seen.add(r.runtime_id);
      const json = JSON.stringify(r);
      if (this.#runtimes.get(r.runtime_id) !== json) {
        frames.push({ topic: "runtimes", type: "upsert", runtime: r });
        this.#runtimes.set(r.runtime_id, json);
      }
    }
    for (const id of [...this.#runtimes.keys()]) {
      if (seen.has(id)) continue;
      this.#runtimes.delete(id);
      frames.push({ topic: "runtimes", type: "remove", runtime_id: id });
    }
    return frames;
  }

  /** Ends every live socket (the Backend is stopping) and stops the timers. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    clearTimeout(this.#workersTimer);
    clearTimeout(this.#runtimesTimer);
    for (const tab of this.#tabs) {
      if (tab.socket.readyState === WebSocket.OPEN) tab.socket.close(1001, "shutdown");
    }
    this.#tabs.clear();
  }
}
