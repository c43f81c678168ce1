/** `/settings/backend`: the Backend's own settings, read-only. */
import { Badge } from "../../components/badge.tsx";
import { Diagnostics } from "../../components/diagnostics.tsx";
import { SettingsLayout } from "../../components/layout.tsx";
import type { Route } from "../../route.ts";

const backend: Route = async ({ client }) => {
  const { backend: b } = await client.backendInfo();
  return {
    title: "Backend",
    body: (
      <SettingsLayout section="backend">
        <h1>Backend</h1>
        <p class="lede">
          How this Workspace Backend is running. Read-only: these come from its command line and
          config file.
        </p>
        <div class="card">
          <dl class="facts">
            <dt>Version</dt>
            <dd>{b.version}</dd>
            <dt>Started</dt>
            <dd>
              <time dateTime={b.started_at}>{b.started_at}</time>
            </dd>
            <dt>Listening on</dt>
            <dd>
              <code>{b.listen}</code>
            </dd>
            <dt>Allowed hosts</dt>
            <dd>{b.allowed_hosts.join(", ")}</dd>
            <dt>Admin token</dt>
            <dd>
              {b.admin_token_required
                ? (
                  <>
                    required on every API request (browsers log in once and hold a session cookie)
                    {" "}
                    <form method="post" action="/logout" class="inline-form">
                      <button type="submit" class="secondary">Log out</button>
                    </form>
                  </>
                )
                : "not required (loopback only)"}
            </dd>
            <dt>Worker list deadline</dt>
            <dd>{b.fanout_deadline_ms} ms</dd>
            <dt>Remote request timeout</dt>
            <dd>{b.remote_timeout_ms} ms</dd>
            <dt>Public key</dt>
            <dd>
              {b.public_key
                ? (
                  <>
                    <code>{b.public_key}</code> — start a runtime with{" "}
                    <code>--trust-key {b.public_key}</code> and add it without a token reference
                  </>
                )
                : "none"}
            </dd>
            <dt>Embedded runtime store</dt>
            <dd>{b.embedded_store}</dd>
            <dt>Config file</dt>
            <dd>
              {b.config_ok
                ? <Badge tone="success">parsed</Badge>
                : <Badge tone="danger">does not parse — fix it by hand</Badge>}
            </dd>
          </dl>
          <Diagnostics items={b.diagnostics} label="Config diagnostics" />
        </div>
      </SettingsLayout>
    ),
  };
};

export default backend;
