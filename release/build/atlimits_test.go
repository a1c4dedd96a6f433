package build

// Limits checked at the limit: exactly the limit is accepted, one past is refused.
// Each test here kills a mutant that moved a bound by one (docs/mutation.md).

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An archive of exactly MaxSourceBytes is fetched, over HTTP with a Content-Length
// and from a local file; one byte more is refused by either path.
func TestSourceSizeAtLimit(t *testing.T) {
	archive := tarGz(t, script("build.sh", makeMAR+"\n"))
	src, sum := writeSource(t, archive, "src.tar.gz")
	srv := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(archive)))
		_, _ = w.Write(archive)
	}))
	size := int64(len(archive))
	for _, c := range []struct {
		name, source, tooBig string
	}{
		{"http", srv.URL + "/src.tar.gz", fmt.Sprintf("source is %d bytes, at most %d", size, size-1)},
		{"local file", src, fmt.Sprintf("source larger than %d bytes", size-1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, limit := range []int64{size, size - 1} {
				r, err := NewRunner(Config{WorkDir: t.TempDir(), HTTPClient: srv.Client(), Limits: Limits{MaxSourceBytes: limit}})
				require.NoError(t, err)
				res, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), c.source)
				if limit == size {
					require.NoError(t, err, "exactly the limit")
					require.NoError(t, res.Close())
					continue
				}
				require.ErrorIs(t, err, ErrUnsafeSource)
				assert.ErrorContains(t, err, c.tooBig)
			}
		})
	}
}

func TestEntryNameLengthAtLimit(t *testing.T) {
	name := strings.Repeat("d/", maxPathLen/2-1) + "ab" // maxPathLen bytes
	require.Len(t, name, maxPathLen)
	got, err := cleanEntryName(name)
	require.NoError(t, err)
	assert.Equal(t, name, got)
	_, err = cleanEntryName(name + "c")
	require.ErrorIs(t, err, ErrUnsafeSource)
	assert.ErrorContains(t, err, fmt.Sprintf("entry name of %d bytes", maxPathLen+1))
}

// A chain of maxLinkHops symlinks resolves, as the kernel allows it; one more does not.
func TestSymlinkChainAtLimit(t *testing.T) {
	for _, links := range []int{maxLinkHops, maxLinkHops + 1} {
		root := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(root, "end"), nil, 0o644))
		next := "end"
		for i := links; i > 0; i-- { // l1 -> l2 -> ... -> l<links> -> end
			name := "l" + strconv.Itoa(i)
			require.NoError(t, os.Symlink(next, filepath.Join(root, name)))
			next = name
		}
		got, err := resolveInside(root, "l1")
		if links == maxLinkHops {
			require.NoError(t, err)
			assert.Equal(t, "end", got)
			require.NoError(t, checkSymlinks(root))
			continue
		}
		assert.ErrorContains(t, err, "more than 40 symlinks")
		assert.ErrorIs(t, checkSymlinks(root), ErrUnsafeSource)
	}
}

func TestRecipeValidateAtLimits(t *testing.T) {
	r := testRecipe("true")
	r.Name = strings.Repeat("r", release.MaxRecipeLen)
	require.NoError(t, r.Validate())
	r.Name += "r"
	assert.ErrorContains(t, r.Validate(), "want 1..64 bytes")

	r = testRecipe("true")
	r.MaxOutputBytes, r.MaxLogBytes = 1, 1
	require.NoError(t, r.Validate(), "the smallest positive limits")
	for _, limits := range [][2]int64{{0, 1}, {1, 0}, {-1, 1}, {1, -1}} {
		r.MaxOutputBytes, r.MaxLogBytes = limits[0], limits[1]
		assert.ErrorContains(t, r.Validate(), "limits must be positive", "output %d, log %d", limits[0], limits[1])
	}
}

// referenceDescriptionText is a valid build description with the given lists.
func referenceDescriptionText(platforms, locales []string) string {
	quote := func(names []string) string {
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = strconv.Quote(n)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return fmt.Sprintf("format = %q\nproduct = \"demo-browser\"\nplatforms = %s\nlocales = %s\n",
		ReferenceFormat, quote(platforms), quote(locales))
}

func TestReferenceDescriptionAtLimits(t *testing.T) {
	t.Run("size", func(t *testing.T) {
		text := referenceDescriptionText([]string{"linux"}, []string{"de"})
		// A comment pads the description to exactly the limit.
		padded := text + "#" + strings.Repeat("x", MaxReferenceDescriptionSize-len(text)-2) + "\n"
		require.Len(t, padded, MaxReferenceDescriptionSize)
		_, err := parseReferenceDescription([]byte(padded))
		require.NoError(t, err)
		_, err = parseReferenceDescription([]byte(padded + "\n"))
		assert.ErrorContains(t, err, fmt.Sprintf("%d bytes, at most %d", MaxReferenceDescriptionSize+1, MaxReferenceDescriptionSize))
	})
	t.Run("list length", func(t *testing.T) {
		names := make([]string, release.MaxTargets+1)
		for i := range names {
			names[i] = "n" + strconv.Itoa(i)
		}
		for _, field := range []string{"platforms", "locales"} {
			atLimit, over := [2][]string{{"x"}, {"x"}}, [2][]string{{"x"}, {"x"}}
			i := map[string]int{"platforms": 0, "locales": 1}[field]
			atLimit[i], over[i] = names[:release.MaxTargets], names
			_, err := parseReferenceDescription([]byte(referenceDescriptionText(atLimit[0], atLimit[1])))
			require.NoError(t, err, field)
			_, err = parseReferenceDescription([]byte(referenceDescriptionText(over[0], over[1])))
			assert.ErrorContains(t, err, field+": want 1 to 512 names")
		}
	})
}

// distinctKeys makes n valid, distinct target keys whose platform and locale have
// the given lengths (at least 4 bytes each).
func distinctKeys(n, platformLen, localeLen int) []release.TargetKey {
	keys := make([]release.TargetKey, n)
	for i := range keys {
		id := fmt.Sprintf("%04d", i)
		keys[i] = release.TargetKey{Platform: strings.Repeat("p", platformLen-len(id)) + id,
			Locale: strings.Repeat("l", localeLen-len(id)) + id}
	}
	return keys
}

func keyList(keys []release.TargetKey) string {
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = k.String()
	}
	return strings.Join(s, " ")
}

func TestParseTargetsAtLimits(t *testing.T) {
	// The longest list that can be valid: MaxTargets keys of maximal length, each
	// followed by a separator, is exactly maxTargetListLen bytes.
	longest := distinctKeys(release.MaxTargets, release.MaxPlatformLen, release.MaxLocaleLen)
	list := keyList(longest) + " "
	require.Len(t, list, maxTargetListLen)
	got, err := ParseTargets(list)
	require.NoError(t, err)
	assert.Equal(t, longest, got)
	_, err = ParseTargets(list + " ")
	assert.ErrorContains(t, err, fmt.Sprintf("target list of %d bytes", maxTargetListLen+1))

	short := distinctKeys(release.MaxTargets+1, 8, 8)
	got, err = ParseTargets(keyList(short[:release.MaxTargets]))
	require.NoError(t, err)
	assert.Len(t, got, release.MaxTargets)
	_, err = ParseTargets(keyList(short))
	assert.ErrorContains(t, err, "513 targets, at most 512")
}

func TestReferenceParamsAtLimits(t *testing.T) {
	cases := []struct {
		name          string
		atLimit, over func(p *ReferenceParams)
		want          string
	}{
		{"version",
			func(p *ReferenceParams) { p.Version = strings.Repeat("1", mar.MaxVersionLen) },
			func(p *ReferenceParams) { p.Version = strings.Repeat("1", mar.MaxVersionLen+1) },
			"a MAR holds at most 31 bytes"},
		{"channel",
			func(p *ReferenceParams) { p.Channel = strings.Repeat("c", mar.MaxChannelLen) },
			func(p *ReferenceParams) { p.Channel = strings.Repeat("c", mar.MaxChannelLen+1) },
			"a MAR holds at most 63 bytes"},
		{"source date epoch",
			func(p *ReferenceParams) { p.SourceDateEpoch = release.MaxSourceDateEpoch },
			func(p *ReferenceParams) { p.SourceDateEpoch = release.MaxSourceDateEpoch + 1 },
			"after year 9999"},
		{"targets",
			func(p *ReferenceParams) { p.Targets = distinctKeys(release.MaxTargets, 8, 8) },
			func(p *ReferenceParams) { p.Targets = distinctKeys(release.MaxTargets+1, 8, 8) },
			"513 targets, want 1 to 512"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := referenceParams()
			c.atLimit(&p)
			require.NoError(t, p.Validate())
			p = referenceParams()
			c.over(&p)
			assert.ErrorContains(t, p.Validate(), c.want)
		})
	}
}

// A target may ship a single file, or none: its MAR holds that file and the two
// generated ones.
func TestBuildReferenceFewFiles(t *testing.T) {
	for _, shipped := range []int{0, 1} {
		t.Run(strconv.Itoa(shipped), func(t *testing.T) {
			src := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(src, ReferenceDescriptionFile),
				[]byte(referenceDescriptionText([]string{"linux"}, []string{"de"})), 0o644))
			want := []string{generatedPlatformINI, generatedUpdateList}
			if shipped == 1 {
				require.NoError(t, os.MkdirAll(filepath.Join(src, referenceCommonDir), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(src, referenceCommonDir, "only.txt"), []byte("x"), 0o644))
				want = append([]string{"only.txt"}, want...)
			}
			p := referenceParams()
			p.Targets = []release.TargetKey{{Platform: "linux", Locale: "de"}}
			paths, err := BuildReference(context.Background(), src, filepath.Join(t.TempDir(), "out"), p)
			require.NoError(t, err)
			a, _ := openMARFile(t, paths[p.Targets[0]])
			var names []string
			for _, e := range a.Entries() {
				names = append(names, e.Name)
			}
			assert.Equal(t, want, names)
		})
	}
}

// A shipped file replaced by a directory after the scan is refused when it is opened,
// not read as whatever the directory gives.
func TestReferenceFileReplacedAfterScan(t *testing.T) {
	src := copySource(t, 0o644, time.Unix(1, 0))
	root, err := os.OpenRoot(src)
	require.NoError(t, err)
	defer root.Close()
	desc, err := readReferenceDescription(root)
	require.NoError(t, err)
	tree, err := scanReferenceTree(context.Background(), root, desc, referenceTargets[:1])
	require.NoError(t, err)
	var victim string
	for _, f := range tree.common {
		victim = f.source
	}
	require.NotEmpty(t, victim)
	open := tree.opener(context.Background(), victim)
	f, err := open()
	require.NoError(t, err, "still a regular file")
	require.NoError(t, f.Close())
	require.NoError(t, os.Remove(filepath.Join(src, victim)))
	require.NoError(t, os.Mkdir(filepath.Join(src, victim), 0o755))
	_, err = open()
	assert.ErrorContains(t, err, victim+" is no longer a regular file")
}

// TreeDigest and copyTree both accept a tree of exactly MaxFiles entries and
// MaxExtractedBytes bytes, and refuse one entry or one byte more. copyTree is
// called directly: in a run, TreeDigest (of the copy) would refuse with the same
// error anyway.
func TestTreeLimitsAtLimit(t *testing.T) {
	// Three entries, seven bytes.
	src := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(src, "d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "d", "a"), []byte("abc"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "b"), []byte("defg"), 0o755))
	exact := Limits{MaxFiles: 3, MaxExtractedBytes: 7}
	walks := map[string]func(l Limits) error{
		"TreeDigest": func(l Limits) error {
			_, err := TreeDigest(src, l)
			return err
		},
		"copyTree": func(l Limits) error {
			return copyTree(context.Background(), src, t.TempDir(), l)
		},
	}
	for name, walk := range walks {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, walk(exact), "exactly the limits")
			l := exact
			l.MaxFiles--
			err := walk(l)
			require.ErrorIs(t, err, ErrUnsafeSource)
			assert.ErrorContains(t, err, "more than 2 entries")
			l = exact
			l.MaxExtractedBytes--
			err = walk(l)
			require.ErrorIs(t, err, ErrUnsafeSource)
			assert.ErrorContains(t, err, "tree larger than 6 bytes")
		})
	}
	// The copy keeps the executable bit and the modification time (a make-based
	// build decides by times what to rebuild).
	mtime := time.Unix(1730419200, 0)
	require.NoError(t, os.Chtimes(filepath.Join(src, "b"), mtime, mtime))
	dst := t.TempDir()
	require.NoError(t, copyTree(context.Background(), src, dst, exact))
	st, err := os.Stat(filepath.Join(dst, "b"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), st.Mode().Perm())
	assert.True(t, st.ModTime().Equal(mtime), "mtime %v", st.ModTime())
	st, err = os.Stat(filepath.Join(dst, "d", "a"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
}
