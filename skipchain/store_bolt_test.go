package skipchain_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// boltChain writes blocks 0..last of the linear chain to a new file and closes it.
func boltChain(t *testing.T, last uint64) string {
	t.Helper()
	c := buildChain(t, scriptLinear)
	path := filepath.Join(t.TempDir(), "chain.db")
	s, err := skipchain.CreateBoltStore(path, c.Genesis())
	require.NoError(t, err)
	c.AppendTo(t, s, 1, last)
	require.NoError(t, s.Close())
	return path
}

func TestBoltReopen(t *testing.T) {
	c := buildChain(t, scriptLinear)
	path := boltChain(t, 10)

	_, err := skipchain.CreateBoltStore(path, c.Genesis())
	require.Error(t, err, "create refuses an existing file")

	s, err := skipchain.OpenBoltStore(path)
	require.NoError(t, err)
	assert.Equal(t, path, s.Path())
	head, err := s.Head()
	require.NoError(t, err)
	assert.Equal(t, c.Blocks[10].ID(), head.ID())
	g, err := s.Genesis()
	require.NoError(t, err)
	assert.Equal(t, c.Genesis().Encode(), g.Encode())

	// Appends go on where the file left off, and survive another reopen.
	c.AppendTo(t, s, 11, 12)
	p, err := skipchain.BuildProof(s, 3, true)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = skipchain.OpenBoltStore(path)
	require.NoError(t, err)
	defer s.Close()
	head, err = s.Head()
	require.NoError(t, err)
	assert.Equal(t, uint64(12), head.Index())
	p2, err := skipchain.BuildProof(s, 3, true)
	require.NoError(t, err)
	assert.Equal(t, p.Encode(), p2.Encode())
}

func TestBoltOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	good, err := os.ReadFile(boltChain(t, 6))
	require.NoError(t, err)
	pageSize := os.Getpagesize()
	bothMetas := append([]byte(nil), good...)
	bothMetas[40] ^= 0xff          // meta page 0's body
	bothMetas[pageSize+40] ^= 0xff // meta page 1's body

	for _, tc := range []struct {
		name string
		path string
	}{
		{"missing", filepath.Join(dir, "nothing.db")},
		{"empty", write("empty.db", nil)},
		{"not bbolt", write("text.db", bytes.Repeat([]byte("chainiac "), 2000))},
		{"truncated to one page", write("trunc1.db", good[:pageSize])},
		{"truncated by half", write("trunc2.db", good[:len(good)/2])},
		{"truncated to four pages", write("trunc3.db", good[:4*pageSize])},
		{"both meta pages damaged", write("metas.db", bothMetas)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := skipchain.OpenBoltStore(tc.path)
			if err == nil {
				s.Close()
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "skipchain: ")
		})
	}
}

// Damage inside a stored value is not seen by bbolt, which has no checksums on data
// pages; the store's own checks catch it on read.
func TestBoltDamagedValues(t *testing.T) {
	c := buildChain(t, scriptLinear)
	for _, tc := range []struct {
		name   string
		needle []byte // bytes of the stored value to damage
		read   func(s *skipchain.BoltStore) error
	}{
		{"header", c.Blocks[3].Header().Encode(), func(s *skipchain.BoltStore) error { _, err := s.Header(3); return err }},
		{"payload", c.Blocks[5].Payload(), func(s *skipchain.BoltStore) error { _, err := s.Block(5); return err }},
		{"link", c.Into[4][2].Encode(), func(s *skipchain.BoltStore) error { _, err := s.Link(0, 2); return err }},
		// The genesis roster is checked at open: read is nil, open must fail.
		{"genesis roster", c.Genesis().Roster().Encode()[40:], nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := boltChain(t, 6)
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			// bbolt copies pages on write, so stale copies of a value may sit in free
			// pages: damage every copy.
			found := 0
			for at := bytes.Index(raw, tc.needle); at >= 0; {
				raw[at+len(tc.needle)/2] ^= 0x04
				found++
				next := bytes.Index(raw[at+1:], tc.needle)
				if next < 0 {
					break
				}
				at += 1 + next
			}
			require.Positive(t, found, "value not found in the file")
			require.NoError(t, os.WriteFile(path, raw, 0o600))

			s, err := skipchain.OpenBoltStore(path)
			if tc.read == nil {
				require.ErrorIs(t, err, skipchain.ErrCorrupt)
				return
			}
			require.NoError(t, err, "the damage is past what open checks")
			defer s.Close()
			require.ErrorIs(t, tc.read(s), skipchain.ErrCorrupt)
		})
	}
}

// A header missing at or below the head is damage (ErrCorrupt), not an unknown
// block that a node would go and fetch: the store had accepted it.
func TestBoltMissingHeaderIsCorrupt(t *testing.T) {
	path := boltChain(t, 8)
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("headers")).Delete(binary.BigEndian.AppendUint64(nil, 4))
	}))
	require.NoError(t, db.Close())

	s, err := skipchain.OpenBoltStore(path)
	require.NoError(t, err, "open checks the genesis and the head, not every block")
	defer s.Close()
	_, err = s.Header(4)
	require.ErrorIs(t, err, skipchain.ErrCorrupt)
	_, err = s.Block(4)
	require.ErrorIs(t, err, skipchain.ErrCorrupt)
	_, err = skipchain.BuildProof(s, 4, false)
	require.ErrorIs(t, err, skipchain.ErrCorrupt)
	_, err = s.Header(9)
	require.ErrorIs(t, err, skipchain.ErrUnknownBlock, "past the head a block is unknown")
	require.NotErrorIs(t, err, skipchain.ErrCorrupt)
}

// A link stored under another level than it spans is damage, at level 0 too.
func TestBoltLinkAtWrongLevel(t *testing.T) {
	path := boltChain(t, 8)
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	key := func(level byte) []byte { return append(binary.BigEndian.AppendUint64(nil, 4), level) }
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("links"))
		return b.Put(key(0), append([]byte(nil), b.Get(key(1))...)) // 4→6 stored as 4→5
	}))
	require.NoError(t, db.Close())
	s, err := skipchain.OpenBoltStore(path)
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Link(4, 0)
	require.ErrorIs(t, err, skipchain.ErrCorrupt)
	_, err = s.Link(4, 1)
	require.NoError(t, err)
}

// A store file cut to exactly the pages it uses opens; one without its links bucket
// does not.
func TestBoltOpenExactSizeAndBuckets(t *testing.T) {
	path := boltChain(t, 6)
	good := readBoltFile(t, path)
	end := int(good.metaField(metaPgidOff)) * good.pageSize
	require.Less(t, end, len(good.b))
	exact := filepath.Join(t.TempDir(), "exact.db")
	require.NoError(t, os.WriteFile(exact, good.b[:end], 0o600))
	s, err := skipchain.OpenBoltStore(exact)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("links")) }))
	require.NoError(t, db.Close())
	_, err = skipchain.OpenBoltStore(path)
	require.ErrorIs(t, err, skipchain.ErrCorrupt)
}
