package client_test

import (
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"testing"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parsedUpdates reads an update.xml as a Firefox-family updater does.
type parsedUpdates struct {
	XMLName xml.Name `xml:"updates"`
	Updates []struct {
		Type           string `xml:"type,attr"`
		DisplayVersion string `xml:"displayVersion,attr"`
		AppVersion     string `xml:"appVersion,attr"`
		BuildID        string `xml:"buildID,attr"`
		Patches        []struct {
			Type         string `xml:"type,attr"`
			URL          string `xml:"URL,attr"`
			Size         string `xml:"size,attr"`
			HashFunction string `xml:"hashFunction,attr"`
			HashValue    string `xml:"hashValue,attr"`
		} `xml:"patch"`
	} `xml:"update"`
}

func parseUpdateXML(t *testing.T, b []byte) parsedUpdates {
	t.Helper()
	var p parsedUpdates
	require.NoError(t, xml.Unmarshal(b, &p), "%s", b)
	return p
}

func TestUpdateXML(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	c.Releases(t, 1, 3)
	u := check(t, newClient(t, c, []string{serve(t, c.Handler())}))
	target, ok := u.Target("linux-x86_64", "en-US")
	require.True(t, ok)

	p := parseUpdateXML(t, client.UpdateXML(u, "release", "linux-x86_64", "en-US", "1.0.2"))
	require.Len(t, p.Updates, 1)
	up := p.Updates[0]
	assert.Equal(t, "1.0.3", up.AppVersion)
	assert.Equal(t, "1.0.3", up.DisplayVersion)
	assert.Equal(t, "20251201000000", up.BuildID)
	require.Len(t, up.Patches, 1)
	assert.Equal(t, "complete", up.Patches[0].Type)
	assert.Equal(t, target.URL, up.Patches[0].URL)
	assert.Equal(t, "1400", up.Patches[0].Size)
	assert.Equal(t, "SHA512", up.Patches[0].HashFunction)
	assert.Equal(t, hex.EncodeToString(target.SignedSHA512[:]), up.Patches[0].HashValue)

	for _, none := range [][4]string{
		{"release", "linux-x86_64", "en-US", "1.0.3"},  // up to date
		{"release", "linux-x86_64", "en-US", "1.0.10"}, // newer than the release (Mozilla order)
		{"alpha", "linux-x86_64", "en-US", "1.0.0"},    // another channel
		{"release", "macos", "en-US", "1.0.0"},         // no such target
		{"release", "linux-x86_64", "de", "1.0.0"},     // no such locale
	} {
		p := parseUpdateXML(t, client.UpdateXML(u, none[0], none[1], none[2], none[3]))
		assert.Empty(t, p.Updates, "%v", none)
	}
	assert.Contains(t, string(client.UpdateXML(u, "alpha", "x", "y", "1")), "<updates></updates>")
}

func TestUpdateServer(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	c.Releases(t, 1, 2)
	cl := newClient(t, c, []string{serve(t, c.Handler())})
	srv := serve(t, &client.UpdateServer{Client: cl})

	get := func(path string) (int, []byte) {
		resp, err := http.Get(srv + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, b
	}
	code, body := get("/update/release/Linux_x86_64-gcc3/1.0.1/en-US")
	require.Equal(t, http.StatusOK, code, "%s", body)
	p := parseUpdateXML(t, body)
	require.Len(t, p.Updates, 1)
	assert.Equal(t, "1.0.2", p.Updates[0].AppVersion)

	code, body = get("/update/release/linux-x86_64/1.0.2/en-US")
	require.Equal(t, http.StatusOK, code)
	assert.Empty(t, parseUpdateXML(t, body).Updates)

	code, _ = get("/update/release/linux-x86_64/en-US")
	assert.Equal(t, http.StatusNotFound, code)

	// A frozen chain: the server says so instead of "no update".
	frozen := testchain.New(t, testchain.Options{Now: now.Add(-48 * 3600e9)})
	fsrv := serve(t, &client.UpdateServer{Client: newClient(t, frozen, []string{serve(t, frozen.Handler())})})
	resp, err := http.Get(fsrv + "/update/release/linux-x86_64/1.0/en-US")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Contains(t, string(b), "too old")
}
