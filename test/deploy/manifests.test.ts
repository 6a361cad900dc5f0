/**
 * deploy/kubernetes renders with `kubectl kustomize` for every edition (and
 * with the optional PostgreSQL component, from the overlay docs/kubernetes.md
 * shows), every object passes its Kubernetes OpenAPI schema, and the
 * objects agree with each other, with the image (user, executable, name)
 * and with the editions' plugin lists.
 *
 * Runs these commands of docs/kubernetes.md (strings from fixtures/DocCommands.ts):
 *   kubectl kustomize deploy/kubernetes/overlays/core
 *   kubectl kustomize deploy/kubernetes/overlays/community
 *   kubectl kustomize deploy/kubernetes/overlays/enterprise
 *   kubectl kustomize my-streamspace
 */
import { afterAll, describe, expect, test } from "bun:test"
import * as Editions from "@streamspace/editions"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Image from "../../scripts/image.ts"
import * as DocCommands from "./fixtures/DocCommands.ts"
import * as Manifests from "./fixtures/Manifests.ts"

const tmp = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-manifests-"))
afterAll(() => Fs.rmSync(tmp, { recursive: true, force: true }))

const renderCommand = {
  core: DocCommands.renderCore,
  community: DocCommands.renderCommunity,
  enterprise: DocCommands.renderEnterprise
}

const subset = (small: Record<string, string>, big: Record<string, string>) =>
  Object.entries(small).every(([k, v]) => big[k] === v)

describe.each(Manifests.editions)("overlay %s", (edition) => {
  const objects = Manifests.parseAll(Manifests.run(renderCommand[edition].split(" ")))
  const { deployment, container } = Manifests.apiDeployment(objects)
  const template = deployment.spec.template
  const labels = template.metadata.labels

  test("every object passes the Kubernetes OpenAPI schema of its kind", () => {
    const problems: Array<string> = []
    for (const o of objects) {
      try {
        Manifests.validate(o)
      } catch (e) {
        problems.push(e instanceof Error ? e.message : String(e))
      }
    }
    expect(problems).toEqual([])
    expect(new Set(objects.map((o) => o.kind))).toEqual(
      new Set([
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
        "Ingress",
        "NetworkPolicy",
        ...(edition === "enterprise" ? ["ClusterRole", "ClusterRoleBinding"] : [])
      ])
    )
    // Everything namespaced lands in the overlay's namespace.
    for (const o of objects)
      if (!["Namespace", "ClusterRole", "ClusterRoleBinding"].includes(o.kind))
        expect(`${o.kind} ${o.metadata.name} in ${o.metadata.namespace}`).toBe(
          `${o.kind} ${o.metadata.name} in streamspace`
        )
  })

  test("replicas, the disruption budget, the Service and the Ingress select the API pods", () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2)
    expect(subset(deployment.spec.selector.matchLabels, labels)).toBe(true)
    const pdb = Manifests.find<{ spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>(
      objects,
      "PodDisruptionBudget"
    )
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels)
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1)
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas)
    const service = Manifests.find<{
      metadata: { name: string }
      spec: { selector: Record<string, string>; ports: Array<{ name: string; targetPort: string }> }
    }>(objects, "Service")
    expect(subset(service.spec.selector, labels)).toBe(true)
    const portNames = (container.ports ?? []).map((p) => p.name)
    for (const p of service.spec.ports) expect(portNames).toContain(p.targetPort)
    const ingress = Manifests.find<{
      metadata: { annotations: Record<string, string> }
      spec: {
        rules: Array<{ http: { paths: Array<{ backend: { service: { name: string; port: { name: string } } } }> } }>
      }
    }>(objects, "Ingress")
    const backend = ingress.spec.rules[0]?.http.paths[0]?.backend.service
    expect(backend?.name).toBe(service.metadata.name)
    expect(service.spec.ports.map((p) => p.name)).toContain(backend?.port.name ?? "")
    // WebSocket desktops and server-sent events stay open far longer than nginx's 60 s default.
    expect(
      Number(ingress.metadata.annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"])
    ).toBeGreaterThanOrEqual(3600)
    expect(
      Number(ingress.metadata.annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"])
    ).toBeGreaterThanOrEqual(3600)
  })

  test("the container is the edition's image: its executable, its user, a read-only root with /data and /tmp mounted", () => {
    expect(container.image).toBe(`${Image.imageName(edition)}:${Image.version}`)
    expect(container.command).toEqual([Image.executablePath])
    const pod = template.spec.securityContext
    expect(pod["runAsNonRoot"]).toBe(true)
    expect(pod["runAsUser"]).toBe(Image.nonrootId)
    expect(pod["fsGroup"]).toBe(Image.nonrootId)
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] }
    })
    const env = Manifests.containerEnv(objects, container, {
      namespace: "streamspace",
      secrets: { streamspace: { "database-url": "x", "secrets-key": "x", "jwt-secret": "x" } }
    })
    const mounts = (container.volumeMounts ?? []).map((m) => m.mountPath)
    expect(mounts).toContain(env["STREAMSPACE_DATA_DIR"] ?? "(unset)")
    expect(mounts).toContain("/tmp")
    expect(env["HOST"]).toBe("0.0.0.0")
    expect((container.ports ?? []).map((p) => p.containerPort)).toContain(Number(env["PORT"]))
    expect(env["SESSION_RUNTIME"]).toBe("kubernetes")
    // Sessions run where the Role is: the pod's own namespace.
    expect(env["STREAMSPACE_K8S_NAMESPACE"]).toBe("streamspace")
    expect(template.spec.terminationGracePeriodSeconds).toBeGreaterThan(10)
  })

  test("probes ask the server's health paths on the container's port", () => {
    expect(container.readinessProbe?.httpGet?.path).toBe("/readyz")
    expect(container.livenessProbe?.httpGet?.path).toBe("/healthz")
    expect(container.startupProbe?.httpGet?.path).toBe("/healthz")
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe])
      expect((container.ports ?? []).map((p) => p.name)).toContain(String(probe?.httpGet?.port))
  })

  test("plugins enabled on first boot are exactly the edition's", () => {
    const edition_ = (Editions.editions as Record<string, ReadonlyArray<{ id: string }>>)[edition]
    expect(edition_ === undefined ? `@streamspace/editions has no ${edition} edition` : "known").toBe("known")
    const env = Manifests.containerEnv(objects, container, {
      namespace: "streamspace",
      secrets: { streamspace: { "database-url": "x", "secrets-key": "x", "jwt-secret": "x" } }
    })
    expect(env["STREAMSPACE_PLUGINS"]).toBe((edition_ ?? []).map((p) => p.id).join(","))
  })

  test("the service account is the pod's, bound to the session Role (and to the node ClusterRole with node-manager)", () => {
    expect(template.spec.serviceAccountName).toBe("streamspace")
    const binding = Manifests.find<{
      roleRef: { kind: string; name: string }
      subjects: Array<Record<string, string>>
    }>(objects, "RoleBinding")
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "streamspace", namespace: "streamspace" }])
    expect(Manifests.find(objects, "Role", binding.roleRef.name).kind).toBe("Role")
    const hasNodeManager = ((Editions.editions as Record<string, ReadonlyArray<{ id: string }>>)[edition] ?? []).some(
      (p) => p.id === "node-manager"
    )
    const clusterBindings = objects.filter((o) => o.kind === "ClusterRoleBinding")
    expect(clusterBindings.length).toBe(hasNodeManager ? 1 : 0)
    for (const b of clusterBindings)
      expect(b["subjects"]).toEqual([{ kind: "ServiceAccount", name: "streamspace", namespace: "streamspace" }])
  })

  test("network policies: the API from the ingress controller, desktops only from the API", () => {
    const policies = objects.filter((o) => o.kind === "NetworkPolicy") as unknown as ReadonlyArray<{
      metadata: { name: string }
      spec: {
        podSelector: { matchLabels: Record<string, string> }
        ingress: Array<{ from: Array<{ podSelector?: { matchLabels: Record<string, string> } }> }>
      }
    }>
    const api = policies.find((p) => subset(p.spec.podSelector.matchLabels, labels))
    const sessions = policies.find(
      (p) => p.spec.podSelector.matchLabels["app.kubernetes.io/managed-by"] === "streamspace"
    )
    expect(api?.metadata.name).toBe("streamspace-api")
    const sources = sessions?.spec.ingress.flatMap((i) => i.from) ?? []
    expect(sources.length).toBe(1)
    expect(subset(sources[0]?.podSelector?.matchLabels ?? { none: "" }, labels)).toBe(true)
  })
})

test("the own overlay of docs/kubernetes.md renders with the bundled PostgreSQL", () => {
  const page = Fs.readFileSync(Path.join(Manifests.repoRoot, "docs/kubernetes.md"), "utf8")
  Fs.symlinkSync(Manifests.repoRoot, Path.join(tmp, "streamspace"))
  Fs.mkdirSync(Path.join(tmp, "my-streamspace"))
  Fs.writeFileSync(
    Path.join(tmp, "my-streamspace/kustomization.yaml"),
    DocCommands.blockIn(page, "yaml my-streamspace/kustomization.yaml")
  )
  const objects = Manifests.parseAll(Manifests.run(DocCommands.renderOwnOverlay.split(" "), { cwd: tmp }))
  for (const o of objects) Manifests.validate(o)
  const db = Manifests.find<{
    metadata: { namespace: string }
    spec: { template: { spec: { containers: Array<Manifests.Container>; securityContext: Record<string, unknown> } } }
  }>(objects, "StatefulSet", "streamspace-postgresql")
  expect(db.metadata.namespace).toBe("streamspace")
  const password = db.spec.template.spec.containers[0]?.env?.find((e) => e.name === "POSTGRES_PASSWORD")
  expect(password?.valueFrom?.secretKeyRef).toEqual({ name: "streamspace", key: "postgres-password" })
  expect(db.spec.template.spec.securityContext["runAsNonRoot"]).toBe(true)
  expect(Manifests.find(objects, "Service", "streamspace-postgresql").kind).toBe("Service")
  expect(Manifests.find(objects, "NetworkPolicy", "streamspace-postgresql").kind).toBe("NetworkPolicy")
  // The overlay keeps the edition it builds on.
  expect(Manifests.apiDeployment(objects).container.image).toBe(`${Image.imageName("enterprise")}:${Image.version}`)
})

test("without the component there is no database in any edition (the bundled PostgreSQL is off by default)", () => {
  for (const edition of Manifests.editions)
    expect(Manifests.renderEdition(edition).filter((o) => o.kind === "StatefulSet")).toEqual([])
})
