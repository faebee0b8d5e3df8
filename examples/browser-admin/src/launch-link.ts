// A launch link such as `npm start` prints: `http://127.0.0.1:8790/#relay=<url>&token=<token>`.
// The fragment never leaves the browser (it is not part of any request). The console reads it
// once on load and removes it from the address bar and the history entry at once, so the token
// is neither left in the URL nor logged; it is then only sent as the relay's bearer header.

/** The connection a launch link carries. */
export interface LaunchLink {
  relay: string | null;
  token: string;
}

/**
 * Reads `#relay=...&token=...` from the current URL and removes the fragment with
 * `history.replaceState`. Returns null (and leaves the URL alone) when the fragment has no token.
 * @example
 * ```ts
 * const link = takeLaunchLink(); // { relay: "http://127.0.0.1:8787", token: "dev-admin-token" }
 * ```
 */
export function takeLaunchLink(): LaunchLink | null {
  const hash = window.location.hash;
  if (hash.length <= 1) return null;
  const params = new URLSearchParams(hash.slice(1));
  const token = params.get("token")?.trim() ?? "";
  if (token === "") return null;
  const { pathname, search } = window.location;
  window.history.replaceState(window.history.state, "", `${pathname}${search}`);
  return { relay: params.get("relay"), token };
}
