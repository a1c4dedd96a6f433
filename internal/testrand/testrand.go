package testrand

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
)

// New returns an endless stream of bytes determined by seed: the SHA-256 of seed and a
// block counter, block after block.
func New(seed string) io.Reader { return &stream{seed: seed} }

type stream struct {
	seed    string
	counter uint64
	block   []byte
}

func (s *stream) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.block) == 0 {
			var c [8]byte
			binary.BigEndian.PutUint64(c[:], s.counter)
			s.counter++
			sum := sha256.Sum256(append([]byte(s.seed), c[:]...))
			s.block = sum[:]
		}
		k := copy(p[n:], s.block)
		s.block = s.block[k:]
		n += k
	}
	return n, nil
}
