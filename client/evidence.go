package client

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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

// Evidence is two validly signed statements that cannot both be true of one chain.
// It is kept as a JSON file in the state directory's evidence folder; Check refuses
// to go on while any is there.
type Evidence struct {
	Kind    string    `json:"kind"` // "timestamp-fork" or "link-fork"
	Summary string    `json:"summary"`
	Found   time.Time `json:"found"`
	Mirror  string    `json:"mirror"`
	// Statements are the signed encodings (timeline.Timestamp or
	// skipchain.ForwardLink), hex.
	Statements []Statement `json:"statements"`
	// ForkError is a link fork as skipchain.ForkError encodes it (hex), which anyone
	// can check with the from block's roster alone.
	ForkError string `json:"fork_error,omitempty"`
}

// Statement is one signed statement of a piece of evidence.
type Statement struct {
	Kind     string `json:"kind"` // "timestamp" or "link"
	Encoding string `json:"encoding"`
}

// EvidenceError reports evidence found (or found earlier and not yet cleared).
type EvidenceError struct {
	Evidence *Evidence
	Path     string // the file it was written to
}

func (e *EvidenceError) Error() string {
	where := ""
	if e.Path != "" {
		where = " (kept in " + e.Path + "; remove the file once a person has looked)"
	}
	return fmt.Sprintf("%v: %s%s", ErrEvidence, e.Evidence.Summary, where)
}

func (e *EvidenceError) Unwrap() error { return ErrEvidence }

func (s *session) timestampFork(old, ts *timeline.Timestamp, format string, args ...any) error {
	ev := &Evidence{Kind: "timestamp-fork", Summary: fmt.Sprintf(format, args...), Mirror: s.m.base}
	if old != nil {
		ev.Statements = append(ev.Statements, Statement{"timestamp", hex.EncodeToString(old.Encode())})
	}
	ev.Statements = append(ev.Statements, Statement{"timestamp", hex.EncodeToString(ts.Encode())})
	return &EvidenceError{Evidence: ev}
}

// statementLog remembers the links and timestamps verified during one Check, across
// mirrors, to catch two validly signed statements that conflict.
type statementLog struct {
	links      map[linkKey]*skipchain.ForwardLink
	timestamps map[uint64]*timeline.Timestamp
}

type linkKey struct {
	from  skipchain.ID
	level int
}

func newStatementLog() *statementLog {
	return &statementLog{links: map[linkKey]*skipchain.ForwardLink{}, timestamps: map[uint64]*timeline.Timestamp{}}
}

// link records a verified link; a second one from the same block at the same level
// that reaches another block, or names another roster, is a fork.
func (g *statementLog) link(ctx context.Context, s *session, l *skipchain.ForwardLink, level int) error {
	key := linkKey{l.From(), level}
	prev, ok := g.links[key]
	if !ok {
		g.links[key] = l
		return nil
	}
	if prev.To() == l.To() && prev.RosterID() == l.RosterID() {
		return nil
	}
	ev := &Evidence{Kind: "link-fork", Mirror: s.m.base,
		Summary:    fmt.Sprintf("two links from block %d at level %d reach %s and %s", l.FromIndex(), level, prev.To().Short(), l.To().Short()),
		Statements: []Statement{{"link", hex.EncodeToString(prev.Encode())}, {"link", hex.EncodeToString(l.Encode())}}}
	if from, err := s.m.block(ctx, l.FromIndex(), l.From()); err == nil {
		if fe, err := skipchain.NewForkError(from, prev, l); err == nil {
			ev.ForkError = hex.EncodeToString(fe.Encode())
		}
	}
	return &EvidenceError{Evidence: ev}
}

// timestamp records a verified timestamp; another one at the same index naming
// another block is a fork, whichever mirrors served them.
func (g *statementLog) timestamp(s *session, ts *timeline.Timestamp) error {
	prev, ok := g.timestamps[ts.Index]
	if !ok {
		g.timestamps[ts.Index] = ts
		return nil
	}
	if prev.Head == ts.Head {
		return nil
	}
	return s.timestampFork(prev, ts, "two timestamps name different blocks at index %d", ts.Index)
}

// keepEvidence writes ev into the evidence folder under a new name.
func (sd stateDir) keepEvidence(e *EvidenceError, now time.Time) error {
	dir := filepath.Join(sd.dir, evidenceDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	e.Evidence.Found = now.UTC()
	b, err := json.MarshalIndent(e.Evidence, "", "  ")
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		p := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.json", now.UTC().Format("20060102T150405Z"), e.Evidence.Kind, i))
		err := atomicfile.WriteNew(p, append(b, '\n'), 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err == nil {
			e.Path = p
		}
		return err
	}
}

// pendingEvidence returns the evidence files not yet cleared, oldest first.
func (sd stateDir) pendingEvidence() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(sd.dir, evidenceDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			out = append(out, filepath.Join(sd.dir, evidenceDir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Evidence returns the evidence kept in the state directory, oldest first.
func (c *Client) Evidence() ([]*Evidence, error) {
	files, err := c.state().pendingEvidence()
	if err != nil {
		return nil, err
	}
	out := make([]*Evidence, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var ev Evidence
		if err := json.Unmarshal(b, &ev); err != nil {
			return nil, fmt.Errorf("client: evidence %s: %w", f, err)
		}
		out = append(out, &ev)
	}
	return out, nil
}
