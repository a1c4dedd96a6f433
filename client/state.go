package client

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// Files in the state directory.
const (
	stateFile   = "trusted"
	lockFile    = "lock"
	evidenceDir = "evidence"
	tagState    = "chainiac/v1/client-state"
)

// MaxStateSize bounds the state file: the genesis block, a roster, a release payload.
const MaxStateSize = 1 + len(tagState) + 4 + skipchain.MaxBlockSize + 4 + skipchain.MaxHeaderSize +
	4 + skipchain.MaxRosterEncodedSize + 16 + 4 + timeline.MaxPayloadSize + 4 + timeline.MaxTimestampSize +
	4 + skipchain.MaxHeaderSize + 4 + timeline.MaxPayloadSize

// trusted is what the client has verified: it only moves forward.
type trusted struct {
	genesis       *skipchain.Block
	head          *skipchain.Header
	roster        *skipchain.Roster // the head's
	policy        *release.Policy   // in force at the head
	policySince   uint64
	policyChanges uint64
	// timestamp is the newest verified timestamp, which names head (nil while the
	// head is the pinned genesis): the statement that made the client trust head.
	timestamp *timeline.Timestamp
	product   string // from the genesis
	// The newest release at the head, nil before the first.
	release        *skipchain.Header
	releasePayload []byte
}

func genesisState(g *skipchain.Block) (*trusted, error) {
	st, err := timeline.NewState(g)
	if err != nil {
		return nil, rejectf("genesis: %v", err)
	}
	return &trusted{genesis: g, head: g.Header(), roster: g.Roster(), policy: st.Policy(), product: st.Product()}, nil
}

func (t *trusted) encode() []byte {
	e := wire.NewEncoder(tagState).Bytes(t.genesis.Encode()).Bytes(t.head.Encode()).Bytes(t.roster.Encode()).
		Bytes(t.policy.Encode()).Uint64(t.policySince).Uint64(t.policyChanges)
	if t.timestamp != nil {
		e.Bytes(t.timestamp.Encode())
	} else {
		e.Bytes(nil)
	}
	if t.release != nil {
		e.Bytes(t.release.Encode()).Bytes(t.releasePayload)
	} else {
		e.Bytes(nil).Bytes(nil)
	}
	return e.Out()
}

func parseState(cache *skipchain.RosterCache, b []byte, genesis skipchain.ID) (*trusted, error) {
	if len(b) > MaxStateSize {
		return nil, fmt.Errorf("%d bytes, at most %d", len(b), MaxStateSize)
	}
	d := wire.NewDecoder(b, tagState)
	gb := d.Field("genesis").Bytes(skipchain.MaxBlockSize)
	hb := d.Field("head").Bytes(skipchain.MaxHeaderSize)
	rb := d.Field("roster").Bytes(skipchain.MaxRosterEncodedSize)
	pb := d.Field("policy").Bytes(timeline.MaxPayloadSize)
	t := &trusted{}
	t.policySince = d.Field("policy since").Uint64()
	t.policyChanges = d.Field("policy changes").Uint64()
	tsb := d.Field("timestamp").Bytes(timeline.MaxTimestampSize)
	relb := d.Field("release").Bytes(skipchain.MaxHeaderSize)
	t.releasePayload = d.Field("release payload").Bytes(timeline.MaxPayloadSize)
	if err := d.Finish(); err != nil {
		return nil, err
	}
	var err error
	if t.genesis, err = cache.ParseBlock(gb); err != nil {
		return nil, err
	}
	if t.genesis.ID() != genesis || t.genesis.Index() != 0 {
		return nil, fmt.Errorf("state of chain %s, not %s", t.genesis.ID().Short(), genesis.Short())
	}
	if t.head, err = skipchain.ParseHeader(hb); err != nil {
		return nil, err
	}
	if t.head.Index() > 0 && t.head.Genesis() != genesis || t.head.Index() == 0 && t.head.ID() != genesis {
		return nil, errors.New("head of another chain")
	}
	if t.roster, err = cache.ParseRoster(rb); err != nil {
		return nil, err
	}
	if t.roster.ID() != t.head.RosterID() {
		return nil, errors.New("roster is not the head's")
	}
	if t.policy, err = release.ParsePolicy(pb); err != nil {
		return nil, err
	}
	if len(tsb) > 0 {
		if t.timestamp, err = timeline.ParseTimestamp(tsb); err != nil {
			return nil, err
		}
	}
	if t.timestamp == nil && t.head.Index() > 0 || t.timestamp != nil && t.timestamp.Describes(t.head) != nil {
		return nil, errors.New("timestamp does not name the head")
	}
	g, err := timeline.ParseGenesis(t.genesis.Payload())
	if err != nil {
		return nil, err
	}
	t.product = g.Product
	if len(relb) > 0 {
		if t.release, err = skipchain.ParseHeader(relb); err != nil {
			return nil, err
		}
		if skipchain.ID(sha256.Sum256(t.releasePayload)) != t.release.PayloadHash() || t.release.Index() > t.head.Index() {
			return nil, errors.New("release does not match its header")
		}
	} else if len(t.releasePayload) > 0 {
		return nil, errors.New("release payload without a release")
	}
	return t, nil
}

// stateDir is a client's state directory.
type stateDir struct {
	dir     string
	genesis skipchain.ID
	rosters *skipchain.RosterCache
}

// load reads the trusted state, or returns nil if there is none yet.
func (s stateDir) load() (*trusted, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("client: state: %w", err)
	}
	t, err := parseState(s.rosters, b, s.genesis)
	if err != nil {
		return nil, fmt.Errorf("client: state file %s is damaged (%v); restore it from a backup, or remove it to start again from the genesis (which forgets what was verified)", filepath.Join(s.dir, stateFile), err)
	}
	return t, nil
}

// save writes the state atomically.
func (s stateDir) save(t *trusted) error {
	if err := atomicfile.WriteBytes(filepath.Join(s.dir, stateFile), t.encode(), 0o644); err != nil {
		return fmt.Errorf("client: state: %w", err)
	}
	return nil
}
