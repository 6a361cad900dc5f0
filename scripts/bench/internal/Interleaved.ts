/**
 * Micro-benchmarks whose variants run interleaved batch by batch, so that
 * drift on a shared machine hits every variant alike.
 */

/** Runs `batch` operations starting at operation number `first`. */
export type Batch = (first: number) => Promise<unknown>

export interface Plan {
  /** Operations per batch. */
  readonly batch: number
  /** Measured batches per variant. */
  readonly batches: number
  /** Unmeasured batches per variant first (WASM and the JIT need a long warm-up). */
  readonly warmupBatches: number
}

/** The middle value (the upper one of an even count). */
export const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/**
 * µs per operation for each variant: batches rotate through the variants
 * (each batch gets fresh operation numbers); the median over batches of the
 * mean within each batch.
 */
export const measure = async (variants: ReadonlyArray<Batch>, plan: Plan): Promise<Array<number>> => {
  let n = 0
  for (let b = 0; b < plan.warmupBatches; b++) for (const v of variants) await v((n += plan.batch))
  const times = variants.map(() => [] as Array<number>)
  for (let b = 0; b < plan.batches; b++) {
    for (const [k, v] of variants.entries()) {
      const start = performance.now()
      await v((n += plan.batch))
      times[k]!.push(((performance.now() - start) * 1000) / plan.batch)
    }
  }
  return times.map(median)
}
