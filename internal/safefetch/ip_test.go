package safefetch

import (
	"net/netip"
	"testing"
)

func TestBlockedIP(t *testing.T) {
	t.Parallel()
	blocked := []string{
		// The two targets this package exists to protect.
		"127.0.0.1",       // Lambda Runtime API host
		"169.254.169.254", // instance metadata (IPv4)
		"fd00:ec2::254",   // instance metadata (IPv6)
		"::ffff:169.254.169.254",
		"::ffff:127.0.0.1",
		"64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
		"64:ff9b::7f00:1",    // NAT64 of 127.0.0.1
		"64:ff9b::10.0.0.1",  // NAT64 of private 10/8
		"2002:7f00:1::1",     // 6to4 of 127.0.0.1
		"2002:a9fe:a9fe::1",  // 6to4 of 169.254.169.254
		"2002:c0a8:101::",    // 6to4 of 192.168.1.1
		"::127.0.0.1",        // deprecated IPv4-compatible
		"::ffff:0:127.0.0.1", // SIIT IPv4-translated
		"fe80::1%eth0",       // zoned link-local
		"0.0.0.0", "0.1.2.3", "::", "::1",
		"10.0.0.1", "10.255.255.255",
		"172.16.0.1", "172.31.255.255",
		"192.168.0.1", "192.168.255.255",
		"100.64.0.1", "100.127.255.255", // CGNAT
		"198.18.0.1", "198.19.255.255", // benchmarking
		"192.0.0.8", "192.0.2.1", "198.51.100.7", "203.0.113.9", "192.88.99.1",
		"224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
		"127.255.255.254", "169.254.0.1",
		"fc00::1", "fdff:ffff::1", // ULA fc00::/7
		"fe80::1", "febf::1", // link-local fe80::/10
		"fec0::1",              // site-local
		"ff02::1", "ff05::1:3", // multicast
		"100::1",       // discard-only
		"64:ff9b:1::1", // local-use NAT64
		"2001::1",      // Teredo
		"2001:2::1",    // benchmarking
		"2001:db8::1",  // documentation
		"2001:20::1",   // ORCHIDv2
		"3fff::1",      // documentation
		"5f00::1",      // SRv6, outside 2000::/3
	}
	for _, s := range blocked {
		if !BlockedIP(netip.MustParseAddr(s)) {
			t.Errorf("BlockedIP(%s) = false, want true", s)
		}
	}
	if !BlockedIP(netip.Addr{}) {
		t.Error("BlockedIP(zero Addr) = false, want true")
	}

	allowed := []string{
		"8.8.8.8", "1.1.1.1", "93.184.216.34",
		"9.255.255.255", "11.0.0.1", // just outside 10/8
		"100.63.255.255", "100.128.0.1", // just outside 100.64/10
		"172.15.255.255", "172.32.0.1", // just outside 172.16/12
		"192.167.255.255", "192.169.0.1",
		"198.17.255.255", "198.20.0.1",
		"169.253.255.255", "126.255.255.255", "128.0.0.1",
		"223.255.255.255",
		"::ffff:8.8.8.8",
		"2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
		"64:ff9b::808:808", // NAT64 of 8.8.8.8
		"2002:808:808::1",  // 6to4 of 8.8.8.8
		"2001:4860:4860::8888",
	}
	for _, s := range allowed {
		if BlockedIP(netip.MustParseAddr(s)) {
			t.Errorf("BlockedIP(%s) = true, want false", s)
		}
	}
}

func TestBlockedHostname(t *testing.T) {
	t.Parallel()
	blocked := []string{
		"localhost", "LOCALHOST", "localhost.", "api.localhost", "printer.local",
		"metadata.google.internal", "ip-10-0-0-1.ec2.internal",
		"127.0.0.1", "127.1", "0.0.0.0", "8.8.8.8", "169.254.169.254",
		"2130706433", "0x7f000001", "0x7f.1", "017700000001", "example.0x1",
		"::1", "fd00:ec2::254", "::ffff:127.0.0.1", "fe80::1%25eth0",
		"", ".",
	}
	for _, h := range blocked {
		if !blockedHostname(h) {
			t.Errorf("blockedHostname(%q) = false, want true", h)
		}
	}
	allowed := []string{
		"example.com", "images.example.com.", "cdn.localhost.example.com",
		"local", "internal.example.com", "1password.com", "a1.b2", "0xcafe.com",
		"dashscope-result-bj.oss-cn-beijing.aliyuncs.com",
	}
	for _, h := range allowed {
		if blockedHostname(h) {
			t.Errorf("blockedHostname(%q) = true, want false", h)
		}
	}
}
