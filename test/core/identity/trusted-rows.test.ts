/**
 * Rows read from the platform's own database are trusted (issue 12): the
 * identity repos build `User` and `ApiKey` without running their Schema
 * again (`Rows.trusted`), while the same values from anywhere else are
 * still validated by the constructor, and responses are still encoded.
 */
import { describe, expect, test } from "bun:test"
import { IdentityModel, UserRepo } from "@streamspace/core"

const row: UserRepo.UserRow = {
  id: "u-1",
  username: "trusted",
  email: null,
  display_name: "Trusted",
  password_hash: "not-returned",
  disabled: false,
  totp_secret: null,
  totp_enabled: false,
  created_at: new Date(0),
  roles: ["user"]
}

describe("trusted rows", () => {
  test("a stored row becomes a User without validation; the same fields from elsewhere are validated", () => {
    // A value no Schema would accept shows whether the constructor checked it.
    const odd = { ...row, username: 42 as unknown as string }
    expect(UserRepo.toUser(odd).username).toBe(42 as unknown as string)
    expect(
      () =>
        new IdentityModel.User({
          id: odd.id,
          username: odd.username,
          email: null,
          displayName: "Trusted",
          roles: [],
          disabled: false,
          mfaEnabled: false,
          createdAt: new Date(0)
        })
    ).toThrow()
  })

  test("a trusted User is the same value a validated one is", () => {
    const user = UserRepo.toUser(row)
    expect(user).toBeInstanceOf(IdentityModel.User)
    expect({ ...user }).toEqual({
      id: "u-1",
      username: "trusted",
      email: null,
      displayName: "Trusted",
      roles: ["user"],
      disabled: false,
      mfaEnabled: false,
      createdAt: new Date(0)
    })
  })
})
