/**
 * A clock for relative times: the server's render time until hydrated (so the markup matches),
 * then the browser's, ticking every second while a countdown is shown, else every 15 s.
 * @module
 */
import { useEffect, useState } from "preact/hooks";

/** `now` in ms and whether it is the browser's own (`local`) rather than the server's. */
export function useClock(serverNow: number, fast: boolean): { now: number; local: boolean } {
  const [now, setNow] = useState(serverNow);
  const [local, setLocal] = useState(false);
  useEffect(() => {
    setLocal(true);
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), fast ? 1000 : 15_000);
    return () => clearInterval(t);
  }, [fast]);
  return { now, local };
}
