package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// HTTP limits: the server never waits long for a slow client, except for the answer
// to a proposal, which includes the rebuilds.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	proposalTimeout   = 30 * time.Minute

	// A block whose links are all signed never changes again; one that may still
	// gain links, latest and the timestamp are cached briefly.
	cacheFinal   = "public, max-age=31536000, immutable"
	cacheGrowing = "public, max-age=30"
	cacheShort   = "public, max-age=10"
)

func (n *Node) startHTTP() error {
	l, err := net.Listen("tcp", n.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("node: http %s: %w", n.cfg.HTTP, err)
	}
	n.httpAddr = l.Addr().String()
	n.httpSrv = &http.Server{
		Handler:           n.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return n.ctx },
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.httpSrv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// baseURL is where members fetch what they miss from this node: PublicHTTP, or the
// listening address with an unspecified host replaced by the onet address's host.
func (n *Node) baseURL() string {
	if n.cfg.PublicHTTP != "" {
		return strings.TrimSuffix(n.cfg.PublicHTTP, "/")
	}
	host, port, err := net.SplitHostPort(n.httpAddr)
	if err != nil {
		return "http://" + n.httpAddr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host, _, _ = net.SplitHostPort(n.cfg.listenHostPort())
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Handler is the node's HTTP API (see package api for the paths).
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(n.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /v1/status", n.serveStatus)
	mux.HandleFunc("POST "+api.Chains, n.serveGenesis)
	mux.HandleFunc(api.Prefix, n.serveChain)
	return n.countRequests(mux)
}

func (n *Node) serveChain(w http.ResponseWriter, r *http.Request) {
	path, err := api.ParsePath(r.URL.Path)
	if err != nil {
		httpError(w, http.StatusNotFound, "no such path")
		return
	}
	genesis := path.Genesis
	c := n.chainOf(genesis)
	if c == nil {
		httpError(w, http.StatusNotFound, "unknown chain")
		return
	}
	if path.Resource == api.ResProposals {
		if r.Method != http.MethodPost {
			httpError(w, http.StatusMethodNotAllowed, "POST a proposal")
			return
		}
		n.serveProposal(w, r, genesis)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		httpError(w, http.StatusMethodNotAllowed, "GET only")
		return
	}
	if wantsJSON(r) {
		n.serveChainJSON(w, r, c, path)
		return
	}
	a := c.served.get(r.URL.Path)
	if a == nil {
		gen := c.served.generation()
		var code int
		if a, code = n.answer(c, path); a == nil {
			httpError(w, code, http.StatusText(code))
			return
		}
		c.served.put(r.URL.Path, a, gen)
	}
	serveBinary(w, r, a)
}

// answer computes the binary answer for a chain resource, or the status code of its
// absence.
func (n *Node) answer(c *chain, p api.Path) (*cachedAnswer, int) {
	index := p.Index
	switch p.Resource {
	case api.ResLatest:
		h, err := c.store.Head()
		if err != nil {
			return nil, http.StatusInternalServerError
		}
		return newCachedAnswer((&api.LatestRecord{Index: h.Index(), ID: h.ID()}).Encode(), cacheShort), 0
	case api.ResTimestamp:
		ts := c.newestTimestamp()
		if ts == nil {
			return nil, http.StatusNotFound
		}
		return newCachedAnswer(ts.Encode(), cacheShort), 0
	case api.ResBlock:
		sb, err := servedBlock(c, index)
		if errors.Is(err, skipchain.ErrUnknownBlock) {
			return nil, http.StatusNotFound
		}
		if err != nil {
			return nil, http.StatusInternalServerError
		}
		cache := cacheGrowing
		if len(sb.Links) == int(sb.Block.Header().Height()) {
			cache = cacheFinal
		}
		return newCachedAnswer(sb.Encode(), cache), 0
	case api.ResHeader:
		h, err := c.store.Header(index)
		return finalAnswer(h, err)
	case api.ResPayload:
		b, err := c.store.Block(index)
		if err != nil {
			return finalAnswer(nil, err)
		}
		return newCachedAnswer(b.Payload(), cacheFinal), 0
	case api.ResLink:
		l, err := c.store.Link(index, p.Level)
		return finalAnswer(l, err)
	}
	return nil, http.StatusNotFound
}

// finalAnswer serves what never changes once stored (a header, a link), or the status
// code of its absence.
func finalAnswer(v interface{ Encode() []byte }, err error) (*cachedAnswer, int) {
	switch {
	case errors.Is(err, skipchain.ErrUnknownBlock), errors.Is(err, skipchain.ErrUnknownLink):
		return nil, http.StatusNotFound
	case err != nil:
		return nil, http.StatusInternalServerError
	}
	return newCachedAnswer(v.Encode(), cacheFinal), 0
}

func (n *Node) serveChainJSON(w http.ResponseWriter, r *http.Request, c *chain, p api.Path) {
	var human any
	switch p.Resource {
	case api.ResLatest:
		h, err := c.store.Head()
		if err != nil {
			httpError(w, http.StatusInternalServerError, err.Error())
			return
		}
		human = map[string]any{"index": h.Index(), "id": h.ID()}
	case api.ResTimestamp:
		ts := c.newestTimestamp()
		if ts == nil {
			httpError(w, http.StatusNotFound, "no timestamp yet")
			return
		}
		human = timestampJSON(ts, n.clock())
	case api.ResBlock:
		sb, err := servedBlock(c, p.Index)
		if err != nil {
			httpError(w, http.StatusNotFound, "no such block")
			return
		}
		human = blockJSON(sb)
	default:
		httpError(w, http.StatusNotAcceptable, "binary only: the JSON form of a block is at "+api.Block(c.genesis, p.Index))
		return
	}
	w.Header().Set("Vary", "Accept")
	w.Header().Set("Cache-Control", cacheShort)
	writeJSONCode(w, http.StatusOK, human)
}

// serveBinary writes a binary answer with its ETag, so caches revalidate for free.
func serveBinary(w http.ResponseWriter, r *http.Request, a *cachedAnswer) {
	h := w.Header()
	h.Set("Cache-Control", a.cache)
	h.Set("Vary", "Accept")
	h.Set("ETag", a.etag)
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", api.MediaBinary)
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(a.body)
}

func wantsJSON(r *http.Request) bool {
	return r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), api.MediaJSON)
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

// readBody reads at most max bytes of a request body, refusing a longer one.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", max))
		} else {
			httpError(w, http.StatusBadRequest, err.Error())
		}
		return nil, false
	}
	return b, true
}

func (n *Node) serveProposal(w http.ResponseWriter, r *http.Request, genesis skipchain.ID) {
	b, ok := readBody(w, r, int64(api.MaxProposalSize))
	if !ok {
		return
	}
	p, body, err := api.ParseProposal(b)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(proposalTimeout))
	ctx, cancel := context.WithTimeout(r.Context(), proposalTimeout)
	defer cancel()
	res, err := n.Propose(ctx, genesis, p, body)
	writeOutcome(w, p.Kind, res, err)
}

// writeOutcome answers a proposal or genesis request: 503 when the node is busy, 422
// with the reason when this node's own checks refused it before any round or the
// roster did not make the block, 200 with the block otherwise.
func writeOutcome(w http.ResponseWriter, kind string, res *api.ProposalResult, err error) {
	switch {
	case errors.Is(err, errBusy):
		w.Header().Set("Retry-After", "10")
		httpError(w, http.StatusServiceUnavailable, err.Error())
		return
	case err != nil:
		writeJSON(w, http.StatusUnprocessableEntity, &api.ProposalResult{Kind: kind, Error: err.Error()})
		return
	}
	code := http.StatusOK
	if !res.Accepted {
		code = http.StatusUnprocessableEntity
	}
	writeJSON(w, code, res)
}

func (n *Node) serveGenesis(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r, int64(1+len("chainiac/v1/genesis-request")+4+skipchain.MaxBlockSize))
	if !ok {
		return
	}
	g, err := api.ParseGenesisRequest(b)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*n.cfg.RoundTimeout.Duration)
	defer cancel()
	res, err := n.CreateChain(ctx, g.Genesis)
	writeOutcome(w, timeline.KindGenesis, res, err)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSONCode(w, code, v)
}

func writeJSONCode(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", api.MediaJSON)
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// statusWriter remembers the status code for the request counter.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (n *Node) countRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		n.metrics.httpRequests.WithLabelValues(pathClass(r), strconv.Itoa(sw.code)).Inc()
	})
}

var resourceClass = map[api.Resource]string{api.ResLatest: "latest", api.ResTimestamp: "timestamp",
	api.ResBlock: "blocks", api.ResProposals: "proposals", api.ResHeader: "headers", api.ResPayload: "payloads",
	api.ResLink: "links"}

// pathClass names a request path without its variable parts, so the counter's label
// values stay few.
func pathClass(r *http.Request) string {
	switch p := r.URL.Path; {
	case p == "/metrics", p == "/v1/status", p == api.Chains:
		return p
	case strings.HasPrefix(p, api.Prefix):
		if path, err := api.ParsePath(p); err == nil {
			return resourceClass[path.Resource]
		}
	}
	return "other"
}
