package monitor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/require"
)

func sampleState() *persisted {
	var g skipchain.ID
	g[0] = 7
	p := newPersisted(g)
	p.Runs = 3
	p.Alarms = []Alarm{{Kind: AlarmLyingMirror, Source: "http://x", Summary: "s", First: time.Unix(5, 0).UTC(), Last: time.Unix(6, 0).UTC(), Active: true}}
	p.History = []HistoryPoint{{Time: time.Unix(5, 0).UTC(), Verified: 2, TimestampAge: 60}}
	p.MARs = &CheckLog{Done: 2, Releases: 2, Failed: []CheckResult{{Index: 2, Version: "1.1", Channel: "release",
		Target: "linux-x86_64/en-US", URL: "http://x/a.mar", Reason: "SHA-512", Time: time.Unix(6, 0).UTC()}},
		Latest: []CheckResult{{Index: 2, Version: "1.1", Channel: "release", Time: time.Unix(6, 0).UTC()}}}
	p.Rebuild = &CheckLog{Done: 2, Releases: 2, Pending: []CheckResult{{Index: 1, Version: "1.0", Channel: "release",
		URL: "http://x/1.0.tar.gz", Reason: "HTTP 404", Time: time.Unix(6, 0).UTC()}}}
	p.Lies = []Lie{{Mirror: "http://x", Index: 2, First: time.Unix(5, 0).UTC()}}
	return p
}

func TestStateRoundTripAndRefusals(t *testing.T) {
	p := sampleState()
	got, err := parseState(p.encode(), p.Genesis)
	require.NoError(t, err)
	require.Equal(t, p.encode(), got.encode())

	var other skipchain.ID
	_, err = parseState(p.encode(), other)
	require.ErrorContains(t, err, "is of chain")
	for name, b := range map[string]string{
		"unknown field": strings.Replace(string(p.encode()), `"runs"`, `"runz"`, 1),
		"unknown kind":  strings.Replace(string(p.encode()), AlarmLyingMirror, "nonsense", 1),
		"bad format":    strings.Replace(string(p.encode()), stateFormat, "x", 1),
		"bad timestamp": strings.Replace(string(p.encode()), `"runs"`, `"timestamp": "00", "runs"`, 1),
		"trailing":      string(p.encode()) + "{}",
		"truncated":     string(p.encode()[:20]),
		"too big":       strings.Repeat(" ", MaxStateSize+1),
		"too many MAR results": strings.Replace(string(p.encode()), `"failed": [`,
			`"failed": [`+strings.Repeat(`{"index": 1, "version": "x", "channel": "y", "time": "2026-01-01T00:00:00Z"},`, maxCheckEntries), 1),
		"too many lies": strings.Replace(string(p.encode()), `"lies": [`,
			`"lies": [`+strings.Repeat(`{"mirror": "http://y", "index": 1, "first": "2026-01-01T00:00:00Z"},`, maxLies), 1),
	} {
		_, err := parseState([]byte(b), p.Genesis)
		require.Error(t, err, name)
	}
}

// A damaged state file stops the monitor with an error naming it: never a silent
// restart that forgets alarms.
func TestDamagedStateFileNamed(t *testing.T) {
	dir := t.TempDir()
	p := sampleState()
	require.NoError(t, os.WriteFile(filepath.Join(dir, stateFile), p.encode()[:30], 0o644))
	_, err := New(Config{Genesis: p.Genesis, Mirrors: []string{"http://127.0.0.1:1"}, StateDir: dir})
	require.ErrorContains(t, err, filepath.Join(dir, stateFile))
	require.NoError(t, os.WriteFile(filepath.Join(dir, stateFile), p.encode(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, keyFile), []byte("short"), 0o600))
	_, err = New(Config{Genesis: p.Genesis, Mirrors: []string{"http://127.0.0.1:1"}, StateDir: dir})
	require.ErrorContains(t, err, keyFile)
}

func FuzzParseState(f *testing.F) {
	p := sampleState()
	f.Add(p.encode())
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseState(b, p.Genesis)
		if err != nil {
			return
		}
		again, err := parseState(s.encode(), p.Genesis)
		require.NoError(t, err, "what was accepted encodes to something accepted")
		require.Equal(t, s.encode(), again.encode())
	})
}
