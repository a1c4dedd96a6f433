package mar

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleFiles() []File {
	return []File{
		bytesFile("update.manifest", 0o644, []byte("type \"complete\"\nadd \"bin/app\"\n")),
		bytesFile("bin/app", 0o755, bytes.Repeat([]byte("binary\x00"), 500)),
		bytesFile("empty", 0o644, nil),
	}
}

var sampleInfo = ProductInfo{Channel: "chainiac-test", Version: "1.2.3"}

func signBytes(t testing.TB, unsigned []byte, keys ...*rsa.PrivateKey) []byte {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, Sign(&out, openBytes(t, unsigned), keys...))
	return out.Bytes()
}

func TestSignVerify(t *testing.T) {
	unsigned := writeBytes(t, sampleInfo, sampleFiles(), WriteOptions{})
	k4096 := privateKey(t, "key4096-pkcs1.pem")
	signed := signBytes(t, unsigned, k4096)

	a := openBytes(t, signed)
	sigs := a.Signatures()
	require.Len(t, sigs, 1)
	assert.Equal(t, RSASHA384, sigs[0].Algorithm)
	assert.Len(t, sigs[0].Data, 512)
	require.NoError(t, Verify(a, publicKey(t, "key4096.pub.pem")))
	require.ErrorIs(t, Verify(a, publicKey(t, "key2048.pub.pem")), ErrBadSignature)
	require.ErrorIs(t, Verify(a, publicKey(t, "test.pubkey")), ErrBadSignature)

	// Signing is deterministic, stripping gives back the unsigned bytes,
	// and CompareStripped agrees.
	assert.Equal(t, signed, signBytes(t, unsigned, k4096))
	assert.Equal(t, unsigned, stripBytes(t, a))
	require.NoError(t, CompareStripped(a, openBytes(t, unsigned)))

	// An already signed archive is refused.
	require.ErrorIs(t, Sign(&bytes.Buffer{}, a, k4096), ErrSigned)
	require.ErrorIs(t, AddSignatures(&bytes.Buffer{}, a, sigs), ErrSigned)
}

func TestSignSeveralKeys(t *testing.T) {
	unsigned := writeBytes(t, sampleInfo, sampleFiles(), WriteOptions{Compression: BZip2})
	signed := signBytes(t, unsigned, privateKey(t, "key2048-pkcs8.pem"), privateKey(t, "key4096-pkcs1.pem"))
	a := openBytes(t, signed)
	require.Len(t, a.Signatures(), 2)
	require.NoError(t, Verify(a, publicKey(t, "key4096.pub.pem"), publicKey(t, "key2048.pub.pem")))

	// Every signature must verify: one of the two keys is not enough.
	err := Verify(a, publicKey(t, "key2048.pub.pem"))
	var se *SignatureError
	require.True(t, errors.As(err, &se), "%v", err)
	assert.Equal(t, 1, se.Index)
	assert.ErrorIs(t, err, ErrBadSignature)
}

func TestSignRefusesBadKeys(t *testing.T) {
	a := openBytes(t, writeBytes(t, sampleInfo, sampleFiles(), WriteOptions{}))
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	require.ErrorContains(t, Sign(&bytes.Buffer{}, a, small),
		fmt.Sprintf("1024 bits, need %d to %d", MinSigningKeyBits, 8*MaxSignatureSize))
	k2048 := privateKey(t, "key2048-pkcs8.pem")
	most := slices.Repeat([]*rsa.PrivateKey{k2048}, MaxSignatures)
	require.ErrorContains(t, Sign(&bytes.Buffer{}, a, append(most, k2048)...),
		fmt.Sprintf("%d keys, need 1 to %d", MaxSignatures+1, MaxSignatures))
	var out bytes.Buffer
	require.NoError(t, Sign(&out, a, most...), "MaxSignatures keys")
	signed := openBytes(t, out.Bytes())
	assert.Len(t, signed.Signatures(), MaxSignatures)
	require.NoError(t, Verify(signed, publicKey(t, "key2048.pub.pem")))
	require.ErrorContains(t, Sign(&bytes.Buffer{}, a), "0 keys")
	require.ErrorContains(t, Sign(&bytes.Buffer{}, a, nil), "nil")
	require.ErrorContains(t, Verify(openBytes(t, readTestdata(t, fixtureBZ2))), "no public keys")
}

func TestVerifyUnknownAlgorithm(t *testing.T) {
	m := validRaw()
	m.sigs[0].Algorithm = 3
	err := Verify(openBytes(t, m.encode()), publicKey(t, "test.pubkey"))
	require.ErrorIs(t, err, ErrUnknownAlgorithm)
}

// Every single-byte change of a signed archive, inside the signed ranges or
// in the signature itself, must make it fail to open or fail to verify.
func TestMangledSignedArchivesFail(t *testing.T) {
	ours := signBytes(t, writeBytes(t, sampleInfo, sampleFiles(), WriteOptions{}), privateKey(t, "key2048-pkcs8.pem"))
	for _, tc := range []struct {
		name string
		data []byte
		key  *rsa.PublicKey
	}{
		{"mozilla test-bz2.mar", readTestdata(t, fixtureBZ2), publicKey(t, "test.pubkey")},
		{"ours", ours, publicKey(t, "key2048.pub.pem")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, Verify(openBytes(t, tc.data), tc.key))
			for i := range tc.data {
				for _, flip := range []byte{0x01, 0xff} {
					b := bytes.Clone(tc.data)
					b[i] ^= flip
					a, err := Open(bytes.NewReader(b), int64(len(b)))
					if err == nil {
						err = Verify(a, tc.key)
					}
					require.Error(t, err, "byte %d ^ %#x accepted", i, flip)
				}
			}
		})
	}
}

// independentSignedBytes extracts what a MAR signature covers with no help
// from the package: bytes 0-19, each signature's algorithm and length
// fields, and everything after the signature block. It also returns the
// signatures.
func independentSignedBytes(t *testing.T, b []byte) (signed []byte, sigs [][]byte) {
	t.Helper()
	signed = append(signed, b[:20]...)
	pos := 20
	for range binary.BigEndian.Uint32(b[16:20]) {
		n := int(binary.BigEndian.Uint32(b[pos+4:]))
		signed = append(signed, b[pos:pos+8]...)
		sigs = append(sigs, b[pos+8:pos+8+n])
		pos += 8 + n
	}
	return append(signed, b[pos:]...), sigs
}

// openssl verifies our algorithm-2 signatures and Mozilla's algorithm-1
// signature over the independently extracted signed bytes.
func TestSignaturesVerifyWithOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl command not found: independent signature check skipped")
	}
	dir := t.TempDir()
	ours := signBytes(t, writeBytes(t, sampleInfo, sampleFiles(), WriteOptions{}), privateKey(t, "key4096-pkcs1.pem"))
	for _, tc := range []struct {
		name, digest, pubkey string
		data                 []byte
	}{
		{"ours-sha384", "-sha384", "testdata/key4096.pub.pem", ours},
		{"mozilla-sha1", "-sha1", "testdata/test.pubkey", readTestdata(t, fixtureBZ2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signed, sigs := independentSignedBytes(t, tc.data)
			require.Len(t, sigs, 1)
			dataPath, sigPath := filepath.Join(dir, tc.name+".data"), filepath.Join(dir, tc.name+".sig")
			require.NoError(t, os.WriteFile(sigPath, sigs[0], 0o600))
			run := func(data []byte) ([]byte, error) {
				require.NoError(t, os.WriteFile(dataPath, data, 0o600))
				return exec.Command(openssl, "dgst", tc.digest, "-verify", tc.pubkey, "-signature", sigPath, dataPath).CombinedOutput()
			}
			out, err := run(signed)
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), "Verified OK")

			// The check can fail: one changed byte and openssl refuses.
			signed[len(signed)/2] ^= 1
			out, err = run(signed)
			require.Error(t, err, "%s", out)
		})
	}
}

// A PKCS#8 private key of another algorithm is refused by name.
func TestParsePrivateKeyPEMRefusesOtherAlgorithms(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	_, err = ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	require.ErrorContains(t, err, "mar: private key: ed25519.PrivateKey is not RSA")
}

// A PKCS#1 "RSA PUBLIC KEY" block is read as the same key as its PKIX form, and a
// malformed one is refused.
func TestParsePublicKeyPEMPKCS1(t *testing.T) {
	want := publicKey(t, "key4096.pub.pem")
	block := &pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(want)}
	got, err := ParsePublicKeyPEM(pem.EncodeToMemory(block))
	require.NoError(t, err)
	require.True(t, want.Equal(got))

	block.Bytes = block.Bytes[:len(block.Bytes)-1]
	_, err = ParsePublicKeyPEM(pem.EncodeToMemory(block))
	require.ErrorContains(t, err, "mar: public key: ")
}
