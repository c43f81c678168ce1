/**
 * How the event stream is doing: the status line (live, reconnecting, resumed, closed) and,
 * while the runtime is out of reach, a banner with the reason, a countdown and "Retry now".
 * @module
 */
import { type Conn, connText, connTone, type Down, downHeadline } from "./conn.ts";

/** The stream's status line (a polite live region). */
export function ConnLine(props: { conn: Conn }) {
  return (
    <p class={`console-conn ${connTone(props.conn)}`} role="status" data-conn={props.conn.state}>
      {connText(props.conn)}
    </p>
  );
}

/** The "unreachable" banner. */
export function DownBanner(
  props: { down: Down; runtimeId: string; now: number; retryNow: () => void },
) {
  return (
    <div class="notice warning console-down" role="alert">
      <p>
        <strong>{downHeadline(props.down, props.runtimeId, props.now)}</strong>
        {props.down.reason && ` ${props.down.reason}`}
      </p>
      <button type="button" class="secondary" onClick={props.retryNow}>
        Retry now
      </button>
    </div>
  );
}
