// Why: core tests build commits and states with snapshots whose counts do not matter; one maker keeps
// the SnapshotInfo shape in one place.
import type { SnapshotInfo } from '../../src/core/model.js'

/** snapshotInfo is a snapshot numbered `seq`, with a fixed id, time and host and zero counts. */
export function snapshotInfo(seq: number): SnapshotInfo {
  return {
    seq,
    id: `s${seq}`,
    time: new Date(seq * 1000).toISOString(),
    host: 'h',
    source: '/m',
    files: 0,
    bytes: 0,
    uploaded: 0,
    packsWritten: 0,
  }
}
