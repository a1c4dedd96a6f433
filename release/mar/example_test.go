package mar_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chainiac/chainiac/release/mar"
)

// Open a MAR made by Mozilla's tools, list it, and verify its signature
// with the public key it was signed with.
func Example() {
	f, err := os.Open("testdata/test-bz2.mar")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	a, err := mar.Open(f, st.Size())
	if err != nil {
		panic(err)
	}
	fmt.Println("channel:", a.Channel(), "version:", a.Version())
	for _, s := range a.Signatures() {
		fmt.Println("signature:", s.Algorithm, len(s.Data), "bytes")
	}
	for _, e := range a.Entries() {
		fmt.Printf("%04o %s\n", e.Mode, e.Name)
	}
	pem, _ := os.ReadFile("testdata/test.pubkey")
	key, err := mar.ParsePublicKeyPEM(pem)
	if err != nil {
		panic(err)
	}
	fmt.Println("verify:", mar.Verify(a, key))
	// Output:
	// channel: thunderbird-comm-esr version: 100.0
	// signature: RSA-PKCS1-SHA1 256 bytes
	// 0664 update.manifest
	// 0664 defaults/pref/channel-prefs.js
	// 0664 Contents/MacOS/defaults/pref/channel-prefs.js
	// 0664 update-settings.ini
	// 0664 Contents/MacOS/update-settings.ini
	// verify: <nil>
}

// Write an unsigned MAR with one xz-compressed file and read it back.
func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "mar-example")
	defer os.RemoveAll(dir)
	out, err := os.Create(filepath.Join(dir, "update.mar"))
	if err != nil {
		panic(err)
	}
	defer out.Close()
	files := []mar.File{{
		Name: "update.manifest",
		Mode: 0o644,
		Open: func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("type \"complete\"\n")), nil
		},
	}}
	info := mar.ProductInfo{Channel: "release", Version: "128.0"}
	if err := mar.Write(out, info, files, mar.WriteOptions{Compression: mar.XZ}); err != nil {
		panic(err)
	}
	size, _ := out.Seek(0, io.SeekCurrent)
	a, err := mar.Open(out, size)
	if err != nil {
		panic(err)
	}
	e, _ := a.Entry("update.manifest")
	r, _ := a.OpenEntry(e, mar.Limits{})
	content, _ := io.ReadAll(r)
	fmt.Printf("%s %s: %s %q\n", a.Channel(), a.Version(), e.Name, content)
	// Output:
	// release 128.0: update.manifest "type \"complete\"\n"
}
