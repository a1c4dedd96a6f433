package skipchain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/chainiac/chainiac/internal/atomicfile"
	bolt "go.etcd.io/bbolt"
)

// BoltStore is a durable Store in one bbolt file. Every write is one bbolt
// transaction, synced to disk before it returns. Every value read is checked again
// (headers rehashed against their index, payloads against their header, links and
// rosters decoded and matched to their keys), so a damaged file gives an error,
// never wrong data.
//
// Layout: bucket "meta" holds the format name, the genesis ID and the head (index
// and ID); "headers" and "payloads" are keyed by the big-endian u64 index; "links" by
// the from index and the u8 level; "rosters" by roster ID, each roster stored once.
// bbolt does not checksum its data pages, so headers and links are stored behind
// their SHA-256 (a header's is its ID); rosters are checked against their key and
// payloads against their header.
type BoltStore struct {
	*chainStore
	path string
}

var _ Store = (*BoltStore)(nil)

const boltFormat = "chainiac/v1/bolt-store"

var (
	bucketMeta     = []byte("meta")
	bucketHeaders  = []byte("headers")
	bucketPayloads = []byte("payloads")
	bucketLinks    = []byte("links")
	bucketRosters  = []byte("rosters")
	keyFormat      = []byte("format")
	keyGenesis     = []byte("genesis")
	keyHead        = []byte("head")
)

// boltOptions: never NoSync (a commit returns after fsync); a lock timeout so that a
// second process opening the same file gets an error instead of waiting forever.
func boltOptions() *bolt.Options {
	return &bolt.Options{Timeout: 2 * time.Second, NoSync: false}
}

// CreateBoltStore creates a new store file at path holding genesis. It refuses an
// existing file (the error wraps fs.ErrExist) and is all or nothing: the database is
// built and synced under a temporary name in the same directory, then hard-linked to
// path, which fails if path exists, and the directory is synced. A crash leaves either
// no file at path or a complete store; at worst a temporary file named
// ".<name>.tmp-*" stays behind, which blocks nothing and can be deleted.
func CreateBoltStore(path string, genesis *Block) (*BoltStore, error) {
	return createBoltStore(path, genesis, func(string) {})
}

// createBoltStore is CreateBoltStore with a hook called after each step ("opened",
// "written", "closed", "linked"), so tests can kill a process between steps.
func createBoltStore(path string, genesis *Block, step func(string)) (*BoltStore, error) {
	if err := checkGenesis(genesis); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("skipchain: create store %s: %w", path, fs.ErrExist)
	}
	dir, base := filepath.Split(filepath.Clean(path))
	if dir == "" {
		dir = "."
	}
	tmp, err := buildBoltFile(dir, base, genesis, step)
	if err != nil {
		return nil, fmt.Errorf("skipchain: create store %s: %w", path, err)
	}
	// Unlike rename, a hard link never replaces an existing file.
	linkErr := os.Link(tmp, path)
	if linkErr == nil {
		step("linked")
	}
	removeErr := os.Remove(tmp)
	if linkErr != nil {
		return nil, fmt.Errorf("skipchain: create store: %w", linkErr)
	}
	if removeErr != nil {
		return nil, fmt.Errorf("skipchain: create store %s: remove temporary file: %w", path, removeErr)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return nil, fmt.Errorf("skipchain: create store %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, boltOptions())
	if err != nil {
		return nil, fmt.Errorf("skipchain: create store %s: reopen: %w", path, err)
	}
	return &BoltStore{newChainStore(&boltBackend{db: db}, genesis), path}, nil
}

// buildBoltFile writes a complete, synced and closed store holding genesis to a new
// temporary file in dir and returns its name. On error it removes the file.
func buildBoltFile(dir, base string, genesis *Block, step func(string)) (tmp string, err error) {
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return "", err
	}
	tmp = f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Close(); err != nil {
		return "", err
	}
	// bbolt initialises the empty file and syncs it; every commit is synced too.
	db, err := bolt.Open(tmp, 0o600, boltOptions())
	if err != nil {
		return "", err
	}
	step("opened")
	if err := db.Update(func(tx *bolt.Tx) error { return writeGenesis(tx, genesis) }); err != nil {
		_ = db.Close()
		return "", err
	}
	step("written")
	if err := db.Close(); err != nil {
		return "", err
	}
	step("closed")
	return tmp, nil
}

// writeGenesis creates the buckets and stores the genesis block as the head.
func writeGenesis(tx *bolt.Tx, genesis *Block) error {
	for _, name := range [][]byte{bucketMeta, bucketHeaders, bucketPayloads, bucketLinks, bucketRosters} {
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	id := genesis.ID()
	if err := meta.Put(keyFormat, []byte(boltFormat)); err != nil {
		return err
	}
	if err := meta.Put(keyGenesis, id[:]); err != nil {
		return err
	}
	if err := meta.Put(keyHead, headValue(genesis.header)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketHeaders).Put(indexKey(0), sealValue(genesis.header.encoded)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketPayloads).Put(indexKey(0), genesis.payload); err != nil {
		return err
	}
	return tx.Bucket(bucketRosters).Put(genesis.roster.id[:], genesis.roster.encoded)
}

// OpenBoltStore opens an existing store file. It refuses a missing, empty, truncated
// or damaged file: bbolt's own consistency check runs over every page, and the
// format, genesis block and head are checked before the store is returned.
func OpenBoltStore(path string) (*BoltStore, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("skipchain: open store: %w", err)
	}
	if info.Size() == 0 {
		// bbolt would silently initialise an empty file as a new database.
		return nil, fmt.Errorf("%w: %s is empty", ErrCorrupt, path)
	}
	if err := checkBoltFile(path, info.Size()); err != nil {
		return nil, fmt.Errorf("skipchain: open store %s: %w", path, err)
	}
	db, err := guardedOpen(path)
	if err != nil {
		return nil, err
	}
	be := &boltBackend{db: db}
	genesis, err := be.validate(info.Size())
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("skipchain: open store %s: %w", path, err)
	}
	return &BoltStore{newChainStore(be, genesis), path}, nil
}

func checkBoltFile(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return checkBoltPages(f, size)
}

// guardedOpen opens the file with bbolt, turning the panics and memory faults that
// bbolt can hit on a damaged file into errors.
func guardedOpen(path string) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %s: bbolt failed reading the file: %v", ErrCorrupt, path, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, boltOptions())
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	return db, nil
}

// Path is the store's file.
func (s *BoltStore) Path() string { return s.path }

func indexKey(i uint64) []byte { return binary.BigEndian.AppendUint64(nil, i) }

func linkKey(from uint64, level int) []byte { return append(indexKey(from), byte(level)) }

func headValue(h *Header) []byte { return append(indexKey(h.index), h.id[:]...) }

// sealValue prefixes a value with its SHA-256; openValue checks and strips it.
func sealValue(v []byte) []byte {
	sum := hashOf(v)
	return append(sum[:], v...)
}

func openValue(v []byte, what string) ([]byte, error) {
	if len(v) < IDSize || hashOf(v[IDSize:]) != ID(v[:IDSize]) {
		return nil, fmt.Errorf("%w: %s does not match its checksum", ErrCorrupt, what)
	}
	return v[IDSize:], nil
}

type boltBackend struct {
	db *bolt.DB
}

// view runs fn in a read transaction, turning a panic or memory fault from a damaged
// page into an error.
func (b *boltBackend) view(fn func(tx *bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: bbolt failed reading the file: %v", ErrCorrupt, r)
		}
	}()
	err = b.db.View(fn)
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

func bucket(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	bk := tx.Bucket(name)
	if bk == nil {
		return nil, fmt.Errorf("%w: bucket %q is missing", ErrCorrupt, name)
	}
	return bk, nil
}

// validate checks the file as a whole at open and returns the genesis block.
func (b *boltBackend) validate(fileSize int64) (*Block, error) {
	var genesisID ID
	err := b.view(func(tx *bolt.Tx) error {
		if tx.Size() > fileSize {
			return fmt.Errorf("%w: file is %d bytes, its pages need %d: truncated", ErrCorrupt, fileSize, tx.Size())
		}
		// checkBoltPages has bounded the page structure, so Check's own goroutine
		// cannot run off the map; it then looks for pages lost or used twice.
		var checkErr error
		for err := range tx.Check() { // drain: the goroutine must finish inside the transaction
			if checkErr == nil {
				checkErr = fmt.Errorf("%w: bbolt check: %w", ErrCorrupt, err)
			}
		}
		if checkErr != nil {
			return checkErr
		}
		meta, err := bucket(tx, bucketMeta)
		if err != nil {
			return err
		}
		if f := meta.Get(keyFormat); !bytes.Equal(f, []byte(boltFormat)) {
			return fmt.Errorf("%w: format %q, want %q", ErrCorrupt, f, boltFormat)
		}
		g := meta.Get(keyGenesis)
		if len(g) != IDSize {
			return fmt.Errorf("%w: genesis ID of %d bytes", ErrCorrupt, len(g))
		}
		copy(genesisID[:], g)
		for _, name := range [][]byte{bucketHeaders, bucketPayloads, bucketLinks, bucketRosters} {
			if _, err := bucket(tx, name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	gh, err := b.header(0)
	if err != nil {
		return nil, err
	}
	if gh.ID() != genesisID {
		return nil, fmt.Errorf("%w: genesis header is %s, the metadata says %s", ErrCorrupt, gh.ID().Short(), genesisID.Short())
	}
	raw, err := b.rosterBytes(gh.rosterID)
	if err != nil {
		return nil, err
	}
	if hashOf(raw) != gh.rosterID {
		return nil, fmt.Errorf("%w: genesis roster bytes do not match its ID", ErrCorrupt)
	}
	roster, err := ParseRoster(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: genesis roster: %w", ErrCorrupt, err)
	}
	payload, err := b.payload(0, gh)
	if err != nil {
		return nil, err
	}
	head, headID, err := b.head()
	if err != nil {
		return nil, err
	}
	hh, err := b.header(head)
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	if hh.ID() != headID {
		return nil, fmt.Errorf("%w: head block %d is %s, the metadata says %s", ErrCorrupt, head, hh.ID().Short(), headID.Short())
	}
	if hh.Genesis() != genesisID {
		return nil, fmt.Errorf("%w: head block %d belongs to chain %s", ErrCorrupt, head, hh.Genesis().Short())
	}
	if _, err := b.header(head + 1); !errors.Is(err, ErrUnknownBlock) {
		return nil, fmt.Errorf("%w: a block is stored past the head %d", ErrCorrupt, head)
	}
	return &Block{header: gh, roster: roster, payload: payload}, nil
}

func (b *boltBackend) head() (uint64, ID, error) {
	var index uint64
	var id ID
	err := b.view(func(tx *bolt.Tx) error {
		meta, err := bucket(tx, bucketMeta)
		if err != nil {
			return err
		}
		v := meta.Get(keyHead)
		if len(v) != 8+IDSize {
			return fmt.Errorf("%w: head record of %d bytes", ErrCorrupt, len(v))
		}
		index = binary.BigEndian.Uint64(v)
		copy(id[:], v[8:])
		return nil
	})
	return index, id, err
}

func (b *boltBackend) header(index uint64) (*Header, error) {
	var h *Header
	err := b.view(func(tx *bolt.Tx) error {
		bk, err := bucket(tx, bucketHeaders)
		if err != nil {
			return err
		}
		v := bk.Get(indexKey(index))
		if v == nil {
			return fmt.Errorf("%w: block %d", ErrUnknownBlock, index)
		}
		v, err = openValue(v, fmt.Sprintf("header %d", index))
		if err != nil {
			return err
		}
		// ParseHeader copies v: bbolt's slices live only as long as the transaction.
		h, err = ParseHeader(v)
		if err != nil {
			return fmt.Errorf("%w: header %d: %w", ErrCorrupt, index, err)
		}
		if h.index != index {
			return fmt.Errorf("%w: header stored at %d has index %d", ErrCorrupt, index, h.index)
		}
		return nil
	})
	return h, err
}

func (b *boltBackend) payload(index uint64, h *Header) ([]byte, error) {
	var p []byte
	err := b.view(func(tx *bolt.Tx) error {
		bk, err := bucket(tx, bucketPayloads)
		if err != nil {
			return err
		}
		v := bk.Get(indexKey(index))
		if v == nil {
			return fmt.Errorf("%w: payload of block %d is missing", ErrCorrupt, index)
		}
		if hashOf(v) != h.payloadHash {
			return fmt.Errorf("%w: payload of block %d does not match its header", ErrCorrupt, index)
		}
		p = append([]byte{}, v...)
		return nil
	})
	return p, err
}

func (b *boltBackend) link(from uint64, level int) (*ForwardLink, error) {
	var l *ForwardLink
	err := b.view(func(tx *bolt.Tx) error {
		bk, err := bucket(tx, bucketLinks)
		if err != nil {
			return err
		}
		v := bk.Get(linkKey(from, level))
		if v == nil {
			return fmt.Errorf("%w: from block %d at level %d", ErrUnknownLink, from, level)
		}
		l, err = decodeStoredLink(linkKey(from, level), v)
		return err
	})
	return l, err
}

func (b *boltBackend) links(from uint64) ([]*ForwardLink, error) {
	var out []*ForwardLink
	err := b.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketHeaders).Get(indexKey(from)) == nil {
			return fmt.Errorf("%w: block %d", ErrUnknownBlock, from)
		}
		bk, err := bucket(tx, bucketLinks)
		if err != nil {
			return err
		}
		prefix := indexKey(from)
		c := bk.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			l, err := decodeStoredLink(k, v)
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		return nil
	})
	return out, err
}

// decodeStoredLink decodes a link and checks it against its key's from index;
// chainStore checks the level against the chain's parameters.
func decodeStoredLink(key, v []byte) (*ForwardLink, error) {
	if len(key) != 9 {
		return nil, fmt.Errorf("%w: link key of %d bytes", ErrCorrupt, len(key))
	}
	from, level := binary.BigEndian.Uint64(key), int(key[8])
	v, err := openValue(v, fmt.Sprintf("link from block %d at level %d", from, level))
	if err != nil {
		return nil, err
	}
	l, err := ParseForwardLink(v)
	if err != nil {
		return nil, fmt.Errorf("%w: link from block %d at level %d: %w", ErrCorrupt, from, level, err)
	}
	if l.fromIndex != from {
		return nil, fmt.Errorf("%w: link stored at block %d leaves block %d", ErrCorrupt, from, l.fromIndex)
	}
	return l, nil
}

func (b *boltBackend) rosterBytes(id ID) ([]byte, error) {
	var raw []byte
	err := b.view(func(tx *bolt.Tx) error {
		bk, err := bucket(tx, bucketRosters)
		if err != nil {
			return err
		}
		v := bk.Get(id[:])
		if v == nil {
			return fmt.Errorf("%w: %s", ErrUnknownRoster, id.Short())
		}
		raw = append([]byte(nil), v...)
		return nil
	})
	return raw, err
}

func (b *boltBackend) commit(w *write) error {
	err := b.db.Update(func(tx *bolt.Tx) error {
		if w.header != nil {
			key := indexKey(w.header.index)
			if err := tx.Bucket(bucketHeaders).Put(key, sealValue(w.header.encoded)); err != nil {
				return err
			}
			if err := tx.Bucket(bucketPayloads).Put(key, w.payload); err != nil {
				return err
			}
			if err := tx.Bucket(bucketMeta).Put(keyHead, headValue(w.header)); err != nil {
				return err
			}
		}
		if w.roster != nil {
			if err := tx.Bucket(bucketRosters).Put(w.roster.id[:], w.roster.encoded); err != nil {
				return err
			}
		}
		for _, l := range w.links {
			if err := tx.Bucket(bucketLinks).Put(linkKey(l.link.fromIndex, l.level), sealValue(l.link.Encode())); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	if err != nil {
		return fmt.Errorf("skipchain: store write: %w", err)
	}
	return nil
}

func (b *boltBackend) close() error { return b.db.Close() }
