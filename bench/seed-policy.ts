// Why: the benchmark reports seb's daily upload next to what the seed (the 2011 script) would upload for the
// same days. This simulates the seed's packing policy without running it: 250-file packs; changes found by
// path + mtime only (a rename is a deletion plus an addition); new files go first into packs holding fewer
// than 250 files, then into new packs; a pack that loses, gains or changes a file is rewritten whole.
//
// Pack bytes are the real `tar -c | zstd -3` size of the pack's files (mode `exact`, default), compressed
// anew whenever a pack is rewritten; or (mode `estimate`) Σ file size × the compression ratio measured
// for that file once, when it was first packed (initial packs and each day's additions are compressed
// for real once). gpg's own overhead (a few hundred bytes per pack) is left out in both modes.

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isMessagePath, walkTree } from './maildir/read.js'
import { q, sh } from './run.js'

/** Options of SeedPolicy. */
export interface SeedPolicyOptions {
  /** Files per pack (default 250, the seed's). */
  packFiles?: number
  /** How pack bytes are obtained (default `exact`). */
  sizing?: 'exact' | 'estimate'
  /** Count only message files (cur/, new/) as the seed's source (default false: every regular file). */
  messagesOnly?: boolean
  /** zstd pipelines run at once (default 2). */
  concurrency?: number
}

/** What one simulated run of the seed uploaded. */
export interface SeedRun {
  filesAdded: number
  filesChanged: number
  filesDeleted: number
  packsWritten: number
  packsRewritten: number
  packsDeleted: number
  bytesUploaded: number
  /** Σ of every pack's bytes after the run. */
  remoteBytes: number
  packs: number
  durationMs: number
}

interface Pack {
  id: number
  files: Set<string>
  bytes: number
}

interface FileState {
  mtimeMs: number
  size: number
  pack: number
  ratio: number
}

/** SeedPolicy holds the simulated state of the seed's backup of one tree (call initial(), then run()). */
export class SeedPolicy {
  private readonly files = new Map<string, FileState>()
  private readonly packs = new Map<number, Pack>()
  private nextId = 0
  private readonly packFiles: number
  private readonly sizing: 'exact' | 'estimate'
  private readonly concurrency: number

  /** root: the tree the simulated seed backs up. */
  constructor(
    private readonly root: string,
    private readonly opts: SeedPolicyOptions = {},
  ) {
    this.packFiles = opts.packFiles ?? 250
    this.sizing = opts.sizing ?? 'exact'
    this.concurrency = opts.concurrency ?? 2
  }

  private async scan() {
    const all = await walkTree(this.root)
    return this.opts.messagesOnly ? all.filter((e) => isMessagePath(e.path)) : all
  }

  /** The seed's first run: every file, in walk order, 250 to a pack. */
  async initial(): Promise<SeedRun> {
    return this.run()
  }

  /** One run of the seed after the tree changed: what it would upload. */
  async run(): Promise<SeedRun> {
    const t0 = performance.now()
    const now = await this.scan()
    const seen = new Set<string>()
    const dirty = new Set<number>()
    const added: { path: string; size: number; mtimeMs: number }[] = []
    let filesChanged = 0
    let filesDeleted = 0
    for (const e of now) {
      seen.add(e.path)
      const f = this.files.get(e.path)
      if (!f) added.push(e)
      else if (f.mtimeMs !== e.mtimeMs || f.size !== e.size) {
        filesChanged++
        f.mtimeMs = e.mtimeMs
        f.size = e.size
        f.ratio = Number.NaN
        dirty.add(f.pack)
      }
    }
    for (const [path, f] of this.files) {
      if (seen.has(path)) continue
      filesDeleted++
      this.packs.get(f.pack)!.files.delete(path)
      this.files.delete(path)
      dirty.add(f.pack)
    }
    // New files fill packs with fewer than packFiles files first (lowest id first), then new packs.
    const before = new Set(this.packs.keys())
    const open = [...this.packs.values()]
      .filter((p) => p.files.size < this.packFiles)
      .sort((a, b) => a.id - b.id)
    let cur = open.shift()
    for (const e of added) {
      while (cur && cur.files.size >= this.packFiles) cur = open.shift()
      if (!cur) {
        cur = { id: this.nextId++, files: new Set(), bytes: 0 }
        this.packs.set(cur.id, cur)
      }
      cur.files.add(e.path)
      this.files.set(e.path, { mtimeMs: e.mtimeMs, size: e.size, pack: cur.id, ratio: Number.NaN })
      dirty.add(cur.id)
    }
    let packsDeleted = 0
    for (const id of [...dirty]) {
      if (this.packs.get(id)!.files.size === 0) {
        this.packs.delete(id)
        dirty.delete(id)
        packsDeleted++
      }
    }
    await this.size([...dirty].map((id) => this.packs.get(id)!))
    let bytesUploaded = 0
    let packsWritten = 0
    let packsRewritten = 0
    for (const id of dirty) {
      bytesUploaded += this.packs.get(id)!.bytes
      if (before.has(id)) packsRewritten++
      else packsWritten++
    }
    let remoteBytes = 0
    for (const p of this.packs.values()) remoteBytes += p.bytes
    return {
      filesAdded: added.length,
      filesChanged,
      filesDeleted,
      packsWritten,
      packsRewritten,
      packsDeleted,
      bytesUploaded,
      remoteBytes,
      packs: this.packs.size,
      durationMs: performance.now() - t0,
    }
  }

  /** size sets the bytes of each rewritten pack (see the module comment for the two modes). */
  private async size(packs: Pack[]): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'seb-bench-seed-'))
    try {
      const compress = async (paths: string[], tag: string) => {
        const list = join(dir, tag)
        await writeFile(list, `${paths.join('\0')}\0`)
        const r = await sh(
          `tar -c -C ${q(this.root)} --null --verbatim-files-from -T ${q(list)} | zstd -3 -q | wc -c`,
        )
        return Number(r.stdout.trim())
      }
      const jobs: (() => Promise<void>)[] = []
      if (this.sizing === 'exact') {
        for (const p of packs) {
          jobs.push(async () => {
            p.bytes = await compress([...p.files], `p${p.id}`)
            this.setRatio([...p.files], p.bytes, false)
          })
        }
      } else {
        // Files never measured: compress them once per pack they joined, then estimate every pack.
        for (const p of packs) {
          const fresh = [...p.files].filter((f) => Number.isNaN(this.files.get(f)!.ratio))
          if (fresh.length)
            jobs.push(async () => this.setRatio(fresh, await compress(fresh, `n${p.id}`), true))
        }
      }
      let next = 0
      await Promise.all(
        Array.from({ length: Math.min(this.concurrency, jobs.length) }, async () => {
          while (next < jobs.length) await jobs[next++]!()
        }),
      )
      if (this.sizing === 'estimate') {
        for (const p of packs) {
          let b = 0
          for (const f of p.files) {
            const s = this.files.get(f)!
            b += s.size * s.ratio
          }
          p.bytes = Math.round(b)
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  private setRatio(paths: string[], compressed: number, onlyUnset: boolean) {
    let raw = 0
    for (const f of paths) raw += this.files.get(f)!.size
    const ratio = raw > 0 ? compressed / raw : 1
    for (const f of paths) {
      const s = this.files.get(f)!
      if (!onlyUnset || Number.isNaN(s.ratio)) s.ratio = ratio
    }
  }
}
