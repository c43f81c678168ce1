/**
 * Watches the Backend's config file so that hand edits (or another Backend
 * on the same file) apply live (DESIGN §10). The file is small, so the
 * watcher reads it on a short interval and compares the text: no missed
 * events on rename-based writers, editors' swap files or network mounts, and
 * a write the Backend made itself is simply "no change" for the registry.
 * @module
 */

/** Default pause between reads of the config file, ms (changes apply within 2 s). */
export const CONFIG_POLL_MS = 500;

export class ConfigWatcher {
  readonly #path: string;
  readonly #onChange: (text: string | null) => void | Promise<void>;
  readonly #intervalMs: number;
  #last: string | null | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #running: Promise<void> = Promise.resolve();

  /**
   * `onChange` gets the new text (null when the file is gone) each time it differs from the
   * text last seen; `initial` is the text the caller already applied.
   */
  constructor(
    path: string,
    onChange: (text: string | null) => void | Promise<void>,
    opts: { intervalMs?: number; initial?: string | null } = {},
  ) {
    this.#path = path;
    this.#onChange = onChange;
    this.#intervalMs = opts.intervalMs ?? CONFIG_POLL_MS;
    this.#last = opts.initial;
  }

  start(): void {
    this.#schedule();
  }

  /** Reads the file now and applies a change; resolves when applied. */
  poll(): Promise<void> {
    this.#running = this.#running.then(() => this.#pollOnce()).catch(() => {});
    return this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule() {
    if (this.#closed) return;
    this.#timer = setTimeout(async () => {
      await this.poll();
      this.#schedule();
    }, this.#intervalMs);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  async #pollOnce(): Promise<void> {
    if (this.#closed) return;
    let text: string | null;
    try {
      text = await Deno.readTextFile(this.#path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) return; // unreadable now: try again later
      text = null;
    }
    if (text === this.#last) return;
    this.#last = text;
    await this.#onChange(text);
  }
}
