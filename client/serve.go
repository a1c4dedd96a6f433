package client

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultRecheck is how long UpdateServer reuses a verified Check.
const DefaultRecheck = time.Minute

// buildTargets maps the BUILD_TARGET of Firefox-family update URLs to the platform
// names MAR files and manifests use.
var buildTargets = map[string]string{
	"Linux_x86_64-gcc3":   "linux-x86_64",
	"Linux_x86-gcc3":      "linux-i686",
	"Linux_aarch64-gcc3":  "linux-aarch64",
	"WINNT_x86_64-msvc":   "windows-x86_64",
	"WINNT_x86-msvc":      "windows-i686",
	"WINNT_aarch64-msvc":  "windows-aarch64",
	"Darwin_x86_64-gcc3":  "macos",
	"Darwin_aarch64-gcc3": "macos",
}

// UpdateServer answers an unmodified browser's update checks from verified blocks
// only:
//
//	GET /update/{channel}/{platform}/{version}/{locale}
//
// (the shape of Tor Browser's app.update.url, whose %BUILD_TARGET% is accepted for
// platform). Each answer is UpdateXML for the newest verified release; when the
// client cannot verify a fresh state (attack, freeze, no mirror) it answers 503
// with the reason, never an unverified or empty "no update" that would hide a
// freeze.
type UpdateServer struct {
	Client *Client
	// Recheck is how long one verified Check is reused (default DefaultRecheck).
	Recheck time.Duration

	mu      sync.Mutex
	last    *Update
	checked time.Time
}

func (s *UpdateServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/update/"), "/")
	if !strings.HasPrefix(r.URL.Path, "/update/") || len(parts) != 4 || slices.Contains(parts, "") {
		http.Error(w, "want /update/{channel}/{platform}/{version}/{locale}", http.StatusNotFound)
		return
	}
	channel, platform, version, locale := parts[0], parts[1], parts[2], parts[3]
	if p, ok := buildTargets[platform]; ok {
		platform = p
	}
	u, err := s.update(r.Context())
	if err != nil {
		w.Header().Set("Retry-After", "60")
		http.Error(w, fmt.Sprintf("no verified update information: %v", err), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(UpdateXML(u, channel, platform, locale, version))
}

// update returns a verified Update no older than Recheck, checking again if needed.
// Concurrent requests share one Check.
func (s *UpdateServer) update(ctx context.Context) (*Update, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recheck := s.Recheck
	if recheck <= 0 {
		recheck = DefaultRecheck
	}
	if s.last != nil && time.Since(s.checked) < recheck {
		return s.last, nil
	}
	u, err := s.Client.Check(ctx)
	if err != nil {
		s.last = nil
		return nil, err
	}
	s.last, s.checked = u, time.Now()
	return u, nil
}
