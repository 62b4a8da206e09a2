// Why: every cancellable operation in seb takes an AbortSignal and must settle promptly with the
// signal's own reason when it fires. These two helpers are that rule, written once.

/** abortReason returns the signal's reason as the value to reject with (an AbortError if it has none). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError')
}

/**
 * raceAbort settles with `work`, or rejects with the signal's reason as soon as it aborts; `onAbort`
 * runs once on abort so the caller can tear down the underlying operation.
 */
export function raceAbort<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort?: () => void,
): Promise<T> {
  if (!signal) return work
  if (signal.aborted) {
    onAbort?.()
    work.catch(() => {})
    return Promise.reject(abortReason(signal))
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort?.()
      work.catch(() => {})
      reject(abortReason(signal))
    }
    signal.addEventListener('abort', abort, { once: true })
    work.then(
      (v) => {
        signal.removeEventListener('abort', abort)
        resolve(v)
      },
      (e) => {
        signal.removeEventListener('abort', abort)
        reject(signal.aborted ? abortReason(signal) : e)
      },
    )
  })
}
