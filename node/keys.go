package node

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
	"go.dedis.ch/kyber/v3"
	"go.dedis.ch/kyber/v3/pairing"
	"go.dedis.ch/onet/v3/network"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/cachedpoint"
	"github.com/chainiac/chainiac/skipchain"
)

// suite is the onet network suite of node identities: a node's onet identity is its
// cosi key (bn256 G2), so a chainiac roster alone is enough to address its members.
var suite = pairing.NewSuiteBn256()

// keyFile is the TOML form of a node key (mode 0600).
type keyFile struct {
	Suite   string `toml:"suite"`
	Private string `toml:"private"`
	Public  string `toml:"public"`
}

func generateKey(rand io.Reader) (*cosi.PrivateKey, error) {
	k, err := cosi.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("node: key: %w", err)
	}
	return k, nil
}

func marshalKey(k *cosi.PrivateKey) []byte {
	var b strings.Builder
	b.WriteString("# chainiac node key: keep secret, never copy to another node\n")
	_ = toml.NewEncoder(&b).Encode(keyFile{
		Suite: skipchain.KeySuite, Private: hex.EncodeToString(k.Bytes()), Public: k.Public().String(),
	})
	return []byte(b.String())
}

// loadKey reads a key file, refusing one that others can read.
func loadKey(path string) (*cosi.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("node: key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("node: key %s has mode %v: others can read it (chmod 600)", path, st.Mode().Perm())
	}
	b, err := readLimited(path, 64<<10)
	if err != nil {
		return nil, fmt.Errorf("node: key: %w", err)
	}
	var kf keyFile
	if _, err := toml.Decode(string(b), &kf); err != nil {
		return nil, fmt.Errorf("node: key %s: %w", path, err)
	}
	if kf.Suite != skipchain.KeySuite {
		return nil, fmt.Errorf("node: key %s: suite %q, want %q", path, kf.Suite, skipchain.KeySuite)
	}
	raw, err := hex.DecodeString(kf.Private)
	if err != nil {
		return nil, fmt.Errorf("node: key %s: private: %w", path, err)
	}
	k, err := cosi.ParsePrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("node: key %s: %w", path, err)
	}
	if kf.Public != k.Public().String() {
		return nil, fmt.Errorf("node: key %s: public key does not match the private key", path)
	}
	return k, nil
}

// rosterEntry is a node's public roster entry: an onet group file of one server.
func rosterEntry(k *cosi.PrivateKey, address, description string) ([]byte, error) {
	r, err := skipchain.NewRoster([]skipchain.Member{{Key: k.Public(), Address: address}}, 1)
	if err != nil {
		return nil, fmt.Errorf("node: roster entry: %w", err)
	}
	var desc []string
	if description != "" {
		desc = []string{description}
	}
	b, err := r.MarshalTOML(desc)
	if err != nil {
		return nil, err
	}
	// A single server's threshold means nothing; operators join entries into a group
	// file whose threshold is the default unless they write one.
	lines := strings.SplitAfter(string(b), "\n")
	var out strings.Builder
	for _, l := range lines {
		if !strings.HasPrefix(l, "Threshold") {
			out.WriteString(l)
		}
	}
	return []byte(strings.TrimLeft(out.String(), "\n")), nil
}

// identity is the onet server identity of a roster member.
func identity(m skipchain.Member) (*network.ServerIdentity, error) {
	// A key that remembers its encoding, which onet asks for on every message.
	p := cachedpoint.Of(suite.G2().Point())
	if err := p.UnmarshalBinary(m.Key.Bytes()); err != nil {
		return nil, fmt.Errorf("node: member %s: %w", m.Address, err)
	}
	return network.NewServerIdentity(p, network.Address(m.Address)), nil
}

// scalar is the kyber form of a private key, for onet's server identity.
func scalar(k *cosi.PrivateKey) (kyber.Scalar, error) {
	s := suite.G2().Scalar()
	if err := s.UnmarshalBinary(k.Bytes()); err != nil {
		return nil, fmt.Errorf("node: key: %w", err)
	}
	return s, nil
}

func parseLevel(s string) (slog.Level, error) {
	switch s {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, errors.New("log_level: want debug, info, warn or error")
}

// NewLogger returns the logger a configuration asks for, writing to w.
func NewLogger(c *Config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
