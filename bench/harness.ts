// Side-by-side measurement: both sides of a comparison run in the same process, in alternating
// order, round after round, so drift on a noisy machine (another job, thermal, GC) hits both.
// The ratio is taken per round (adjacent runs) and the median over rounds is reported.

/** One side of a comparison: an operation and how much work one call of it does. */
export interface Side {
  /** One operation (sync or async). */
  op: () => unknown;
  /** Work units (bytes, events...) done by one `op`, for throughput in units/s. */
  unitsPerOp: number;
}

export interface SideResult {
  /** Operations per second, one entry per round. */
  opsPerSecond: number[];
  /** Median operations per second. */
  median: number;
  /** Median units per second. */
  unitsPerSecond: number;
}

export interface ComparisonResult {
  ours: SideResult;
  baseline: SideResult;
  /** ours/baseline per round. */
  ratios: number[];
  /** Median of the per-round ratios. */
  ratio: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

type GcHost = { gc?: () => void; Bun?: { gc(force: boolean): void } };

/**
 * Collects garbage before each timed slice when the runtime allows it (node --expose-gc, Bun), so
 * one side does not pay for the other side's garbage.
 */
export function collectGarbage(): void {
  const host = globalThis as GcHost;
  if (host.gc) host.gc();
  else host.Bun?.gc(true);
}

/** Calls `op` until `sliceMs` has passed (at least `minOps` times); returns ops/s. */
async function timeSlice(op: () => unknown, sliceMs: number, minOps = 3): Promise<number> {
  collectGarbage();
  // Probe once: async ops are awaited, sync ops run in a tight loop without `await` overhead.
  const probe = op();
  const isAsync = probe instanceof Promise;
  if (isAsync) await probe;
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  if (isAsync) {
    do {
      await op();
      ops++;
      elapsed = performance.now() - start;
    } while (elapsed < sliceMs || ops < minOps);
  } else {
    do {
      op();
      ops++;
      elapsed = performance.now() - start;
    } while (elapsed < sliceMs || ops < minOps);
  }
  return (ops * 1000) / elapsed;
}

function summarise(opsPerSecond: number[], unitsPerOp: number): SideResult {
  const middle = median(opsPerSecond);
  return { opsPerSecond, median: middle, unitsPerSecond: middle * unitsPerOp };
}

/**
 * Runs `rounds` rounds of one measurement per side, the side that goes first alternating every
 * round (so drift in machine load hits both), and summarises rates and per-round ratios.
 */
async function interleave(
  measureOurs: () => Promise<number>,
  measureBaseline: () => Promise<number>,
  rounds: number,
  [oursUnits, baselineUnits]: [number, number],
): Promise<ComparisonResult> {
  const oursRuns: number[] = [];
  const baselineRuns: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let o: number;
    let b: number;
    if (round % 2 === 0) {
      o = await measureOurs();
      b = await measureBaseline();
    } else {
      b = await measureBaseline();
      o = await measureOurs();
    }
    oursRuns.push(o);
    baselineRuns.push(b);
    ratios.push(o / b);
  }
  return {
    ours: summarise(oursRuns, oursUnits),
    baseline: summarise(baselineRuns, baselineUnits),
    ratios,
    ratio: median(ratios),
  };
}

/**
 * Micro comparison: a warm-up slice per side, then `rounds` rounds of one `sliceMs` slice per
 * side, the side that goes first alternating every round.
 */
export async function compareSlices(
  ours: Side,
  baseline: Side,
  { rounds, sliceMs }: { rounds: number; sliceMs: number },
): Promise<ComparisonResult> {
  await timeSlice(ours.op, sliceMs);
  await timeSlice(baseline.op, sliceMs);
  return interleave(
    () => timeSlice(ours.op, sliceMs),
    () => timeSlice(baseline.op, sliceMs),
    rounds,
    [ours.unitsPerOp, baseline.unitsPerOp],
  );
}

/** One side of a macro comparison. */
export interface RunSide {
  /** One whole timed run; resolves with its own duration in ms (setup left out). */
  run: () => Promise<number>;
  /** A shorter untimed run to warm the JIT and the connections. */
  warmup: () => Promise<unknown>;
  /** Work units (events) of one `run`. */
  units: number;
}

/**
 * Macro comparison: one warm-up per side, then `rounds` rounds of one whole run per side,
 * alternating which side goes first. Runs per second are reported (units/s = runs/s × units).
 */
export async function compareRuns(
  ours: RunSide,
  baseline: RunSide,
  { rounds }: { rounds: number },
): Promise<ComparisonResult> {
  const timed = async (side: RunSide): Promise<number> => {
    collectGarbage();
    return 1000 / (await side.run());
  };
  await ours.warmup();
  await baseline.warmup();
  return interleave(
    () => timed(ours),
    () => timed(baseline),
    rounds,
    [ours.units, baseline.units],
  );
}
