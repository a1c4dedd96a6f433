package monitor

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// Alarm kinds. Only AlarmFork comes with proof against the cothority's roster; the
// others say what one mirror or peer did, which proves nothing about the roster.
const (
	// AlarmFork: two validly signed statements conflict (a link fork, kept as
	// skipchain.ForkError, or a timestamp naming another block than the links
	// did). The evidence is written to the evidence folder.
	AlarmFork = "fork"
	// AlarmSignedInvalid: the roster signed a link into a block that breaks the
	// timeline's rules (a release without the developers' signatures, say). The
	// block and the link are the proof.
	AlarmSignedInvalid = "signed-invalid-block"
	// AlarmLyingMirror: a mirror served something that does not verify, or withheld
	// what a verified statement names.
	AlarmLyingMirror = "lying-mirror"
	// AlarmFrozenMirror: a mirror's newest timestamp verifies but is older than
	// Config.MaxAge.
	AlarmFrozenMirror = "frozen-mirror"
	// AlarmFrozenChain: no timestamp younger than Config.MaxAge verified from any
	// mirror.
	AlarmFrozenChain = "frozen-chain"
	// AlarmPeerConflict: another monitor's signed checkpoint names another block at
	// an index this monitor verified (a split view).
	AlarmPeerConflict = "peer-conflict"
	// AlarmPeerInvalid: a peer's checkpoint does not verify, is of another chain or
	// is signed by another key than the one configured.
	AlarmPeerInvalid = "peer-invalid"
	// AlarmMARMismatch: with Config.CheckMARs, a target's signed MAR at its URL is
	// not the file the manifest names (size or SHA-512). Updaters refuse such a
	// file, so it proves nothing against the roster: the download server is broken
	// or compromised. Source is the URL.
	AlarmMARMismatch = "mar-mismatch"
	// AlarmNotReproducible: with Config.Rebuild, a release did not rebuild from its
	// source to the MARs its manifest names (build.CheckRebuild failed, the source
	// does not have the manifest's SHA-256, or the recipe failed). The roster
	// signed a release this monitor could not reproduce; the reason says where it
	// differs. Source is the source's location.
	AlarmNotReproducible = "not-reproducible"
)

var kinds = []string{AlarmFork, AlarmSignedInvalid, AlarmLyingMirror, AlarmFrozenMirror, AlarmFrozenChain, AlarmPeerConflict, AlarmPeerInvalid, AlarmMARMismatch, AlarmNotReproducible}

func knownKind(k string) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Alarm is one thing found wrong. The state file keeps the most recent ones; an alarm
// raised again in a later run updates Last instead of adding a line.
type Alarm struct {
	Kind    string    `json:"kind"`
	Source  string    `json:"source,omitempty"` // the mirror or peer URL
	Summary string    `json:"summary"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	// Active is whether the last run raised it.
	Active bool `json:"active"`
	// Evidence is the evidence file written for it, if any.
	Evidence string `json:"evidence,omitempty"`
}

// writeEvidence keeps ev in the evidence folder under a new name and returns the path,
// or the path of a file there that already holds the same statements (a later run
// that finds the same fork adds no file). The format is the updater's
// (client.Evidence), so one tool reads both.
func writeEvidence(dir string, ev *client.Evidence) (string, error) {
	d := filepath.Join(dir, evidenceDir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", err
	}
	if p, err := sameEvidence(d, ev); err != nil || p != "" {
		return p, err
	}
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return "", err
	}
	for i := 0; ; i++ {
		p := filepath.Join(d, fmt.Sprintf("%s-%s-%d.json", ev.Found.UTC().Format("20060102T150405Z"), ev.Kind, i))
		err := atomicfile.WriteNew(p, append(b, '\n'), 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return p, err
	}
}

// maxEvidenceFile bounds an evidence file read back (this monitor wrote it, but a
// person may have put anything in the folder).
const maxEvidenceFile = 8 << 20

// sameEvidence returns the file in d holding ev's kind and statements, if any. Files
// that do not decode are left alone: they are for a person to look at.
func sameEvidence(d string, ev *client.Evidence) (string, error) {
	entries, err := os.ReadDir(d)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		p := filepath.Join(d, e.Name())
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		b, err := io.ReadAll(io.LimitReader(f, maxEvidenceFile+1))
		_ = f.Close()
		if err != nil {
			return "", err
		}
		var old client.Evidence
		if len(b) > maxEvidenceFile || json.Unmarshal(b, &old) != nil {
			continue
		}
		if old.Kind == ev.Kind && old.ForkError == ev.ForkError && slices.Equal(old.Statements, ev.Statements) {
			return p, nil
		}
	}
	return "", nil
}

func linkForkEvidence(fe *skipchain.ForkError, mirror string, now time.Time) *client.Evidence {
	return &client.Evidence{Kind: "link-fork", Summary: fe.Error(), Found: now.UTC(), Mirror: mirror,
		Statements: []client.Statement{{Kind: "link", Encoding: hex.EncodeToString(fe.A.Encode())},
			{Kind: "link", Encoding: hex.EncodeToString(fe.B.Encode())}},
		ForkError: hex.EncodeToString(fe.Encode())}
}

func timestampForkEvidence(summary, mirror string, now time.Time, link *skipchain.ForwardLink, ts *timeline.Timestamp) *client.Evidence {
	ev := &client.Evidence{Kind: "timestamp-fork", Summary: summary, Found: now.UTC(), Mirror: mirror}
	if link != nil {
		ev.Statements = append(ev.Statements, client.Statement{Kind: "link", Encoding: hex.EncodeToString(link.Encode())})
	}
	ev.Statements = append(ev.Statements, client.Statement{Kind: "timestamp", Encoding: hex.EncodeToString(ts.Encode())})
	return ev
}

// signedInvalidEvidence is a block that breaks the timeline's rules with the
// collectively signed link into it.
func signedInvalidEvidence(summary, mirror string, now time.Time, link *skipchain.ForwardLink, b *skipchain.Block) *client.Evidence {
	return &client.Evidence{Kind: "signed-invalid-block", Summary: summary, Found: now.UTC(), Mirror: mirror,
		Statements: []client.Statement{{Kind: "link", Encoding: hex.EncodeToString(link.Encode())},
			{Kind: "block", Encoding: hex.EncodeToString(b.Encode())}}}
}
