// Why: the in-memory backend stands in for real ones in engine tests, so it must pass the same suite.
import { MemoryStorage } from '../../src/storage/memory.js'
import { runStorageSuite } from './suite.js'

runStorageSuite('memory', async () => new MemoryStorage())
