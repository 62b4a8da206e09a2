// Why: "look up, or create and remember" — the one map idiom the index code repeats.

/** getOrCreate returns map.get(key), first storing make() there when the key is absent. */
export function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key)
  if (v === undefined) {
    v = make()
    map.set(key, v)
  }
  return v
}
