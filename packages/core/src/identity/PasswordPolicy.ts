/**
 * Password strength, checked wherever a password is set: account creation,
 * your own change, an admin's reset, and the first-boot admin password the
 * operator configured. zxcvbn-ts estimates how guessable the password is
 * (score 0–4; `auth.passwordMinScore`, default 3, is the least accepted),
 * given the account's username, email and display name as the words an
 * attacker tries first; a password containing one of them is refused
 * outright, whatever its score. The reason given is zxcvbn's feedback and
 * never repeats the password.
 */
import type { ZxcvbnFactory } from "@zxcvbn-ts/core"
import { Effect } from "effect"
import { ValidationError } from "../Errors.ts"

/** What a password must not contain: the words that name the account. */
export interface AccountWords {
  readonly username: string
  readonly email?: string | null | undefined
  readonly displayName?: string | null | undefined
}

/** Characters zxcvbn looks at: its cost grows faster than the length, and 64 characters are enough to judge. */
const estimatedLength = 64

/** Shorter words are refused only as the whole password (a two-letter username inside would refuse too many). */
const minWordLength = 3

/** Built on first use: the dictionaries are large, and importing the core must stay cheap. */
let estimator: Promise<ZxcvbnFactory> | undefined
const loadEstimator = () =>
  (estimator ??= Promise.all([
    import("@zxcvbn-ts/core"),
    import("@zxcvbn-ts/language-common"),
    import("@zxcvbn-ts/language-en")
  ]).then(
    ([{ ZxcvbnFactory }, common, en]) =>
      new ZxcvbnFactory({
        dictionary: { ...common.dictionary, ...en.dictionary },
        graphs: common.adjacencyGraphs,
        translations: en.translations,
        maxLength: estimatedLength
      })
  ))

const accountWords = (account: AccountWords): ReadonlyArray<{ readonly word: string; readonly label: string }> => {
  const email = account.email?.toLowerCase()
  return [
    { word: account.username.toLowerCase(), label: "the username" },
    ...(email ? [email, email.split("@")[0] ?? ""].map((word) => ({ word, label: "the email address" })) : []),
    ...(account.displayName ?? "")
      .toLowerCase()
      .split(/\s+/)
      .map((word) => ({ word, label: "the display name" }))
  ].filter((w) => w.word.length > 0)
}

/** Why `password` is refused for this account, or undefined when it is strong enough. */
export const weakness = (
  password: string,
  account: AccountWords,
  minScore: number
): Effect.Effect<string | undefined> =>
  Effect.gen(function* () {
    const lowered = password.toLowerCase()
    const words = accountWords(account)
    const contained = words.find((w) =>
      w.word.length >= minWordLength ? lowered.includes(w.word) : lowered === w.word
    )
    if (contained) return `must not contain ${contained.label}`
    const zxcvbn = yield* Effect.promise(loadEstimator)
    const result = zxcvbn.check(
      password,
      words.map((w) => w.word)
    )
    if (result.score >= minScore) return undefined
    const advice = [result.feedback.warning, ...result.feedback.suggestions].filter((s) => s).join(" ")
    return `too easy to guess (strength ${result.score} of 4, at least ${minScore} needed)${advice ? `: ${advice}` : ""}`
  })

/** Fails with a 400 naming `path` when `password` is too weak for the account. */
export const requireStrong = (
  path: string,
  password: string,
  account: AccountWords,
  minScore: number
): Effect.Effect<void, ValidationError> =>
  Effect.flatMap(weakness(password, account, minScore), (reason) =>
    reason === undefined ? Effect.void : Effect.fail(ValidationError.field(path, reason))
  )
