// What a failed delivery attempt leaves in storage, row by row, as the core retry policy
// (`decideRetry`, the one RetryingSink applies) decides: delivered (the part of a batch that got
// through), retry at a time, or dead letter with a reason; and the retry strategy's persisted
// streak, and the attempt's minute of the last hour. The Durable Object calls it inside one
// transaction.
import { strategyFor } from "../../src/endpoint/endpoint.ts";
import type { EncodedEvent } from "../../src/event/envelope.ts";
import type { EndpointMetricsSnapshot } from "../../src/sinks/metrics.ts";
import {
  type DeadLetterReason,
  decideRetry,
  deliveredBefore,
  describeFailure,
  type RetryDecision,
  sensitiveValues,
} from "../../src/sinks/retry-policy.ts";
import type { RelayEndpoint } from "../env.ts";
import { countActivity } from "./activity.ts";
import { addAttemptCounters, recordDelivered } from "./delivery.ts";
import type { EventRow, QueueMeta } from "./store.ts";

/** One failed attempt: the batch tried, what it was sent as, and how it went. */
interface FailedAttempt {
  config: RelayEndpoint;
  batch: readonly EventRow[];
  events: readonly EncodedEvent[];
  failure: unknown;
  attempt: EndpointMetricsSnapshot;
  startedAt: number;
  done: number;
}

/** What a failure recorded: the rows dead-lettered and the failure as stored. */
interface RecordedFailure {
  dead: { seq: number; reason: DeadLetterReason }[];
  message: string;
}

/** Stores the outcome of a failed attempt in the rows and `meta`. Run it inside a transaction. */
export function recordFailure(
  sql: SqlStorage,
  m: QueueMeta,
  input: FailedAttempt,
): RecordedFailure {
  const { config, batch, failure, done } = input;
  const delivered = deliveredBefore(failure, batch.length);
  const remaining = batch.slice(delivered);
  const remainingEvents = input.events.slice(delivered);
  const sensitive = sensitiveValues(config);
  const dead: RecordedFailure["dead"] = [];

  m.counters = addAttemptCounters(m.counters, input.attempt);
  recordDelivered(sql, m, batch.slice(0, delivered), done);
  // The core strategy brought to the persisted streak and told about this failure, once per
  // attempt (the policy asks only when the failure is not final). Its clock is this attempt's
  // end, so the state it hands back is exactly what the next pass restores.
  let answer: number | "drop" | undefined;
  const backoff = (): number | "drop" => {
    if (answer !== undefined) return answer;
    const strategy = strategyFor<EncodedEvent>(config, { now: () => done });
    strategy.restore({ failures: m.failures, lastFailureAt: m.lastFailureAt });
    const drop = strategy.failure(remainingEvents, failure);
    ({ failures: m.failures, lastFailureAt: m.lastFailureAt } = strategy.snapshot());
    answer = drop ? "drop" : strategy.proceed(remainingEvents);
    if (answer !== "drop") m.holdUntil = done + answer;
    return answer;
  };
  const decisions = remaining.map((row): [EventRow, RetryDecision] => [
    row,
    decideRetry({
      maxAttempts: config.maxAttempts,
      maxAge: config.maxAge,
      attempts: row.attempts + 1,
      firstAttemptAt: row.first_attempt_at ?? input.startedAt,
      error: failure,
      now: done,
      backoff,
      sensitive,
    }),
  ]);
  const status = decisions[0]?.[1].status ?? null;
  const message = decisions[0]?.[1].message ?? describeFailure(failure, sensitive);
  m.lastStatus = status;
  m.lastError = message;
  for (const [row, decision] of decisions) {
    if (decision.retry) {
      sql.exec(
        "UPDATE events SET next_attempt_at = ?, last_status = ?, last_error = ? WHERE seq = ?",
        decision.at,
        status,
        message,
        row.seq,
      );
      continue;
    }
    dead.push({ seq: row.seq, reason: decision.reason });
    sql.exec(
      `UPDATE events SET state = 'dead', dead_at = ?, reason = ?, last_status = ?, last_error = ?
       WHERE seq = ?`,
      done,
      decision.reason,
      status,
      message,
      row.seq,
    );
  }
  // The endpoint is gone: stop until an operator resumes it.
  if (status === 410 && dead.some((d) => d.reason === "final")) {
    m.paused = true;
    m.pauseReason = "410 Gone";
  }
  m.counters.deadLettered += dead.length;
  m.activity = countActivity(m.activity, done, { failed: 1, deadLettered: dead.length });
  return { dead, message };
}
