/**
 * The scenario of the delivery-once tests: two server processes on one
 * database, logged in as admin, users created through both, and a receiver
 * that answers every fifth request with 503 so that retries are spread over
 * both instances too.
 */
import { expect } from "bun:test"
import { LocalServer, ServerProcess } from "@streamspace/testing"

export interface Replica {
  readonly url: string
  readonly token: string
}

export interface ReplicaScenario {
  readonly replicas: readonly [Replica, Replica]
  readonly receiver: LocalServer.LocalServer
  /** The requests the receiver accepted (not the ones it answered 503). */
  readonly accepted: () => ReadonlyArray<LocalServer.RecordedRequest>
  /** Creates users `${prefix}0` … through the replicas in turn, all at once. */
  readonly createUsers: (prefix: string, count: number) => Promise<void>
  /** Waits (≤ 60 s) until `done`, then 1.5 s more: anything sent twice would arrive within the next retry round. */
  readonly settle: (done: () => boolean) => Promise<void>
  readonly stop: () => Promise<void>
}

const refused = (index: number) => index % 5 === 4

/** `env` must hold DATABASE_URL and STREAMSPACE_ADMIN_PASSWORD. */
export const start = async (
  env: Record<string, string> & { readonly STREAMSPACE_ADMIN_PASSWORD: string }
): Promise<ReplicaScenario> => {
  const receiver = LocalServer.start((_, i) =>
    refused(i) ? new Response("busy", { status: 503 }) : new Response("ok")
  )
  const processes = [await ServerProcess.start(env), await ServerProcess.start(env)] as const
  const replicas = await Promise.all(
    processes.map(async ({ url }) => ({ url, token: await ServerProcess.login(url, env.STREAMSPACE_ADMIN_PASSWORD) }))
  )
  return {
    replicas: [replicas[0]!, replicas[1]!],
    receiver,
    accepted: () => receiver.requests.filter((_, i) => !refused(i)),
    createUsers: async (prefix, count) => {
      await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const { url, token } = replicas[i % 2]!
          const res = await fetch(`${url}/api/users`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
            body: JSON.stringify({ username: `${prefix}${i}`, password: "long-enough-pw" })
          })
          expect(res.status).toBe(201)
        })
      )
    },
    settle: async (done) => {
      const deadline = Date.now() + 60_000
      while (!done() && Date.now() < deadline) await Bun.sleep(50)
      await Bun.sleep(1500)
    },
    stop: async () => {
      for (const p of processes) await p.stop()
      await receiver.stop()
    }
  }
}
