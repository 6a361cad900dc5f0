/**
 * Which IP addresses outgoing requests may reach: global unicast only.
 * Loopback, link-local (cloud metadata at 169.254.169.254), private
 * (RFC 1918, fc00::/7), carrier-grade NAT (100.64/10), 0.0.0.0/8 and the
 * other special-purpose ranges are refused, also when written as IPv4-mapped
 * IPv6 (`::ffff:10.0.0.1`) or NAT64 (`64:ff9b::10.0.0.1`) addresses.
 * The allow-list (CIDRs, addresses, host names, `*.domain`) overrides.
 */
import ipaddr from "ipaddr.js"

type Address = ipaddr.IPv4 | ipaddr.IPv6

const labels: Record<string, string> = {
  loopback: "loopback",
  linkLocal: "link-local",
  private: "private",
  uniqueLocal: "private (unique local)",
  carrierGradeNat: "carrier-grade NAT",
  unspecified: "unspecified",
  broadcast: "broadcast",
  multicast: "multicast"
}

/** An address written as a host (brackets of IPv6 URLs removed, IPv4-mapped IPv6 turned into IPv4). */
export const parseAddress = (host: string): Address | undefined => {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host
  if (!ipaddr.isValid(bare)) return undefined
  if (ipaddr.IPv4.isValid(bare) && !ipaddr.IPv4.isValidFourPartDecimal(bare)) return undefined
  return ipaddr.process(bare)
}

/** The IPv4 address a NAT64 (64:ff9b::/96) address stands for. */
const nat64 = (address: ipaddr.IPv6): ipaddr.IPv4 | undefined => {
  if (address.range() !== "rfc6052") return undefined
  const bytes = address.toByteArray()
  return new ipaddr.IPv4(bytes.slice(12))
}

/** Why `address` may not be reached (its range, for people), or undefined when it is global unicast. */
export const refusedRange = (address: Address): string | undefined => {
  const embedded = address.kind() === "ipv6" ? nat64(address as ipaddr.IPv6) : undefined
  const checked = embedded ?? address
  const range = checked.range()
  return range === "unicast" ? undefined : (labels[range] ?? `special-purpose (${range})`)
}

export type AllowEntry =
  | { readonly _tag: "Cidr"; readonly cidr: readonly [Address, number] }
  | { readonly _tag: "Host"; readonly name: string; readonly subdomains: boolean }

const hostName = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i

const normaliseHost = (host: string) => host.toLowerCase().replace(/\.$/, "")

/** One `egress.allow` entry: a CIDR, an address, a host name or `*.domain`; undefined when it is none of these. */
export const parseAllowEntry = (text: string): AllowEntry | undefined => {
  const entry = text.trim()
  if (ipaddr.isValidCIDR(entry)) {
    const [address, bits] = ipaddr.parseCIDR(entry)
    return { _tag: "Cidr", cidr: [address, bits] }
  }
  const address = parseAddress(entry)
  if (address) return { _tag: "Cidr", cidr: [address, address.kind() === "ipv4" ? 32 : 128] }
  if (!hostName.test(entry)) return undefined
  return entry.startsWith("*.")
    ? { _tag: "Host", name: normaliseHost(entry.slice(2)), subdomains: true }
    : { _tag: "Host", name: normaliseHost(entry), subdomains: false }
}

export const allowsAddress = (entries: ReadonlyArray<AllowEntry>, address: Address): boolean =>
  entries.some(
    (e) =>
      e._tag === "Cidr" &&
      e.cidr[0].kind() === address.kind() &&
      address.match(e.cidr as [ipaddr.IPv4, number] & [ipaddr.IPv6, number])
  )

export const allowsHost = (entries: ReadonlyArray<AllowEntry>, host: string): boolean => {
  const name = normaliseHost(host)
  return entries.some((e) => e._tag === "Host" && (e.subdomains ? name.endsWith(`.${e.name}`) : name === e.name))
}
