/**
 * The egress policy's address rules, one address at a time (no DNS: literal
 * addresses, and `localhost` from /etc/hosts): what is refused, how it is
 * named, and what the allow-list lets in.
 */
import { describe, expect, test } from "bun:test"
import { EgressPolicy } from "@streamspace/core"
import { ConfigSources } from "@streamspace/server"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Cause, Effect, Either, Exit } from "effect"
import * as Os from "node:os"

const verdict = (allow: ReadonlyArray<string>, host: string) =>
  Effect.runPromise(
    EgressPolicy.make(allow)
      .resolve(host)
      .pipe(
        Effect.either,
        Effect.map((r) =>
          Either.isRight(r) ? "allowed" : r.left._tag === "EgressRefused" ? r.left.range : r.left._tag
        )
      )
  )

describe("refused ranges", () => {
  test.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["[::1]", "loopback"],
    ["169.254.169.254", "link-local"],
    ["[fe80::1]", "link-local"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["[fc00::1]", "private (unique local)"],
    ["[fd12:3456::1]", "private (unique local)"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.254", "carrier-grade NAT"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["[::]", "unspecified"],
    ["[::ffff:127.0.0.1]", "loopback"],
    ["[::ffff:10.0.0.1]", "private"],
    ["[::ffff:169.254.169.254]", "link-local"],
    ["[64:ff9b::a00:1]", "private"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "broadcast"]
  ])("%s is refused as %s", async (host, range) => {
    expect(await verdict([], host)).toBe(range)
  })

  test.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "[2606:4700::1111]",
    "[::ffff:8.8.8.8]",
    "[64:ff9b::808:808]"
  ])("%s (global unicast) is allowed", async (host) => {
    expect(await verdict([], host)).toBe("allowed")
  })

  test("a name is judged by every address it resolves to", async () => {
    expect(await verdict([], "localhost")).toBe("loopback")
  })

  test("the refusal names the host, the address and the way out", async () => {
    const error = await Effect.runPromise(Effect.flip(EgressPolicy.make([]).resolve("localhost")))
    expect(error.message).toBe(
      "refused by the egress policy: localhost resolves to 127.0.0.1, a loopback address (allow it with egress.allow / STREAMSPACE_EGRESS_ALLOW)"
    )
  })
})

describe("the allow-list", () => {
  test("a CIDR lets in its addresses, and only those", async () => {
    expect(await verdict(["10.0.0.0/8"], "10.20.30.40")).toBe("allowed")
    expect(await verdict(["10.0.0.0/8"], "[::ffff:10.1.1.1]")).toBe("allowed")
    expect(await verdict(["10.0.0.0/8"], "192.168.0.1")).toBe("private")
    expect(await verdict(["127.0.0.1/32"], "127.0.0.2")).toBe("loopback")
  })

  test("an address entry is one address; IPv6 entries match IPv6", async () => {
    expect(await verdict(["::1"], "[::1]")).toBe("allowed")
    expect(await verdict(["::1"], "127.0.0.1")).toBe("loopback")
    expect(await verdict(["169.254.169.254"], "169.254.169.254")).toBe("allowed")
    expect(await verdict(["fd00::/8"], "[fd00::5]")).toBe("allowed")
  })

  test("a host name lets that name in whatever it resolves to; *.domain its subdomains", async () => {
    expect(await verdict(["localhost"], "localhost")).toBe("allowed")
    expect(await verdict(["LOCALHOST."], "localhost")).toBe("allowed")
    expect(await verdict(["*.localhost"], "localhost")).toBe("loopback")
    // A name entry does not open the address it resolves to.
    expect(await verdict(["localhost"], "127.0.0.1")).toBe("loopback")
  })

  test("entries that are neither CIDR, address nor host name let nothing in", async () => {
    expect(await verdict(["10.0.0.0/33", "not a host", "http://10.0.0.1/"], "10.0.0.1")).toBe("private")
  })
})

describe("STREAMSPACE_EGRESS_ALLOW", () => {
  const load = (env: Record<string, string>) =>
    Effect.runPromise(Effect.either(ConfigSources.load({ env, cwd: Os.tmpdir() })))

  test("CIDRs, addresses and host names are read from the environment", async () => {
    const result = await load({ STREAMSPACE_EGRESS_ALLOW: "10.0.0.0/8, ::1, hooks.internal, *.corp.example" })
    if (Either.isLeft(result)) throw new Error(result.left.message)
    expect(result.right.egress.allow).toEqual(["10.0.0.0/8", "::1", "hooks.internal", "*.corp.example"])
  })

  test("an entry that is none of these stops start-up naming the key", async () => {
    const result = await load({ STREAMSPACE_EGRESS_ALLOW: "10.0.0.0/8,10.0.0.0/33" })
    if (Either.isRight(result)) throw new Error("an invalid egress.allow entry was accepted")
    expect(result.left.problems.join("\n")).toContain("egress.allow")
    expect(result.left.problems.join("\n")).toContain("a CIDR (10.0.0.0/8), an address, a host name or *.domain")
  })
})

describe("the guarded HTTP client", () => {
  /** Sends `url` through the guard over a fetch that records what it was asked to do and answers 204. */
  const send = async (allow: ReadonlyArray<string>, url: string) => {
    const asked: Array<{ url: string; host: string | null; redirect: RequestInit["redirect"] }> = []
    const recording = Object.assign(
      async (input: string | URL | Request, init?: RequestInit) => {
        asked.push({
          url: String(input instanceof Request ? input.url : input),
          host: new Headers(init?.headers).get("host"),
          redirect: init?.redirect
        })
        return new Response(null, { status: 204 })
      },
      { preconnect: globalThis.fetch.preconnect }
    )
    const exit = await Effect.runPromiseExit(
      Effect.gen(function* () {
        const client = EgressPolicy.make(allow).guard(yield* HttpClient.HttpClient)
        return (yield* client.execute(HttpClientRequest.get(url))).status
      }).pipe(
        Effect.provide(FetchHttpClient.layer),
        Effect.provideService(FetchHttpClient.Fetch, recording as typeof globalThis.fetch)
      )
    )
    return { exit, asked }
  }

  test("a name is connected to at the address that was checked, with its Host kept and redirects not followed", async () => {
    const { exit, asked } = await send(["localhost"], "http://localhost:8089/hook?x=1")
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(asked).toEqual([{ url: "http://127.0.0.1:8089/hook?x=1", host: "localhost:8089", redirect: "manual" }])
  })

  test("a refused destination is never asked for", async () => {
    const { exit, asked } = await send([], "http://localhost:8089/hook")
    expect(asked).toEqual([])
    expect(Exit.isFailure(exit) && EgressPolicy.refusal(Cause.squash(exit.cause))?.range).toBe("loopback")
  })
})
