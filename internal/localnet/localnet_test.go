package localnet_test

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/localnet"
	"github.com/chainiac/chainiac/internal/onettest"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { onettest.Main(m) }

// Servers listen on 127.0.0.1 only, and onet's websocket (port+1, all interfaces) is
// never started.
func TestServersBindLoopbackOnly(t *testing.T) {
	ln, err := localnet.Start(3)
	require.NoError(t, err)
	defer ln.Close()
	require.Len(t, ln.Roster.List, 3)
	for i, srv := range ln.Servers {
		host, portText, err := net.SplitHostPort(srv.ServerIdentity.Address.NetworkAddress())
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1", host)
		port, err := strconv.Atoi(portText)
		require.NoError(t, err)
		conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", portText), time.Second)
		require.NoError(t, err, "server %d listens", i)
		conn.Close()
		_, err = net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1)), time.Second)
		require.Error(t, err, "no websocket next to server %d", i)
		require.NotNil(t, ln.Context(i))
	}
}

func TestStopIsIdempotent(t *testing.T) {
	ln, err := localnet.Start(2)
	require.NoError(t, err)
	require.NoError(t, ln.Stop(1))
	require.NoError(t, ln.Stop(1))
	addr := ln.Servers[1].ServerIdentity.Address.NetworkAddress()
	_, err = net.DialTimeout("tcp", addr, time.Second)
	require.Error(t, err, "a stopped server no longer listens")
	require.NoError(t, ln.Close())
	_, err = localnet.Start(0)
	require.Error(t, err)
}
