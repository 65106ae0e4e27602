package jscompat

import "strings"

// EndsInNumber is the URL Standard's "ends in a number" checker: whether
// the last label of host (ignoring one trailing empty label) is all digits
// or a valid IPv4 number, which makes `new URL` parse the whole host as an
// IPv4 address ("0x7f.1" is 127.0.0.1) rather than as a domain.
func EndsInNumber(s string) bool {
	parts := strings.Split(s, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last != "" && strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := ipv4Number(last)
	return ok
}

// validIPv4 is the URL Standard's IPv4 parser, reduced to success/failure.
func validIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := ipv4Number(p)
		if !ok {
			return false
		}
		nums[i] = n
	}
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return false
		}
	}
	return nums[len(nums)-1] < 1<<(8*(5-len(nums)))
}

// ipv4Number parses a decimal, 0x-hex or 0-octal IPv4 part. Values saturate
// above 2^40, which every caller treats as too large.
func ipv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	radix := uint64(10)
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		radix, s = 16, s[2:]
	case len(s) >= 2 && s[0] == '0':
		radix, s = 8, s[1:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case isDigitASCII(c):
			d = uint64(c - '0')
		case radix == 16 && isHexASCII(c):
			d = uint64(hexValue(c))
		default:
			return 0, false
		}
		if d >= radix {
			return 0, false
		}
		if v = v*radix + d; v > 1<<40 {
			v = 1 << 40
		}
	}
	return v, true
}

// validIPv6 is the URL Standard's IPv6 parser, reduced to success/failure.
func validIPv6(s string) bool {
	at := func(i int) int { // code point at i, or -1 for EOF
		if i < len(s) {
			return int(s[i])
		}
		return -1
	}
	piece, compress, p := 0, -1, 0
	if at(p) == ':' {
		if at(p+1) != ':' {
			return false
		}
		p += 2
		piece++
		compress = piece
	}
	for at(p) != -1 {
		if piece == 8 {
			return false
		}
		if at(p) == ':' {
			if compress != -1 {
				return false
			}
			p++
			piece++
			compress = piece
			continue
		}
		length := 0
		for length < 4 && at(p) != -1 && isHexASCII(byte(at(p))) {
			p++
			length++
		}
		if at(p) == '.' {
			if length == 0 {
				return false
			}
			p -= length
			if piece > 6 {
				return false
			}
			numbersSeen := 0
			for at(p) != -1 {
				if numbersSeen > 0 {
					if at(p) == '.' && numbersSeen < 4 {
						p++
					} else {
						return false
					}
				}
				if at(p) == -1 || !isDigitASCII(byte(at(p))) {
					return false
				}
				value := -1
				for at(p) != -1 && isDigitASCII(byte(at(p))) {
					n := at(p) - '0'
					switch value {
					case -1:
						value = n
					case 0:
						return false
					default:
						value = value*10 + n
					}
					if value > 255 {
						return false
					}
					p++
				}
				numbersSeen++
				if numbersSeen == 2 || numbersSeen == 4 {
					piece++
				}
			}
			if numbersSeen != 4 {
				return false
			}
			break
		} else if at(p) == ':' {
			p++
			if at(p) == -1 {
				return false
			}
		} else if at(p) != -1 {
			return false
		}
		piece++
	}
	return compress != -1 || piece == 8
}
