package build

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	linuxDE   = release.TargetKey{Platform: "linux-x86_64", Locale: "de"}
	windowsEN = release.TargetKey{Platform: "windows-x86_64", Locale: "en-US"}
)

func TestCheckRebuildAcceptsAValidRelease(t *testing.T) {
	f := newReleaseFixture(t)
	require.NoError(t, CheckRebuild(f.manifest, f.rebuilt, f.signed))
}

// target returns a pointer to the manifest's target k, for a test to change.
func (f *releaseFixture) target(t *testing.T, k release.TargetKey) *release.Target {
	for i := range f.manifest.Targets {
		if f.manifest.Targets[i].Key() == k {
			return &f.manifest.Targets[i]
		}
	}
	t.Fatalf("no target %s", k)
	return nil
}

// rehash makes the manifest name target k's files as they are now, so that a test
// reaches the checks after the hashes.
func (f *releaseFixture) rehash(t *testing.T, k release.TargetKey) {
	setTargetHashes(t, f.target(t, k), f.rebuilt[k], f.signed[k])
}

// rewrite replaces a file by change(its bytes).
func rewrite(t *testing.T, path string, change func([]byte) []byte) {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, change(b), 0o644))
}

// signedFrom makes target k's signed MAR from a tampered copy of its rebuilt MAR, as a
// release team (or an attacker holding the signing key) could: a validly signed file
// that is not the rebuild.
func (f *releaseFixture) signedFrom(t *testing.T, k release.TargetKey, tamper func(a *mar.Archive, b []byte) []byte) {
	a, _ := openMARFile(t, f.rebuilt[k])
	b, err := os.ReadFile(f.rebuilt[k])
	require.NoError(t, err)
	tampered := filepath.Join(t.TempDir(), "tampered.mar")
	require.NoError(t, os.WriteFile(tampered, tamper(a, b), 0o644))
	signFile(t, testSigningKey(t), tampered, f.signed[k])
	f.rehash(t, k)
}

// rebuildWith rebuilds target k with other parameters, for a release whose MARs carry
// another channel or version.
func rebuildWith(t *testing.T, k release.TargetKey, change func(*ReferenceParams)) string {
	p := referenceParams()
	p.Targets = []release.TargetKey{k}
	change(&p)
	return buildReferenceCopy(t, p)[k]
}

func TestCheckRebuildRefuses(t *testing.T) {
	omni := func(t *testing.T, a *mar.Archive) mar.Entry {
		e, ok := a.Entry("browser/omni.txt")
		require.True(t, ok)
		return e
	}
	tests := []struct {
		name   string
		break_ func(t *testing.T, f *releaseFixture)
		target release.TargetKey
		check  RebuildCheck
		detail string
		cause  error // also matched by errors.Is, when set
	}{
		{"wrong unsigned sha-256", func(t *testing.T, f *releaseFixture) {
			f.target(t, linuxDE).UnsignedSHA256[0] ^= 1
		}, linuxDE, CheckUnsignedSHA256, "rebuilt MAR has sha-256 ", nil},
		{"wrong unsigned size", func(t *testing.T, f *releaseFixture) {
			f.target(t, windowsEN).UnsignedSize++
		}, windowsEN, CheckUnsignedSize, "rebuilt MAR is 3566 bytes, the manifest says 3567", nil},
		{"wrong signed size", func(t *testing.T, f *releaseFixture) {
			f.target(t, linuxDE).SignedSize--
		}, linuxDE, CheckSignedSize, "the manifest says", nil},
		{"wrong signed sha-512", func(t *testing.T, f *releaseFixture) {
			f.target(t, linuxDE).SignedSHA512[63] ^= 0x80
		}, linuxDE, CheckSignedSHA512, "signed MAR has sha-512 ", nil},
		{"truncated rebuilt MAR", func(t *testing.T, f *releaseFixture) {
			rewrite(t, f.rebuilt[linuxDE], func(b []byte) []byte { return b[:len(b)-1] })
		}, linuxDE, CheckUnsignedSize, "rebuilt MAR is 3569 bytes, the manifest says 3570", nil},
		{"truncated signed MAR", func(t *testing.T, f *releaseFixture) {
			rewrite(t, f.signed[linuxDE], func(b []byte) []byte { return b[:len(b)/2] })
		}, linuxDE, CheckSignedSize, "signed MAR is 1917 bytes", nil},
		{"truncated signed MAR that the manifest names", func(t *testing.T, f *releaseFixture) {
			rewrite(t, f.signed[linuxDE], func(b []byte) []byte { return b[:len(b)/2] })
			f.rehash(t, linuxDE)
		}, linuxDE, CheckSignedFormat, "header file size", mar.ErrFormat},
		{"rebuilt file is not a MAR", func(t *testing.T, f *releaseFixture) {
			rewrite(t, f.rebuilt[linuxDE], func(b []byte) []byte {
				return []byte("PK\x03\x04 a zip file, not a MAR, but long enough to have a header")
			})
			f.rehash(t, linuxDE)
		}, linuxDE, CheckUnsignedFormat, "bad magic", mar.ErrFormat},
		{"rebuilt MAR is signed", func(t *testing.T, f *releaseFixture) {
			f.rebuilt[linuxDE] = f.signed[linuxDE]
			f.rehash(t, linuxDE)
		}, linuxDE, CheckUnsignedFormat, "rebuilt MAR carries 1 signatures", mar.ErrSigned},
		{"rebuilt MAR of another channel", func(t *testing.T, f *releaseFixture) {
			f.rebuilt[linuxDE] = rebuildWith(t, linuxDE, func(p *ReferenceParams) { p.Channel = "nightly" })
			f.rehash(t, linuxDE)
		}, linuxDE, CheckUnsignedProductInfo, `rebuilt MAR has channel "nightly", the manifest says "release"`, nil},
		{"signed MAR without signature", func(t *testing.T, f *releaseFixture) {
			f.signed[linuxDE] = f.rebuilt[linuxDE]
			f.rehash(t, linuxDE)
		}, linuxDE, CheckSignature, "signed MAR has no signature", mar.ErrUnsigned},
		{"signature of unknown algorithm", func(t *testing.T, f *releaseFixture) {
			rewrite(t, f.signed[linuxDE], func(b []byte) []byte { b[23] = 7; return b })
			f.rehash(t, linuxDE)
		}, linuxDE, CheckSignature, "signature 0 has unknown algorithm 7", mar.ErrUnknownAlgorithm},
		{"signed MAR of another channel", func(t *testing.T, f *releaseFixture) {
			signFile(t, testSigningKey(t), rebuildWith(t, windowsEN, func(p *ReferenceParams) { p.Channel = "nightly" }), f.signed[windowsEN])
			f.rehash(t, windowsEN)
		}, windowsEN, CheckSignedProductInfo, `signed MAR has channel "nightly", the manifest says "release"`, nil},
		{"signed MAR of another version", func(t *testing.T, f *releaseFixture) {
			signFile(t, testSigningKey(t), rebuildWith(t, windowsEN, func(p *ReferenceParams) { p.Version = "0.9" }), f.signed[windowsEN])
			f.rehash(t, windowsEN)
		}, windowsEN, CheckSignedProductInfo, `signed MAR has version "0.9", the manifest says "1.0"`, nil},
		{"signed MAR with one entry byte changed", func(t *testing.T, f *releaseFixture) {
			f.signedFrom(t, linuxDE, func(a *mar.Archive, b []byte) []byte {
				b[omni(t, a).Offset+10] ^= 0x01
				return b
			})
		}, linuxDE, CheckStripped, `in entry "browser/omni.txt"`, mar.ErrMismatch},
		{"signed MAR with another entry mode", func(t *testing.T, f *releaseFixture) {
			f.signedFrom(t, linuxDE, func(a *mar.Archive, b []byte) []byte {
				b[len(b)-2] = 'X' // last byte of the last entry name in the index
				return b
			})
		}, linuxDE, CheckStripped, "in the index", mar.ErrMismatch},
		{"missing signed MAR", func(t *testing.T, f *releaseFixture) {
			delete(f.signed, windowsEN)
		}, windowsEN, CheckMissing, "no signed MAR", nil},
		{"missing rebuilt MAR", func(t *testing.T, f *releaseFixture) {
			delete(f.rebuilt, windowsEN)
		}, windowsEN, CheckMissing, "no rebuilt MAR", nil},
		{"empty path", func(t *testing.T, f *releaseFixture) {
			f.rebuilt[linuxDE] = ""
		}, linuxDE, CheckMissing, "no rebuilt MAR", nil},
		{"missing target in both", func(t *testing.T, f *releaseFixture) {
			delete(f.rebuilt, linuxDE)
			delete(f.signed, linuxDE)
		}, linuxDE, CheckMissing, "no rebuilt MAR", nil},
		{"extra rebuilt target", func(t *testing.T, f *releaseFixture) {
			f.rebuilt[release.TargetKey{Platform: "macos", Locale: "de"}] = f.rebuilt[linuxDE]
		}, release.TargetKey{Platform: "macos", Locale: "de"}, CheckExtra, "the manifest does not list (1 such targets)", nil},
		{"extra signed targets", func(t *testing.T, f *releaseFixture) {
			f.signed[release.TargetKey{Platform: "macos", Locale: "de"}] = f.signed[linuxDE]
			f.signed[release.TargetKey{Platform: "android", Locale: "de"}] = f.signed[linuxDE]
		}, release.TargetKey{Platform: "android", Locale: "de"}, CheckExtra, "(2 such targets)", nil},
		{"the first target in canonical order is reported", func(t *testing.T, f *releaseFixture) {
			f.target(t, windowsEN).UnsignedSize++
			f.target(t, linuxDE).SignedSize++
		}, linuxDE, CheckSignedSize, "", nil},
	}
	valid := newReleaseFixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := valid.clone(t)
			tt.break_(t, f)
			err := CheckRebuild(f.manifest, f.rebuilt, f.signed)
			require.ErrorIs(t, err, ErrRebuildMismatch)
			var re *RebuildError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.target, re.Target)
			assert.Equal(t, tt.check, re.Check)
			assert.Contains(t, re.Detail, tt.detail)
			assert.Contains(t, err.Error(), "build: rebuild check: target "+tt.target.String()+": "+string(tt.check)+": ")
			if tt.cause != nil {
				assert.ErrorIs(t, err, tt.cause)
			}
			if tt.check != CheckStripped {
				assert.Equal(t, int64(-1), re.Offset)
			}
		})
	}
}

// The stripped comparison names the entry and the exact offset of the first change.
func TestCheckRebuildLocatesTheFirstDifference(t *testing.T) {
	f := newReleaseFixture(t)
	var want mar.Entry
	f.signedFrom(t, linuxDE, func(a *mar.Archive, b []byte) []byte {
		want, _ = a.Entry("demo-browser")
		b[want.Offset+7] ^= 0xff
		b[want.Offset+9] ^= 0xff // a later difference is not the first
		return b
	})
	err := CheckRebuild(f.manifest, f.rebuilt, f.signed)
	var re *RebuildError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, CheckStripped, re.Check)
	assert.Equal(t, "demo-browser", re.Entry)
	assert.Equal(t, "entry", re.Region)
	assert.Equal(t, int64(want.Offset)+7, re.Offset)
	var me *mar.MismatchError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, re.Offset, me.Offset)
	assert.Contains(t, err.Error(), `first difference at offset `)
}

// Trouble reading a file is not evidence against the release.
func TestCheckRebuildReadErrorsAreNotMismatches(t *testing.T) {
	valid := newReleaseFixture(t)
	for name, change := range map[string]func(f *releaseFixture){
		"no such file": func(f *releaseFixture) { f.signed[linuxDE] = filepath.Join(t.TempDir(), "gone.mar") },
		"a directory":  func(f *releaseFixture) { f.rebuilt[linuxDE] = t.TempDir() },
	} {
		t.Run(name, func(t *testing.T) {
			f := valid.clone(t)
			change(f)
			err := CheckRebuild(f.manifest, f.rebuilt, f.signed)
			require.Error(t, err)
			assert.NotErrorIs(t, err, ErrRebuildMismatch)
			assert.Contains(t, err.Error(), "build: rebuild check: target linux-x86_64/de: ")
		})
	}
}

func TestCheckRebuildValidatesTheManifest(t *testing.T) {
	f := newReleaseFixture(t)
	require.ErrorContains(t, CheckRebuild(nil, f.rebuilt, f.signed), "nil manifest")
	f.manifest.Channel = ""
	err := CheckRebuild(f.manifest, f.rebuilt, f.signed)
	require.ErrorIs(t, err, release.ErrInvalidManifest)
	assert.NotErrorIs(t, err, ErrRebuildMismatch)
}

func TestFindMARs(t *testing.T) {
	f := newReleaseFixture(t)
	outDir := filepath.Dir(filepath.Dir(f.rebuilt[linuxDE]))
	require.NoError(t, os.WriteFile(filepath.Join(outDir, "linux-x86_64", "SHA256SUMS"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(outDir, "notes.txt"), nil, 0o644))
	found, err := FindMARs(outDir)
	require.NoError(t, err)
	assert.Equal(t, f.rebuilt, found)

	require.NoError(t, os.WriteFile(filepath.Join(outDir, "linux-x86_64", ".partial.mar"), nil, 0o644))
	_, err = FindMARs(outDir)
	require.ErrorContains(t, err, "want <platform>/<locale>.mar")
	_, err = FindMARs(filepath.Join(outDir, "missing"))
	require.Error(t, err)
}

// RebuildError matches both the sentinel and its cause, and only those.
func TestRebuildErrorUnwrap(t *testing.T) {
	e := &RebuildError{Target: linuxDE, Check: CheckSignature, Offset: -1, Detail: "d", Err: mar.ErrUnsigned}
	assert.ErrorIs(t, e, ErrRebuildMismatch)
	assert.ErrorIs(t, e, mar.ErrUnsigned)
	assert.NotErrorIs(t, e, mar.ErrFormat)
	e.Err = nil
	assert.True(t, errors.Is(e, ErrRebuildMismatch))
	assert.Equal(t, "build: rebuild check: target linux-x86_64/de: signature block: d", e.Error())
}
