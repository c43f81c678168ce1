/**
 * A pause that ends early when `signal` aborts (and at once when it already has), so no
 * cancelled turn or closed stream waits out a backoff. Resolves, never rejects.
 * @module
 */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
