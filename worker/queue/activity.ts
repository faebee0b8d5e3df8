// The queue's last hour, minute by minute: delivered events, failed delivery attempts and
// dead-lettered events per minute. They live in `meta` as a ring of 60 slots (minute `m` in slot
// `m % 60`) and are counted in the transaction that records the outcome, so the console can draw
// the last hour without a time-series store. Minutes more than an hour old are zeroed as the ring
// moves on and never shown.
import type { ActivityCounts } from "../admin-api.ts";

/** How many minutes the ring keeps (the last hour). */
export const ACTIVITY_MINUTES = 60;
/** The width of one slot. */
export const MINUTE_MS = 60_000;

/** The counts the ring keeps per minute. */
export type ActivityKind = "delivered" | "failed" | "deadLettered";
const kinds: readonly ActivityKind[] = ["delivered", "failed", "deadLettered"];

/**
 * The ring as `meta` stores it: `minute` is the newest minute (`ms / MINUTE_MS`) it has moved to,
 * and each list holds minute `m` at index `m % ACTIVITY_MINUTES` for `m` in `(minute - 60, minute]`.
 */
export interface ActivityRing extends Record<ActivityKind, number[]> {
  minute: number;
}

/** A ring that has counted nothing. */
export function emptyActivity(): ActivityRing {
  const zeros = () => new Array<number>(ACTIVITY_MINUTES).fill(0);
  return { minute: 0, delivered: zeros(), failed: zeros(), deadLettered: zeros() };
}

const slotOf = (minute: number) => minute % ACTIVITY_MINUTES;
/** Whether the ring's slot of `minute` holds that minute (not an older one, not a future one). */
const holds = (ring: ActivityRing, minute: number) =>
  minute <= ring.minute && minute > ring.minute - ACTIVITY_MINUTES;

/** A copy of the ring moved on to `minute`: the slots it reuses (older minutes) start at zero. */
function advance(ring: ActivityRing, minute: number): ActivityRing {
  // Copied slot by slot: a stored ring of another length still reads as 60 slots.
  const next = emptyActivity();
  next.minute = Math.max(ring.minute, minute);
  for (const kind of kinds) {
    for (let m = next.minute - ACTIVITY_MINUTES + 1; m <= next.minute; m++) {
      if (holds(ring, m)) next[kind][slotOf(m)] = ring[kind]?.[slotOf(m)] ?? 0;
    }
  }
  return next;
}

/**
 * Adds one outcome's counts to the minute of `at` (the attempt's end, ms). A time more than an
 * hour before the newest minute counted is dropped (a clock that stepped back by that much).
 */
export function countActivity(
  ring: ActivityRing,
  at: number,
  counts: Partial<Record<ActivityKind, number>>,
): ActivityRing {
  const minute = Math.floor(at / MINUTE_MS);
  const next = advance(ring, minute);
  if (!holds(next, minute)) return next;
  const slot = slotOf(minute);
  for (const kind of kinds) next[kind][slot] = (next[kind][slot] ?? 0) + (counts[kind] ?? 0);
  return next;
}

/** The last hour at `now` (the relay's clock), oldest minute first, as the admin API shows it. */
export function activityView(ring: ActivityRing, now: number): ActivityCounts {
  const first = Math.floor(now / MINUTE_MS) - ACTIVITY_MINUTES + 1;
  const series = (kind: ActivityKind) =>
    Array.from({ length: ACTIVITY_MINUTES }, (_, i) =>
      holds(ring, first + i) ? (ring[kind]?.[slotOf(first + i)] ?? 0) : 0,
    );
  return {
    now,
    start: first * MINUTE_MS,
    minuteMs: MINUTE_MS,
    delivered: series("delivered"),
    failed: series("failed"),
    deadLettered: series("deadLettered"),
  };
}

/**
 * Sums the views of an endpoint's partitions minute by minute, as of `now`. Each view is placed by
 * its own `start`, so partitions read on either side of a minute's turn still line up; a minute
 * that is no longer in the last hour at `now` drops out.
 */
export function mergeActivity(views: readonly ActivityCounts[], now: number): ActivityCounts {
  const merged = activityView(emptyActivity(), now);
  for (const view of views) {
    const offset = Math.round((view.start - merged.start) / MINUTE_MS);
    for (const kind of kinds) {
      view[kind].forEach((n, i) => {
        const at = offset + i;
        if (at >= 0 && at < ACTIVITY_MINUTES) merged[kind][at] = (merged[kind][at] ?? 0) + n;
      });
    }
  }
  return merged;
}
