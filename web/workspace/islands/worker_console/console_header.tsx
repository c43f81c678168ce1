/**
 * The console's head: the worker's name and status badge, and what it is (runtime, profile,
 * when it was created, its id).
 * @module
 */
import type { WorkerStatus } from "../../../../shared/runtime_dto.ts";
import { Badge, statusTone } from "../../components/badge.tsx";
import { RelativeTime } from "../../components/relative_time.tsx";

/** The worker's name, status and facts. */
export function ConsoleHeader(props: {
  displayName: string;
  status: WorkerStatus;
  runtimeId: string;
  workerId: string;
  profile: string;
  /** Empty when unknown. */
  createdAt: string;
  now: number;
  local: boolean;
}) {
  return (
    <>
      <div class="console-head">
        <h1>{props.displayName}</h1>
        <span class="console-status">
          <span class="visually-hidden">{`Status: `}</span>
          <Badge tone={statusTone(props.status)}>{props.status}</Badge>
        </span>
      </div>
      <dl class="console-meta">
        <div>
          <dt>Runtime</dt>
          <dd>
            <code>{props.runtimeId}</code>
          </dd>
        </div>
        <div>
          <dt>Profile</dt>
          <dd>{props.profile}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            {props.createdAt
              ? <RelativeTime iso={props.createdAt} now={props.now} local={props.local} />
              : "unknown"}
          </dd>
        </div>
        <div>
          <dt>Worker id</dt>
          <dd>
            <code>{props.workerId}</code>
          </dd>
        </div>
      </dl>
    </>
  );
}
