/**
 * `bun run image <edition> [--executable file] [--out dir] [--rootfs-only]`:
 * the container image of an edition, built without a daemon.
 *
 * 1. The edition executable (`bun run build:edition <edition>`, or the one
 *    given with `--executable`).
 * 2. A root filesystem staged from this machine's own files: the executable
 *    at /usr/local/bin/streamspace, the glibc libraries it links (from
 *    `ldd`), the CA bundle, nsswitch.conf, /etc/passwd and /etc/group with
 *    `nonroot` (65532), an empty /data owned by it and the mount points a
 *    runtime needs. No shell, no package manager, no Xvnc: effectively a
 *    distroless image, made here because no base image can be pulled.
 * 3. With buildah (Debian's, as root, `vfs` storage under `<out>/buildah`,
 *    emptied first; no daemon): a `scratch` container, the root filesystem copied in through
 *    `buildah mount` (ownership kept), configured (user, entrypoint, volume,
 *    HEALTHCHECK, stop signal) and committed in Docker format (OCI has no
 *    HEALTHCHECK), then written as `<out>/streamspace-<edition>.tar`
 *    (`docker load` / `podman load`) and as an OCI layout whose gzip layer is
 *    the size a registry stores. Without buildah the staged root filesystem
 *    and its gzip tarball are measured instead, and the output says so.
 *
 * `--rootfs-only` stops after step 2 (the Dockerfile's build stage uses it).
 * Exported functions are used by `bun run bench editions` and test/deploy.
 */
import * as Editions from "@streamspace/editions"
import * as Fs from "node:fs"
import * as Path from "node:path"

const root = Path.join(import.meta.dir, "..")
export const version = (JSON.parse(Fs.readFileSync(Path.join(root, "package.json"), "utf8")) as { version: string })
  .version

/** Where the executable sits in the image; the Kubernetes Deployment's `command` names it. */
export const executablePath = "/usr/local/bin/streamspace"
export const nonrootId = 65532
export const dataDir = "/data"

/** The image's environment: listen on every interface, data on the volume. */
export const imageEnv: Readonly<Record<string, string>> = {
  HOST: "0.0.0.0",
  PORT: "8080",
  STREAMSPACE_DATA_DIR: dataDir
}

export const imageName = (edition: string) => `streamspace/streamspace-${edition}`

export interface ImageResult {
  readonly edition: string
  readonly executable: string
  readonly executableBytes: number
  readonly rootfs: string
  /** Every file of the root filesystem, as unpacked on a node. */
  readonly rootfsBytes: number
  /** The gzip layer (what a registry stores and a node pulls). */
  readonly compressedBytes: number
  /** "buildah" when an image was committed, "staged" when only the root filesystem was measured. */
  readonly builder: "buildah" | "staged"
  readonly archive: string | undefined
  readonly ociLayout: string | undefined
  readonly reference: string
}

const run = (cmd: ReadonlyArray<string>, what: string): string => {
  // Docker format for every buildah step: OCI image configs have no HEALTHCHECK.
  const proc = Bun.spawnSync([...cmd], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, BUILDAH_FORMAT: "docker" }
  })
  if (proc.exitCode !== 0)
    throw new Error(`${what} failed (${cmd.join(" ")}): ${proc.stderr.toString().trim() || proc.stdout.toString()}`)
  return proc.stdout.toString()
}

export const buildExecutable = (edition: string, outfile: string): void => {
  const proc = Bun.spawnSync(["bun", "scripts/build-edition.ts", edition, "--outfile", outfile], {
    cwd: root,
    stdout: "inherit",
    stderr: "inherit"
  })
  if (proc.exitCode !== 0) throw new Error(`bun run build:edition ${edition} exited ${proc.exitCode}`)
}

/** The shared libraries `ldd` says the executable loads, the dynamic loader included. */
export const linkedLibraries = (executable: string): ReadonlyArray<string> => {
  const libs = new Set<string>()
  for (const line of run(["ldd", executable], "ldd").split("\n")) {
    const target = /=>\s+(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(line)?.[1]
    if (target) libs.add(target)
  }
  if (libs.size === 0) throw new Error(`ldd found no libraries for ${executable}: is it a dynamic glibc executable?`)
  return [...libs]
}

const copyFile = (from: string, to: string, mode: number) => {
  Fs.mkdirSync(Path.dirname(to), { recursive: true })
  Fs.copyFileSync(Fs.realpathSync(from), to)
  Fs.chmodSync(to, mode)
}

/** The CA bundle of Debian's ca-certificates (Bun has its own roots; this one also carries a site's added CAs). */
const caBundle = "/etc/ssl/certs/ca-certificates.crt"

/** Stages the image's root filesystem in `dir` (replaced). Runs as root to give /data to `nonroot`. */
export const stageRootfs = (executable: string, dir: string): void => {
  Fs.rmSync(dir, { recursive: true, force: true })
  Fs.mkdirSync(dir, { recursive: true })
  const at = (p: string) => Path.join(dir, p)
  copyFile(executable, at(executablePath), 0o755)
  for (const lib of linkedLibraries(executable)) copyFile(lib, at(lib), 0o755)
  if (Fs.existsSync(caBundle)) copyFile(caBundle, at(caBundle), 0o644)
  const etc = (name: string, text: string) => {
    Fs.mkdirSync(at("etc"), { recursive: true })
    Fs.writeFileSync(at(`etc/${name}`), text, { mode: 0o644 })
  }
  etc(
    "passwd",
    `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${nonrootId}:${nonrootId}:nonroot:/home/nonroot:/sbin/nologin\n`
  )
  etc("group", `root:x:0:\nnonroot:x:${nonrootId}:\n`)
  etc("nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n")
  // Mount points (a read-only root cannot get them later) and the volume.
  for (const d of ["proc", "sys", "dev", "etc/ssl/certs", "root"]) Fs.mkdirSync(at(d), { recursive: true, mode: 0o755 })
  Fs.mkdirSync(at("tmp"), { recursive: true })
  Fs.chmodSync(at("tmp"), 0o1777)
  for (const d of [dataDir, "/home/nonroot"]) {
    Fs.mkdirSync(at(d), { recursive: true })
    Fs.chmodSync(at(d), 0o750)
    if (process.getuid?.() === 0) Fs.chownSync(at(d), nonrootId, nonrootId)
  }
}

const walkBytes = (dir: string): number => {
  let total = 0
  for (const entry of Fs.readdirSync(dir, { withFileTypes: true })) {
    const p = Path.join(dir, entry.name)
    if (entry.isDirectory()) total += walkBytes(p)
    else if (entry.isFile()) total += Fs.statSync(p).size
  }
  return total
}

export const hasBuildah = (): boolean =>
  Bun.spawnSync(["buildah", "--version"], { stdout: "ignore", stderr: "ignore" }).success

/** The gzip size of a tarball of `dir` (owners and modes kept): the layer a registry would store. */
const gzipTarBytes = (dir: string, into: string): number => {
  run(["tar", "--numeric-owner", "-C", dir, "-czf", into, "."], "tar")
  return Fs.statSync(into).size
}

/** The image's config as buildah writes it: also what test/deploy runs the root filesystem with. */
export const imageConfigArgs = (edition: string): ReadonlyArray<string> => [
  "--user",
  `${nonrootId}:${nonrootId}`,
  "--entrypoint",
  JSON.stringify([executablePath]),
  "--workingdir",
  dataDir,
  ...Object.entries(imageEnv).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
  "--volume",
  dataDir,
  "--port",
  imageEnv["PORT"] ?? "8080",
  "--stop-signal",
  "SIGTERM",
  "--healthcheck",
  // buildah splits on spaces into the exec form (["CMD", path, "healthcheck"]): no shell is needed.
  `CMD ${executablePath} healthcheck`,
  "--healthcheck-interval",
  "30s",
  "--healthcheck-timeout",
  "10s",
  "--healthcheck-start-period",
  "30s",
  "--healthcheck-retries",
  "3",
  "--label",
  `org.opencontainers.image.title=StreamSpace ${edition}`,
  "--label",
  `org.opencontainers.image.version=${version}`
]

const buildahImage = (edition: string, rootfs: string, out: string) => {
  // A store per build: the archive and the OCI layout are the results, so nothing piles up between runs.
  const store = Path.join(out, "buildah")
  Fs.rmSync(store, { recursive: true, force: true })
  const buildah = [
    "buildah",
    "--storage-driver",
    "vfs",
    "--root",
    Path.join(store, "root"),
    "--runroot",
    Path.join(store, "run")
  ]
  const reference = `localhost/${imageName(edition)}:${version}`
  const container = run(
    [...buildah, "from", "--name", `streamspace-${edition}-${process.pid}`, "scratch"],
    "buildah from scratch"
  ).trim()
  try {
    const mount = run([...buildah, "mount", container], "buildah mount").trim()
    run(["cp", "-a", `${rootfs}/.`, mount], "copying the root filesystem into the container")
    run([...buildah, "umount", container], "buildah umount")
    run([...buildah, "config", ...imageConfigArgs(edition), container], "buildah config")
    run([...buildah, "commit", "--format", "docker", "--quiet", container, reference], "buildah commit")
  } finally {
    Bun.spawnSync([...buildah, "rm", container], { stdout: "ignore", stderr: "ignore" })
  }
  const archive = Path.join(out, `streamspace-${edition}.tar`)
  Fs.rmSync(archive, { force: true })
  run(
    [...buildah, "push", "--quiet", reference, `docker-archive:${archive}:${imageName(edition)}:${version}`],
    "buildah push (docker-archive)"
  )
  const ociLayout = Path.join(out, `streamspace-${edition}.oci`)
  Fs.rmSync(ociLayout, { recursive: true, force: true })
  run(
    [...buildah, "push", "--quiet", "--compression-format", "gzip", reference, `oci:${ociLayout}:${version}`],
    "buildah push (OCI layout, gzip)"
  )
  return { archive, ociLayout, reference }
}

/** The gzip layers of an OCI layout written by buildah (`index.json` → manifest → layers). */
export const ociLayerBytes = (layout: string): number => {
  const blob = (digest: string) => Path.join(layout, "blobs", ...digest.split(":"))
  const index = JSON.parse(Fs.readFileSync(Path.join(layout, "index.json"), "utf8")) as {
    manifests: ReadonlyArray<{ digest: string }>
  }
  let total = 0
  for (const m of index.manifests) {
    const manifest = JSON.parse(Fs.readFileSync(blob(m.digest), "utf8")) as { layers: ReadonlyArray<{ size: number }> }
    for (const layer of manifest.layers) total += layer.size
  }
  return total
}

export interface ImageOptions {
  readonly edition: string
  readonly out: string
  readonly executable?: string
  readonly rootfsOnly?: boolean
}

export const image = (options: ImageOptions): ImageResult => {
  const { edition, out } = options
  Fs.mkdirSync(out, { recursive: true })
  const executable = options.executable ?? Path.join(out, `streamspace-${edition}`)
  if (!options.executable) buildExecutable(edition, executable)
  const rootfs = Path.join(out, `rootfs-${edition}`)
  stageRootfs(executable, rootfs)
  const common = {
    edition,
    executable,
    executableBytes: Fs.statSync(executable).size,
    rootfs,
    rootfsBytes: walkBytes(rootfs)
  }
  if (!options.rootfsOnly && hasBuildah()) {
    const built = buildahImage(edition, rootfs, out)
    return { ...common, ...built, builder: "buildah", compressedBytes: ociLayerBytes(built.ociLayout) }
  }
  const tarball = Path.join(out, `rootfs-${edition}.tar.gz`)
  return {
    ...common,
    builder: "staged",
    compressedBytes: gzipTarBytes(rootfs, tarball),
    archive: undefined,
    ociLayout: undefined,
    reference: `${imageName(edition)}:${version} (not built: ${options.rootfsOnly ? "--rootfs-only" : "no buildah"})`
  }
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

if (import.meta.main) {
  const args = process.argv.slice(2)
  const valueOf = (flag: string) => {
    const i = args.indexOf(flag)
    return i >= 0 ? args[i + 1] : undefined
  }
  const flagValues = new Set([valueOf("--executable"), valueOf("--out")])
  const edition = args.find((a) => !a.startsWith("--") && !flagValues.has(a))
  if (!edition || !(edition in Editions.editions)) {
    console.error(
      `usage: bun run image <${Object.keys(Editions.editions).join("|")}> [--executable file] [--out dir] [--rootfs-only]`
    )
    process.exit(2)
  }
  const executable = valueOf("--executable")
  const result = image({
    edition,
    out: Path.resolve(valueOf("--out") ?? Path.join(root, "dist", "image")),
    ...(executable ? { executable: Path.resolve(executable) } : {}),
    rootfsOnly: args.includes("--rootfs-only")
  })
  console.log(
    result.builder === "buildah"
      ? `image ${result.reference}: ${mib(result.rootfsBytes)} unpacked, ${mib(result.compressedBytes)} compressed (gzip layer); executable ${mib(result.executableBytes)}\n  docker load -i ${result.archive}\n  OCI layout ${result.ociLayout}`
      : `staged root filesystem ${result.rootfs} (${result.reference}): ${mib(result.rootfsBytes)} unpacked, ${mib(result.compressedBytes)} as a gzip tarball; executable ${mib(result.executableBytes)}`
  )
}
