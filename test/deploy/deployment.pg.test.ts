/**
 * The rendered Deployment, started: its container's command and environment
 * (ConfigMap, the Secret docs/kubernetes.md creates, the Downward API
 * namespace) become a local server process against a database of its own on
 * the PostgreSQL server and the Kubernetes API stand-in (no cluster here).
 * What the pod would get differently is mapped and said below: the image's
 * executable path → the edition executable built now (enterprise) or
 * `bun packages/server/src/main.ts` (core); volume mount paths → temporary
 * directories; the container port → a free loopback port; the public URL
 * (the Ingress host) → unset, so the server prints the address it listens
 * on; the in-cluster service account → a kubeconfig for the stand-in.
 *
 * Then: both probe paths answer 200, the admin from the Secret signs in, a
 * session goes through launch, hibernate, wake and delete (and, in
 * enterprise, the node manager lists, cordons and drains a node), and every
 * request the server made to the Kubernetes API is allowed by the rendered
 * Role (and ClusterRole) as RBAC would decide. SIGTERM stops it with exit 0
 * within the pod's grace period.
 *
 * PostgreSQL only (`.pg.test.ts`): the manifests run the API on PostgreSQL;
 * test/deploy/image.test.ts covers embedded PGlite in a single container.
 *
 * Runs this command of docs/kubernetes.md (string from fixtures/DocCommands.ts):
 *   kubectl create secret generic streamspace --namespace streamspace --from-literal=database-url="$DATABASE_URL" --from-literal=secrets-key="$(openssl rand -base64 32)" --from-literal=jwt-secret="$(openssl rand -base64 48)" --from-literal=admin-password="$ADMIN_PASSWORD" --dry-run=client -o yaml > streamspace-secret.yaml
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Eventually, FakeKubeApiServer, ServerDatabase, ServerProcess } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Image from "../../scripts/image.ts"
import * as EditionBuild from "../editions/fixtures/EditionBuild.ts"
import * as DocCommands from "./fixtures/DocCommands.ts"
import * as Manifests from "./fixtures/Manifests.ts"

const NS = "streamspace"
const ADMIN_PASSWORD = "deploy-harbor-lamp-7"
const tmp = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-deploy-"))
const databases: Array<ServerDatabase.ServerDatabase> = []
let api: FakeKubeApiServer.FakeKubeApiServer
let kubeconfig: string

beforeAll(() => {
  api = FakeKubeApiServer.start({ autoReady: true })
  kubeconfig = Path.join(tmp, "kubeconfig")
  Fs.writeFileSync(kubeconfig, api.kubeconfig(NS))
})
afterAll(async () => {
  await ServerProcess.stopAll()
  await api.stop()
  for (const db of databases) await db.drop()
  Fs.rmSync(tmp, { recursive: true, force: true })
})

/** The Secret as docs/kubernetes.md makes it, for this database. */
const secretFor = (databaseUrl: string, dir: string) => {
  Manifests.run(["sh", "-c", DocCommands.createSecret], {
    cwd: dir,
    env: { DATABASE_URL: databaseUrl, ADMIN_PASSWORD }
  })
  const [secret] = Manifests.parseAll(Fs.readFileSync(Path.join(dir, "streamspace-secret.yaml"), "utf8"))
  if (!secret) throw new Error("the documented command wrote no Secret")
  Manifests.validate(secret)
  expect(secret.metadata).toMatchObject({ name: "streamspace", namespace: NS })
  return Manifests.secretData(secret)
}

interface Started {
  readonly server: ServerProcess.ServerProcess
  readonly objects: ReadonlyArray<Manifests.KubeObject>
  readonly container: Manifests.Container
  readonly grace: number
}

const startRendered = async (edition: Manifests.EditionName, command: ReadonlyArray<string>): Promise<Started> => {
  const dir = Fs.mkdtempSync(Path.join(tmp, `${edition}-`))
  const db = await ServerDatabase.create()
  databases.push(db)
  const secret = secretFor(db.url, dir)
  const objects = Manifests.renderEdition(edition)
  const { deployment, container } = Manifests.apiDeployment(objects)
  const env = Manifests.containerEnv(objects, container, { namespace: NS, secrets: { streamspace: secret } })
  // Volume mounts → directories of this test.
  for (const mount of container.volumeMounts ?? []) {
    const local = Path.join(dir, `volume-${mount.name}`)
    Fs.mkdirSync(local, { recursive: true })
    for (const [k, v] of Object.entries(env))
      if (v === mount.mountPath || v.startsWith(`${mount.mountPath}/`)) env[k] = local + v.slice(mount.mountPath.length)
  }
  expect(container.command?.[0]).toBe(Image.executablePath)
  expect(env["STREAMSPACE_PUBLIC_URL"]).toStartWith("https://")
  delete env["STREAMSPACE_PUBLIC_URL"]
  const server = await ServerProcess.start(
    {
      ...env,
      // The container port → a free port on loopback; the service account → the stand-in's kubeconfig.
      HOST: "127.0.0.1",
      PORT: "0",
      KUBECONFIG: kubeconfig,
      STREAMSPACE_EDITION: edition
    },
    { command: [...command, ...(container.command ?? []).slice(1), ...(container.args ?? [])], cwd: dir }
  )
  return { server, objects, container, grace: deployment.spec.template.spec.terminationGracePeriodSeconds }
}

const http = async <T>(url: string, method: string, path: string, token: string, body?: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T }
}

/** Probes, sign-in, a session's whole life; returns the admin token. */
const exercise = async (started: Started): Promise<string> => {
  const { server, container } = started
  for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
    const path = probe?.httpGet?.path ?? "(no httpGet probe)"
    await Eventually.eventually(async () => {
      const res = await fetch(`${server.url}${path}`)
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`)
      return true
    })
  }
  const admin = await ServerProcess.login(server.url, ADMIN_PASSWORD)
  const template = await http<{ id: string }>(server.url, "POST", "/api/templates", admin, {
    name: "xterm",
    displayName: "xterm",
    image: "streamspace/xterm:latest"
  })
  expect(template.status).toBe(201)
  const launched = await http<{ id: string }>(server.url, "POST", "/api/sessions", admin, {
    templateId: template.body.id
  })
  expect(launched.status).toBe(201)
  const id = launched.body.id
  const state = (want: string) =>
    Eventually.eventually(async () => {
      const s = await http<{ state: string; runtime: string }>(server.url, "GET", `/api/sessions/${id}`, admin)
      if (s.body.state !== want) throw new Error(`session ${id} is ${s.body.state}, waiting for ${want}`)
      expect(s.body.runtime).toBe("kubernetes")
      return true
    })
  const accepted = async (method: string, path: string) => {
    const res = await http(server.url, method, path, admin)
    expect(`${method} ${path}: ${res.status}${res.status === 202 ? "" : ` ${JSON.stringify(res.body)}`}`).toBe(
      `${method} ${path}: 202`
    )
  }
  await state("running")
  await accepted("POST", `/api/sessions/${id}/hibernate`)
  await state("hibernated")
  await accepted("POST", `/api/sessions/${id}/wake`)
  await state("running")
  await accepted("DELETE", `/api/sessions/${id}`)
  await Eventually.eventually(async () => {
    for (const kind of ["deployments", "services"] as const)
      if (api.get(kind, NS, `ss-${id}`)) throw new Error(`${kind} ss-${id} still exists`)
    return true
  })
  return admin
}

/** Every recorded Kubernetes request since `from`, with whether the rendered RBAC allows it. */
const denied = (objects: ReadonlyArray<Manifests.KubeObject>, from: number) => {
  const role = Manifests.find<Manifests.RoleObject>(objects, "Role", "streamspace-sessions")
  const clusterRoles = objects.filter((o) => o.kind === "ClusterRole") as unknown as ReadonlyArray<Manifests.RoleObject>
  const made = api.requests.slice(from).map((r) => ({ ...Manifests.rbacRequest(r.method, r.path), path: r.path }))
  const refused = made.filter(
    (r) =>
      !(r.namespace === NS && Manifests.allows(role.rules, r)) &&
      !clusterRoles.some((c) => Manifests.allows(c.rules, r))
  )
  return { made, refused }
}

const stops = async (started: Started) => {
  const code = await started.server.stop("SIGTERM", started.grace * 1000)
  expect(code).toBe(0)
  expect(started.server.output()).toContain("SIGTERM received, shutting down")
}

describe("the rendered Deployment runs (PostgreSQL, Kubernetes API stand-in)", () => {
  test("core overlay, its command mapped to bun packages/server/src/main.ts", async () => {
    const from = api.requests.length
    const started = await startRendered("core", ["bun", Path.join(Manifests.repoRoot, "packages/server/src/main.ts")])
    await exercise(started)
    const { made, refused } = denied(started.objects, from)
    expect(new Set(made.map((r) => `${r.verb} ${r.group}/${r.resource}`))).toEqual(
      new Set([
        "list apps/deployments",
        "watch apps/deployments",
        "create /persistentvolumeclaims",
        "create apps/deployments",
        "create /services",
        "patch apps/deployments",
        "delete apps/deployments",
        "delete /services",
        ...made.filter((r) => r.verb === "get").map((r) => `get ${r.group}/${r.resource}`)
      ])
    )
    expect(refused).toEqual([])
    await stops(started)
  }, 180_000)

  test("enterprise overlay, its command mapped to the enterprise executable; the node manager's calls are allowed too", async () => {
    const executable = Path.join(tmp, "streamspace-enterprise")
    await EditionBuild.expectBuilt("enterprise", executable)
    api.addNode("deploy-node-a", { cpu: "8", memory: "32Gi" })
    api.addPod("kube-system", { name: "dns-1", nodeName: "deploy-node-a", owner: "ReplicaSet" })
    const from = api.requests.length
    const started = await startRendered("enterprise", [executable])
    const admin = await exercise(started)
    const nodes = await http<{ items: Array<{ name: string }> }>(
      started.server.url,
      "GET",
      "/api/plugins/node-manager/nodes",
      admin
    )
    expect(nodes.status).toBe(200)
    expect(nodes.body.items.map((n) => n.name)).toContain("deploy-node-a")
    const drain = await http<{ items: Array<{ outcome: string }> }>(
      started.server.url,
      "POST",
      "/api/plugins/node-manager/nodes/deploy-node-a/drain",
      admin,
      { gracePeriodSeconds: 0 }
    )
    expect(drain.status).toBe(200)
    await Eventually.eventually(async () => {
      if (!api.evictions.some((e) => e.name === "dns-1")) throw new Error("dns-1 not evicted yet")
      return true
    })
    const { made, refused } = denied(started.objects, from)
    const verbs = new Set(made.map((r) => `${r.verb} ${r.group}/${r.resource}`))
    for (const call of ["list /nodes", "patch /nodes", "create /pods/eviction", "list /pods"])
      expect(verbs).toContain(call)
    expect(refused).toEqual([])
    await stops(started)
  }, 300_000)
})
