package build

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// shrinkingFile serves b for its first reads, then only b[:to]: a file truncated while
// CheckRebuild reads it.
type shrinkingFile struct {
	b     []byte
	after int // reads served from all of b
	to    int
	reads int
}

func (f *shrinkingFile) ReadAt(p []byte, off int64) (int, error) {
	f.reads++
	b := f.b
	if f.reads > f.after {
		b = b[:f.to]
	}
	return bytes.NewReader(b).ReadAt(p, off)
}

// A file that shrinks at any point of the check, whichever file and by however much,
// makes it fail with an I/O error (io.ErrUnexpectedEOF), never with a *RebuildError:
// the bytes that are gone were never compared, so they are no evidence against the
// release. (The check may also pass: once the file's bytes have all been read and
// compared, a later truncation changes nothing the check looks at.)
func TestCheckRebuildFileShrinks(t *testing.T) {
	f := newReleaseFixture(t)
	tg := *f.target(t, linuxDE)
	ub, err := os.ReadFile(f.rebuilt[linuxDE])
	require.NoError(t, err)
	sb, err := os.ReadFile(f.signed[linuxDE])
	require.NoError(t, err)
	run := func(u, s io.ReaderAt) error {
		return checkTarget(f.manifest, tg, u, int64(len(ub)), s, int64(len(sb)))
	}
	require.NoError(t, run(bytes.NewReader(ub), bytes.NewReader(sb)))

	for _, which := range []string{"rebuilt", "signed"} {
		full := map[string][]byte{"rebuilt": ub, "signed": sb}[which]
		for _, to := range []int{0, len(full) / 2, len(full) - 1} {
			failed := 0
			for after := 0; ; after++ {
				file := &shrinkingFile{b: full, after: after, to: to}
				var u, s io.ReaderAt = bytes.NewReader(ub), bytes.NewReader(sb)
				if which == "rebuilt" {
					u = file
				} else {
					s = file
				}
				err := run(u, s)
				if err == nil {
					require.Greater(t, failed, 0, "%s MAR cut to %d bytes: the check never read it after the cut", which, to)
					break
				}
				failed++
				require.NotErrorIs(t, err, ErrRebuildMismatch, "%s MAR cut to %d bytes after %d reads", which, to, after)
				var re *RebuildError
				require.NotErrorAs(t, err, &re)
				require.ErrorIs(t, err, io.ErrUnexpectedEOF, "%s MAR cut to %d bytes after %d reads: %v", which, to, after, err)
				require.Less(t, after, 10000, "the check never ends")
			}
		}
	}
}
