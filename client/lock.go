package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// lock takes the state directory's exclusive lock, waiting for another client to
// finish, until ctx ends. The returned function releases it.
func (s stateDir) lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("client: state: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("client: state: %w", err)
	}
	for {
		err = tryLock(f)
		if err == nil {
			return func() {
				unlock(f)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, errLocked) {
			_ = f.Close()
			return nil, fmt.Errorf("client: state lock: %w", err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("client: waiting for the state lock: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
