package sample

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server publishes files over HTTP on 127.0.0.1, as the release team's download
// server would. Files can be added and replaced while it runs.
type Server struct {
	srv  *http.Server
	url  string
	done chan struct{}

	mu    sync.RWMutex
	files map[string][]byte
}

// NewServer starts a server on a free port of 127.0.0.1.
func NewServer() (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{url: "http://" + l.Addr().String(), files: map[string][]byte{}, done: make(chan struct{})}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(l) // returns http.ErrServerClosed after Close

	}()
	return s, nil
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.url }

// Publish adds every file of r.
func (s *Server) Publish(files map[string][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, b := range files {
		s.files[p] = b
	}
}

// File returns the file published at path.
func (s *Server) File(path string) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.files[path]
	return b, ok
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	b, ok := s.files[r.URL.Path]
	s.mu.RUnlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(b)
}

// Close stops the server and waits for it.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
