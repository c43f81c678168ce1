/**
 * What the console's status line and "unreachable" banner say: the connection states of the
 * event stream and their sentences. Pure, so the wording is tested without a browser.
 * @module
 */

/** Connection state shown in the status line. */
export type Conn =
  | { state: "connecting" }
  | { state: "live" }
  | { state: "reconnecting"; attempt: number }
  | { state: "upstream-reconnecting" }
  | { state: "resumed"; after: number }
  | { state: "closed"; message: string; code?: string };

/** The runtime is out of reach: why (as far as known) and when the console retries. */
export interface Down {
  reason: string;
  at: number;
  /** The Backend itself did not answer (not the runtime). */
  backend?: boolean;
}

/** The status line's sentence for a connection state. */
export function connText(c: Conn): string {
  switch (c.state) {
    case "connecting":
      return "Connecting to the event stream…";
    case "live":
      return "Live";
    case "reconnecting":
      return `Reconnecting… (attempt ${c.attempt})`;
    case "upstream-reconnecting":
      return "Reconnecting… to the runtime.";
    case "resumed":
      return `Resumed from event ${c.after}; no events were missed.`;
    case "closed":
      return `The event stream closed: ${c.message}`;
  }
}

/** The status line's tone: green when events flow, red when the stream is over. */
export function connTone(c: Conn): "success" | "danger" | "neutral" | "warning" {
  switch (c.state) {
    case "live":
    case "resumed":
      return "success";
    case "closed":
      return "danger";
    case "connecting":
      return "neutral";
    default:
      return "warning";
  }
}

/** The banner's headline: who is unreachable and the countdown to the next retry. */
export function downHeadline(down: Down, runtimeId: string, now: number): string {
  return `${down.backend ? "The Backend" : `Runtime ${runtimeId}`} is unreachable — ${
    down.at > now ? `retrying in ${Math.ceil((down.at - now) / 1000)} s` : "retrying…"
  }`;
}
