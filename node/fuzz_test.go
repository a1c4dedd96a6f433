package node

import (
	"bytes"
	"testing"

	"github.com/chainiac/chainiac/skipchain/chaintest"
)

func FuzzParseRoundData(f *testing.F) {
	c := chaintest.Build(f, "roster R1 4; genesis; blocks 1..2")
	store := c.MemStore(f, 2)
	b, _ := store.Block(2)
	links, _ := store.Links(1)
	f.Add((&roundData{Block: b, Links: links, Source: "http://127.0.0.1:1/src.tar.gz", CatchUp: "http://127.0.0.1:2"}).encode())
	f.Add((&roundData{}).encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := parseRoundData(nil, in)
		if err != nil {
			return
		}
		if !bytes.Equal(d.encode(), in) {
			t.Fatalf("re-encoding differs")
		}
	})
}
