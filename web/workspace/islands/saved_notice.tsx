/**
 * The "Saved — restart the Backend to apply" notice shown after a connection
 * was added or deleted (the page reloads with `?saved=`). On load it takes
 * focus so the confirmation is announced, and drops the query from the URL so
 * a later reload does not repeat it.
 * @module
 */
import { useEffect, useRef } from "preact/hooks";

export type SavedNoticeProps = { action: "added" | "deleted"; id: string };

export default function SavedNotice(props: SavedNoticeProps) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
    history.replaceState(null, "", location.pathname);
  }, []);
  return (
    <div class="notice success" role="status" tabIndex={-1} ref={ref} id="saved-notice">
      <strong>Saved — restart the Backend to apply</strong>
      {props.action === "added"
        ? (
          <>
            Connection <code>{props.id}</code> was added to the config file.
          </>
        )
        : (
          <>
            Connection <code>{props.id}</code> was removed from the config file.
          </>
        )} The running Backend keeps its current connections until it restarts.
    </div>
  );
}
