/**
 * The client's IP address for rate limits, login throttling and the audit
 * log. Without trusted proxies (`trustedProxies`, STREAMSPACE_TRUSTED_PROXIES)
 * it is the socket's peer and `X-Forwarded-For` is ignored: anyone can write
 * that header. When the peer is a trusted proxy, the header is read from the
 * right: each trusted proxy appends the address it received the request from,
 * so the right-most address that is not itself a trusted proxy is the client
 * as the outermost trusted proxy saw it. Entries to its left were written by
 * the client and are never believed. (`Forwarded`, RFC 7239, is not read.)
 */
import * as ipaddr from "ipaddr.js"

type Address = ipaddr.IPv4 | ipaddr.IPv6

export interface ClientIp {
  /** The client's address given the socket's peer address and the request's `X-Forwarded-For` (null when absent). */
  readonly resolve: (peer: string, forwardedFor: string | null) => string
}

/**
 * An address (IPv4 in dotted-quad form only, not `127.1` or hex), an
 * IPv4-mapped IPv6 address as IPv4 (how a dual-stack socket reports IPv4 peers).
 */
const parseAddress = (text: string): Address | undefined =>
  ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text) ? ipaddr.process(text) : undefined

/** One `X-Forwarded-For` entry: an address, `[v6]:port` or `v4:port` (some proxies append the port). */
const parseHop = (entry: string): Address | undefined => {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry)
  if (bracketed) return parseAddress(bracketed[1] ?? "")
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry)
  return parseAddress(withPort ? (withPort[1] ?? "") : entry)
}

/** A CIDR, or a single address (a /32 or /128); throws naming the entry when it is neither. */
const parseRange = (entry: string): [Address, number] => {
  const text = entry.trim()
  if (ipaddr.IPv4.isValidCIDRFourPartDecimal(text) || ipaddr.IPv6.isValidCIDR(text)) {
    const [address, bits] = ipaddr.parseCIDR(text)
    return address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96
      ? [(address as ipaddr.IPv6).toIPv4Address(), bits - 96]
      : [address, bits]
  }
  const address = parseAddress(text)
  if (!address)
    throw new Error(`trustedProxies: "${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32)`)
  return [address, address.kind() === "ipv4" ? 32 : 128]
}

/** Throws on an entry of `trustedProxies` that is not an address or a CIDR, so a typo stops start-up. */
export const make = (trustedProxies: ReadonlyArray<string>): ClientIp => {
  const ranges = trustedProxies.map(parseRange)
  const trusted = (address: Address) =>
    ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits))
  return {
    resolve: (peer, forwardedFor) => {
      const socket = parseAddress(peer)
      if (!socket) return peer
      if (ranges.length === 0 || !trusted(socket) || !forwardedFor) return socket.toString()
      const hops = forwardedFor.split(",").map((hop) => hop.trim())
      let client = socket
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = parseHop(hops[i] ?? "")
        // Not an address: no trusted proxy wrote it, so the last address one vouched for stands.
        if (!hop) break
        client = hop
        if (!trusted(hop)) break
      }
      return client.toString()
    }
  }
}
