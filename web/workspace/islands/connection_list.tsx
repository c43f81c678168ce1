/**
 * The live Runtime Connections list: rows, notices, "Test all" and the add
 * form, server-rendered first and then kept current in the browser.
 *
 * Why conditional polling and not SSE or a WebSocket: it is one ordinary
 * route (`GET /api/settings/runtime-connections`) under the same auth, Host
 * and CSRF rules as every other call; it needs no extra socket per open tab
 * and no server-side fan-out; an unchanged list costs a 304 with no body
 * (`If-None-Match` with the last `ETag`); and it recovers by itself after a
 * Backend restart. Every 2 s keeps any change (a state change, a hand edit
 * of the config file, another tab's add or delete) on screen within 5 s.
 * Polling pauses while the tab is hidden and catches up when it is shown.
 * Screen readers hear only changes (a row's state, a row added or removed),
 * never every poll.
 * @module
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import {
  ApiClientError,
  BrowserClient,
  listConnectionsIfChanged,
} from "../../../shared/browser_client.ts";
import type { ConnectionList, ConnectionRow, ProbeResult } from "../../../shared/settings_dto.ts";
import { ConnectionCard, type ProbeState } from "../components/connection_card.tsx";
import { ConnectionForm } from "../components/connection_form.tsx";
import { Diagnostics } from "../components/diagnostics.tsx";
import { probeGood } from "../components/probe_result.tsx";
import { STATE_LABEL } from "../components/state_badge.tsx";
import { RestartNotice } from "../components/restart_notice.tsx";

export type ConnectionListProps = {
  initial: ConnectionList;
  /** The server's clock when it rendered (ms), so the first client render matches SSR. */
  now: number;
};

/** How often the list is re-read while the tab is visible. */
export const POLL_MS = 2000;

/** Sentences for what changed between two lists (for the polite live region). */
export function describeChanges(prev: ConnectionList, next: ConnectionList): string[] {
  const out: string[] = [];
  const before = new Map(prev.connections.map((r) => [r.id, r]));
  for (const r of next.connections) {
    const old = before.get(r.id);
    if (!old) out.push(`${r.display_name} was added; it is ${STATE_LABEL[r.state]}.`);
    else if (old.state !== r.state) out.push(`${r.display_name} is now ${STATE_LABEL[r.state]}.`);
    before.delete(r.id);
  }
  for (const r of before.values()) out.push(`${r.display_name} was removed.`);
  if (prev.config_ok !== next.config_ok) {
    out.push(next.config_ok ? "The config file parses again." : "The config file does not parse.");
  }
  return out;
}

type Notice = { text: string; tone: "success" | "warning" };

export default function ConnectionListIsland(props: ConnectionListProps) {
  const [list, setList] = useState<ConnectionList>(props.initial);
  const [now, setNow] = useState(props.now);
  const [hydrated, setHydrated] = useState(false);
  const [probes, setProbes] = useState<Record<string, ProbeState>>({});
  const [announce, setAnnounce] = useState("");
  const [liveError, setLiveError] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const listRef = useRef(list);
  const liveErrorRef = useRef<string | null>(null);
  const etag = useRef<string | null>(null);
  const refresh = useRef<() => void>(() => {});
  const noticeRef = useRef<HTMLDivElement>(null);
  const focusNotice = useRef(false);
  const client = useRef(new BrowserClient()).current;

  /** Shows a new list; announces what changed. */
  const apply = (next: ConnectionList) => {
    const changes = describeChanges(listRef.current, next);
    listRef.current = next;
    setList(next);
    if (changes.length) setAnnounce(changes.join(" "));
  };

  useLayoutEffect(() => {
    if (focusNotice.current) noticeRef.current?.focus();
    focusNotice.current = false;
  });

  // The clock for "checked 12 s ago", and the live list (conditional polling).
  useEffect(() => {
    setHydrated(true);
    setNow(Date.now());
    const tick = setInterval(() => setNow(Date.now()), 1000);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    let again = false;
    let stopped = false;
    const schedule = () => {
      clearTimeout(timer);
      if (!stopped && !document.hidden) timer = setTimeout(poll, POLL_MS);
    };
    const poll = async () => {
      if (inFlight) {
        again = true; // a poll started before a change we made: read once more after it
        return;
      }
      inFlight = true;
      try {
        const r = await listConnectionsIfChanged(client, etag.current);
        if (r) {
          etag.current = r.etag;
          apply(r.list);
        }
        if (liveErrorRef.current) setAnnounce("Live updates resumed.");
        liveErrorRef.current = null;
        setLiveError(null);
      } catch (e) {
        const why = e instanceof ApiClientError ? e.message : "the Backend did not answer.";
        if (!liveErrorRef.current) setAnnounce("Live updates are interrupted.");
        liveErrorRef.current = why;
        setLiveError(why);
      } finally {
        inFlight = false;
        if (again) {
          again = false;
          void poll();
        } else schedule();
      }
    };
    refresh.current = () => void poll();
    const onVisibility = () => {
      if (document.hidden) clearTimeout(timer);
      else void poll();
    };
    document.addEventListener("visibilitychange", onVisibility);
    void poll();
    return () => {
      stopped = true;
      clearInterval(tick);
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, []);

  async function test(id: string) {
    setProbes((p) => ({ ...p, [id]: { kind: "running" } }));
    let next: ProbeState;
    try {
      next = { kind: "done", result: await client.call("connection.test", { params: { id } }) };
    } catch (e) {
      next = e instanceof ApiClientError
        ? { kind: "error", message: e.message, code: e.code, diagnostics: e.diagnostics }
        : { kind: "error", message: "The test could not be run. Try again." };
    }
    setProbes((p) => ({ ...p, [id]: next }));
    refresh.current(); // a test is also a health check: show its state now
  }

  /** A visible result; focus moves to it unless the control that acted is still there. */
  const show = (text: string, tone: Notice["tone"], focus: boolean) => {
    setNotice({ text, tone });
    focusNotice.current = focus;
  };

  const onSaved = (row: ConnectionRow, probe: ProbeResult, added: boolean) => {
    const cur = listRef.current;
    const rows = added
      ? [...cur.connections.filter((r) => r.id !== row.id), row]
      : cur.connections.map((r) => r.id === row.id ? row : r);
    listRef.current = { ...cur, connections: rows };
    setList(listRef.current);
    setProbes((p) => ({ ...p, [row.id]: { kind: "done", result: probe } }));
    show(
      `${row.id} was ${added ? "added" : "saved"} and applied; no restart needed.` +
        (probeGood(probe) ? "" : " The test found a problem: see its answers on the row."),
      probeGood(probe) ? "success" : "warning",
      added, // after an edit, focus stays on the row's Edit button
    );
    refresh.current();
  };

  const onDeleted = (id: string) => {
    const cur = listRef.current;
    listRef.current = { ...cur, connections: cur.connections.filter((r) => r.id !== id) };
    setList(listRef.current);
    show(
      `${id} was deleted and removed from the live registry; no restart needed.`,
      "success",
      true,
    );
    refresh.current();
  };

  const anyRunning = Object.values(probes).some((p) => p.kind === "running");
  return (
    <div class="connection-list">
      <p class="visually-hidden" role="status" aria-live="polite">{announce}</p>
      {notice && (
        <div
          class={`notice ${notice.tone}`}
          role="status"
          tabIndex={-1}
          ref={noticeRef}
          id="saved-notice"
        >
          {notice.text}
        </div>
      )}
      {!list.config_ok && (
        <div class="notice danger" role="alert">
          <strong>The config file does not parse</strong>
          The Backend keeps serving the last good connections. Nothing can be added, edited or
          deleted here until the file is fixed by hand; this page notices the fix by itself.
          <Diagnostics items={list.diagnostics} label="Config diagnostics" />
        </div>
      )}
      {list.restart_required && <RestartNotice keys={list.restart_required_keys} />}
      {list.config_ok && <Diagnostics items={list.diagnostics} label="Config diagnostics" />}
      <div class="actions list-head">
        <button
          type="button"
          class="secondary"
          disabled={!hydrated}
          aria-disabled={anyRunning ? "true" : undefined}
          onClick={() => {
            if (!anyRunning) { for (const r of listRef.current.connections) void test(r.id); }
          }}
        >
          {anyRunning ? "Testing…" : "Test all"}
        </button>
        <span class="muted live" data-live={liveError ? "interrupted" : "on"}>
          {liveError
            ? `Live updates interrupted (${liveError}); retrying.`
            : "Updates live while this tab is open."}
        </span>
      </div>
      <div class="rows">
        {list.connections.map((r) => (
          <ConnectionCard
            key={r.id}
            row={r}
            now={now}
            local={hydrated}
            configOk={list.config_ok}
            interactive={hydrated}
            probe={probes[r.id]}
            onTest={(id) => void test(id)}
            onSaved={(row, probe) => onSaved(row, probe, false)}
            onDeleted={onDeleted}
          />
        ))}
      </div>
      <section class="card" aria-labelledby="add-connection">
        <h2 id="add-connection" class="card-title">Add a remote runtime</h2>
        <ConnectionForm
          prefix="add"
          disabled={!list.config_ok}
          interactive={hydrated}
          onSaved={(row, probe) => onSaved(row, probe, true)}
        />
      </section>
    </div>
  );
}
