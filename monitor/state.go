package monitor

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// Files in the state directory.
const (
	chainFile   = "chain.db"     // the verified blocks and links (skipchain.BoltStore)
	stateFile   = "monitor.json" // alarms, the newest verified timestamp, run history
	keyFile     = "monitor.key"  // the Ed25519 seed that signs checkpoints
	evidenceDir = "evidence"     // fork evidence, one JSON file each
	stateFormat = "chainiac/v1/monitor-state"
)

// MaxStateSize bounds the state file: it is read whole at start.
const MaxStateSize = 4 << 20

// Limits on what the state file keeps, so that it stays small however long the
// monitor runs.
const (
	maxAlarms  = 256
	maxHistory = 512
	maxLies    = 64
)

// persisted is the state file. The verified blocks themselves are in chain.db; this
// file holds what the store cannot: alarms, the newest verified timestamp, the
// timestamp ages seen (for the chart).
type persisted struct {
	Format  string       `json:"format"`
	Genesis skipchain.ID `json:"genesis"`
	// Verified and Head are the head of chain.db when the file was written (for
	// people; the store is authoritative).
	Verified uint64       `json:"verified"`
	Head     skipchain.ID `json:"head"`
	// Timestamp is the newest verified timestamp (hex of its encoding), empty if none.
	Timestamp string         `json:"timestamp,omitempty"`
	Runs      uint64         `json:"runs"`
	LastRun   time.Time      `json:"last_run"`
	Alarms    []Alarm        `json:"alarms"`
	History   []HistoryPoint `json:"history"`
	// MARs is what the MAR check (Config.CheckMARs) has done.
	MARs *CheckLog `json:"mars,omitempty"`
	// Rebuild is what the independent rebuild (Config.Rebuild) has done.
	Rebuild *CheckLog `json:"rebuild,omitempty"`
	// Lies are the blocks mirrors served that did not verify, so that later runs
	// ask those mirrors again after the block was verified from another one.
	Lies []Lie `json:"lies,omitempty"`
}

// Lie is a block a mirror served that did not verify. Each run asks that mirror for
// the block again, once the verified chain holds it: a lying-mirror alarm every run
// until the mirror serves the verified block (then the lie is forgotten).
type Lie struct {
	Mirror string    `json:"mirror"`
	Index  uint64    `json:"index"`
	First  time.Time `json:"first"`
}

// HistoryPoint is one run's view, for the timestamp-age chart.
type HistoryPoint struct {
	Time         time.Time `json:"time"`
	Verified     uint64    `json:"verified"`
	TimestampAge int64     `json:"timestamp_age_s"` // -1 if no timestamp verified
}

func newPersisted(genesis skipchain.ID) *persisted {
	return &persisted{Format: stateFormat, Genesis: genesis, Head: genesis}
}

// parseState reads the state file strictly: size bound, known fields only, the
// format and chain checked, alarms of known kinds, a timestamp that decodes.
func parseState(b []byte, genesis skipchain.ID) (*persisted, error) {
	if len(b) > MaxStateSize {
		return nil, fmt.Errorf("monitor: state file of %d bytes, at most %d", len(b), MaxStateSize)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var p persisted
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("monitor: state file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("monitor: state file: trailing data")
	}
	switch {
	case p.Format != stateFormat:
		return nil, fmt.Errorf("monitor: state file: format %q, want %q", p.Format, stateFormat)
	case p.Genesis != genesis:
		return nil, fmt.Errorf("monitor: state file is of chain %s, not %s", p.Genesis, genesis)
	case len(p.Alarms) > maxAlarms || len(p.History) > maxHistory || len(p.Lies) > maxLies:
		return nil, fmt.Errorf("monitor: state file: %d alarms, %d history points and %d lies, at most %d, %d and %d",
			len(p.Alarms), len(p.History), len(p.Lies), maxAlarms, maxHistory, maxLies)
	}
	for i, a := range p.Alarms {
		if !knownKind(a.Kind) {
			return nil, fmt.Errorf("monitor: state file: alarm %d of unknown kind %q", i, a.Kind)
		}
	}
	for what, l := range map[string]*CheckLog{"MAR checks": p.MARs, "rebuilds": p.Rebuild} {
		if l != nil {
			if err := l.check(what); err != nil {
				return nil, fmt.Errorf("monitor: state file: %w", err)
			}
		}
	}
	if p.Timestamp != "" {
		if _, err := p.timestamp(); err != nil {
			return nil, fmt.Errorf("monitor: state file: %w", err)
		}
	}
	return &p, nil
}

func (p *persisted) timestamp() (*timeline.Timestamp, error) {
	if p.Timestamp == "" {
		return nil, nil
	}
	raw, err := hex.DecodeString(p.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	ts, err := timeline.ParseTimestamp(raw)
	if err != nil {
		return nil, err
	}
	if ts.Genesis != p.Genesis {
		return nil, fmt.Errorf("timestamp of chain %s", ts.Genesis)
	}
	return ts, nil
}

func (p *persisted) encode() []byte {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		panic(err) // only plain fields
	}
	return append(b, '\n')
}

// loadState reads the state file, or returns a fresh state if there is none. A
// damaged file is an error that names it, never a silent restart.
func loadState(dir string, genesis skipchain.ID) (*persisted, error) {
	path := filepath.Join(dir, stateFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newPersisted(genesis), nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxStateSize+1))
	if err != nil {
		return nil, fmt.Errorf("monitor: %s: %w", path, err)
	}
	p, err := parseState(b, genesis)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func saveState(dir string, p *persisted) error {
	return atomicfile.WriteBytes(filepath.Join(dir, stateFile), p.encode(), 0o644)
}

// loadKey reads the monitor's Ed25519 seed, creating it on first use.
func loadKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, keyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		if err := atomicfile.WriteNew(path, seed, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("monitor: key: %w", err)
		}
		if b, err = os.ReadFile(path); err != nil { // another process may have won
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("monitor: key: %w", err)
	}
	if len(b) != ed25519.SeedSize {
		return nil, fmt.Errorf("monitor: key file %s: %d bytes, want a %d-byte Ed25519 seed", path, len(b), ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(b), nil
}

// pendingEvidence lists the evidence files not yet removed by a person, oldest first.
func pendingEvidence(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, evidenceDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			out = append(out, filepath.Join(dir, evidenceDir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}
