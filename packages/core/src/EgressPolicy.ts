/**
 * The outgoing destination policy: which hosts webhooks, integrations and
 * plugins' HTTP client may reach. Only global unicast addresses, unless
 * `egress.allow` (STREAMSPACE_EGRESS_ALLOW: CIDRs, addresses, host names,
 * `*.domain`) lists the address or the host name; loopback, link-local
 * (cloud metadata), private, CGNAT and other special ranges are refused
 * (`internal/AddressRanges.ts`).
 *
 * Checked twice. When a destination is configured (`check`, `checkUrl`):
 * an address, or every address a name resolves to; a name that does not
 * resolve yet passes. When a request is sent (`guard`): the name is
 * resolved, every address is checked, and the connection goes to the
 * checked address (the URL's host kept in `Host` and as the TLS server
 * name), so a name that resolves elsewhere a moment later (DNS rebinding)
 * gains nothing; redirects are never followed.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import { Context, Data, Duration, Effect, Layer, Option } from "effect"
import { lookup } from "node:dns/promises"
import * as AddressRanges from "./internal/AddressRanges.ts"
import { ServerConfig } from "./ServerConfig.ts"

export class EgressRefused extends Data.TaggedError("EgressRefused")<{
  readonly host: string
  readonly address: string
  readonly range: string
}> {
  override get message() {
    const where = this.host === this.address ? this.address : `${this.host} resolves to ${this.address}`
    return `refused by the egress policy: ${where}, a ${this.range} address (allow it with egress.allow / STREAMSPACE_EGRESS_ALLOW)`
  }
}

export class EgressUnresolved extends Data.TaggedError("EgressUnresolved")<{
  readonly host: string
  readonly reason: string
}> {
  override get message() {
    return `cannot resolve ${this.host}: ${this.reason}`
  }
}

/** Where a request to `host` connects: `address`, checked. */
export interface Target {
  readonly host: string
  readonly address: string
}

export class EgressPolicy extends Context.Tag("@streamspace/core/EgressPolicy")<
  EgressPolicy,
  {
    /** Resolves `host` (a name or an address) and checks every address; the address to connect to. */
    readonly resolve: (host: string) => Effect.Effect<Target, EgressRefused | EgressUnresolved>
    /** Configuration-time check of a host: a refused address fails; a name that does not resolve (yet) passes. */
    readonly check: (host: string) => Effect.Effect<void, EgressRefused>
    /** `check` for the host of an http(s) URL (anything else passes: the URL's own Schema judges it). */
    readonly checkUrl: (url: string) => Effect.Effect<void, EgressRefused>
    /** `client` with every request resolved, checked and sent to the checked address, redirects not followed. */
    readonly guard: (client: HttpClient.HttpClient) => HttpClient.HttpClient
  }
>() {}

/** The egress refusal behind an HTTP client error, if that is what it was. */
export const refusal = (error: unknown): EgressRefused | undefined =>
  error instanceof EgressRefused
    ? error
    : error instanceof HttpClientError.RequestError && error.cause instanceof EgressRefused
      ? error.cause
      : undefined

/** The host of an http(s) URL as the policy reads it (brackets of IPv6 kept off). */
const hostOf = (url: string): string | undefined => {
  if (!URL.canParse(url)) return undefined
  const parsed = new URL(url)
  return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.hostname : undefined
}

/** How long a configuration-time lookup may take before the name counts as not resolving (yet). */
const CHECK_LOOKUP_TIMEOUT = Duration.seconds(5)

/**
 * A fetch that connects to `target.address` for requests to `target.host`,
 * keeping the host in `Host` and as the TLS server name, and hands back
 * redirects instead of following them.
 */
const pinnedFetch = (target: Target, fetch: typeof globalThis.fetch): typeof globalThis.fetch =>
  Object.assign(
    (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = new URL(input instanceof Request ? input.url : input)
      if (url.hostname !== target.host)
        return Promise.reject(new Error(`egress: request to ${url.hostname} was checked for ${target.host}`))
      const headers = new Headers(init?.headers)
      let tls: Record<string, unknown> | undefined
      if (target.address !== target.host) {
        headers.set("host", url.host)
        if (url.protocol === "https:") tls = { serverName: url.hostname }
        url.hostname = target.address.includes(":") ? `[${target.address}]` : target.address
      }
      const options = init as (RequestInit & { tls?: Record<string, unknown> }) | undefined
      return fetch(url, {
        ...options,
        headers,
        redirect: "manual",
        ...(tls ? { tls: { ...options?.tls, ...tls } } : {})
      } as RequestInit)
    },
    { preconnect: globalThis.fetch.preconnect }
  )

export const make = (allow: ReadonlyArray<string>) => {
  const entries = allow.flatMap((text) => {
    const entry = AddressRanges.parseAllowEntry(text)
    return entry ? [entry] : []
  })

  const checkAddress = (host: string, text: string): Effect.Effect<void, EgressRefused> => {
    const address = AddressRanges.parseAddress(text)
    if (!address) return Effect.void
    const range = AddressRanges.refusedRange(address)
    return range === undefined || AddressRanges.allowsAddress(entries, address)
      ? Effect.void
      : Effect.fail(new EgressRefused({ host, address: text, range }))
  }

  const addressesOf = (host: string) =>
    Effect.tryPromise({
      try: () => lookup(host, { all: true, verbatim: true }),
      catch: (e) =>
        new EgressUnresolved({
          host,
          reason: (e as { code?: string }).code ?? (e instanceof Error ? e.message : String(e))
        })
    }).pipe(
      Effect.filterOrFail(
        (found) => found.length > 0,
        () => new EgressUnresolved({ host, reason: "no address" })
      )
    )

  const resolve = (host: string): Effect.Effect<Target, EgressRefused | EgressUnresolved> =>
    Effect.gen(function* () {
      const literal = AddressRanges.parseAddress(host)
      if (literal) {
        yield* checkAddress(host, host.replace(/^\[|\]$/g, ""))
        return { host, address: host }
      }
      const found = yield* addressesOf(host)
      if (!AddressRanges.allowsHost(entries, host)) for (const { address } of found) yield* checkAddress(host, address)
      return { host, address: found[0]!.address }
    })

  const check = (host: string): Effect.Effect<void, EgressRefused> =>
    resolve(host).pipe(
      Effect.timeoutTo({ duration: CHECK_LOOKUP_TIMEOUT, onTimeout: () => undefined, onSuccess: () => undefined }),
      Effect.catchTag("EgressUnresolved", () => Effect.void)
    )

  const guard = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
    HttpClient.transform(client, (effect, request) =>
      Effect.gen(function* () {
        const host = hostOf(request.url)
        if (host === undefined) return yield* effect
        const target = yield* resolve(host).pipe(
          Effect.mapError(
            (cause) =>
              new HttpClientError.RequestError({ request, reason: "Transport", cause, description: cause.message })
          )
        )
        const fetch = Option.getOrElse(yield* Effect.serviceOption(FetchHttpClient.Fetch), () => globalThis.fetch)
        return yield* Effect.provideService(effect, FetchHttpClient.Fetch, pinnedFetch(target, fetch))
      })
    )

  return EgressPolicy.of({
    resolve,
    check,
    checkUrl: (url) => {
      const host = hostOf(url)
      return host === undefined ? Effect.void : check(host)
    },
    guard
  })
}

/** The policy of `egress.allow` (its entries were validated with the config). */
export const EgressPolicyLive = Layer.effect(
  EgressPolicy,
  Effect.map(ServerConfig, (config) => make(config.egress.allow))
)
