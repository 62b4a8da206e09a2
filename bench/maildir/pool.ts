// Why: the generator and the tree walk do many small file operations; a fixed number of them in flight
// at once keeps the disk busy without opening thousands of files together.

/** pool runs fn on every item, at most `limit` at a time. */
export async function pool<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
