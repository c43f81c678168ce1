/**
 * "checked 12 s ago": relative times that stay truthful as the page sits
 * open (the caller passes the current time and re-renders), with the
 * absolute time on hover (title) and on keyboard focus (shown by CSS from
 * the title). Absolute times use the browser's locale and time zone once
 * `local` is true; the server renders UTC so that SSR is deterministic.
 * @module
 */
import { shortTime } from "./format.ts";

/** `iso` relative to `nowMs`: "just now", "12 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function relativeTime(iso: string, nowMs: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.floor((nowMs - t) / 1000);
  if (s < 1) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** The absolute time: in the browser's own time zone when `local`, else UTC. */
/** How absolute times read in the browser: date, time to the second, time zone. */
export const LOCAL_TIME: Intl.DateTimeFormatOptions = {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZoneName: "short",
};

export function absoluteTime(iso: string, local: boolean): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  if (!local) return shortTime(iso);
  return d.toLocaleString(undefined, LOCAL_TIME);
}

/** A focusable `<time>` with the relative text and the absolute time as its title. */
export function RelativeTime(props: { iso: string; now: number; local?: boolean }) {
  const abs = absoluteTime(props.iso, props.local ?? false);
  return (
    <time class="rel" dateTime={props.iso} title={abs} tabIndex={0}>
      {relativeTime(props.iso, props.now)}
    </time>
  );
}
