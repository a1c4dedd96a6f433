package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/sample"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/release/mar"
)

// An updater pins the genesis ID and names mirrors; Check verifies the newest release
// and Download fetches one of its MARs, checked byte for byte. (The chain here is
// signed in process and served over loopback HTTP.)
func Example() {
	chain, mirror, cleanup := exampleChain()
	defer cleanup()
	state, _ := os.MkdirTemp("", "updater-state-")
	defer os.RemoveAll(state)

	c, err := client.New(client.Config{Genesis: chain.ID(), Mirrors: []string{mirror}, StateDir: state, Clock: clock})
	if err != nil {
		panic(err)
	}
	u, err := c.Check(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Printf("release %s on %s, block %d, %d signature check(s)\n",
		u.Release.Manifest.Version, u.Release.Manifest.Channel, u.Release.Index, u.Stats.SignatureChecks)

	target, _ := u.Target("linux-x86_64", "en-US")
	path, err := c.Download(context.Background(), target, state)
	if err != nil {
		panic(err)
	}
	fmt.Println("verified", filepath.Base(path))
	// Output:
	// release 1.1 on release, block 2, 1 signature check(s)
	// verified demo-browser-1.1-release-linux-x86_64-en-US.mar
}

func clock() time.Time { return now }

// exampleChain is a chain of two sample releases with real MARs and its mirror.
func exampleChain() (*testchain.Chain, string, func()) {
	tb := &onceTB{}
	pem, err := os.ReadFile("../release/build/testdata/mar-signing-key.pem")
	if err != nil {
		panic(err)
	}
	key, err := mar.ParsePrivateKeyPEM(pem)
	if err != nil {
		panic(err)
	}
	files, err := sample.NewServer()
	if err != nil {
		panic(err)
	}
	work, _ := os.MkdirTemp("", "example-release-")
	chain := testchain.New(tb, testchain.Options{Product: sample.Product})
	for _, v := range []string{"1.0", "1.1"} {
		r, err := sample.Make(context.Background(), sample.Options{Version: v, Channel: "release", BaseURL: files.URL(),
			MARKey: key, Developers: chain.Devs()[:2], WorkDir: work})
		if err != nil {
			panic(err)
		}
		files.Publish(r.Files)
		chain.Append(tb, r.Signed, nil)
	}
	srv := httptest.NewServer(chain.Handler())
	return chain, srv.URL, func() { srv.Close(); files.Close(); os.RemoveAll(work) }
}
