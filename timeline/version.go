package timeline

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CompareVersions orders two release versions the way Firefox and Tor Browser
// updaters do (Mozilla's toolkit version comparison), returning −1, 0 or +1.
//
// A version is a list of parts separated by dots; a missing part counts as "0", so
// "14" = "14.0" = "14.0.0". Each part reads as a number, a string, a number and a
// rest ("0a1" is 0, "a", 1, ""), and parts compare field by field: numbers
// numerically, strings bytewise, where an empty string sorts after any other, so
// "14.0a1" < "14.0". A part "*" is the largest number, and a "+" right after the
// first number means "the next number, pre-release" ("1.0+" = "1.1pre").
func CompareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		if c := parsePart(at(pa, i)).compare(parsePart(at(pb, i))); c != 0 {
			return c
		}
	}
	return 0
}

// versionKey is a canonical name for a version: two versions have the same key
// exactly when CompareVersions finds them equal.
func versionKey(v string) string {
	parts := strings.Split(v, ".")
	zero := parsePart("0")
	for len(parts) > 0 && parsePart(parts[len(parts)-1]) == zero {
		parts = parts[:len(parts)-1]
	}
	var b strings.Builder
	for i, s := range parts {
		p := parsePart(s)
		if i > 0 {
			b.WriteByte('.')
		}
		// Strings are quoted, so no character of theirs can pass for a separator.
		fmt.Fprintf(&b, "%d%q%d%q", p.a, p.b, p.c, p.rest)
	}
	return b.String()
}

func at(parts []string, i int) string {
	if i < len(parts) {
		return parts[i]
	}
	return "0"
}

type versionPart struct {
	a    int64
	b    string
	c    int64
	rest string
}

func parsePart(s string) versionPart {
	var p versionPart
	if s == "*" {
		p.a = math.MaxInt64
		return p
	}
	p.a, s = leadingNumber(s)
	if strings.HasPrefix(s, "+") {
		if p.a < math.MaxInt64 {
			p.a++
		}
		p.b = "pre"
		return p
	}
	i := strings.IndexFunc(s, isDigit)
	if i < 0 {
		p.b = s
		return p
	}
	p.b, s = s[:i], s[i:]
	p.c, p.rest = leadingNumber(s)
	return p
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// leadingNumber reads the digits at the start of s (0 if there are none, saturating
// at the largest int64) and returns the rest.
func leadingNumber(s string) (int64, string) {
	i := strings.IndexFunc(s, func(r rune) bool { return !isDigit(r) })
	if i < 0 {
		i = len(s)
	}
	if i == 0 {
		return 0, s
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		n = math.MaxInt64
	}
	return n, s[i:]
}

func (p versionPart) compare(q versionPart) int {
	if c := compareInt(p.a, q.a); c != 0 {
		return c
	}
	if c := compareSuffix(p.b, q.b); c != 0 {
		return c
	}
	if c := compareInt(p.c, q.c); c != 0 {
		return c
	}
	return compareSuffix(p.rest, q.rest)
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareSuffix orders strings bytewise, except that the empty string (a final
// release) sorts after every other (a pre-release).
func compareSuffix(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return strings.Compare(a, b)
}
