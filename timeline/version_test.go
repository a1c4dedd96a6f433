package timeline

import (
	"encoding/csv"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompareVersions(t *testing.T) {
	// Each row: a < b.
	ascending := [][2]string{
		{"1", "2"},
		{"1.9", "1.10"},
		{"14.0a1", "14.0"},
		{"14.0a1", "14.0a2"},
		{"14.0a9", "14.0a10"},
		{"14.0alpha1", "14.0b1"},
		{"13.5.9", "13.5.10"},
		{"13.5", "13.5.1"},
		{"1.0pre1", "1.0"},
		{"1.0+", "1.1"},
		{"1.0", "1.0+"},
		{"1.1pre", "1.1pre1"},
		{"99999", "*"},
		{"3.0alpha4", "3.0beta1"},
		{"3.0rc1", "3.0"},
	}
	for _, c := range ascending {
		assert.Equal(t, -1, CompareVersions(c[0], c[1]), "%s < %s", c[0], c[1])
		assert.Equal(t, 1, CompareVersions(c[1], c[0]), "%s > %s", c[1], c[0])
	}
	equal := [][2]string{
		{"14", "14.0"},
		{"14.0", "14.0.0"},
		{"1.0+", "1.1pre"},
		{"1.0+", "1.1pre0"},
		{"01.2", "1.2"},
		{"1.2", "1.2"},
	}
	for _, c := range equal {
		assert.Equal(t, 0, CompareVersions(c[0], c[1]), "%s = %s", c[0], c[1])
		assert.Equal(t, 0, CompareVersions(c[1], c[0]), "%s = %s", c[1], c[0])
	}
}

// TestCompareVersionsTorBrowser checks the order on the real Tor Browser release
// history: within a channel and a series (the first two version parts), a later
// release never has a smaller version. Across series it can: legacy 13.5.x releases
// shipped on the release channel after 15.0, which is why a node requires a version
// to be new for its channel, not greater than every earlier one.
func TestCompareVersionsTorBrowser(t *testing.T) {
	f, err := os.Open("testdata/tor-browser-releases.csv")
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(rows), 100)
	require.Equal(t, []string{"version", "date", "channel"}, rows[0][:3])
	type seen struct{ version, date string }
	last := map[string]seen{}
	checked, backwards := 0, 0
	newest := map[string]string{}
	for _, r := range rows[1:] {
		version, date, channel := r[0], r[1], r[2]
		series := channel + " " + strings.Join(strings.SplitN(version, ".", 3)[:2], ".")
		// The same version can ship twice, for other platforms (desktop and Android
		// 10.0.5): a node checks that each target is new, not each version.
		if prev, ok := last[series]; ok && prev.date < date && prev.version != version {
			assert.Equal(t, 1, CompareVersions(version, prev.version), "%s %s (%s) after %s (%s)", channel, version, date, prev.version, prev.date)
			checked++
		}
		if prev, ok := last[series]; !ok || prev.date <= date {
			last[series] = seen{version, date}
		}
		if n, ok := newest[channel]; ok && CompareVersions(version, n) < 0 {
			backwards++
		} else {
			newest[channel] = version
		}
	}
	assert.Greater(t, checked, 100)
	assert.Greater(t, backwards, 0, "the history has releases below the channel's newest version")
}

func TestVersionKey(t *testing.T) {
	same := [][2]string{{"14", "14.0.0"}, {"1.0+", "1.1pre"}, {"01.2", "1.2"}, {"14.0a1", "14.0a1.0"}}
	for _, c := range same {
		assert.Equal(t, versionKey(c[0]), versionKey(c[1]), "%s = %s", c[0], c[1])
	}
	differ := [][2]string{{"14.0a1", "14.0"}, {"1.0", "1.0.1"}, {"1.a", "1.b"}, {"1.a.b", "1.a|b"}}
	for _, c := range differ {
		assert.NotEqual(t, versionKey(c[0]), versionKey(c[1]), "%s != %s", c[0], c[1])
	}
}

func FuzzCompareVersions(f *testing.F) {
	f.Add("14.0a1", "14.0")
	f.Add("1.0+", "1.1pre")
	f.Add("*", "99999999999999999999999")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba {
			t.Fatalf("not antisymmetric: %q vs %q: %d, %d", a, b, ab, ba)
		}
		if (ab == 0) != (versionKey(a) == versionKey(b)) {
			t.Fatalf("%q and %q: compare %d but keys %q, %q", a, b, ab, versionKey(a), versionKey(b))
		}
		if CompareVersions(a, a) != 0 {
			t.Fatalf("%q differs from itself", a)
		}
	})
}
