package release

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/internal/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goldenChain is the chain ID in policy-change.hex: bytes a0 a1 ... bf.
var goldenChain = ChainID(fill256(0xa0))

// goldenVectors are the known-answer encodings. A change to any of them changes every
// manifest hash, policy hash and developer signature: it needs a new domain tag
// version, not an -update.
func goldenVectors(t testing.TB) map[string][]byte {
	devs := testSigners(t, 3)
	policy, err := NewPolicy(publicKeys(devs), 2)
	require.NoError(t, err)
	next, err := NewPolicy(publicKeys(devs[1:]), 2)
	require.NoError(t, err)
	change, err := NewPolicyChange(goldenChain, 1, policy, next)
	require.NoError(t, err)
	for _, d := range devs[:2] {
		require.NoError(t, d.SignPolicyChange(change))
	}
	var keys strings.Builder
	for i, d := range devs {
		fmt.Fprintf(&keys, "developer %c seed %x public %s\n", 'a'+i, d.Seed(), d.Public())
	}
	m := testManifest()
	fmt.Fprintf(&keys, "manifest hash %s\npolicy hash %s\n", m.Hash(), policy.Hash())
	return map[string][]byte{
		"keys.txt":               []byte(keys.String()),
		"manifest.hex":           m.Encode(),
		"policy.hex":             policy.Encode(),
		"signed-manifest.hex":    signedBy(t, devs[0], devs[1]).Encode(),
		"policy-change.hex":      change.Encode(),
		"policy-file.toml":       policy.MarshalPolicyFile(),
		"developer-a-key.toml":   devs[0].MarshalKeyFile(),
		"manifest-display.txt":   []byte(m.String()),
		"signed-manifest-a.hex":  signedBy(t, devs[0]).Encode(),
		"manifest-signature.txt": []byte(signatureLine(devs[0], m)),
	}
}

func signatureLine(d *Signer, m *Manifest) string {
	return fmt.Sprintf("ed25519 signature by %s over the manifest encoding:\n%s\n", d.Public(), d.sign(m.Encode()).Signature)
}

func TestGoldenVectors(t *testing.T) {
	for name, want := range goldenVectors(t) {
		file := want
		if strings.HasSuffix(name, ".hex") {
			file = []byte(wrapHex(want))
		}
		golden.File(t, filepath.Join("testdata", name), file)
	}
}

// The golden files are accepted as they are: the stored signatures verify.
func TestGoldenFilesVerify(t *testing.T) {
	policy, err := ParsePolicy(readHex(t, "policy.hex"))
	require.NoError(t, err)
	filePolicy, err := ParsePolicyFile(readFile(t, "policy-file.toml"))
	require.NoError(t, err)
	assert.True(t, policy.Equal(filePolicy))

	sm, err := ParseSignedManifest(readHex(t, "signed-manifest.hex"))
	require.NoError(t, err)
	m, err := policy.VerifyManifest(sm)
	require.NoError(t, err)
	assert.Equal(t, readHex(t, "manifest.hex"), m.Encode())
	assert.Equal(t, "tor-browser", m.Product)

	one, err := ParseSignedManifest(readHex(t, "signed-manifest-a.hex"))
	require.NoError(t, err)
	_, err = policy.VerifyManifest(one)
	assert.ErrorIs(t, err, ErrThreshold)

	change, err := ParsePolicyChange(readHex(t, "policy-change.hex"))
	require.NoError(t, err)
	next, err := policy.VerifyChange(change, goldenChain, 1)
	require.NoError(t, err)
	assert.Equal(t, 2, next.Threshold())
	_, err = policy.VerifyChange(change, goldenChain, 2)
	assert.ErrorIs(t, err, ErrChangeMismatch)

	signer, err := ParseKeyFile(readFile(t, "developer-a-key.toml"))
	require.NoError(t, err)
	assert.True(t, policy.Contains(signer.Public()))
}

func wrapHex(b []byte) string {
	s := hex.EncodeToString(b)
	var out strings.Builder
	for len(s) > 64 {
		out.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	out.WriteString(s + "\n")
	return out.String()
}

func readFile(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func readHex(t testing.TB, name string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(readFile(t, name))), ""))
	require.NoError(t, err)
	return b
}
