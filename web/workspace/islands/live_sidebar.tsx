/**
 * The live worker list in every page's sidebar: each worker with a status dot,
 * kept current by the tab's one `/api/live` socket (shared with the Workers
 * page's island). It also installs the page's copy-to-clipboard handler, so
 * pages without an island of their own still get working Copy buttons.
 * Kept small: it ships on every page.
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import { applyWorkersFrame, liveClient, type WorkersFrame } from "../../../shared/live_client.ts";
import type { WorkerSummary } from "../../../shared/runtime_dto.ts";
import { installCopyHandler } from "../components/copy_button.tsx";
import { statusTone } from "../components/badge.tsx";
import { consoleHref } from "../components/format.ts";

/** Most workers listed in the sidebar; the rest are on the Workers page. */
export const SIDEBAR_MAX = 12;

export default function LiveSidebar(_props: Record<string, never>) {
  const [workers, setWorkers] = useState<WorkerSummary[] | null>(null);
  const [here, setHere] = useState("");

  useEffect(() => {
    installCopyHandler(document);
    setHere(location.pathname);
    let list: WorkerSummary[] = [];
    return liveClient().subscribe("workers", (frame) => {
      list = applyWorkersFrame(list, frame as unknown as WorkersFrame);
      setWorkers(list);
    });
  }, []);

  const shown = (workers ?? [])
    .toSorted((a, b) => b.created_at.localeCompare(a.created_at))
    .slice(0, SIDEBAR_MAX);
  return (
    <nav class="live-sidebar" aria-labelledby="live-sidebar-title">
      <h2 id="live-sidebar-title">Live workers</h2>
      {workers === null
        ? <p class="muted">Connecting…</p>
        : workers.length === 0
        ? <p class="muted">No workers yet.</p>
        : (
          <ul>
            {shown.map((w) => {
              const href = consoleHref(w.runtime_id, w.worker_id);
              return (
                <li key={href} class={w.stale ? "stale" : undefined}>
                  <a href={href} aria-current={href === here ? "page" : undefined}>
                    <span class={`dot ${statusTone(w.status)}`} aria-hidden="true" />
                    <span class="name">{w.display_name}</span>
                    <span class="visually-hidden">
                      {`, ${w.status}${w.stale ? ", last seen" : ""}`}
                    </span>
                  </a>
                </li>
              );
            })}
          </ul>
        )}
      {workers !== null && workers.length > SIDEBAR_MAX && (
        <a href="/workers">{`All ${workers.length} workers`}</a>
      )}
      <p id="copy-status" class="visually-hidden" role="status" aria-live="polite"></p>
    </nav>
  );
}
