// Why: `seb unlock`: remove the locks of runs that died (stale: their process is provably gone, or the
// destination has not seen them rewritten for 30 minutes); with force, every lock.

import { RepositoryNotFoundError } from '../errors.js'
import { type ListedLock, pidNamespace, removeLocks } from '../repo/lock.js'
import { dataBase, MachineData } from '../repo/machine-data.js'
import type { Storage } from '../storage/storage.js'
import { repositoryExists } from './init.js'

/** unlock removes stale locks (every lock with `force`) and returns what it removed. */
export async function unlock(
  storage: Storage,
  o: { force?: boolean; dataBase?: string } = {},
): Promise<ListedLock[]> {
  if (!(await repositoryExists(storage))) throw new RepositoryNotFoundError(storage.location)
  const data = new MachineData(o.dataBase ?? dataBase())
  return removeLocks(storage, Boolean(o.force), { machine: await data.machineId(), pidns: pidNamespace() })
}
