package boundedget

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGetClasses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte("12345"))
		case "/announced":
			w.Header().Set("Content-Length", "6")
			_, _ = w.Write([]byte("123456"))
		case "/unannounced":
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte(strings.Repeat("x", 100)))
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		case "/down":
			http.Error(w, "no", http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	get := func(p string) ([]byte, error) {
		return Get(context.Background(), srv.Client(), srv.URL+p, "application/octet-stream", 5, 100*time.Millisecond)
	}
	b, err := get("/ok")
	require.NoError(t, err)
	require.Equal(t, "12345", string(b), "a body of exactly the limit")
	for p, want := range map[string]error{"/announced": ErrTooLarge, "/unannounced": ErrTooLarge,
		"/slow": ErrUnavailable, "/down": ErrUnavailable, "/missing": ErrNotFound} {
		_, err := get(p)
		require.ErrorIs(t, err, want, p)
	}
	_, err = Get(context.Background(), srv.Client(), "http://127.0.0.1:1/", "x", 5, time.Second)
	require.ErrorIs(t, err, ErrUnavailable)
}
