/**
 * `/runtimes/:runtime_id/workers/:worker_id`: the worker console. The worker
 * and its whole transcript are loaded here and folded into the console's
 * view; the island then follows the live stream from the last seq. When the
 * runtime is down the console still renders (worker from the Backend's
 * last-known list, or shown as unknown) with the reason, and the island
 * reloads the page once the runtime answers again.
 * @module
 */
import { Lexer } from "marked";
import { ApiClientError } from "../../../../shared/api_request.ts";
import type { WorkspaceClient } from "../../../../shared/client.ts";
import {
  TRANSCRIPT_LIMIT_MAX,
  type WorkerEvent,
  type WorkerSummary,
} from "../../../../shared/runtime_dto.ts";
import { applyEvents, emptyView } from "../../components/console_view.ts";
import { ErrorNotice } from "../../components/diagnostics.tsx";
import { errorSentence } from "../../components/error_text.ts";
import { AppLayout } from "../../components/layout.tsx";
import WorkerConsole from "../../islands/worker_console.tsx";
import { provideMarkdownLexer } from "../../islands/worker_console/mod.ts";
import { island } from "../../kit/mod.ts";
import type { Route } from "../../route.ts";

const Console = island("worker_console", WorkerConsole);
// The island loads the Markdown lexer lazily in the browser; the server renders it at once.
provideMarkdownLexer(Lexer);

/** Every page of a worker's transcript. */
async function fullTranscript(
  client: WorkspaceClient,
  runtimeId: string,
  workerId: string,
): Promise<WorkerEvent[]> {
  const out: WorkerEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await client.transcript(runtimeId, workerId, after, TRANSCRIPT_LIMIT_MAX);
    if (page.entries.length === 0) return out;
    out.push(...page.entries);
    after = page.entries[page.entries.length - 1].seq;
  }
}

function Breadcrumbs(props: { current: string }) {
  return (
    <nav class="breadcrumbs" aria-label="Breadcrumb">
      <a href="/workers">Workers</a> <span aria-hidden="true">/</span>{" "}
      <span aria-current="page">{props.current}</span>
    </nav>
  );
}

/** Codes for which the page cannot help by waiting: the address itself is wrong. */
const FINAL_STATUSES = [400, 404];

const workerConsole: Route = async ({ client, params }) => {
  const runtimeId = params.runtime_id;
  const workerId = params.worker_id;
  let worker: ConsoleWorker, entries: WorkerEvent[] = [];
  let down: { code: string; message: string } | undefined;
  try {
    ({ worker } = await client.getWorker(runtimeId, workerId));
    entries = await fullTranscript(client, runtimeId, workerId);
  } catch (e) {
    if (!(e instanceof ApiClientError)) throw e;
    if (FINAL_STATUSES.includes(e.httpStatus)) {
      const title = e.httpStatus === 404 ? "Worker not found" : "Not a worker address";
      return {
        title,
        status: e.httpStatus,
        error: e,
        body: (
          <AppLayout area="workers">
            <Breadcrumbs current={title} />
            <h1>{title}</h1>
            <ErrorNotice
              title={errorSentence(e.code, runtimeId)}
              message={e.message}
              code={e.code}
              diagnostics={e.diagnostics}
            />
            <p>
              <a href="/workers">Back to all workers</a>
            </p>
          </AppLayout>
        ),
      };
    }
    // The runtime is down (or refusing): the console still renders, from the last-known list
    // when the Backend has one, and recovers by itself once the runtime answers again.
    down = { code: e.code, message: `${errorSentence(e.code, runtimeId)} ${e.message}` };
    const known = await client.listWorkers(runtimeId).then(
      (l) => l.workers.find((w) => w.worker_id === workerId),
      () => undefined,
    );
    worker = known ?? {
      runtime_id: runtimeId,
      worker_id: workerId,
      display_name: "Unknown worker",
      profile: "unknown",
      created_at: "",
      status: "idle",
    };
    if (!known) down.message += " This worker is not in the last list the Backend saw.";
    return {
      title: `${worker.display_name} · Worker (runtime unreachable)`,
      status: e.httpStatus >= 400 ? e.httpStatus : 502,
      error: e,
      body: consoleBody(worker, [], down),
    };
  }
  return { title: `${worker.display_name} · Worker`, body: consoleBody(worker, entries) };
};

/** What the console needs of a worker, from its detail or from the last-known list. */
type ConsoleWorker = Pick<
  WorkerSummary,
  "runtime_id" | "worker_id" | "display_name" | "profile" | "created_at" | "status"
>;

function consoleBody(
  worker: ConsoleWorker,
  entries: WorkerEvent[],
  down?: { code: string; message: string },
) {
  const view = applyEvents(emptyView(worker.status), entries);
  return (
    <AppLayout area="workers">
      <Breadcrumbs current={worker.display_name} />
      <Console
        runtimeId={worker.runtime_id}
        workerId={worker.worker_id}
        displayName={worker.display_name}
        profile={worker.profile}
        createdAt={worker.created_at}
        view={view}
        now={Date.now()}
        down={down}
      />
    </AppLayout>
  );
}

export default workerConsole;
