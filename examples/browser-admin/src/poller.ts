// Live refresh: one request in flight at a time, a steady interval while things work, exponential
// backoff with jitter (or the server's Retry-After, whichever is longer) while they do not, and
// no polling at all in a hidden tab.

/** What the poller reports after each run. */
export type PollOutcome =
  | { ok: true; at: number }
  | { ok: false; at: number; error: unknown; retryInMs: number | null; failures: number };

/** Options of {@link Poller}. */
export interface PollerOptions {
  /** Delay between successful runs (ms). */
  intervalMs?: number;
  /** Largest delay after failures (ms). */
  maxBackoffMs?: number;
  /** A failure that retrying cannot fix (bad token): stop until `start()` is called again. */
  isFatal?: (error: unknown) => boolean;
  /** A failure's own retry hint (Retry-After), in ms. */
  retryAfterMs?: (error: unknown) => number | undefined;
  /** Called after every run. */
  onOutcome?: (outcome: PollOutcome) => void;
}

/**
 * The delay before retry number `failures` (1-based): `interval * 2^(failures-1)`, capped, with
 * ±20 % jitter so many consoles do not retry in lockstep; never shorter than `hintMs`.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./poller.ts";
 * backoffDelay(3, 2000, 30_000, undefined, () => 0.5); // 8000
 * ```
 */
export function backoffDelay(
  failures: number,
  intervalMs: number,
  maxMs: number,
  hintMs: number | undefined,
  random: () => number = Math.random,
): number {
  const base = Math.min(maxMs, intervalMs * 2 ** Math.max(0, failures - 1));
  const jittered = Math.round(base * (0.8 + 0.4 * random()));
  return Math.max(Math.min(jittered, maxMs), hintMs ?? 0);
}

/**
 * Runs `task` repeatedly (see the file comment for the schedule).
 *
 * @example
 * ```ts
 * import { Poller } from "./poller.ts";
 * const poller = new Poller((signal) => refresh(signal), { intervalMs: 2000 });
 * poller.start();
 * ```
 */
export class Poller {
  readonly #task: (signal: AbortSignal) => Promise<void>;
  readonly #intervalMs: number;
  readonly #maxBackoffMs: number;
  readonly #options: PollerOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #controller: AbortController | undefined;
  #running = false;
  #active = false;
  #failures = 0;
  #again = false;

  constructor(task: (signal: AbortSignal) => Promise<void>, options: PollerOptions = {}) {
    this.#task = task;
    this.#intervalMs = options.intervalMs ?? 2000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#options = options;
    document.addEventListener("visibilitychange", () => {
      if (this.#active && !document.hidden) this.refreshNow();
    });
  }

  /** True between `start()` and `stop()` (or a fatal error). */
  get active(): boolean {
    return this.#active;
  }

  /** Starts polling now (restarts after a fatal error). */
  start(): void {
    this.#active = true;
    this.#failures = 0;
    this.refreshNow();
  }

  /** Stops polling and aborts the request in flight. */
  stop(): void {
    this.#active = false;
    clearTimeout(this.#timer);
    this.#controller?.abort();
  }

  /** Runs now (after the run in flight, if any) instead of waiting for the timer. */
  refreshNow(): void {
    if (!this.#active) return;
    clearTimeout(this.#timer);
    if (this.#running) {
      this.#again = true;
      return;
    }
    void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    this.#again = false;
    const controller = new AbortController();
    this.#controller = controller;
    let delay = this.#intervalMs;
    try {
      await this.#task(controller.signal);
      this.#failures = 0;
      this.#options.onOutcome?.({ ok: true, at: Date.now() });
    } catch (error) {
      if (controller.signal.aborted) return;
      this.#failures += 1;
      const fatal = this.#options.isFatal?.(error) ?? false;
      if (fatal) this.#active = false;
      delay = backoffDelay(
        this.#failures,
        this.#intervalMs,
        this.#maxBackoffMs,
        this.#options.retryAfterMs?.(error),
      );
      this.#options.onOutcome?.({
        ok: false,
        at: Date.now(),
        error,
        retryInMs: fatal ? null : delay,
        failures: this.#failures,
      });
    } finally {
      this.#running = false;
    }
    if (!this.#active) return;
    if (this.#again) delay = 0;
    this.#timer = setTimeout(() => {
      // A hidden tab waits for visibilitychange instead of polling in the background.
      if (document.hidden) return;
      void this.#run();
    }, delay);
  }
}
