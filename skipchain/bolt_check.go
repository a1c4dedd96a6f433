package skipchain

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// checkBoltPages reads the page structure of a bbolt v1.3.6 file before bbolt does.
// bbolt trusts its pages: a damaged element count, offset, page number or page type
// sends it past its memory map, into an endless descent, or into a huge allocation,
// and some of that happens in goroutines of its own (Tx.Check, and the free-page scan
// of a file without a freelist) where no recover reaches. This walk reads the file
// with ReadAt, bounds every number against the file, reads it with the page size
// bbolt will use, and marks every page a page covers (its overflow included), so that
// no page is reached twice, none is both reached and free, and damage to bbolt's own
// structures gives ErrCorrupt instead of a crashed process. It mirrors bbolt's
// on-disk layout (page.go, db.go, bucket.go, freelist.go of v1.3.6; native byte
// order).
func checkBoltPages(f io.ReaderAt, fileSize int64) error {
	c := &boltPages{f: f, fileSize: fileSize, visited: map[uint64]bool{}}
	m, err := c.meta()
	if err != nil {
		return err
	}
	// The store opens bbolt with a synced freelist and bbolt always checksums the
	// meta it writes: a meta without either was not written by this store. Without a
	// freelist, bbolt would rebuild one at open, in a goroutine that panics on the
	// first page reached twice.
	switch {
	case m.freelist == boltNoFreelist:
		return fmt.Errorf("%w: bbolt: meta page without a freelist (NoFreelistSync), which this store never writes", ErrCorrupt)
	case m.checksum == 0:
		return fmt.Errorf("%w: bbolt: meta page without a checksum", ErrCorrupt)
	case uint64(m.pageSize) != c.pageSize:
		return fmt.Errorf("%w: bbolt: meta page says %d-byte pages, bbolt reads the file with %d", ErrCorrupt, m.pageSize, c.pageSize)
	}
	c.highWater = m.pgid
	if c.highWater < 2 || c.highWater > uint64(fileSize)/c.pageSize {
		return fmt.Errorf("%w: bbolt: %d pages of %d bytes in a file of %d bytes", ErrCorrupt, c.highWater, c.pageSize, fileSize)
	}
	free, err := c.freelist(m.freelist)
	if err != nil {
		return err
	}
	if err := c.tree(m.root, 0); err != nil {
		return err
	}
	// bbolt's Tx.Check compares free pages with the first page of each reached
	// page only: a free page inside another's overflow would be handed out by the
	// next write and overwrite it.
	for _, id := range free {
		if c.visited[id] {
			return fmt.Errorf("%w: bbolt: page %d is free and in use, or free twice", ErrCorrupt, id)
		}
		c.visited[id] = true
	}
	return nil
}

const (
	boltMagic          = 0xED0CDAED
	boltVersion        = 2
	boltNoFreelist     = ^uint64(0)
	boltBranchPage     = 0x01
	boltLeafPage       = 0x02
	boltFreelistPage   = 0x10
	boltBucketLeafFlag = 0x01
	boltPageHeaderSize = 16 // id u64, flags u16, count u16, overflow u32
	boltElementSize    = 16 // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	boltBucketSize     = 16 // root pgid u64, sequence u64
	boltMetaSize       = 64 // magic, version, page size, flags u32; root, sequence, freelist, pgid, txid, checksum u64
	boltMaxDepth       = 64
	boltFirstRead      = 0x1000 // what bbolt reads of page 0 to learn the page size
	boltMinPageSize    = 1024
	boltMaxPageSize    = 1 << 20
)

var ne = binary.NativeEndian

type boltMeta struct {
	pageSize                             uint32
	root, freelist, pgid, txid, checksum uint64
	valid                                bool // as bbolt's meta.validate: magic, version, checksum 0 or right
}

type boltPages struct {
	f                   io.ReaderAt
	fileSize            int64
	pageSize, highWater uint64
	visited             map[uint64]bool
}

func (c *boltPages) read(off, n uint64) ([]byte, error) {
	if off > uint64(c.fileSize) || n > uint64(c.fileSize)-off {
		return nil, fmt.Errorf("%w: bbolt: %d bytes at %d lie past the end of the file", ErrCorrupt, n, off)
	}
	b := make([]byte, n)
	if _, err := c.f.ReadAt(b, int64(off)); err != nil {
		return nil, fmt.Errorf("%w: bbolt: read at %d: %w", ErrCorrupt, off, err)
	}
	return b, nil
}

// meta sets the page size bbolt will use and returns the meta page it will use,
// both chosen as bbolt.Open and DB.meta choose them: the page size is meta page 0's
// if that page validates (whatever the size says) and the OS page size otherwise
// (the store passes no PageSize option); meta page 1 sits one such page in; the meta
// used is the valid one with the higher transaction ID, meta 0 on a tie. Only then is
// the page size bounded: bbolt would use any.
func (c *boltPages) meta() (boltMeta, error) {
	if c.fileSize < boltFirstRead {
		return boltMeta{}, fmt.Errorf("%w: bbolt: file of %d bytes, shorter than the %d bbolt reads first", ErrCorrupt, c.fileSize, boltFirstRead)
	}
	m0, err := c.readMeta(0)
	if err != nil {
		return boltMeta{}, err
	}
	c.pageSize = uint64(os.Getpagesize())
	if m0.valid {
		c.pageSize = uint64(m0.pageSize)
	}
	if c.pageSize < boltMinPageSize || c.pageSize > boltMaxPageSize || c.pageSize&(c.pageSize-1) != 0 {
		return boltMeta{}, fmt.Errorf("%w: bbolt: page size %d, want a power of two from %d to %d", ErrCorrupt, c.pageSize, boltMinPageSize, boltMaxPageSize)
	}
	m1, err := c.readMeta(c.pageSize)
	if err != nil {
		return boltMeta{}, err
	}
	a, b := m0, m1
	if m1.txid > m0.txid {
		a, b = m1, m0
	}
	switch {
	case a.valid:
		return a, nil
	case b.valid:
		return b, nil
	}
	return boltMeta{}, fmt.Errorf("%w: bbolt: neither meta page is valid", ErrCorrupt)
}

func (c *boltPages) readMeta(off uint64) (boltMeta, error) {
	b, err := c.read(off+boltPageHeaderSize, boltMetaSize)
	if err != nil {
		return boltMeta{}, err
	}
	m := boltMeta{
		pageSize: ne.Uint32(b[8:]),
		root:     ne.Uint64(b[16:]),
		freelist: ne.Uint64(b[32:]),
		pgid:     ne.Uint64(b[40:]),
		txid:     ne.Uint64(b[48:]),
		checksum: ne.Uint64(b[56:]),
	}
	h := fnv.New64a()
	h.Write(b[:56])
	m.valid = ne.Uint32(b) == boltMagic && ne.Uint32(b[4:]) == boltVersion && (m.checksum == 0 || m.checksum == h.Sum64())
	return m, nil
}

// page reads page id with its overflow pages, checking its header against id, the
// high-water mark and the file, and marks every page it covers as visited: a page
// covered twice is refused.
func (c *boltPages) page(id uint64) (flags, count uint16, body []byte, err error) {
	if id < 2 || id >= c.highWater {
		return 0, 0, nil, fmt.Errorf("%w: bbolt: page %d outside 2..%d", ErrCorrupt, id, c.highWater-1)
	}
	hdr, err := c.read(id*c.pageSize, boltPageHeaderSize)
	if err != nil {
		return 0, 0, nil, err
	}
	if got := ne.Uint64(hdr); got != id {
		return 0, 0, nil, fmt.Errorf("%w: bbolt: page %d says it is page %d", ErrCorrupt, id, got)
	}
	overflow := uint64(ne.Uint32(hdr[12:]))
	if overflow >= c.highWater-id {
		return 0, 0, nil, fmt.Errorf("%w: bbolt: page %d overflows past the last page", ErrCorrupt, id)
	}
	for p := id; p <= id+overflow; p++ {
		if c.visited[p] {
			return 0, 0, nil, fmt.Errorf("%w: bbolt: page %d is reached twice (from page %d)", ErrCorrupt, p, id)
		}
		c.visited[p] = true
	}
	body, err = c.read(id*c.pageSize, (overflow+1)*c.pageSize)
	if err != nil {
		return 0, 0, nil, err
	}
	return ne.Uint16(hdr[8:]), ne.Uint16(hdr[10:]), body, nil
}

// freelist checks the freelist page and returns the free pages it lists.
func (c *boltPages) freelist(id uint64) ([]uint64, error) {
	flags, count, body, err := c.page(id)
	if err != nil {
		return nil, fmt.Errorf("freelist: %w", err)
	}
	if flags != boltFreelistPage {
		return nil, fmt.Errorf("%w: bbolt: freelist page %d has flags %#x", ErrCorrupt, id, flags)
	}
	n, start := uint64(count), uint64(boltPageHeaderSize)
	if count == 0xFFFF {
		n, start = ne.Uint64(body[boltPageHeaderSize:]), boltPageHeaderSize+8
	}
	if n > (uint64(len(body))-start)/8 {
		return nil, fmt.Errorf("%w: bbolt: freelist page %d lists %d pages, room for %d", ErrCorrupt, id, n, (uint64(len(body))-start)/8)
	}
	free := make([]uint64, n)
	for i := range free {
		free[i] = ne.Uint64(body[start+8*uint64(i):])
		if free[i] < 2 || free[i] >= c.highWater {
			return nil, fmt.Errorf("%w: bbolt: freelist names page %d outside 2..%d", ErrCorrupt, free[i], c.highWater-1)
		}
	}
	return free, nil
}

// tree checks the subtree under page root, visiting every page at most once.
func (c *boltPages) tree(root uint64, depth int) error {
	if depth > boltMaxDepth {
		return fmt.Errorf("%w: bbolt: tree deeper than %d", ErrCorrupt, boltMaxDepth)
	}
	flags, count, body, err := c.page(root)
	if err != nil {
		return err
	}
	return c.elements(flags, count, body, depth)
}

// elements checks the elements of a branch or leaf page held in body (a stored page
// or the inline page of a small bucket) and descends into children and buckets.
func (c *boltPages) elements(flags, count uint16, body []byte, depth int) error {
	if flags != boltBranchPage && flags != boltLeafPage {
		return fmt.Errorf("%w: bbolt: page flags %#x, want branch or leaf", ErrCorrupt, flags)
	}
	if uint64(count) > (uint64(len(body))-boltPageHeaderSize)/boltElementSize || flags == boltBranchPage && count == 0 {
		return fmt.Errorf("%w: bbolt: page of %d bytes claims %d elements", ErrCorrupt, len(body), count)
	}
	within := func(elem, pos, n uint64) ([]byte, error) {
		start := elem + pos
		if pos > uint64(len(body)) || start > uint64(len(body)) || n > uint64(len(body))-start {
			return nil, fmt.Errorf("%w: bbolt: element data [%d, +%d) outside its page of %d bytes", ErrCorrupt, start, n, len(body))
		}
		return body[start : start+n], nil
	}
	for i := uint64(0); i < uint64(count); i++ {
		elem := boltPageHeaderSize + i*boltElementSize
		e := body[elem : elem+boltElementSize]
		if flags == boltBranchPage {
			if _, err := within(elem, uint64(ne.Uint32(e)), uint64(ne.Uint32(e[4:]))); err != nil {
				return err
			}
			if err := c.tree(ne.Uint64(e[8:]), depth+1); err != nil {
				return err
			}
			continue
		}
		ksize, vsize := uint64(ne.Uint32(e[8:])), uint64(ne.Uint32(e[12:]))
		kv, err := within(elem, uint64(ne.Uint32(e[4:])), ksize+vsize)
		if err != nil {
			return err
		}
		if ne.Uint32(e)&boltBucketLeafFlag == 0 {
			continue
		}
		v := kv[ksize:]
		if len(v) < boltBucketSize {
			return fmt.Errorf("%w: bbolt: bucket header of %d bytes", ErrCorrupt, len(v))
		}
		if root := ne.Uint64(v); root != 0 {
			if err := c.tree(root, depth+1); err != nil {
				return err
			}
			continue
		}
		inline := v[boltBucketSize:]
		if len(inline) < boltPageHeaderSize {
			return fmt.Errorf("%w: bbolt: inline bucket of %d bytes", ErrCorrupt, len(inline))
		}
		if depth+1 > boltMaxDepth {
			return fmt.Errorf("%w: bbolt: tree deeper than %d", ErrCorrupt, boltMaxDepth)
		}
		if err := c.elements(ne.Uint16(inline[8:]), ne.Uint16(inline[10:]), inline, depth+1); err != nil {
			return err
		}
	}
	return nil
}
