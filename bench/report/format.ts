// Why: every table of the benchmark shows bytes, seconds, CPU time and memory in the same units, so that
// numbers pasted into docs/benchmarks.md from different runs read alike.

/** fmtBytes formats a byte count in binary units (KiB, MiB, GiB). */
export function fmtBytes(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '—'
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}

/** fmtS formats milliseconds as seconds (null or undefined: unknown). */
export function fmtS(ms: number | null | undefined): string {
  if (ms === undefined || ms === null) return '—'
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`
}

/** fmtRss formats a peak RSS in KiB as MiB (null or undefined: unknown). */
export function fmtRss(k: number | null | undefined): string {
  return k === null || k === undefined ? '—' : `${(k / 1024).toFixed(0)} MiB`
}

/** fmtCores formats CPU time over wall time as a number of cores busy, e.g. "1.62". */
export function fmtCores(cpuMs: number | null | undefined, wallMs: number): string {
  return cpuMs === null || cpuMs === undefined || wallMs <= 0 ? '—' : (cpuMs / wallMs).toFixed(2)
}

/** ratio formats a / b as "1.23×" (unknown or zero b: "—"). */
export function ratio(a: number | null | undefined, b: number | null | undefined): string {
  if (a === undefined || a === null || b === undefined || b === null || b === 0) return '—'
  return `${(a / b).toFixed(2)}×`
}
