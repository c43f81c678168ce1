/**
 * The one notice a restart still needs: `[server]` keys changed in the config file.
 * Connections apply live, so nothing else asks for a restart (DESIGN §10).
 * @module
 */

/** Names the changed `[server]` keys; renders nothing when there are none. */
export function RestartNotice(props: { keys: string[] }) {
  if (props.keys.length === 0) return null;
  return (
    <div class="notice warning restart" role="status">
      <strong>Restart required for server settings</strong>
      {`Changed in the config file: [server] ${
        props.keys.join(", ")
      }. These apply when the Backend restarts; connections apply at once.`}
    </div>
  );
}
