import assert from "node:assert/strict";
import { emptyView } from "../../components/console_view.ts";
import { withAck } from "./use_console_actions.ts";

Deno.test("withAck: an ack's status applies unless the stream already showed a newer one", () => {
  const view = { ...emptyView("idle"), statusSeq: 10 };
  const busy = withAck(view, { seq: 12, status: "busy" } as never);
  assert.deepEqual([busy.status, busy.statusSeq], ["busy", 12]);
  assert.equal(withAck(view, { seq: 9, status: "busy" } as never), view, "older than the view");
  assert.equal(withAck(view, { seq: 12, status: "idle" } as never), view, "no change: same view");
  const same = withAck(view, { seq: 10, status: "stopped" } as never);
  assert.equal(same.status, "stopped", "an ack at the view's own seq still applies");
});
