/**
 * Token hygiene (issue 21, findings 6 and 8): a new password ends every login of the account; a TOTP
 * code is accepted once per time step, and its secret is sealed at rest; weak passwords and passwords
 * made of the account's own name are refused wherever a password is set.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Auth } from "@streamspace/core"
import { TestPlatform, Totp } from "@streamspace/testing"
import { Clock } from "effect"

interface Problem {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>
}
interface Tokens {
  readonly accessToken: string
  readonly refreshToken: string
}

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  // The simulated clock: TOTP steps are clock moves, so a code's step is known exactly.
  p = await TestPlatform.make({ clock: "test" })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const password = "orbit-lantern-quiet-9"

const login = (username: string, pw = password, totp?: string) =>
  p.http<Tokens & Problem>("POST", "/api/auth/login", {
    body: { username, password: pw, ...(totp === undefined ? {} : { totp }) }
  })

const makeUser = async (username: string) => {
  const res = await p.http<{ id: string }>("POST", "/api/users", { token: admin, body: { username, password } })
  expect(res.status).toBe(201)
  const first = await login(username)
  expect(first.status).toBe(200)
  return { id: res.body.id, token: first.body.accessToken, refreshToken: first.body.refreshToken }
}

const refresh = (refreshToken: string) => p.http<Tokens>("POST", "/api/auth/refresh", { body: { refreshToken } })

/** Three logins of one account: one fresh, one rotated once (old and new token), one used for the change. */
const loginsOf = async (username: string) => {
  const fresh = (await login(username)).body.refreshToken
  const rotatedFrom = (await login(username)).body.refreshToken
  const rotated = await refresh(rotatedFrom)
  expect(rotated.status).toBe(200)
  return [fresh, rotatedFrom, rotated.body.refreshToken]
}

describe(`a new password ends every login (${TestPlatform.engine()})`, () => {
  test("changing your own password revokes every refresh token of the account", async () => {
    const ann = await makeUser("ann")
    const others = [ann.refreshToken, ...(await loginsOf("ann"))]
    const changed = await p.http("PATCH", `/api/users/${ann.id}`, {
      token: ann.token,
      body: { password: "granite-harbor-seven-4", currentPassword: password }
    })
    expect(changed.status).toBe(200)
    for (const token of others) expect((await refresh(token)).status).toBe(401)
    // The caller logs in again with the new password; that login works as any other.
    const again = await login("ann", "granite-harbor-seven-4")
    expect(again.status).toBe(200)
    expect((await refresh(again.body.refreshToken)).status).toBe(200)
  })

  test("an admin's reset revokes every refresh token of the account", async () => {
    const bea = await makeUser("bea")
    const others = [bea.refreshToken, ...(await loginsOf("bea"))]
    const reset = await p.http("PATCH", `/api/users/${bea.id}`, {
      token: admin,
      body: { password: "copper-meadow-lantern-5" }
    })
    expect(reset.status).toBe(200)
    for (const token of others) expect((await refresh(token)).status).toBe(401)
    expect((await login("bea")).status).toBe(401)
    expect((await login("bea", "copper-meadow-lantern-5")).status).toBe(200)
  })

  test("other changes to the account leave its logins alone", async () => {
    const cy = await makeUser("cyd")
    expect(
      (await p.http("PATCH", `/api/users/${cy.id}`, { token: admin, body: { displayName: "Cyd C" } })).status
    ).toBe(200)
    expect((await refresh(cy.refreshToken)).status).toBe(200)
  })
})

const currentCode = async (secret: string) => Totp.codeAt(secret, await p.run(Clock.currentTimeMillis))

const enroll = async (username: string) => {
  const user = await makeUser(username)
  const enrolled = await p.http<{ secret: string }>("POST", "/api/auth/mfa/totp/enroll", { token: user.token })
  expect(enrolled.status).toBe(200)
  return { ...user, secret: enrolled.body.secret }
}

const storedSecret = async (id: string) =>
  (await p.query<{ totp_secret: string | null }>("SELECT totp_secret FROM users WHERE id = $1", [id]))[0]!.totp_secret

describe("TOTP", () => {
  test("a code is accepted once per time step, also when two logins race with it", async () => {
    const dan = await enroll("dan")
    const activated = await p.http("POST", "/api/auth/mfa/totp/verify", {
      token: dan.token,
      body: { code: await currentCode(dan.secret) }
    })
    expect(activated.status).toBe(200)
    // The code that activated TOTP is spent for its step.
    expect((await login("dan", password, await currentCode(dan.secret))).status).toBe(401)

    await p.adjustClock("30 seconds")
    const code = await currentCode(dan.secret)
    expect((await login("dan", password, code)).status).toBe(200)
    const replay = await login("dan", password, code)
    expect(replay.status).toBe(401)
    expect(replay.body.detail).toContain("invalid TOTP")

    await p.adjustClock("30 seconds")
    const raced = await currentCode(dan.secret)
    const results = await Promise.all([login("dan", password, raced), login("dan", password, raced)])
    expect(results.map((r) => r.status).sort()).toEqual([200, 401])
  })

  test("the secret is sealed at rest, not stored as the base32 the user was shown", async () => {
    const eva = await enroll("eva")
    const stored = await storedSecret(eva.id)
    expect(stored).not.toBeNull()
    expect(stored).not.toContain(eva.secret)
    expect(stored!.startsWith("v1.")).toBe(true)
    // …and it is still the secret the authenticator holds.
    const verified = await p.http("POST", "/api/auth/mfa/totp/verify", {
      token: eva.token,
      body: { code: await currentCode(eva.secret) }
    })
    expect(verified.status).toBe(200)
  })

  test("a secret an older version stored in clear keeps working, and boot seals it", async () => {
    const fay = await makeUser("fay")
    const clear = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    await p.query("UPDATE users SET totp_secret = $1, totp_enabled = true WHERE id = $2", [clear, fay.id])
    expect((await login("fay", password, await currentCode(clear))).status).toBe(200)

    await p.run(Auth.sealClearTotpSecrets)
    const stored = await storedSecret(fay.id)
    expect(stored).not.toContain(clear)
    expect(stored!.startsWith("v1.")).toBe(true)
    await p.adjustClock("30 seconds")
    expect((await login("fay", password, await currentCode(clear))).status).toBe(200)
  })
})

describe("password policy", () => {
  const expectRefused = (res: TestPlatform.TestResponse<Problem>, pw: string, reason: string) => {
    expect(res.status).toBe(400)
    expect(res.body.errors?.map((e) => e.path)).toEqual(["body.password"])
    expect(res.body.errors?.[0]?.message).toContain(reason)
    expect(res.text).not.toContain(pw)
  }

  test("creating a user with a guessable password or one made of the username is a 400 naming body.password", async () => {
    for (const [username, pw, reason] of [
      ["gil", "aaaaaaaaaa", "too easy to guess"],
      ["gil", "password123", "too easy to guess"],
      ["gilbert-smith", "gilbert-smith", "must not contain the username"],
      ["gilbert", "Gilbert-rocks-2024!", "must not contain the username"]
    ] as const) {
      expectRefused(
        await p.http<Problem>("POST", "/api/users", { token: admin, body: { username, password: pw } }),
        pw,
        reason
      )
    }
    const email = await p.http<Problem>("POST", "/api/users", {
      token: admin,
      body: { username: "gil", email: "hortensia@example.com", password: "hortensia-in-bloom-7" }
    })
    expectRefused(email, "hortensia-in-bloom-7", "must not contain the email address")
    const none = await p.http<{ items: ReadonlyArray<unknown> }>("GET", "/api/users?q=gil", { token: admin })
    expect(none.body.items).toHaveLength(0)
  })

  test("your own change and an admin's reset refuse weak passwords and change nothing", async () => {
    const hal = await makeUser("hal")
    expectRefused(
      await p.http<Problem>("PATCH", `/api/users/${hal.id}`, {
        token: hal.token,
        body: { password: "aaaaaaaaaa", currentPassword: password }
      }),
      "aaaaaaaaaa",
      "too easy to guess"
    )
    expectRefused(
      await p.http<Problem>("PATCH", `/api/users/${hal.id}`, {
        token: admin,
        body: { password: "password123" }
      }),
      "password123",
      "too easy to guess"
    )
    // Judged against the name the account will have after the change.
    expectRefused(
      await p.http<Problem>("PATCH", `/api/users/${hal.id}`, {
        token: admin,
        body: { displayName: "Halvard Quist", password: "quist-family-2024" }
      }),
      "quist-family-2024",
      "must not contain the display name"
    )
    expect((await login("hal")).status).toBe(200)
    expect((await refresh(hal.refreshToken)).status).toBe(200)
  })

  test("an operator's weak first-boot admin password stops the platform from starting", async () => {
    await expect(TestPlatform.make({ config: { auth: { adminPassword: "admin-password-1" } } })).rejects.toThrow(
      "auth.adminPassword: must not contain the username"
    )
  })
})
