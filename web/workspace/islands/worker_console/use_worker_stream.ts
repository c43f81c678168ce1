/**
 * The console's live stream as Preact state: the connection line, the "unreachable" banner and
 * a "Retry now" that reconnects at once. Events go to `onEvent` (the island folds them).
 * @module
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { WorkerEvent } from "../../../../shared/runtime_dto.ts";
import type { Conn, Down } from "./conn.ts";
import { followWorkerStream, type StreamClient } from "./worker_stream.ts";

/** What the stream needs of the island's props. */
export interface StreamProps {
  runtimeId: string;
  workerId: string;
  now: number;
  down?: { code: string; message: string };
}

/** The stream of one worker, followed while the island is mounted. */
export function useWorkerStream(
  props: StreamProps,
  client: () => StreamClient,
  lastSeq: () => number,
  onEvent: (ev: WorkerEvent) => void,
): { conn: Conn; down: Down | null; retryNow: () => void } {
  const { runtimeId, workerId } = props;
  const [conn, setConn] = useState<Conn>({ state: "connecting" });
  const [down, setDown] = useState<Down | null>(
    props.down ? { reason: props.down.message, at: props.now } : null,
  );
  const retryNow = useRef(() => {});

  // While the runtime is down (the Backend says `stream.reconnecting`, or our socket closes) the
  // input is off and a banner counts down to the next retry; "Retry now" reconnects at once.
  useEffect(() => {
    const stream = followWorkerStream(client, runtimeId, workerId, {
      lastSeq,
      onEvent,
      setConn,
      setDown,
      down: props.down?.message,
      onBack: () => location.reload(),
    });
    retryNow.current = stream.retryNow;
    return stream.close;
  }, [runtimeId, workerId]);

  return { conn, down, retryNow: () => retryNow.current() };
}
