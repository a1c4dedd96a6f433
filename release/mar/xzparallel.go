package mar

import (
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// writeXZEntries writes the files as xz entries from archive offset pos and
// returns their index entries and the offset after the last. It reads the
// files in order, one piece of xzBlockSize bytes at a time, compresses up to
// opts.Workers pieces at once, and writes the blocks in order: every block
// depends only on its piece, so the bytes are the same for any number of
// workers. At most 2·workers pieces are read ahead.
func writeXZEntries(w io.Writer, pos int64, files []File, opts WriteOptions) ([]Entry, int64, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &xzPipeline{w: w, pos: pos, files: files, progress: opts.Progress, literal: opts.Compression == XZLiteral, sem: make(chan struct{}, workers)}
	err := p.run(2 * workers)
	p.wg.Wait() // on an error, pieces may still be compressing
	if err != nil {
		return nil, 0, err
	}
	return p.entries, p.pos, nil
}

// xzStep is one thing to write, in order: an entry's start, one of its
// blocks, or its end.
type xzStep struct {
	kind  xzStepKind
	entry int
	block chan xzResult // for xzBlockStep
}

type xzStepKind int

const (
	xzStartStep xzStepKind = iota
	xzBlockStep
	xzEndStep
)

type xzResult struct {
	block xzEncodedBlock
	err   error
}

type xzPipeline struct {
	w        io.Writer
	pos      int64
	files    []File
	progress *atomic.Int64
	literal  bool // XZLiteral: every piece stored
	sem      chan struct{}
	wg       sync.WaitGroup

	queue   []xzStep
	entries []Entry
	current *xzEntryWriter
	out     *countingWriter
}

func (p *xzPipeline) run(maxBlocks int) error {
	blocks := 0
	push := func(s xzStep) error {
		p.queue = append(p.queue, s)
		if s.kind == xzBlockStep {
			blocks++
		}
		// Write what is ready in order: starts and ends at once, blocks when
		// too many are pending.
		for len(p.queue) > 0 && (blocks > maxBlocks || p.queue[0].kind != xzBlockStep) {
			if p.queue[0].kind == xzBlockStep {
				blocks--
			}
			if err := p.write(p.queue[0]); err != nil {
				return err
			}
			p.queue = p.queue[1:]
		}
		return nil
	}
	for i, f := range p.files {
		if err := push(xzStep{kind: xzStartStep, entry: i}); err != nil {
			return err
		}
		if err := p.readPieces(f, func(piece []byte) error {
			return push(xzStep{kind: xzBlockStep, entry: i, block: p.compress(piece)})
		}); err != nil {
			return err
		}
		if err := push(xzStep{kind: xzEndStep, entry: i}); err != nil {
			return err
		}
	}
	for _, s := range p.queue {
		if err := p.write(s); err != nil {
			return err
		}
	}
	return nil
}

// readPieces calls use with f's content in pieces of xzBlockSize bytes, the
// last one shorter; an empty content is one empty piece.
func (p *xzPipeline) readPieces(f File, use func([]byte) error) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("mar: write: open %q: %w", f.Name, err)
	}
	defer rc.Close()
	for first := true; ; first = false {
		// ReadAll grows its buffer as it reads: a small file costs a small piece.
		piece, err := io.ReadAll(io.LimitReader(rc, xzBlockSize))
		if err != nil {
			return fmt.Errorf("mar: write: %q: %w", f.Name, err)
		}
		if len(piece) == 0 && !first {
			return rc.Close()
		}
		if err := use(piece[:len(piece):len(piece)]); err != nil {
			return err
		}
		if len(piece) < xzBlockSize {
			return rc.Close()
		}
	}
}

// compress starts encoding piece as soon as a worker is free.
func (p *xzPipeline) compress(piece []byte) chan xzResult {
	done := make(chan xzResult, 1)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.sem <- struct{}{}
		defer func() { <-p.sem }()
		b, err := encodeXZBlock(piece, p.literal, p.progress)
		done <- xzResult{b, err}
	}()
	return done
}

func (p *xzPipeline) write(s xzStep) error {
	f := p.files[s.entry]
	switch s.kind {
	case xzStartStep:
		p.out = &countingWriter{w: p.w, left: MaxFileSize - p.pos}
		p.current = &xzEntryWriter{w: p.out}
		return p.wrap(f, p.current.start())
	case xzBlockStep:
		r := <-s.block
		if r.err != nil {
			return p.wrap(f, r.err)
		}
		if err := p.current.block(r.block); err != nil {
			return p.wrap(f, err)
		}
		return nil
	}
	if err := p.current.finish(); err != nil {
		return p.wrap(f, err)
	}
	p.entries = append(p.entries, Entry{Name: f.Name, Offset: uint32(p.pos), Size: uint32(p.out.n), Mode: f.Mode})
	p.pos += p.out.n
	return nil
}

func (p *xzPipeline) wrap(f File, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("mar: write: %q: %w", f.Name, err)
}
