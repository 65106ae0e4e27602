package safefetch

import (
	"net/netip"
	"strings"

	"adstudio/internal/jscompat"
)

// blockedV4 lists IPv4 ranges that are not globally reachable unicast
// (IANA IPv4 Special-Purpose Address Registry), plus multicast and the
// reserved 240/4. The Lambda Runtime API (127.0.0.1:9001) and the instance
// metadata service (169.254.169.254) fall inside these.
var blockedV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", includes 0.0.0.0
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT shared address space
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, metadata service
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1 documentation
	netip.MustParsePrefix("192.88.99.0/24"),  // deprecated 6to4 relay anycast
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2 documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3 documentation
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, includes broadcast
}

// Only global unicast (2000::/3) and NAT64 are ever allowed for IPv6;
// everything outside — loopback, unspecified, IPv4-compatible and
// IPv4-translated forms, discard, ULA fc00::/7 (fd00:ec2::254 is the
// metadata service), link-local, site-local, multicast — is refused without
// being listed. These are the special ranges inside 2000::/3.
var blockedV6Global = []netip.Prefix{
	netip.MustParsePrefix("2001::/32"),     // Teredo: tunnels to an embedded IPv4 we cannot check reliably
	netip.MustParsePrefix("2001:2::/48"),   // benchmarking
	netip.MustParsePrefix("2001:10::/28"),  // ORCHID
	netip.MustParsePrefix("2001:20::/28"),  // ORCHIDv2
	netip.MustParsePrefix("2001:db8::/32"), // documentation
	netip.MustParsePrefix("3fff::/20"),     // documentation (RFC 9637)
}

var (
	globalUnicastV6 = netip.MustParsePrefix("2000::/3")
	nat64WellKnown  = netip.MustParsePrefix("64:ff9b::/96") // embeds an IPv4 in the low 32 bits
	sixToFour       = netip.MustParsePrefix("2002::/16")    // embeds an IPv4 in bits 16–47
)

// BlockedIP reports whether ip must never be connected to: anything that is
// not globally reachable unicast, including IPv4 addresses hidden inside
// IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) IPv6 addresses.
// The zero Addr is blocked.
func BlockedIP(ip netip.Addr) bool {
	if !ip.IsValid() {
		return true
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is4() {
		for _, p := range blockedV4 {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	}
	if nat64WellKnown.Contains(ip) {
		b := ip.As16()
		return BlockedIP(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	if !globalUnicastV6.Contains(ip) {
		return true
	}
	if sixToFour.Contains(ip) {
		b := ip.As16()
		return BlockedIP(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	for _, p := range blockedV6Global {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// blockedHostname applies the name rules of docs/app-api.md §9.4 before
// any lookup: local names and every IP literal are refused, public or not.
// host is url.URL.Hostname(), so IPv6 literals arrive without brackets.
//
// WHATWG URL parsing turns any host whose last label is a number (decimal,
// octal or 0x hex: "2130706433", "0x7f.1") into a dotted-quad IPv4 address,
// which those rules then refuse; net/url does not, so the same shape is
// matched here rather than handed to a resolver that might accept it.
func blockedHostname(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	switch {
	case h == "", h == "localhost", h == "0.0.0.0", strings.HasPrefix(h, "127."),
		strings.HasSuffix(h, ".localhost"), strings.HasSuffix(h, ".local"),
		strings.HasSuffix(h, ".internal"), strings.Contains(h, ":"),
		strings.Contains(h, "%"):
		return true
	}
	last := h[strings.LastIndexByte(h, '.')+1:]
	return jscompat.EndsInNumber(last)
}
