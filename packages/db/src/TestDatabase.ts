/**
 * A fresh database per test file. With `TEST_DATABASE_URL`: a new database
 * on that server, dropped afterwards. Otherwise an in-memory PGlite loaded
 * from a template (a dump of a database already through `prepare`, e.g. the
 * core migrations), because initdb costs seconds and loading a dump well
 * under one. Templates are kept per process, and — when the caller names
 * everything `prepare` depends on (`fingerprint`) — on disk under
 * `<tmpdir>/streamspace-test-templates`, written atomically (rename), so a
 * new test process skips initdb too until the migrations, the inputs or
 * the PGlite version change (`STREAMSPACE_TEST_TEMPLATE_CACHE=0` turns the
 * disk cache off). A template can start from another (`from`), so that an
 * inner template survives changes that only invalidate the outer one.
 *
 * Each copy must start fast, so templates are made for it, in ways SQL
 * cannot tell apart: 1 MiB WAL segments instead of 16 MiB (initdb
 * `--wal-segsize`), 16 MB of shared buffers and 10 connection slots instead
 * of 128 MB and 100 (PGlite has one connection; the shared memory is
 * allocated and zeroed at every start), no template0/template1 (nothing
 * creates databases in a test PGlite; they were half the dump), and a
 * CHECKPOINT before the dump, which leaves nothing to replay. Together they
 * take a copy's start from ~1.3 s to ~0.5 s on a busy machine.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { PGlite } from "@electric-sql/pglite"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Database from "./Database.ts"
import * as PgliteAssets from "./internal/PgliteAssets.ts"
import * as PgliteClient from "./PgliteClient.ts"

export interface TestDatabaseOptions {
  /** Templates are cached per key: use one key per distinct `prepare`. */
  readonly key: string
  readonly prepare?: Effect.Effect<void, unknown, SqlClient.SqlClient>
  /**
   * Everything `prepare`'s outcome depends on (e.g. a hash of the migrations
   * it runs and of their inputs). When given, the PGlite template is also
   * cached on disk and reused by later processes while it is unchanged.
   */
  readonly fingerprint?: string
  /** A template this one starts from (its `prepare` runs first). */
  readonly from?: TestDatabaseOptions
}

/** Bump when the way templates are made changes, so that no older file is reused. */
const FORMAT = "3"

export const cacheDir = () => Path.join(Os.tmpdir(), "streamspace-test-templates")

const diskCacheEnabled = () => process.env["STREAMSPACE_TEST_TEMPLATE_CACHE"] !== "0"

const pgliteVersion = (() => {
  let version: string | undefined
  return () => {
    if (version !== undefined) return version
    try {
      const main = Bun.resolveSync("@electric-sql/pglite", import.meta.dir)
      version = (
        JSON.parse(Fs.readFileSync(Path.join(Path.dirname(main), "..", "package.json"), "utf8")) as { version: string }
      ).version
    } catch {
      version = "unknown"
    }
    return version
  }
})()

const sha = (...parts: ReadonlyArray<string>) =>
  createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 20)

/** The disk name of a template: its key and a hash of its whole chain of fingerprints. */
const fileOf = (options: TestDatabaseOptions): string | undefined => {
  const chain: Array<string> = []
  for (let o: TestDatabaseOptions | undefined = options; o; o = o.from) {
    if (o.prepare && o.fingerprint === undefined) return undefined
    chain.push(o.key, o.fingerprint ?? "")
  }
  return Path.join(cacheDir(), `${options.key}-${sha(FORMAT, pgliteVersion(), ...chain)}.tar`)
}

/** A tar written by `dumpDataDir` (ustar magic at offset 257), not a torn or foreign file. */
const looksLikeTar = (bytes: Uint8Array) =>
  bytes.length > 1024 && new TextDecoder().decode(bytes.subarray(257, 262)) === "ustar"

const readCached = async (file: string): Promise<Blob | undefined> => {
  try {
    const bytes = await Bun.file(file).bytes()
    if (looksLikeTar(bytes)) return new Blob([bytes])
    Fs.rmSync(file, { force: true })
  } catch {
    // absent or unreadable: made again below
  }
  return undefined
}

/** Writes atomically (another process may read or write the same name at once); keeps the newest few per key. */
const writeCached = async (file: string, key: string, blob: Blob) => {
  try {
    Fs.mkdirSync(Path.dirname(file), { recursive: true })
    const temporary = `${file}.${process.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`
    await Bun.write(temporary, blob)
    Fs.renameSync(temporary, file)
    const sameKey = new RegExp(`^${key.replace(/[^A-Za-z0-9]/g, "\\$&")}-[0-9a-f]{20}\\.tar$`)
    const siblings = Fs.readdirSync(Path.dirname(file))
      .filter((name) => sameKey.test(name))
      .map((name) => Path.join(Path.dirname(file), name))
      .filter((path) => path !== file)
      .map((path) => ({ path, at: Fs.statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
      .sort((a, b) => b.at - a.at)
    for (const old of siblings.slice(3)) Fs.rmSync(old.path, { force: true })
  } catch {
    // A cache that cannot be written only costs the next process the time to make the template.
  }
}

/** Settings and statements that make a copy start fast (each statement alone: none may run in a transaction block). */
const quickStart = [
  "ALTER SYSTEM SET shared_buffers = '16MB'",
  "ALTER SYSTEM SET max_connections = 10",
  "ALTER SYSTEM SET min_wal_size = '2MB'",
  "ALTER DATABASE template0 IS_TEMPLATE false",
  "DROP DATABASE template0",
  "ALTER DATABASE template1 IS_TEMPLATE false",
  "DROP DATABASE template1"
]

/** initdb, made to start fast. */
const emptyCluster = async (): Promise<Blob> => {
  const db = await PGlite.create({
    dataDir: "memory://",
    ...(await PgliteAssets.load()),
    initDbStartParams: ["--wal-segsize=1"]
  })
  try {
    for (const statement of quickStart) await db.exec(statement)
    return await db.dumpDataDir("none")
  } finally {
    await db.close()
  }
}

const makeTemplate = async (options: TestDatabaseOptions): Promise<Blob> => {
  const start = options.from ? await template(options.from) : await emptyCluster()
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const { client, db } = yield* PgliteClient.make({ dataDir: "memory://", loadDataDir: start })
        if (options.prepare) yield* Effect.provideService(options.prepare, SqlClient.SqlClient, client)
        return yield* Effect.promise(async () => {
          await db.exec("CHECKPOINT")
          return db.dumpDataDir("none")
        })
      })
    ).pipe(Effect.provide(Reactivity.layer))
  )
}

const templates = new Map<string, Promise<Blob>>()

const template = (options: TestDatabaseOptions): Promise<Blob> => {
  const file = diskCacheEnabled() ? fileOf(options) : undefined
  const id = file ?? options.key
  let t = templates.get(id)
  if (!t) {
    t = (async () => {
      const cached = file ? await readCached(file) : undefined
      if (cached) return cached
      const made = await makeTemplate(options)
      if (file) await writeCached(file, options.key, made)
      return made
    })()
    templates.set(id, t)
    t.catch(() => templates.delete(id))
  }
  return t
}

export const databaseName = () => `ss_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`

/** Creates a database on the server of `serverUrl`; drops it (disconnecting everyone) when the scope closes. */
export const scopedDatabase = (serverUrl: string) =>
  Effect.gen(function* () {
    const name = databaseName()
    const admin = yield* PgClient.make({ url: Redacted.make(serverUrl), maxConnections: 1 }).pipe(
      Effect.provide(Reactivity.layer)
    )
    yield* Effect.acquireRelease(admin.unsafe(`CREATE DATABASE ${name}`), () =>
      admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(Effect.ignore)
    )
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    return url.toString()
  })

/** Every `prepare` of the chain, innermost first. */
const prepareAll = (options: TestDatabaseOptions): Effect.Effect<void, unknown, SqlClient.SqlClient> =>
  Effect.zipRight(options.from ? prepareAll(options.from) : Effect.void, options.prepare ?? Effect.void)

const postgresLayer = (serverUrl: string, options: TestDatabaseOptions) =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const url = yield* scopedDatabase(serverUrl)
      const layer = Database.postgres(Redacted.make(url))
      return Layer.effectDiscard(prepareAll(options)).pipe(Layer.provideMerge(layer))
    })
  )

const pgliteLayer = (options: TestDatabaseOptions) =>
  Layer.unwrapEffect(
    Effect.promise(() => template(options)).pipe(
      Effect.map((blob) => Database.pglite({ dataDir: "memory://", loadDataDir: blob }))
    )
  )

export const layer = (
  options: TestDatabaseOptions
): Layer.Layer<SqlClient.SqlClient | Database.DatabaseInfo, unknown> => {
  const url = process.env["TEST_DATABASE_URL"]
  return url ? postgresLayer(url, options) : pgliteLayer(options)
}
