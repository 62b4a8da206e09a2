// Why: `seb --version`, `seb -V` and `seb version` print the version of package.json, the one place it
// is written (read at run time: the built files sit in dist/src/cli, three folders below it).
import { readFileSync } from 'node:fs'

/** sebVersion returns package.json's version, or 'unknown' when the file cannot be read. */
export function sebVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown
    }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}
