/**
 * The worker console: the transcript folded on the server, then live events
 * from the Backend's WebSocket (resumed from the last seq after any drop, so
 * nothing is shown twice), an input box whose Send turns into Cancel while a
 * turn runs, Pause/Resume, Stop (with an inline confirmation) and Restore of a
 * stopped worker, with keyboard shortcuts (listed in a help popover: Ctrl+C
 * pauses, Ctrl+X cancels, Enter resumes, Escape leaves the input). Status
 * follows `worker.status` events. The parts live in `worker_console/`.
 * @module
 */
import { useRef, useState } from "preact/hooks";
import { BrowserClient } from "../../../shared/browser_client.ts";
import { ErrorNotice } from "../components/diagnostics.tsx";
import { applyEvents, type ConsoleView } from "../components/console_view.ts";
import {
  BlockView,
  ConnLine,
  ConsoleHeader,
  ConsoleInput,
  ConsoleToolbar,
  DownBanner,
  failureTitle,
  useClock,
  useConsoleActions,
  useScrollFollow,
  useShortcuts,
  useWorkerStream,
} from "./worker_console/mod.ts";

export interface WorkerConsoleProps extends Record<string, unknown> {
  runtimeId: string;
  workerId: string;
  displayName: string;
  profile: string;
  /** Empty when unknown (the runtime is down and the worker was not in the last list). */
  createdAt: string;
  view: ConsoleView;
  /** Server time of the render, so relative times hydrate as rendered. */
  now: number;
  /** Set when the page was rendered while the runtime was down: why. */
  down?: { code: string; message: string };
}

export default function WorkerConsole(props: WorkerConsoleProps) {
  const { runtimeId, workerId } = props;
  const [view, setView] = useState<ConsoleView>(props.view);
  const viewRef = useRef<ConsoleView>(props.view);
  const clientRef = useRef<BrowserClient | null>(null);
  const client = () => (clientRef.current ??= new BrowserClient());
  const inputRef = useRef<HTMLTextAreaElement>(null);

  const update = (next: ConsoleView) => {
    if (next === viewRef.current) return;
    viewRef.current = next;
    setView(next);
  };

  const { conn, down, retryNow } = useWorkerStream(
    props,
    client,
    () => viewRef.current.lastSeq,
    (ev) => update(applyEvents(viewRef.current, [ev])),
  );
  const { now, local } = useClock(props.now, down !== null);
  const { logRef, onScroll, follow } = useScrollFollow(view.blocks);
  const a = useConsoleActions({
    client,
    runtimeId,
    workerId,
    status: view.status,
    down: down !== null,
    viewRef,
    update,
    logRef,
    inputRef,
    follow,
  });
  useShortcuts(() => viewRef.current.status, a.act);

  return (
    <div class="console">
      <ConsoleHeader {...props} status={view.status} now={now} local={local} />
      <ConnLine conn={conn} />
      {down && <DownBanner down={down} runtimeId={runtimeId} now={now} retryNow={retryNow} />}
      <div
        ref={logRef}
        class="console-output"
        role="log"
        aria-live="polite"
        aria-label="Transcript"
        tabIndex={0}
        onScroll={onScroll}
      >
        {view.blocks.length === 0
          ? <div class="console-block note muted">No events yet.</div>
          : view.blocks.map((b) => <BlockView key={b.seq} block={b} />)}
      </div>
      {a.error && (
        <ErrorNotice
          title={failureTitle(a.error, runtimeId)}
          message={a.error.message}
          code={a.error.code}
        />
      )}
      <form
        class="console-input"
        onSubmit={(e) => {
          e.preventDefault();
          void a.send();
        }}
      >
        <ConsoleInput
          {...a}
          inputRef={inputRef}
          down={down !== null}
          onText={(t) => {
            a.setText(t);
            if (a.hint) a.setHint("");
          }}
          onLeave={() => logRef.current?.focus()}
          onSend={() => void a.send()}
        />
        <ConsoleToolbar {...a} />
      </form>
    </div>
  );
}
