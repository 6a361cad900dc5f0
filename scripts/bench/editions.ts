/**
 * `bun run bench editions`: what an edition costs. For core, community and
 * enterprise: the executable (`bun run build:edition`) and the image
 * (`bun run image`, buildah; or the staged root filesystem without it) —
 * unpacked and as its gzip layer — with the core / enterprise ratio (the
 * migration plan's target: core ≤ 70 % of the all-in-one build). Then
 * start-up to the first 200 from /readyz, on embedded PGlite, first boot
 * (empty data directory: migrations, plugin installs) and restart, and the
 * resident memory (VmRSS) after a few idle seconds: core with no plugin,
 * enterprise with 0, 5 and all plugins enabled (`STREAMSPACE_PLUGINS`).
 * Medians of `BENCH_REPEATS` (3) starts. Timings need an idle machine.
 */
import * as Editions from "@streamspace/editions"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Image from "../image.ts"

const REPEATS = Number(process.env["BENCH_REPEATS"] ?? 3)
const IDLE_MS = 3000
const FIVE = ["slack", "teams", "discord", "pagerduty", "email-smtp"]

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? Number.NaN
}

const freePort = () => {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() })
  const port = probe.port
  probe.stop(true)
  return port
}

const rssBytes = (pid: number) => {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(Fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
  return Number(kb ?? Number.NaN) * 1024
}

interface Boot {
  readonly readyMs: number
  readonly rss: number
}

/** Spawns the executable, polls /readyz every 10 ms until 200, idles, reads VmRSS, stops it with SIGTERM. */
const boot = async (executable: string, dataDir: string, plugins: ReadonlyArray<string>): Promise<Boot> => {
  const port = freePort()
  const started = performance.now()
  const proc = Bun.spawn([executable], {
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: "",
      STREAMSPACE_DATA_DIR: dataDir,
      STREAMSPACE_PLUGINS: plugins.join(","),
      STREAMSPACE_ADMIN_PASSWORD: "bench-editions-pw-7",
      STREAMSPACE_LOG_LEVEL: "warning",
      STREAMSPACE_PARENT_PID: String(process.pid)
    },
    stdout: "ignore",
    stderr: "pipe"
  })
  try {
    for (;;) {
      if (proc.exitCode !== null)
        throw new Error(`${executable} exited ${proc.exitCode}: ${await new Response(proc.stderr).text()}`)
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false
      )
      if (ok) break
      if (performance.now() - started > 120_000) throw new Error(`${executable} not ready after 120 s`)
      await Bun.sleep(10)
    }
    const readyMs = performance.now() - started
    await Bun.sleep(IDLE_MS)
    return { readyMs, rss: rssBytes(proc.pid) }
  } finally {
    proc.kill("SIGTERM")
    await proc.exited
  }
}

interface StartRow {
  readonly label: string
  readonly firstMs: number
  readonly restartMs: number
  readonly rss: number
}

const startRow = async (label: string, executable: string, plugins: ReadonlyArray<string>, work: string) => {
  const first: Array<number> = []
  const again: Array<number> = []
  const rss: Array<number> = []
  for (let i = 0; i < REPEATS; i++) {
    const dataDir = Path.join(work, `data-${label.replace(/\W+/g, "-")}-${i}`)
    Fs.rmSync(dataDir, { recursive: true, force: true })
    first.push((await boot(executable, dataDir, plugins)).readyMs)
    const restart = await boot(executable, dataDir, plugins)
    again.push(restart.readyMs)
    rss.push(restart.rss)
    Fs.rmSync(dataDir, { recursive: true, force: true })
  }
  return { label, firstMs: median(first), restartMs: median(again), rss: median(rss) }
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
const ratio = (a: number, b: number) => (a / b).toFixed(3)

export const run = async () => {
  const work = Path.join(import.meta.dir, "../../dist/bench-editions")
  Fs.mkdirSync(work, { recursive: true })
  const names = ["core", "community", "enterprise"].filter((n) => n in Editions.editions)
  const missing = ["core", "community", "enterprise"].filter((n) => !(n in Editions.editions))
  if (missing.length > 0) console.log(`not measured (no such edition in @streamspace/editions): ${missing.join(", ")}`)
  const images: Array<Image.ImageResult> = []
  for (const edition of names) {
    const executable = Path.join(work, `streamspace-${edition}`)
    Image.buildExecutable(edition, executable)
    images.push(Image.image({ edition, out: Path.join(work, "image"), executable }))
  }
  const runtime = Fs.statSync(Fs.realpathSync(process.execPath)).size
  console.log(`\n### Size (builder: ${images[0]?.builder ?? "none"}; the Bun runtime alone is ${mib(runtime)})\n`)
  console.log("| edition | plugins | executable | image unpacked | image compressed (gzip layer) |")
  console.log("| --- | ---: | ---: | ---: | ---: |")
  for (const i of images) {
    const count = (Editions.editions as Record<string, ReadonlyArray<unknown>>)[i.edition]?.length ?? 0
    console.log(
      `| ${i.edition} | ${count} | ${mib(i.executableBytes)} | ${mib(i.rootfsBytes)} | ${mib(i.compressedBytes)} |`
    )
  }
  const core = images.find((i) => i.edition === "core")
  const enterprise = images.find((i) => i.edition === "enterprise")
  if (core && enterprise)
    console.log(
      `\ncore / enterprise: executable ${ratio(core.executableBytes, enterprise.executableBytes)}, image unpacked ${ratio(core.rootfsBytes, enterprise.rootfsBytes)}, image compressed ${ratio(core.compressedBytes, enterprise.compressedBytes)} (target ≤ 0.70); without the Bun runtime: executable ${ratio(core.executableBytes - runtime, enterprise.executableBytes - runtime)}`
    )

  const all = (Editions.editions as Record<string, ReadonlyArray<{ id: string }>>)["enterprise"]?.map((p) => p.id) ?? []
  const rows: Array<StartRow> = []
  if (core) rows.push(await startRow("core, 0 plugins", core.executable, [], work))
  if (enterprise) {
    rows.push(await startRow("enterprise, 0 enabled", enterprise.executable, [], work))
    rows.push(await startRow("enterprise, 5 enabled", enterprise.executable, FIVE, work))
    rows.push(await startRow(`enterprise, all ${all.length} enabled`, enterprise.executable, all, work))
  }
  console.log(`\n### Start-up to /readyz and idle memory (embedded PGlite, median of ${REPEATS})\n`)
  console.log("| build, plugins | first boot | restart | RSS at idle |")
  console.log("| --- | ---: | ---: | ---: |")
  for (const r of rows)
    console.log(`| ${r.label} | ${r.firstMs.toFixed(0)} ms | ${r.restartMs.toFixed(0)} ms | ${mib(r.rss)} |`)
  const base = rows[0]
  const full = rows[rows.length - 1]
  if (base && full && base !== full)
    console.log(
      `\n${base.label} / ${full.label}: first boot ${ratio(base.firstMs, full.firstMs)}, restart ${ratio(base.restartMs, full.restartMs)}, RSS ${ratio(base.rss, full.rss)}`
    )
}
