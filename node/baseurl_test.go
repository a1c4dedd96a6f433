package node

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBaseURL(t *testing.T) {
	cases := []struct{ address, listening, public, want string }{
		{"tcp://node1.example.org:7770", "0.0.0.0:7771", "", "http://node1.example.org:7771"},
		{"tcp://192.0.2.1:7770", "[::]:7771", "", "http://192.0.2.1:7771"},
		{"tcp://127.0.0.1:7770", "127.0.0.1:41234", "", "http://127.0.0.1:41234"},
		{"tcp://10.0.0.1:7770", "0.0.0.0:7771", "https://chain.example.org/", "https://chain.example.org"},
	}
	for _, c := range cases {
		n := &Node{cfg: &Config{Address: c.address, PublicHTTP: c.public}, httpAddr: c.listening}
		assert.Equal(t, c.want, n.baseURL(), "%+v", c)
	}
}
