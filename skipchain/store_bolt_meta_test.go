//go:build linux

package skipchain_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"testing"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// bbolt v1.3.6 meta page: a 16-byte page header, then magic, version, page size,
// flags (u32 each), root bucket (pgid, sequence), freelist pgid, high-water pgid,
// txid and the FNV-64a checksum of the 56 bytes before it (u64 each), in native byte
// order (little-endian on every platform these tests run on).
const (
	metaPageSizeOff = 16 + 8
	metaRootOff     = 16 + 16
	metaPgidOff     = 16 + 40
	metaFreelistOff = 16 + 32
	metaTxidOff     = 16 + 48
	metaChecksumOff = 16 + 56
)

type boltFile struct {
	b        []byte
	pageSize int
}

func readBoltFile(t *testing.T, path string) boltFile {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return boltFile{b, os.Getpagesize()}
}

func (f boltFile) clone() boltFile { return boltFile{append([]byte(nil), f.b...), f.pageSize} }

func (f boltFile) pages() int { return len(f.b) / f.pageSize }

// meta returns the 80 bytes (page header and meta) of meta page i.
func (f boltFile) meta(i int) []byte { return f.b[i*f.pageSize : i*f.pageSize+16+64] }

func (f boltFile) put32(page, off int, v uint32) {
	binary.LittleEndian.PutUint32(f.b[page*f.pageSize+off:], v)
}

func (f boltFile) put64(page, off int, v uint64) {
	binary.LittleEndian.PutUint64(f.b[page*f.pageSize+off:], v)
}

// reseal recomputes meta page i's checksum, as bbolt would have written it.
func (f boltFile) reseal(i int) {
	h := fnv.New64a()
	h.Write(f.meta(i)[16:metaChecksumOff])
	f.put64(i, metaChecksumOff, h.Sum64())
}

func (f boltFile) write(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, f.b, 0o600))
	return path
}

// noFreelist sets both meta pages to "no freelist" (bbolt's NoFreelistSync), with
// the checksum field either 0 (which bbolt takes for "not checked") or recomputed.
func (f boltFile) noFreelist(seal bool) {
	for i := 0; i < 2; i++ {
		f.put64(i, metaFreelistOff, ^uint64(0))
		f.put64(i, metaChecksumOff, 0)
		if seal {
			f.reseal(i)
		}
	}
}

// Meta pages the store never writes must be refused before bbolt reads the file:
// with no freelist, bbolt rebuilds one at open by walking the tree in a goroutine of
// its own that panics on the first page reached twice (an overflow count that covers
// the next page is enough); with a page size of its own choosing, bbolt reads pages
// at offsets the walker never checked. Each file is opened in a child process: an
// error or a working store is fine, a crash is not.
func TestBoltOpenCraftedMetas(t *testing.T) {
	good := readBoltFile(t, boltChain(t, 20))
	dir := t.TempDir()
	for _, seal := range []bool{false, true} {
		for page := 2; page < good.pages(); page++ {
			bad := good.clone()
			bad.noFreelist(seal)
			bad.put32(page, 12, 1) // overflow: the page claims the next one too
			bad.write(t, dir, fmt.Sprintf("nofreelist-sealed=%v-overflow%03d.db", seal, page))
		}
	}
	for _, size := range []uint32{0, 16, 512, 1000, 2048, 3 << 10, 8192, 1 << 16, 1 << 21, 1 << 31} {
		for _, metas := range [][]int{{0}, {1}, {0, 1}} {
			bad := good.clone()
			for _, i := range metas {
				bad.put32(i, metaPageSizeOff, size)
				bad.reseal(i)
			}
			bad.write(t, dir, fmt.Sprintf("pagesize%d-metas%v.db", size, metas))
		}
		// Meta 0 valid, with that page size, and older than meta 1: bbolt takes its
		// page size but meta 1's tree.
		bad := good.clone()
		bad.put32(0, metaPageSizeOff, size)
		bad.put64(0, metaTxidOff, 0)
		bad.reseal(0)
		bad.write(t, dir, fmt.Sprintf("pagesize%d-older-meta0.db", size))
	}
	openAllInChild(t, dir)
}

// The same files, in this process, are refused with ErrCorrupt: the store never
// writes a meta page without a freelist or without a checksum, nor one whose page size
// differs from the page size bbolt reads the file with.
func TestBoltOpenRefusesMetas(t *testing.T) {
	good := readBoltFile(t, boltChain(t, 6))
	dir := t.TempDir()
	check := func(name string, f boltFile) {
		t.Helper()
		s, err := skipchain.OpenBoltStore(f.write(t, dir, name+".db"))
		if err == nil {
			s.Close()
		}
		require.ErrorIs(t, err, skipchain.ErrCorrupt, name)
	}
	for _, seal := range []bool{false, true} {
		bad := good.clone()
		bad.noFreelist(seal) // no other damage: bbolt would open it and write a freelist
		check(fmt.Sprintf("no freelist, sealed %v", seal), bad)
	}
	unsealed := good.clone()
	for i := 0; i < 2; i++ {
		unsealed.put64(i, metaChecksumOff, 0)
	}
	check("no checksum", unsealed)

	// Meta 1, made the newer one, claims twice the page size: bbolt ignores it (it
	// reads the page size from meta 0 only), so the walker must too, and refuse the
	// mismatch.
	twice := good.clone()
	binary.LittleEndian.PutUint32(twice.meta(1)[metaPageSizeOff:], uint32(2*good.pageSize))
	binary.LittleEndian.PutUint64(twice.meta(1)[metaTxidOff:], binary.LittleEndian.Uint64(good.meta(0)[metaTxidOff:])+1)
	twice.reseal(1)
	check("meta 1 page size", twice)
}

// A page whose overflow count covers the next page, when that page is part of the
// tree, the freelist or the free pages, is refused by the page walker itself, which
// marks the whole range a page covers.
func TestBoltPagesOverflowRange(t *testing.T) {
	path := boltChain(t, 20)
	good := readBoltFile(t, path)
	require.NoError(t, skipchain.CheckBoltPages(good.b), "the undamaged file")

	db, err := bolt.Open(path, 0o600, nil) // read-write: Tx.Page needs the freelist
	require.NoError(t, err)
	types := map[int]string{}
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		for id := 2; id < good.pages(); id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			if info != nil {
				types[id] = info.Type
			}
		}
		return nil
	}))
	require.NoError(t, db.Close())

	tested := 0
	for page := 2; page < good.pages()-1; page++ {
		inUse := types[page] == "branch" || types[page] == "leaf" || types[page] == "freelist"
		if !inUse || types[page+1] == "" {
			continue
		}
		bad := good.clone()
		bad.put32(page, 12, 1)
		require.ErrorIs(t, skipchain.CheckBoltPages(bad.b), skipchain.ErrCorrupt,
			"%s page %d covering %s page %d", types[page], page, types[page+1], page+1)
		tested++
	}
	require.Positive(t, tested)
}

// The walker reads a file with the page size its meta page 0 states, from 1 KB to
// 1 MB; bbolt itself would take any.
func TestBoltPagesPageSizes(t *testing.T) {
	for _, tc := range []struct {
		size int
		ok   bool
	}{{512, false}, {1 << 10, true}, {3 << 10, false}, {16 << 10, true}, {1 << 20, true}, {2 << 20, false}} {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db")
			db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: tc.size})
			require.NoError(t, err)
			require.NoError(t, db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("b"))
				if err != nil {
					return err
				}
				for i := 0; i < 200; i++ {
					if err := b.Put(fmt.Appendf(nil, "key %03d", i), make([]byte, 100)); err != nil {
						return err
					}
				}
				return nil
			}))
			require.NoError(t, db.Close())
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			err = skipchain.CheckBoltPages(raw)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, skipchain.ErrCorrupt)
				assert.Contains(t, err.Error(), "page size")
			}
		})
	}
}

// The smallest file bbolt writes, 4 pages of 1 KB with nothing in them, is exactly
// the 4 KB bbolt reads first.
func TestBoltPagesSmallestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: 1 << 10})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, raw, 4<<10)
	require.NoError(t, skipchain.CheckBoltPages(raw))
	require.ErrorIs(t, skipchain.CheckBoltPages(raw[:4<<10-1]), skipchain.ErrCorrupt)
}

// The walker follows the meta page bbolt uses: the newer valid one, meta 0 when both
// have the same transaction ID. Meta 1 is given a root that does not exist.
func TestBoltPagesMetaChoice(t *testing.T) {
	good := readBoltFile(t, boltChain(t, 6))
	txid := func(i int) uint64 { return binary.LittleEndian.Uint64(good.meta(i)[metaTxidOff:]) }
	newest := max(txid(0), txid(1))
	for _, tc := range []struct {
		name string
		txid uint64
		ok   bool
	}{{"tie", newest, true}, {"meta 1 newer", newest + 1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			bad := good.clone()
			binary.LittleEndian.PutUint64(bad.meta(0)[metaTxidOff:], newest)
			bad.reseal(0)
			binary.LittleEndian.PutUint64(bad.meta(1)[metaTxidOff:], tc.txid)
			binary.LittleEndian.PutUint64(bad.meta(1)[metaRootOff:], 1<<40) // root bucket's page
			bad.reseal(1)
			// Meta 0 keeps its own tree only if it was the newer one; otherwise
			// point it at meta 1's former tree, which is still valid.
			if txid(1) > txid(0) {
				copy(bad.meta(0)[16+16:16+56], good.meta(1)[16+16:16+56])
				binary.LittleEndian.PutUint64(bad.meta(0)[metaTxidOff:], newest)
				bad.reseal(0)
			}
			err := skipchain.CheckBoltPages(bad.b)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, skipchain.ErrCorrupt)
			}
		})
	}
}

// A file cut to exactly the pages its meta page counts is whole to the walker (bbolt
// grows files ahead of use); one byte less is refused.
func TestBoltPagesExactSize(t *testing.T) {
	good := readBoltFile(t, boltChain(t, 6))
	m := good.meta(0)
	if binary.LittleEndian.Uint64(good.meta(1)[metaTxidOff:]) > binary.LittleEndian.Uint64(m[metaTxidOff:]) {
		m = good.meta(1)
	}
	end := int(binary.LittleEndian.Uint64(m[metaPgidOff:])) * good.pageSize
	require.Less(t, end, len(good.b), "bbolt grew the file past its pages")
	require.NoError(t, skipchain.CheckBoltPages(good.b[:end]))
	require.ErrorIs(t, skipchain.CheckBoltPages(good.b[:end-1]), skipchain.ErrCorrupt)
}

// current returns the index of the meta page bbolt uses in an undamaged file.
func (f boltFile) current() int {
	if binary.LittleEndian.Uint64(f.meta(1)[metaTxidOff:]) > binary.LittleEndian.Uint64(f.meta(0)[metaTxidOff:]) {
		return 1
	}
	return 0
}

func (f boltFile) metaField(off int) uint64 {
	return binary.LittleEndian.Uint64(f.meta(f.current())[off:])
}

// Page numbers and overflow counts are bounded by the high-water mark, not by the
// file (which bbolt grows ahead of use): a page at the mark, or an overflow reaching
// it, is refused even though the file holds a well-formed page there.
func TestBoltPagesHighWater(t *testing.T) {
	good := readBoltFile(t, boltChain(t, 6))
	cur := good.current()
	hw := int(good.metaField(metaPgidOff))
	require.Greater(t, good.pages(), hw+1, "bbolt grew the file past its pages")
	leafAt := func(f boltFile, page int) {
		f.put64(page, 0, uint64(page))
		f.put32(page, 8, 2) // leaf, no elements, no overflow
		f.put32(page, 12, 0)
	}

	// The root bucket at page hw, which holds an empty leaf: past the mark.
	bad := good.clone()
	leafAt(bad, hw)
	bad.put64(cur, metaRootOff, uint64(hw))
	bad.reseal(cur)
	require.ErrorIs(t, skipchain.CheckBoltPages(bad.b), skipchain.ErrCorrupt)
	// With the mark one page higher, that page is the whole tree: accepted. With an
	// overflow it reaches the mark: refused.
	bad.put64(cur, metaPgidOff, uint64(hw+1))
	bad.reseal(cur)
	require.NoError(t, skipchain.CheckBoltPages(bad.b))
	require.NoError(t, skipchain.CheckBoltPages(bad.b[:(hw+1)*good.pageSize]), "the last page ends the file")
	bad.put32(hw, 12, 1)
	require.ErrorIs(t, skipchain.CheckBoltPages(bad.b), skipchain.ErrCorrupt)

	// The freelist page reaching one page past the mark.
	fl := int(good.metaField(metaFreelistOff))
	over := good.clone()
	over.put32(fl, 12, uint32(hw-fl))
	require.ErrorIs(t, skipchain.CheckBoltPages(over.b), skipchain.ErrCorrupt)
}

// The freelist: its long form (count 0xFFFF, the count in the first element) is
// read like the short one; entries out of range, listed twice or in use are refused.
func TestBoltPagesFreelist(t *testing.T) {
	good := readBoltFile(t, boltChain(t, 20))
	fl := int(good.metaField(metaFreelistOff))
	off := fl * good.pageSize
	n := int(binary.LittleEndian.Uint16(good.b[off+10:]))
	require.GreaterOrEqual(t, n, 2, "the file has free pages")
	ids := append([]byte(nil), good.b[off+16:off+16+8*n]...)

	long := good.clone()
	binary.LittleEndian.PutUint16(long.b[off+10:], 0xFFFF)
	binary.LittleEndian.PutUint64(long.b[off+16:], uint64(n))
	copy(long.b[off+24:], ids)
	require.NoError(t, skipchain.CheckBoltPages(long.b), "long form")
	tooMany := long.clone()
	binary.LittleEndian.PutUint64(tooMany.b[off+16:], uint64(good.pageSize)) // more than the page holds
	require.ErrorIs(t, skipchain.CheckBoltPages(tooMany.b), skipchain.ErrCorrupt)
	full := long.clone()
	binary.LittleEndian.PutUint64(full.b[off+16:], uint64((good.pageSize-24)/8)) // exactly what it holds
	if err := skipchain.CheckBoltPages(full.b); err != nil {
		require.NotContains(t, err.Error(), "room for")
	}
	// One more than the page holds, every slot a page number in range, so that only
	// the count can refuse it.
	oneMore := long.clone()
	binary.LittleEndian.PutUint64(oneMore.b[off+16:], uint64((good.pageSize-24)/8+1))
	for at := off + 24 + 8*n; at < off+good.pageSize; at += 8 {
		copy(oneMore.b[at:], ids[:8])
	}
	require.ErrorIs(t, skipchain.CheckBoltPages(oneMore.b), skipchain.ErrCorrupt)

	for _, tc := range []struct {
		name string
		id   uint64
	}{
		{"past the mark", good.metaField(metaPgidOff)},
		{"a meta page", 1},
		{"listed twice", binary.LittleEndian.Uint64(ids[8:])},
		{"the freelist itself", uint64(fl)},
		{"the root page", good.metaField(metaRootOff)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := good.clone()
			binary.LittleEndian.PutUint64(bad.b[off+16:], tc.id)
			require.ErrorIs(t, skipchain.CheckBoltPages(bad.b), skipchain.ErrCorrupt)
		})
	}
}

// Buckets nest at most 64 deep below the root.
func TestBoltPagesDepth(t *testing.T) {
	nested := func(depth, keys int) []byte {
		path := filepath.Join(t.TempDir(), "db")
		db, err := bolt.Open(path, 0o600, nil)
		require.NoError(t, err)
		require.NoError(t, db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("b"))
			for i := 1; i < depth && err == nil; i++ {
				b, err = b.CreateBucket([]byte("b"))
			}
			for i := 0; i < keys && err == nil; i++ {
				err = b.Put(fmt.Appendf(nil, "key %03d", i), make([]byte, 100))
			}
			return err
		}))
		require.NoError(t, db.Close())
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		return raw
	}
	// The innermost bucket inline (no keys), in one leaf page (15 keys: more than a
	// quarter of a page), or in a branch page over leaves (100 keys: one level more).
	for _, tc := range []struct{ keys, deepest int }{{0, 64}, {15, 64}, {100, 63}} {
		require.NoError(t, skipchain.CheckBoltPages(nested(tc.deepest, tc.keys)), "%+v", tc)
		err := skipchain.CheckBoltPages(nested(tc.deepest+1, tc.keys))
		require.ErrorIs(t, err, skipchain.ErrCorrupt, "%+v", tc)
		assert.Contains(t, err.Error(), "deeper than 64")
	}
}

// An inline bucket's elements are checked like a page's.
func TestBoltPagesInlineBucket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("outer"))
		if err == nil {
			b, err = b.CreateBucket([]byte("inner"))
		}
		if err == nil {
			err = b.Put([]byte("innerkey"), []byte("v"))
		}
		return err
	}))
	require.NoError(t, db.Close())
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, skipchain.CheckBoltPages(raw))
	// inner's value: bucket header (16 bytes), page header (16), one element (16),
	// then the key: its element count is 34 bytes before the key.
	k := bytes.LastIndex(raw, []byte("innerkeyv"))
	require.Positive(t, k)
	require.Equal(t, uint16(1), binary.LittleEndian.Uint16(raw[k-22:]))
	binary.LittleEndian.PutUint16(raw[k-22:], 0xFFFF)
	require.ErrorIs(t, skipchain.CheckBoltPages(raw), skipchain.ErrCorrupt)
}

// Leaf elements: as many as the page holds, and keys and values that end exactly
// at the page's end, are accepted; one element or one byte more is refused.
func TestBoltPagesLeafElements(t *testing.T) {
	good := readBoltFile(t, boltChain(t, 6))
	cur := good.current()
	hw := int(good.metaField(metaPgidOff))
	ps := good.pageSize
	room := (ps - 16) / 16
	leaf := func(count int, elem0 func(e []byte)) error {
		f := good.clone()
		page := f.b[hw*ps : (hw+1)*ps]
		clear(page)
		f.put64(hw, 0, uint64(hw))
		f.put32(hw, 8, 2|uint32(count)<<16) // leaf, count
		elem0(page[16:32])
		f.put64(cur, metaRootOff, uint64(hw))
		f.put64(cur, metaPgidOff, uint64(hw+1))
		f.reseal(cur)
		return skipchain.CheckBoltPages(f.b)
	}
	none := func([]byte) {}
	require.NoError(t, leaf(room, none), "a page full of empty elements")
	require.ErrorIs(t, leaf(room+1, none), skipchain.ErrCorrupt)
	// Element 0 sits at 16; pos is relative to it.
	atEnd := func(pos, ksize uint32) func([]byte) {
		return func(e []byte) {
			binary.LittleEndian.PutUint32(e[4:], pos)
			binary.LittleEndian.PutUint32(e[8:], ksize)
		}
	}
	require.NoError(t, leaf(1, atEnd(uint32(ps-16), 0)), "an empty key at the very end")
	require.NoError(t, leaf(1, atEnd(uint32(ps-16-8), 8)), "a key ending at the very end")
	require.ErrorIs(t, leaf(1, atEnd(uint32(ps-16-8), 9)), skipchain.ErrCorrupt)
	require.ErrorIs(t, leaf(1, atEnd(uint32(ps-16+1), 0)), skipchain.ErrCorrupt)
}

// A meta page with a wrong checksum is passed over for the other one, as bbolt does.
func TestBoltPagesChecksumFallback(t *testing.T) {
	good := readBoltFile(t, boltChain(t, 6))
	cur := good.current()
	bad := good.clone()
	bad.put64(cur, metaChecksumOff, good.metaField(metaChecksumOff)^1)
	bad.put64(cur, metaRootOff, 1<<40) // and a root that would be refused
	err := skipchain.CheckBoltPages(bad.b)
	if err != nil {
		require.NotContains(t, err.Error(), "outside", "the damaged meta page was used")
	}
}
