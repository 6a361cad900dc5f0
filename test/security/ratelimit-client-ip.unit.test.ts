/** ClientIp: which address is the client, given the socket's peer, X-Forwarded-For and the trusted proxies. */
import { describe, expect, test } from "bun:test"
import { ClientIp } from "@streamspace/server"

describe("without trusted proxies", () => {
  const clientIp = ClientIp.make([])
  test("the socket's peer is the client; X-Forwarded-For is ignored", () => {
    expect(clientIp.resolve("203.0.113.9", "198.51.100.1")).toBe("203.0.113.9")
    expect(clientIp.resolve("203.0.113.9", null)).toBe("203.0.113.9")
  })
  test("an IPv4 peer reported as IPv4-mapped IPv6 is the IPv4 address", () => {
    expect(clientIp.resolve("::ffff:203.0.113.9", null)).toBe("203.0.113.9")
  })
  test("no peer (an in-process request) stays empty", () => {
    expect(clientIp.resolve("", "198.51.100.1")).toBe("")
  })
})

describe("behind trusted proxies", () => {
  const clientIp = ClientIp.make(["10.0.0.0/8", "192.0.2.1", "2001:db8:ffff::/48"])

  test("a peer that is not a trusted proxy cannot spoof its address through the header", () => {
    expect(clientIp.resolve("203.0.113.9", "10.0.0.5")).toBe("203.0.113.9")
    expect(clientIp.resolve("203.0.113.9", "198.51.100.1, 192.0.2.1")).toBe("203.0.113.9")
  })

  test("from a trusted proxy, the right-most address that is not a trusted proxy is the client", () => {
    expect(clientIp.resolve("10.1.2.3", "198.51.100.1")).toBe("198.51.100.1")
    // The client wrote the left-most entry itself: only what the trusted proxies appended is believed.
    expect(clientIp.resolve("10.1.2.3", "1.1.1.1, 198.51.100.1")).toBe("198.51.100.1")
    // Two trusted hops (an ingress behind a load balancer).
    expect(clientIp.resolve("10.1.2.3", "1.1.1.1, 198.51.100.1, 192.0.2.1")).toBe("198.51.100.1")
    // Several headers arrive joined with commas.
    expect(clientIp.resolve("10.1.2.3", "1.1.1.1,198.51.100.1 ,  10.9.9.9")).toBe("198.51.100.1")
  })

  test("without the header, or when every hop is a trusted proxy, the nearest address stands", () => {
    expect(clientIp.resolve("10.1.2.3", null)).toBe("10.1.2.3")
    expect(clientIp.resolve("10.1.2.3", "")).toBe("10.1.2.3")
    expect(clientIp.resolve("10.1.2.3", "10.4.4.4, 192.0.2.1")).toBe("10.4.4.4")
  })

  test("an entry that is not an address ends the walk at the last address a trusted proxy vouched for", () => {
    expect(clientIp.resolve("10.1.2.3", "198.51.100.1, not-an-ip")).toBe("10.1.2.3")
    expect(clientIp.resolve("10.1.2.3", "not-an-ip, 10.4.4.4")).toBe("10.4.4.4")
    expect(clientIp.resolve("10.1.2.3", "unknown")).toBe("10.1.2.3")
  })

  test("ports and brackets are stripped; IPv6 works on both sides", () => {
    expect(clientIp.resolve("10.1.2.3", "198.51.100.1:51234")).toBe("198.51.100.1")
    expect(clientIp.resolve("10.1.2.3", "[2001:db8::7]:443")).toBe("2001:db8::7")
    expect(clientIp.resolve("2001:db8:ffff::1", "2001:db8:1::9")).toBe("2001:db8:1::9")
    expect(clientIp.resolve("::ffff:10.1.2.3", "::ffff:198.51.100.1")).toBe("198.51.100.1")
  })
})

test("a malformed entry in trustedProxies is refused, naming it", () => {
  expect(() => ClientIp.make(["10.0.0.0/8", "10.0.0.0/33"])).toThrow(/"10\.0\.0\.0\/33"/)
  expect(() => ClientIp.make(["proxy.internal"])).toThrow(/trustedProxies/)
  expect(() => ClientIp.make(["10/8"])).toThrow(/"10\/8"/)
})
