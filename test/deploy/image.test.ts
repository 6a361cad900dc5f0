/**
 * `bun run image core` builds the core image with buildah (no daemon), and
 * the image runs as its config says, the way a container runtime would run
 * it: the root filesystem mounted read-only, /data bound from outside (the
 * volume), /tmp a tmpfs, the process PID 1 of its own PID namespace, as
 * 65532, with only the image's environment (plus PORT, as `-e PORT=` would,
 * and DATABASE_URL on the PostgreSQL pass). It must start and serve from
 * nothing but the staged files (no shell, no host libraries), answer its
 * HEALTHCHECK command, and exit 0 on SIGTERM.
 *
 * Needs root (mount and PID namespaces, chroot), as the CI machine runs;
 * util-linux `unshare` and `nsenter`, buildah and skopeo from Debian.
 *
 * Runs these commands of docs/container-images.md (strings from fixtures/DocCommands.ts):
 *   bun run image core
 *   skopeo inspect --config docker-archive:dist/image/streamspace-core.tar
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { Eventually, ServerDatabase } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Image from "../../scripts/image.ts"
import * as DocCommands from "./fixtures/DocCommands.ts"
import * as Manifests from "./fixtures/Manifests.ts"

const tmp = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-image-"))
const out = Path.join(Manifests.repoRoot, "dist/image")
const postgres = process.env["TEST_DATABASE_URL"] !== undefined
let db: ServerDatabase.ServerDatabase | undefined
const children = new Set<ReturnType<typeof Bun.spawn>>()
/** A container (unshare, and with it the server as its PID 1) dies with this test process, whatever ends it. */
const killChildren = () => {
  for (const c of children) c.kill("SIGKILL")
}
process.on("exit", killChildren)

beforeAll(async () => {
  if (postgres) db = await ServerDatabase.create()
})
afterAll(async () => {
  killChildren()
  await db?.drop()
  Fs.rmSync(tmp, { recursive: true, force: true })
})

interface ImageConfig {
  readonly User: string
  readonly Env: ReadonlyArray<string>
  readonly Entrypoint: ReadonlyArray<string>
  readonly Volumes: Record<string, unknown>
  readonly StopSignal: string
  readonly Healthcheck?: { readonly Test: ReadonlyArray<string> }
}

/** The Docker config inside a `docker-archive` tarball (skopeo's `--config` shows the OCI view, without HEALTHCHECK). */
const dockerConfig = (archive: string): ImageConfig => {
  const manifest = JSON.parse(Manifests.run(["tar", "-xOf", archive, "manifest.json"])) as Array<{ Config: string }>
  const config = manifest[0]?.Config ?? "(no config)"
  return (JSON.parse(Manifests.run(["tar", "-xOf", archive, config])) as { config: ImageConfig }).config
}

const freePort = () => {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() })
  const port = probe.port
  probe.stop(true)
  return port
}

/** The host PID of the namespace's PID 1 (unshare's only child). */
const pid1 = (unshare: number) =>
  Eventually.eventually(() => {
    const child = Fs.readFileSync(`/proc/${unshare}/task/${unshare}/children`, "utf8").trim().split(" ")[0]
    if (!child) throw new Error("unshare has not forked yet")
    // Still the shell that mounts: wait for the exec into the image's entrypoint.
    const exe = Fs.readlinkSync(`/proc/${child}/exe`)
    if (!exe.endsWith(Image.executablePath)) throw new Error(`PID 1 is still ${exe}`)
    return Number(child)
  })

test(`${DocCommands.imageCore}: an image that runs read-only, as nonroot, as PID 1 (${postgres ? "PostgreSQL" : "PGlite"})`, async () => {
  const built = Bun.spawnSync(DocCommands.imageCore.split(" "), {
    cwd: Manifests.repoRoot,
    stdout: "pipe",
    stderr: "pipe"
  })
  const printed = `${built.stdout.toString()}${built.stderr.toString()}`
  expect(built.exitCode === 0 ? "built" : printed).toBe("built")
  expect(printed).toMatch(
    /image localhost\/streamspace\/streamspace-core:\S+: [\d.]+ MiB unpacked, [\d.]+ MiB compressed/
  )

  // The image's config, as an engine reads it.
  const archive = Path.join(out, "streamspace-core.tar")
  const inspected = JSON.parse(Manifests.run(DocCommands.imageInspect.split(" "))) as { config: ImageConfig }
  const config = inspected.config
  expect(config.User).toBe(`${Image.nonrootId}:${Image.nonrootId}`)
  expect(config.Entrypoint).toEqual([Image.executablePath])
  expect(Object.keys(config.Volumes)).toEqual([Image.dataDir])
  expect(config.StopSignal).toBe("SIGTERM")
  const healthcheck = dockerConfig(archive).Healthcheck?.Test ?? []
  expect(healthcheck).toEqual(["CMD", Image.executablePath, "healthcheck"])

  // Only what the image needs: no shell, no package manager.
  const rootfs = Path.join(out, "rootfs-core")
  for (const absent of ["bin/sh", "usr/bin", "bin/bash", "usr/bin/apt"])
    expect(Fs.existsSync(Path.join(rootfs, absent))).toBe(false)
  expect(Fs.statSync(Path.join(rootfs, "data")).uid).toBe(Image.nonrootId)

  const data = Path.join(tmp, "volume")
  Fs.mkdirSync(data)
  Fs.chownSync(data, Image.nonrootId, Image.nonrootId)
  const mnt = Path.join(tmp, "mnt")
  Fs.mkdirSync(mnt)
  const port = freePort()
  const env = [
    ...config.Env,
    `PORT=${port}`,
    "STREAMSPACE_ADMIN_PASSWORD=image-harbor-lamp-7",
    "STREAMSPACE_LOG_FORMAT=json",
    ...(db ? [`DATABASE_URL=${db.url}`] : [])
  ]
  const [user, group] = config.User.split(":")
  const script = [
    "set -e",
    "mount --make-rprivate /",
    `mount --bind "${rootfs}" "${mnt}"`,
    `mount -o remount,bind,ro "${mnt}"`,
    `mount --bind "${data}" "${mnt}${Image.dataDir}"`,
    `mount -t tmpfs -o mode=1777 tmpfs "${mnt}/tmp"`,
    `mount -t proc proc "${mnt}/proc"`,
    `mount --rbind /dev "${mnt}/dev"`,
    `exec /usr/bin/env -i ${env.map((e) => `'${e}'`).join(" ")} /usr/sbin/chroot --userspec=${user}:${group} "${mnt}" ${config.Entrypoint.join(" ")}`
  ].join("\n")
  const container = Bun.spawn(["unshare", "--mount", "--pid", "--fork", "--kill-child=SIGKILL", "sh", "-c", script], {
    stdout: "pipe",
    stderr: "pipe"
  })
  children.add(container)
  let output = ""
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += new TextDecoder().decode(chunk)
  }
  const streams = Promise.all([collect(container.stdout), collect(container.stderr)])
  const pid = await pid1(container.pid)
  const status = Fs.readFileSync(`/proc/${pid}/status`, "utf8")
  expect(/^NSpid:\s+\d+\s+(\d+)$/m.exec(status)?.[1]).toBe("1")
  expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(Image.nonrootId))
  const rootMount = Fs.readFileSync(`/proc/${pid}/mountinfo`, "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    // Mount points as the process sees them: its root is the image's root filesystem.
    .find((f) => f[4] === "/")
  expect(rootMount?.[5]?.split(",")).toContain("ro")

  // First boot creates PGlite's database and runs every migration: seconds on a shared machine.
  const state = await Eventually.eventually(
    async () => {
      if (container.exitCode !== null) return `exited ${container.exitCode}:\n${output}`
      const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch((e: unknown) => String(e))
      if (typeof res === "string" || res.status !== 200)
        throw new Error(`not ready: ${typeof res === "string" ? res : res.status}\n${output}`)
      return "ready"
    },
    { timeoutMs: 90_000, intervalMs: 100, what: "/readyz of the image" }
  )
  expect(state).toBe("ready")
  // The HEALTHCHECK, executed in the container's namespaces and root as its user (as `docker exec` would).
  const exec = (extraEnv: ReadonlyArray<string>) =>
    Bun.spawnSync(
      [
        "/usr/bin/env",
        "-i",
        ...config.Env,
        ...extraEnv,
        "/usr/bin/nsenter",
        `--target=${pid}`,
        "--mount",
        "--pid",
        "--root",
        "--wd",
        `--setuid=${user}`,
        `--setgid=${group}`,
        ...healthcheck.slice(1)
      ],
      { stdout: "pipe", stderr: "pipe" }
    )
  const healthy = exec([`PORT=${port}`])
  expect(healthy.exitCode === 0 ? "healthy" : healthy.stderr.toString()).toBe("healthy")
  // And it is not vacuous: nothing listens on port 1.
  expect(exec(["PORT=1"]).exitCode).toBe(1)

  // The embedded database (PGlite pass) lives on the volume, nowhere else.
  if (!db) expect(Fs.readdirSync(data)).toContain("pglite")

  process.kill(pid, "SIGTERM")
  const code = await Eventually.within(container.exited, 20_000)
  await streams
  expect(code).toBe(0)
  expect(output).toContain("SIGTERM received, shutting down")
}, 240_000)
