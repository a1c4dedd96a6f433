package simulation

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/timeline"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// The transparency log of the comparison: one record per release (the same
// payload bytes chainiac's blocks carry), a Merkle tree over them kept as tlog's
// stored hashes, and checkpoints (tlog.FormatTree) signed as a note by the log and
// cosigned by w witnesses, each with its own Ed25519 key. Everything Merkle is
// golang.org/x/mod/sumdb/tlog; every signature is sumdb/note.
//
// It is served over HTTP in two ways a client can use:
//
//	/checkpoint                 the signed checkpoint (see below)
//	/proof/tree?old=N0&new=N    consistency proof, hashes concatenated (tlog.ProveTree)
//	/entry?index=I&size=N       u32 length ‖ record I ‖ its inclusion proof (tlog.ProveRecord)
//	/tile/H/L/...               tlog tiles of height 8 (tlog.Tile.Path), for tile clients
//	/record/I                   record I alone, for tile clients
//
// note.Open refuses a note with more than 100 signatures, so a checkpoint with more
// than 99 witnesses is served as several notes with the same text, each with at
// most 100 signatures (the log's in the first); /checkpoint frames each note as its
// decimal length, a newline and the note.

// tileHeight is the tile height of the Go checksum database.
const tileHeight = 8

// maxNoteSigs is note.Open's limit on the signatures of one note.
const maxNoteSigs = 100

// logName is the log's key name; witness i is named witnessName(i).
const logName = "log.releases.example"

func witnessName(i int) string { return fmt.Sprintf("witness%03d.example", i) }

type txlog struct {
	records   [][]byte
	hashes    []tlog.Hash // stored hashes of every record
	logSigner note.Signer
	logVerify note.Verifier
	witSigner []note.Signer
	witVerify []note.Verifier

	mu         sync.Mutex
	size       int64 // tree size served
	w          int   // witnesses cosigning the served checkpoint
	tree       tlog.Tree
	checkpoint []byte
}

// newTxLog builds the log over records and the keys of the log and maxW witnesses,
// derived from seed.
func newTxLog(records [][]byte, maxW int, seed uint64) (*txlog, error) {
	l := &txlog{records: records}
	for i, r := range records {
		hs, err := tlog.StoredHashes(int64(i), r, l.reader(int64(i)))
		if err != nil {
			return nil, err
		}
		l.hashes = append(l.hashes, hs...)
	}
	var err error
	if l.logSigner, l.logVerify, err = noteKey(seed, logName); err != nil {
		return nil, err
	}
	for i := 0; i < maxW; i++ {
		s, v, err := noteKey(seed, witnessName(i))
		if err != nil {
			return nil, err
		}
		l.witSigner, l.witVerify = append(l.witSigner, s), append(l.witVerify, v)
	}
	return l, nil
}

func noteKey(seed uint64, name string) (note.Signer, note.Verifier, error) {
	skey, vkey, err := note.GenerateKey(testrand.New(fmt.Sprintf("chainiac simulation %d note key %s", seed, name)), name)
	if err != nil {
		return nil, nil, err
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, nil, err
	}
	v, err := note.NewVerifier(vkey)
	return s, v, err
}

// reader reads stored hashes of the tree of size n.
func (l *txlog) reader(n int64) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		limit := tlog.StoredHashCount(n)
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= limit || x >= int64(len(l.hashes)) {
				return nil, fmt.Errorf("tlog: hash %d not in a tree of %d records", x, n)
			}
			out[i] = l.hashes[x]
		}
		return out, nil
	})
}

// set makes the log serve the tree of its first size records, its checkpoint
// cosigned by the first w witnesses, and returns that tree.
func (l *txlog) set(size int64, w int) (tlog.Tree, error) {
	if size < 1 || size > int64(len(l.records)) || w < 0 || w > len(l.witSigner) {
		return tlog.Tree{}, fmt.Errorf("tlog: size %d, %d witnesses", size, w)
	}
	h, err := tlog.TreeHash(size, l.reader(size))
	if err != nil {
		return tlog.Tree{}, err
	}
	tree := tlog.Tree{N: size, Hash: h}
	signers := append([]note.Signer{l.logSigner}, l.witSigner[:w]...)
	var body bytes.Buffer
	for len(signers) > 0 {
		n := min(len(signers), maxNoteSigs)
		msg, err := note.Sign(&note.Note{Text: string(tlog.FormatTree(tree))}, signers[:n]...)
		if err != nil {
			return tlog.Tree{}, err
		}
		fmt.Fprintf(&body, "%d\n", len(msg))
		body.Write(msg)
		signers = signers[n:]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.size, l.w, l.tree, l.checkpoint = size, w, tree, body.Bytes()
	return tree, nil
}

// treeAt is the tree of the first n records (what a client trusts after a check).
func (l *txlog) treeAt(n int64) (tlog.Tree, error) {
	h, err := tlog.TreeHash(n, l.reader(n))
	return tlog.Tree{N: n, Hash: h}, err
}

func (l *txlog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := l.serve(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(body)
}

func (l *txlog) serve(r *http.Request) ([]byte, error) {
	l.mu.Lock()
	size, checkpoint := l.size, l.checkpoint
	l.mu.Unlock()
	q := r.URL.Query()
	num := func(name string) (int64, error) { return strconv.ParseInt(q.Get(name), 10, 64) }
	path := r.URL.Path
	switch {
	case path == "/checkpoint":
		return checkpoint, nil
	case path == "/proof/tree":
		old, err1 := num("old")
		n, err2 := num("new")
		if err1 != nil || err2 != nil || n > size {
			return nil, errors.New("bad sizes")
		}
		p, err := tlog.ProveTree(n, old, l.reader(n))
		if err != nil {
			return nil, err
		}
		return joinHashes(nil, p), nil
	case path == "/entry":
		i, err1 := num("index")
		n, err2 := num("size")
		if err1 != nil || err2 != nil || n > size || i < 0 || i >= n {
			return nil, errors.New("bad index or size")
		}
		p, err := tlog.ProveRecord(n, i, l.reader(n))
		if err != nil {
			return nil, err
		}
		out := binary.BigEndian.AppendUint32(nil, uint32(len(l.records[i])))
		return joinHashes(append(out, l.records[i]...), p), nil
	case strings.HasPrefix(path, "/record/"):
		i, err := strconv.ParseInt(strings.TrimPrefix(path, "/record/"), 10, 64)
		if err != nil || i < 0 || i >= size {
			return nil, errors.New("no such record")
		}
		return l.records[i], nil
	case strings.HasPrefix(path, "/tile/"):
		t, err := tlog.ParseTilePath(strings.TrimPrefix(path, "/"))
		if err != nil || t.H != tileHeight || t.L < 0 {
			return nil, errors.New("bad tile")
		}
		return tlog.ReadTileData(t, l.reader(size))
	}
	return nil, errors.New("not found")
}

func joinHashes(out []byte, hs []tlog.Hash) []byte {
	for _, h := range hs {
		out = append(out, h[:]...)
	}
	return out
}

func splitHashes(b []byte) ([]tlog.Hash, error) {
	if len(b)%tlog.HashSize != 0 {
		return nil, fmt.Errorf("tlog: %d bytes of hashes", len(b))
	}
	out := make([]tlog.Hash, len(b)/tlog.HashSize)
	for i := range out {
		copy(out[i][:], b[i*tlog.HashSize:])
	}
	return out, nil
}

// logClient is an updater of the log design: it pins the log's and the witnesses'
// keys and trusts the tree it last verified.
type logClient struct {
	base      string
	http      *http.Client
	verifiers note.Verifiers
	witnesses int // witnesses pinned
	threshold int // of them whose cosignature a checkpoint needs
	policy    *release.Policy
	tiles     bool // read hashes through tiles instead of asking for proofs

	stats logStats
}

// logStats is the cost of one catch-up.
type logStats struct {
	Bytes, PayloadBytes int64
	RoundTrips          int
	SignatureChecks     int
	ProofHashes         int
	TilesFetched        int
	CheckpointBytes     int64
	ReleaseVersion      string
	TreeSize            int64
}

func newLogClient(base string, hc *http.Client, l *txlog, w int, policy *release.Policy, tiles bool) *logClient {
	vs := append([]note.Verifier{l.logVerify}, l.witVerify[:w]...)
	return &logClient{base: base, http: hc, verifiers: note.VerifierList(vs...), witnesses: w,
		threshold: witnessThreshold(w), policy: policy, tiles: tiles}
}

// witnessThreshold is the cosignatures a client asks of w witnesses: the same
// fraction chainiac asks of its roster, n − ⌊(n−1)/3⌋.
func witnessThreshold(w int) int {
	if w == 0 {
		return 0
	}
	return w - (w-1)/3
}

func (c *logClient) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	c.stats.RoundTrips++
	c.stats.Bytes += int64(len(body))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", path, resp.Status)
	}
	return body, nil
}

// checkpoint fetches and opens the newest checkpoint: the log's signature and at
// least the threshold of the witnesses' must verify, over one tree.
func (c *logClient) checkpoint(ctx context.Context) (tlog.Tree, error) {
	body, err := c.get(ctx, "/checkpoint")
	if err != nil {
		return tlog.Tree{}, err
	}
	c.stats.CheckpointBytes = int64(len(body))
	signed := map[string]bool{}
	text := ""
	for len(body) > 0 {
		line, rest, ok := bytes.Cut(body, []byte("\n"))
		n, err := strconv.Atoi(string(line))
		if !ok || err != nil || n <= 0 || n > len(rest) {
			return tlog.Tree{}, errors.New("tlog: bad checkpoint framing")
		}
		msg := rest[:n]
		body = rest[n:]
		nt, err := note.Open(msg, c.verifiers)
		if err != nil {
			return tlog.Tree{}, fmt.Errorf("tlog: checkpoint: %w", err)
		}
		if text != "" && nt.Text != text {
			return tlog.Tree{}, errors.New("tlog: checkpoint notes of different trees")
		}
		text = nt.Text
		for _, s := range nt.Sigs {
			c.stats.SignatureChecks++
			signed[s.Name] = true
		}
	}
	if !signed[logName] {
		return tlog.Tree{}, errors.New("tlog: checkpoint not signed by the log")
	}
	if len(signed)-1 < c.threshold {
		return tlog.Tree{}, fmt.Errorf("tlog: checkpoint cosigned by %d of %d witnesses, want %d", len(signed)-1, c.witnesses, c.threshold)
	}
	return tlog.ParseTree([]byte(text))
}

// catchUp goes from the trusted tree to the newest checkpoint's, proving the newest
// tree extends the trusted one and that its last record, the newest release, is in
// it; then it verifies that release's developer signatures, as chainiac's client does.
func (c *logClient) catchUp(ctx context.Context, trusted tlog.Tree) (tlog.Tree, error) {
	c.stats = logStats{}
	tree, err := c.checkpoint(ctx)
	if err != nil {
		return tlog.Tree{}, err
	}
	c.stats.TreeSize = tree.N
	switch {
	case tree.N < trusted.N:
		return tlog.Tree{}, fmt.Errorf("tlog: rollback from %d to %d records", trusted.N, tree.N)
	case tree.N == trusted.N:
		if tree.Hash != trusted.Hash {
			return tlog.Tree{}, errors.New("tlog: two trees of the same size (split view)")
		}
		return tree, nil
	}
	last := tree.N - 1
	var record []byte
	var rp tlog.RecordProof
	var tp tlog.TreeProof
	if c.tiles {
		hr := tlog.TileHashReader(tree, &tileFetcher{c: c, ctx: ctx, cache: map[tlog.Tile][]byte{}})
		if tp, err = tlog.ProveTree(tree.N, trusted.N, hr); err != nil {
			return tlog.Tree{}, err
		}
		if rp, err = tlog.ProveRecord(tree.N, last, hr); err != nil {
			return tlog.Tree{}, err
		}
		if record, err = c.get(ctx, fmt.Sprintf("/record/%d", last)); err != nil {
			return tlog.Tree{}, err
		}
	} else {
		body, err := c.get(ctx, fmt.Sprintf("/proof/tree?old=%d&new=%d", trusted.N, tree.N))
		if err != nil {
			return tlog.Tree{}, err
		}
		if tp, err = splitHashes(body); err != nil {
			return tlog.Tree{}, err
		}
		body, err = c.get(ctx, fmt.Sprintf("/entry?index=%d&size=%d", last, tree.N))
		if err != nil {
			return tlog.Tree{}, err
		}
		if len(body) < 4 || int(binary.BigEndian.Uint32(body)) > len(body)-4 {
			return tlog.Tree{}, errors.New("tlog: bad entry")
		}
		n := int(binary.BigEndian.Uint32(body))
		record = body[4 : 4+n]
		if rp, err = splitHashes(body[4+n:]); err != nil {
			return tlog.Tree{}, err
		}
	}
	c.stats.ProofHashes = len(tp) + len(rp)
	if err := tlog.CheckTree(tp, tree.N, tree.Hash, trusted.N, trusted.Hash); err != nil {
		return tlog.Tree{}, fmt.Errorf("tlog: consistency: %w", err)
	}
	if err := tlog.CheckRecord(rp, tree.N, tree.Hash, last, tlog.RecordHash(record)); err != nil {
		return tlog.Tree{}, fmt.Errorf("tlog: inclusion: %w", err)
	}
	c.stats.PayloadBytes = int64(len(record))
	p, err := timeline.ParsePayload(timeline.KindRelease, record)
	if err != nil {
		return tlog.Tree{}, err
	}
	m, err := c.policy.VerifyManifest(p.Release)
	if err != nil {
		return tlog.Tree{}, err
	}
	c.stats.ReleaseVersion = m.Version
	return tree, nil
}

// tileFetcher is a tlog.TileReader over HTTP that keeps, for one catch-up, the
// tiles tlog has verified.
type tileFetcher struct {
	c     *logClient
	ctx   context.Context
	cache map[tlog.Tile][]byte
}

func (f *tileFetcher) Height() int { return tileHeight }

func (f *tileFetcher) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		if d, ok := f.cache[t]; ok {
			out[i] = d
			continue
		}
		d, err := f.c.get(f.ctx, "/"+t.Path())
		if err != nil {
			return nil, err
		}
		f.c.stats.TilesFetched++
		out[i] = d
	}
	return out, nil
}

func (f *tileFetcher) SaveTiles(tiles []tlog.Tile, data [][]byte) {
	for i, t := range tiles {
		f.cache[t] = data[i]
	}
}
