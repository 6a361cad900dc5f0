/** Who may see and act on a session, and which intents fit which states (SessionPolicy), without a database. */
import { describe, expect, test } from "bun:test"
import { Forbidden, NotFound, SessionPolicy } from "@streamspace/core"
import { Effect, Exit } from "effect"
import { anonymous, failureOf, sessionRow, system, user } from "./helpers.ts"

const owned = sessionRow({ user_id: "owner" })
const authorize = (
  actor: Parameters<typeof SessionPolicy.authorize>[0],
  row: Parameters<typeof SessionPolicy.authorize>[1],
  need: SessionPolicy.Need
) => Effect.runSyncExit(SessionPolicy.authorize(actor, row, "s1", need))

describe("session access", () => {
  test("the owner is owner; sessions:admin is admin; the system is admin", () => {
    expect(SessionPolicy.accessOf(user("owner"), owned)).toBe("owner")
    expect(SessionPolicy.accessOf(user("ops", ["sessions:admin"]), owned)).toBe("admin")
    expect(SessionPolicy.accessOf(user("root", ["*"]), owned)).toBe("admin")
    expect(SessionPolicy.accessOf(system, owned)).toBe("admin")
  })

  test("a share gives its own access; no share and no admin right is no access; anonymous never", () => {
    expect(SessionPolicy.accessOf(user("friend"), sessionRow({ share_access: "view" }))).toBe("view")
    expect(SessionPolicy.accessOf(user("friend"), sessionRow({ share_access: "control" }))).toBe("control")
    expect(SessionPolicy.accessOf(user("stranger"), owned)).toBeUndefined()
    expect(SessionPolicy.accessOf(anonymous, sessionRow({ share_access: "view" }))).toBeUndefined()
  })

  test("strangers and missing sessions are both 404 naming the session (ids are not confirmed)", () => {
    const stranger = failureOf(authorize(user("stranger"), owned, "read"))
    const missing = failureOf(authorize(user("owner"), undefined, "read"))
    expect(stranger).toBeInstanceOf(NotFound)
    expect(missing).toBeInstanceOf(NotFound)
    expect(stranger).toMatchObject({ resource: "session", id: "s1" })
  })

  test("a view share reads but cannot control; a control share controls but cannot manage", () => {
    const view = sessionRow({ share_access: "view" })
    const control = sessionRow({ share_access: "control" })
    expect(Exit.isSuccess(authorize(user("friend"), view, "read"))).toBe(true)
    const watch = failureOf(authorize(user("friend"), view, "control"))
    expect(watch).toBeInstanceOf(Forbidden)
    expect(watch.message).toBe("a view share cannot control this session")
    expect(Exit.isSuccess(authorize(user("friend"), control, "control"))).toBe(true)
    expect(failureOf(authorize(user("friend"), control, "manage")).message).toBe(
      "a control share cannot manage this session"
    )
  })

  test("owners and admins may manage (delete, share)", () => {
    expect(Exit.isSuccess(authorize(user("owner"), owned, "manage"))).toBe(true)
    expect(Exit.isSuccess(authorize(user("ops", ["sessions:admin"]), owned, "manage"))).toBe(true)
  })

  test("in a list: own sessions are owner, an admin listing shows admin, others their share (view by default)", () => {
    expect(SessionPolicy.listedAccess("owner", true, owned)).toBe("owner")
    expect(SessionPolicy.listedAccess("ops", true, owned)).toBe("admin")
    expect(SessionPolicy.listedAccess("friend", false, sessionRow({ share_access: "control" }))).toBe("control")
    expect(SessionPolicy.listedAccess("friend", false, owned)).toBe("view")
  })
})

describe("session intents", () => {
  test("hibernate only from running, wake only from hibernated, delete from any live state", () => {
    expect(SessionPolicy.intents.hibernate).toEqual({ desired: "hibernated", from: ["running"], need: "control" })
    expect(SessionPolicy.intents.wake).toEqual({ desired: "running", from: ["hibernated"], need: "control" })
    expect(SessionPolicy.intents.delete.from).toEqual(["pending", "running", "hibernated"])
    expect(SessionPolicy.intents.delete.need).toBe("manage")
  })

  test("the 409 message names the state, and where the session is going when that differs", () => {
    expect(SessionPolicy.invalidStateMessage({ state: "hibernated", desired: "hibernated" })).toBe(
      "session is hibernated"
    )
    expect(SessionPolicy.invalidStateMessage({ state: "running", desired: "terminated" })).toBe(
      "session is running (going terminated)"
    )
  })

  test("terminated and failed sessions are ended; the others are live", () => {
    expect(SessionPolicy.isEnded("terminated")).toBe(true)
    expect(SessionPolicy.isEnded("failed")).toBe(true)
    expect(SessionPolicy.isEnded("pending")).toBe(false)
    expect(SessionPolicy.isEnded("hibernated")).toBe(false)
  })

  test("a VNC connection wakes a hibernated session unless the caller only watches", () => {
    expect(SessionPolicy.wakesOnConnect("hibernated", "control")).toBe(true)
    expect(SessionPolicy.wakesOnConnect("hibernated", "owner")).toBe(true)
    expect(SessionPolicy.wakesOnConnect("hibernated", "view")).toBe(false)
    expect(SessionPolicy.wakesOnConnect("running", "owner")).toBe(false)
  })

  test("only a running session offers its endpoint", () => {
    expect(SessionPolicy.connectEndpoint({ state: "running", endpoint: "10.0.0.1:5900" })).toBe("10.0.0.1:5900")
    expect(SessionPolicy.connectEndpoint({ state: "hibernated", endpoint: "10.0.0.1:5900" })).toBeNull()
  })
})
