package simulation

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// harness lets the simulation drive internal/testchain, which is written for tests:
// it reports failures through testing.TB's Fatalf, which here panics with a
// harnessFailure that guard turns back into an error. testchain and chaintest call
// nothing of testing.TB but Helper and Fatalf.
type harness struct{ testing.TB }

type harnessFailure struct{ msg string }

func (harness) Helper() {}

func (harness) Fatalf(format string, args ...any) {
	panic(harnessFailure{fmt.Sprintf(format, args...)})
}

// guard, deferred, turns a harness failure into *err; any other panic goes on.
func guard(err *error) {
	if r := recover(); r != nil {
		f, ok := r.(harnessFailure)
		if !ok {
			panic(r)
		}
		*err = errors.New(f.msg)
	}
}

// loopback serves h on 127.0.0.1 until stop, which waits for the server to end.
func loopback(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // ErrServerClosed after Close
	}()
	return "http://" + ln.Addr().String(), func() {
		_ = srv.Close()
		<-done
	}, nil
}

// measure runs f and returns its wall and process CPU time.
func measure(f func() error) (wall, cpu time.Duration, err error) {
	c0, t0 := cpuTime(), time.Now()
	err = f()
	return time.Since(t0), cpuTime() - c0, err
}

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("simulation: %w", err)
	}
	return nil
}
