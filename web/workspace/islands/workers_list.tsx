/**
 * The live Workers list: server-rendered from `GET /api/workers`, then kept
 * current by the tab's `/api/live` socket (new workers, status changes, last
 * activity, removals; the banner shows the diagnostics of the latest frame,
 * not old ones). Filters by runtime, status and text; renames a worker and
 * deletes a stopped one (inline confirmation; Escape cancels).
 * @module
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiClientError, BrowserClient } from "../../../shared/browser_client.ts";
import type { Diagnostic } from "../../../shared/error_codes.ts";
import {
  applyWorkersFrame,
  liveClient,
  type LiveState,
  type WorkersFrame,
} from "../../../shared/live_client.ts";
import type { WorkerSummary } from "../../../shared/runtime_dto.ts";
import { Badge, statusTone } from "../components/badge.tsx";
import { Copyable } from "../components/copy_button.tsx";
import { Diagnostics } from "../components/diagnostics.tsx";
import { consoleHref, shortTime } from "../components/format.ts";
import { relativeTime } from "../components/relative_time.tsx";

export type WorkersListProps = {
  initial: { workers: WorkerSummary[]; diagnostics: Diagnostic[] };
  now: number;
};

const key = (w: { runtime_id: string; worker_id: string }) => `${w.runtime_id}/${w.worker_id}`;

/** Newest first, then by runtime: the order rows are shown in. */
export function sortWorkers(list: WorkerSummary[]): WorkerSummary[] {
  return list.toSorted((a, b) =>
    b.created_at.localeCompare(a.created_at) || a.runtime_id.localeCompare(b.runtime_id)
  );
}

/** The rows a filter keeps: runtime and status exact, text in name, id or profile. */
export function filterWorkers(
  list: WorkerSummary[],
  f: { runtime: string; status: string; text: string },
): WorkerSummary[] {
  const q = f.text.trim().toLowerCase();
  return list.filter((w) =>
    (!f.runtime || w.runtime_id === f.runtime) && (!f.status || w.status === f.status) &&
    (!q || `${w.display_name} ${w.worker_id} ${w.profile}`.toLowerCase().includes(q))
  );
}

type Edit =
  | { kind: "rename"; key: string; name: string; busy?: boolean }
  | { kind: "delete"; key: string; busy?: boolean }
  | null;

export default function WorkersList(props: WorkersListProps) {
  const [workers, setWorkers] = useState(props.initial.workers);
  const [diagnostics, setDiagnostics] = useState(props.initial.diagnostics);
  const [live, setLive] = useState<LiveState>("connecting");
  const [now, setNow] = useState(props.now);
  const [hydrated, setHydrated] = useState(false);
  const [activity, setActivity] = useState<Record<string, number>>({});
  const [filter, setFilter] = useState({ runtime: "", status: "", text: "" });
  const [edit, setEdit] = useState<Edit>(null);
  const [error, setError] = useState<string | null>(null);
  const [announce, setAnnounce] = useState("");
  const focusSel = useRef<string | null>(null);
  const listRef = useRef(workers);

  useLayoutEffect(() => {
    if (focusSel.current) document.querySelector<HTMLElement>(focusSel.current)?.focus();
    focusSel.current = null;
  });

  useEffect(() => {
    setHydrated(true);
    const tick = setInterval(() => setNow(Date.now()), 5000);
    const live = liveClient();
    const offState = live.onState(setLive);
    const off = live.subscribe("workers", (raw) => {
      const frame = raw as unknown as WorkersFrame;
      if (frame.type === "snapshot" || frame.type === "diagnostics") {
        setDiagnostics(frame.diagnostics);
      }
      const prev = new Map(listRef.current.map((w) => [key(w), w]));
      const next = applyWorkersFrame(listRef.current, frame);
      listRef.current = next;
      setWorkers(next);
      const t = Date.now();
      const changed: Record<string, number> = {};
      for (const w of next) {
        const old = prev.get(key(w));
        if (old && old.last_seq !== w.last_seq) changed[key(w)] = t;
        if (!old && frame.type === "upsert") {
          changed[key(w)] = t;
          setAnnounce(`Worker ${w.display_name} appeared on ${w.runtime_id}.`);
        }
      }
      if (Object.keys(changed).length) setActivity((a) => ({ ...a, ...changed }));
      setNow(t);
    });
    return () => {
      clearInterval(tick);
      off();
      offState();
    };
  }, []);

  const client = new BrowserClient();
  const idSel = (w: WorkerSummary, what: string) => `#${what}-${w.worker_id}`;

  async function saveName(w: WorkerSummary, name: string) {
    setEdit({ kind: "rename", key: key(w), name, busy: true });
    try {
      const { worker } = await client.call("worker.rename", {
        params: w,
        body: { display_name: name.trim() },
      });
      const next = listRef.current.map((x) =>
        key(x) === key(w) ? { ...x, display_name: worker.display_name } : x
      );
      listRef.current = next;
      setWorkers(next);
      setEdit(null);
      setError(null);
      setAnnounce(`Renamed to ${worker.display_name}.`);
      focusSel.current = idSel(w, "rename");
    } catch (e) {
      setEdit({ kind: "rename", key: key(w), name });
      setError(e instanceof ApiClientError ? e.message : "The Backend did not answer.");
    }
  }

  async function remove(w: WorkerSummary) {
    setEdit({ kind: "delete", key: key(w), busy: true });
    try {
      await client.call("worker.delete", { params: w });
      const next = listRef.current.filter((x) => key(x) !== key(w));
      listRef.current = next;
      setWorkers(next);
      setEdit(null);
      setError(null);
      setAnnounce(`Deleted ${w.display_name}.`);
      focusSel.current = "#worker-filter-text";
    } catch (e) {
      setEdit({ kind: "delete", key: key(w) });
      setError(e instanceof ApiClientError ? e.message : "The Backend did not answer.");
    }
  }

  const cancel = (w: WorkerSummary, what: string) => {
    setEdit(null);
    setError(null);
    focusSel.current = idSel(w, what);
  };

  const runtimes = [...new Set(workers.map((w) => w.runtime_id))].sort();
  const statuses = [...new Set(workers.map((w) => w.status))].sort();
  const rows = filterWorkers(sortWorkers(workers), filter);
  const busy = workers.filter((w) => w.status === "busy").length;
  const staleRuntimes = new Set(workers.filter((w) => w.stale).map((w) => w.runtime_id));
  const reason = (rid: string) =>
    diagnostics.find((d) => d.runtime_id === rid)?.message ?? `Runtime ${rid} is unreachable.`;

  return (
    <div class="workers-live">
      <p class="lede">
        Every worker on every runtime this Backend routes to.
        {workers.length > 0 && ` ${workers.length} in all, ${busy} busy.`}{" "}
        <span class={`live-state ${live}`}>
          {live === "live" ? "Live" : live === "down" ? "Reconnecting…" : "Connecting…"}
        </span>
      </p>
      <p class="visually-hidden" role="status" aria-live="polite">{announce}</p>
      {diagnostics.length > 0 && (
        <div class="notice warning" role="status">
          <strong>Some runtimes could not be listed</strong>
          Their workers are missing below, or shown greyed as last seen, until they answer again.
          <Diagnostics items={diagnostics} label="Runtime diagnostics" />
        </div>
      )}
      {error && <div class="notice danger" role="alert">{error}</div>}
      {workers.length === 0
        ? (
          <div class="card empty-state">
            <h2>No workers yet</h2>
            <p>
              A worker is a long-lived session on a runtime: it takes input and answers one turn at
              a time. <a href="/workers/new">Create a worker</a> to get started.
            </p>
          </div>
        )
        : (
          <>
            <form class="filters" role="search" aria-label="Filter workers">
              <label>
                Runtime
                <select
                  value={filter.runtime}
                  disabled={!hydrated}
                  onChange={(e) => setFilter({ ...filter, runtime: e.currentTarget.value })}
                >
                  <option value="">All runtimes</option>
                  {runtimes.map((r) => <option key={r} value={r}>{r}</option>)}
                </select>
              </label>
              <label>
                Status
                <select
                  value={filter.status}
                  disabled={!hydrated}
                  onChange={(e) => setFilter({ ...filter, status: e.currentTarget.value })}
                >
                  <option value="">Any status</option>
                  {statuses.map((s) => <option key={s} value={s}>{s}</option>)}
                </select>
              </label>
              <label>
                Search
                <input
                  id="worker-filter-text"
                  type="search"
                  value={filter.text}
                  disabled={!hydrated}
                  placeholder="Name, id or profile"
                  onInput={(e) => setFilter({ ...filter, text: e.currentTarget.value })}
                />
              </label>
              <span class="muted">{`Showing ${rows.length} of ${workers.length}`}</span>
            </form>
            <div class="table-wrap">
              <table class="workers-table stack">
                <caption class="visually-hidden">Workers across runtimes</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Runtime</th>
                    <th scope="col">Profile</th>
                    <th scope="col">Status</th>
                    <th scope="col">Last activity</th>
                    <th scope="col">Created</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((w) => {
                    const k = key(w);
                    const seen = activity[k];
                    const renaming = edit?.kind === "rename" && edit.key === k ? edit : null;
                    const deleting = edit?.kind === "delete" && edit.key === k ? edit : null;
                    return (
                      <tr key={k} class={w.stale ? "stale" : undefined}>
                        <td data-label="Name">
                          {renaming
                            ? (
                              <form
                                class="inline-edit"
                                aria-label={`Rename ${w.display_name}`}
                                onSubmit={(e) => {
                                  e.preventDefault();
                                  void saveName(w, renaming.name);
                                }}
                                onKeyDown={(e) => e.key === "Escape" && cancel(w, "rename")}
                              >
                                <input
                                  id={`name-${w.worker_id}`}
                                  aria-label="New name"
                                  value={renaming.name}
                                  maxLength={80}
                                  required
                                  onInput={(e) =>
                                    setEdit({ ...renaming, name: e.currentTarget.value })}
                                />
                                <button type="submit" disabled={renaming.busy}>Save</button>
                                <button
                                  type="button"
                                  class="secondary"
                                  onClick={() => cancel(w, "rename")}
                                >
                                  Cancel
                                </button>
                              </form>
                            )
                            : <a href={consoleHref(w.runtime_id, w.worker_id)}>{w.display_name}</a>}
                          <div class="id-line">
                            <Copyable
                              value={w.worker_id}
                              label={`worker id of ${w.display_name}`}
                            />
                          </div>
                        </td>
                        <td data-label="Runtime">
                          <Copyable value={w.runtime_id} label={`runtime id ${w.runtime_id}`} />
                        </td>
                        <td data-label="Profile">{w.profile}</td>
                        <td data-label="Status">
                          <Badge tone={statusTone(w.status)}>{w.status}</Badge>
                          {w.stale && (
                            <>
                              {" "}
                              <Badge tone="warning">last seen</Badge>
                              <span class="stale-reason">
                                {staleRuntimes.has(w.runtime_id) ? reason(w.runtime_id) : ""}
                              </span>
                            </>
                          )}
                        </td>
                        <td data-label="Last activity">
                          {`${w.last_seq} ${w.last_seq === 1 ? "event" : "events"}`}
                          {seen !== undefined && (
                            <span class="muted">
                              {` · ${relativeTime(new Date(seen).toISOString(), now)}`}
                            </span>
                          )}
                        </td>
                        <td data-label="Created">
                          <time dateTime={w.created_at} title={w.created_at}>
                            {shortTime(w.created_at)}
                          </time>
                        </td>
                        <td data-label="Actions" class="row-actions">
                          {deleting
                            ? (
                              <div
                                role="group"
                                aria-label={`Delete ${w.display_name}?`}
                                class="confirm"
                                onKeyDown={(e) => e.key === "Escape" && cancel(w, "delete")}
                              >
                                <span>Delete for good?</span>
                                <button
                                  type="button"
                                  class="danger"
                                  disabled={deleting.busy}
                                  onClick={() => void remove(w)}
                                >
                                  Confirm
                                </button>
                                <button
                                  type="button"
                                  id={`keep-${w.worker_id}`}
                                  class="secondary"
                                  onClick={() => cancel(w, "delete")}
                                >
                                  Keep
                                </button>
                              </div>
                            )
                            : (
                              <>
                                <button
                                  type="button"
                                  class="secondary"
                                  id={`rename-${w.worker_id}`}
                                  disabled={!hydrated || w.stale}
                                  onClick={() => {
                                    setEdit({ kind: "rename", key: k, name: w.display_name });
                                    focusSel.current = `#name-${w.worker_id}`;
                                  }}
                                >
                                  Rename<span class="visually-hidden">{` ${w.display_name}`}</span>
                                </button>
                                {w.status === "stopped" && (
                                  <button
                                    type="button"
                                    class="secondary"
                                    id={`delete-${w.worker_id}`}
                                    disabled={!hydrated || w.stale}
                                    onClick={() => {
                                      setEdit({ kind: "delete", key: k });
                                      focusSel.current = `#keep-${w.worker_id}`;
                                    }}
                                  >
                                    Delete<span class="visually-hidden">
                                      {` ${w.display_name}`}
                                    </span>
                                  </button>
                                )}
                              </>
                            )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </>
        )}
    </div>
  );
}
