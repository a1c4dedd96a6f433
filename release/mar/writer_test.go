package mar

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pseudoRandom(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestWriteRoundTrip(t *testing.T) {
	contents := map[string][]byte{
		"update.manifest":  []byte("type \"complete\"\n"),
		"bin/app":          pseudoRandom(300_000, 1),
		"share/zeros.dat":  make([]byte, 1<<20),
		"empty":            nil,
		"deep/a/b/c/d.txt": bytes.Repeat([]byte("chainiac "), 1000),
	}
	names := []string{"update.manifest", "bin/app", "share/zeros.dat", "empty", "deep/a/b/c/d.txt"}
	var files []File
	for i, n := range names {
		files = append(files, bytesFile(n, uint32(0o644+i%2*0o111), contents[n]))
	}
	for _, c := range []Compression{XZ, BZip2} {
		t.Run(c.String(), func(t *testing.T) {
			b := writeBytes(t, sampleInfo, files, WriteOptions{Compression: c})
			a := openBytes(t, b)
			assert.Equal(t, sampleInfo.Channel, a.Channel())
			assert.Equal(t, sampleInfo.Version, a.Version())
			assert.Empty(t, a.Signatures())
			assert.Equal(t, names, entryNames(a), "entries keep the order given")
			for i, e := range a.Entries() {
				assert.Equal(t, uint32(0o644+i%2*0o111), e.Mode)
				head := make([]byte, 6)
				_, _ = a.Raw(e).ReadAt(head, 0)
				kind, ok := detectCompression(head)
				require.True(t, ok)
				assert.Equal(t, c, kind, "each entry compressed on its own")
			}
			assert.Equal(t, uint32(contentStart), a.Entries()[0].Offset, "content right after the padded product information")
			got := decompressAll(t, a)
			for n, want := range contents {
				assert.True(t, bytes.Equal(want, got[n]), n)
			}
			// Deterministic: same inputs, same bytes.
			assert.Equal(t, b, writeBytes(t, sampleInfo, files, WriteOptions{Compression: c}))
		})
	}
}

// Our compressed entries are standard: the system xz and bzip2 tools
// decompress them to the original content.
func TestWrittenEntriesDecompressWithSystemTools(t *testing.T) {
	content := append(pseudoRandom(50_000, 2), bytes.Repeat([]byte("abc"), 50_000)...)
	for _, tc := range []struct {
		c    Compression
		tool string
	}{{XZ, "xz"}, {BZip2, "bzip2"}} {
		t.Run(tc.tool, func(t *testing.T) {
			path, err := exec.LookPath(tc.tool)
			if err != nil {
				t.Skipf("%s command not found: independent decompression skipped", tc.tool)
			}
			a := openBytes(t, writeBytes(t, sampleInfo, []File{bytesFile("f", 0o644, content)}, WriteOptions{Compression: tc.c}))
			e, _ := a.Entry("f")
			cmd := exec.Command(path, "-d", "-c")
			cmd.Stdin = a.Raw(e)
			out, err := cmd.Output()
			require.NoError(t, err)
			assert.True(t, bytes.Equal(content, out))
		})
	}
}

func TestWriteRejectsBadInput(t *testing.T) {
	ok := bytesFile("a", 0o644, []byte("x"))
	failing := File{Name: "b", Mode: 0o644, Open: func() (io.ReadCloser, error) { return nil, errors.New("disk on fire") }}
	cases := []struct {
		name  string
		info  ProductInfo
		files []File
		opts  WriteOptions
		want  string
	}{
		{"empty channel", ProductInfo{"", "1"}, []File{ok}, WriteOptions{}, "channel"},
		{"long channel", ProductInfo{string(make([]byte, 64)), "1"}, []File{ok}, WriteOptions{}, "channel"},
		{"channel with NUL", ProductInfo{"a\x00b", "1"}, []File{ok}, WriteOptions{}, "channel"},
		{"empty version", ProductInfo{"c", ""}, []File{ok}, WriteOptions{}, "version"},
		{"long version", ProductInfo{"c", "123456789012345678901234567890123"}, []File{ok}, WriteOptions{}, "version"},
		{"unknown compression", sampleInfo, []File{ok}, WriteOptions{Compression: 9}, "unknown compression"},
		{"duplicate", sampleInfo, []File{ok, ok}, WriteOptions{}, "duplicate"},
		{"mode", sampleInfo, []File{bytesFile("m", 0o4755, nil)}, WriteOptions{}, "mode"},
		{"nil open", sampleInfo, []File{{Name: "n", Mode: 0o644}}, WriteOptions{}, "no Open"},
		{"open fails", sampleInfo, []File{ok, failing}, WriteOptions{}, "disk on fire"},
		{"absolute name", sampleInfo, []File{bytesFile("/etc/passwd", 0o644, nil)}, WriteOptions{}, "unsafe"},
		{"dotdot name", sampleInfo, []File{bytesFile("a/../../b", 0o644, nil)}, WriteOptions{}, "unsafe"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(&seekBuffer{}, tc.info, tc.files, tc.opts)
			require.ErrorContains(t, err, tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "mar: "), err.Error())
		})
	}
}

func TestCheckName(t *testing.T) {
	for _, good := range []string{"a", "a/b", "Contents/MacOS/firefox", "a..b", ".hidden", "ünïcode"} {
		assert.NoError(t, CheckName(good), good)
	}
	for _, bad := range []string{"", ".", "..", "/a", "a/", "a//b", "./a", "a/./b", "a/../b", "../a", "a\\b", "a\nb", "\xff", string(make([]byte, MaxNameLen+1))} {
		assert.ErrorIs(t, CheckName(bad), ErrUnsafeName, "%q", bad)
	}
}
