package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// eventHandler turns the node events a person watching the demo cares about (a
// rebuild done, a refusal, a block stored) into progress lines, as they happen; every
// other log line is dropped.
type eventHandler struct {
	p    *printer
	node int
	attr []slog.Attr
}

func (h *eventHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *eventHandler) Handle(_ context.Context, r slog.Record) error {
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	switch r.Message {
	case "rebuilt release":
		h.p.detail("node %d rebuilt %s: its %s MARs match the manifest (%ss)", h.node, attrs["version"], attrs["targets"], short(attrs["seconds"]))
	case "refusing to sign":
		reason := attrs["reason"]
		if i := strings.Index(reason, "rebuild of"); i >= 0 {
			reason = reason[i:]
		}
		h.p.detail("node %d refuses: %s", h.node, cut(reason, 220))
	}
	return nil
}

func (h *eventHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &eventHandler{p: h.p, node: h.node, attr: append(append([]slog.Attr(nil), h.attr...), as...)}
}
func (h *eventHandler) WithGroup(string) slog.Handler { return h }

func short(seconds string) string {
	if len(seconds) > 4 {
		return seconds[:4]
	}
	return seconds
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// printer writes the demo's lines: one per step, indented details, colour only when
// asked (a terminal). It is safe for concurrent use by the nodes' loggers.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
}

func (p *printer) step(n, of int, format string, args ...any) {
	p.line(fmt.Sprintf("%s %s", p.paint("1;36", fmt.Sprintf("[%d/%d]", n, of)), fmt.Sprintf(format, args...)))
}

func (p *printer) detail(format string, args ...any) { p.line("      " + fmt.Sprintf(format, args...)) }

func (p *printer) ok(format string, args ...any) {
	p.line("      " + p.paint("32", "✓ ") + fmt.Sprintf(format, args...))
}

func (p *printer) line(s string) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, s)
}

func (p *printer) paint(code, s string) string {
	if !p.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
