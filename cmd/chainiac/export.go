package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/internal/nodeclient"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

func newExportCmd() *cobra.Command {
	var nodeURL, out, genesisHex string
	var timeout time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "export --node URL --output DIR [--genesis ID] [--json]",
		Short: "Copy chains from a node into a directory any web server can serve",
		Long: `Fetch the latest record, every block and the newest timestamp of each chain a
node holds (or only of --genesis) and write them under DIR at the paths the node
serves them at, so that a plain web server or CDN rooted at DIR serves the same
bytes. Nothing is written before it checks out: every block must follow the one
before it by the chain rules (index, genesis, parameters, back-links), every
forward link must be signed by its block's roster, and the timestamp must be
signed by the roster of the block it names. Running it again only adds files or
atomically replaces those whose content changed (blocks gain forward links).`,
		Example: `  chainiac export --node http://127.0.0.1:7771 --output /srv/www/chainiac
  chainiac export --node 127.0.0.1:7771 --output site --genesis 3f1c...e2 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := nodeclient.New(nodeURL, timeout)
			if err != nil {
				return usageError{fmt.Errorf("export: %w", err)}
			}
			ctx := contextOf(cmd)
			var chains []skipchain.ID
			if genesisHex != "" {
				var g skipchain.ID
				if err := g.UnmarshalText([]byte(genesisHex)); err != nil {
					return usageError{fmt.Errorf("export: --genesis: %w", err)}
				}
				chains = append(chains, g)
			} else {
				st, _, err := c.Status(ctx)
				if err != nil {
					return fmt.Errorf("export: %w", err)
				}
				for _, cs := range st.Chains {
					var g skipchain.ID
					if err := g.UnmarshalText([]byte(cs.Genesis)); err != nil {
						return fmt.Errorf("export: status names chain %q: %w", cs.Genesis, err)
					}
					chains = append(chains, g)
				}
				if len(chains) == 0 {
					return errors.New("export: the node holds no chain")
				}
			}
			report := exportOutput{Output: out, Chains: []exportedChain{}}
			for _, g := range chains {
				snap, err := fetchChain(ctx, c, g)
				if err != nil {
					return fmt.Errorf("export: chain %s: %w", g.Short(), err)
				}
				wrote, err := snap.write(out)
				if err != nil {
					return fmt.Errorf("export: chain %s: %w", g.Short(), err)
				}
				e := exportedChain{Genesis: g.String(), HeadIndex: uint64(len(snap.blocks) - 1), FilesWritten: wrote}
				if snap.timestamp != nil {
					e.TimestampIndex = &snap.tsIndex
				}
				report.Chains = append(report.Chains, e)
				if !asJSON {
					reportExport(cmd.OutOrStdout(), e)
				}
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), &report)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&nodeURL, "node", "", "HTTP URL (or HOST:PORT) of the node to copy from")
	f.StringVarP(&out, "output", "o", "", "directory to write the static copy into")
	f.StringVar(&genesisHex, "genesis", "", "export only this chain (genesis ID, 64 hex digits)")
	f.DurationVar(&timeout, "timeout", time.Minute, "give up on each request after this long")
	f.BoolVar(&asJSON, "json", false, "print one JSON object once every chain is written")
	for _, name := range []string{"node", "output"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

// chainSnapshot is one chain as fetched from a node and verified: the encodings
// exactly as served, ready to be written.
type chainSnapshot struct {
	genesis   skipchain.ID
	latest    []byte
	blocks    [][]byte           // served block encodings, index order
	served    []*api.ServedBlock // the same, decoded
	timestamp []byte             // nil if the node has none yet
	tsIndex   uint64
}

// fetchChain fetches a chain's timestamp, latest record and blocks 0..latest, and
// verifies them. The timestamp is fetched first and latest next, so that a chain
// growing meanwhile still gives a timestamp no newer than latest.
func fetchChain(ctx context.Context, c *nodeclient.Client, g skipchain.ID) (*chainSnapshot, error) {
	s := &chainSnapshot{genesis: g}
	var ts *timeline.Timestamp
	tsBytes, err := c.Get(ctx, api.Timestamp(g), api.MediaBinary, int64(timeline.MaxTimestampSize))
	switch {
	case errors.Is(err, nodeclient.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		if ts, err = timeline.ParseTimestamp(tsBytes); err != nil {
			return nil, fmt.Errorf("timestamp: %w", err)
		}
		if ts.Genesis != g {
			return nil, fmt.Errorf("timestamp is of chain %s", ts.Genesis.Short())
		}
		s.timestamp, s.tsIndex = tsBytes, ts.Index
	}
	s.latest, err = c.Get(ctx, api.Latest(g), api.MediaBinary, int64(api.MaxLatestSize))
	if err != nil {
		return nil, err
	}
	latest, err := api.ParseLatest(s.latest)
	if err != nil {
		return nil, err
	}
	if ts != nil && ts.Index > latest.Index {
		return nil, fmt.Errorf("the node's timestamp names block %d, after its latest block %d", ts.Index, latest.Index)
	}
	blocks := make([]*skipchain.Block, 0, latest.Index+1)
	served := make([]*api.ServedBlock, 0, latest.Index+1)
	for i := uint64(0); i <= latest.Index; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := c.Get(ctx, api.Block(g, i), api.MediaBinary, int64(api.MaxServedBlockSize))
		if err != nil {
			return nil, err
		}
		sb, err := api.ParseServedBlock(b)
		if err != nil {
			return nil, err
		}
		if err := checkServed(g, blocks, i, sb); err != nil {
			return nil, err
		}
		blocks, served = append(blocks, sb.Block), append(served, sb)
		s.blocks = append(s.blocks, b)
	}
	s.served = served
	if head := blocks[latest.Index]; head.ID() != latest.ID {
		return nil, fmt.Errorf("latest names block %d as %s, the node served %s", latest.Index, latest.ID, head.ID())
	}
	// Every block after the genesis must be cosigned: the level-0 link into it, signed
	// by the roster of the block before, is what made it part of the chain.
	for i := 1; i < len(served); i++ {
		found := false
		for _, l := range served[i-1].Links {
			found = found || l.ToIndex() == uint64(i)
		}
		if !found {
			return nil, fmt.Errorf("block %d: the node serves no link into it from block %d: nothing shows the cothority signed it", i, i-1)
		}
	}
	// Links leave a block before the blocks they reach were checked; check each
	// against its target now that every block is known.
	for i, sb := range served {
		for _, l := range sb.Links {
			if l.ToIndex() > latest.Index {
				err = skipchain.VerifyLinkSignature(sb.Block.Roster(), l)
			} else {
				err = skipchain.CheckLink(sb.Block, blocks[l.ToIndex()].Header(), l)
			}
			if err != nil {
				return nil, fmt.Errorf("block %d: %w", i, err)
			}
		}
	}
	if ts != nil {
		b := blocks[ts.Index]
		if err := ts.Describes(b.Header()); err != nil {
			return nil, fmt.Errorf("timestamp: %w", err)
		}
		if err := ts.Verify(b.Roster()); err != nil {
			return nil, fmt.Errorf("timestamp: %w", err)
		}
	}
	return s, nil
}

// checkServed checks that served block i is block i of chain g and follows the
// blocks before it (prev holds blocks 0..i-1, checked) by the chain rules.
func checkServed(g skipchain.ID, prev []*skipchain.Block, i uint64, sb *api.ServedBlock) error {
	b := sb.Block
	if b.Index() != i {
		return fmt.Errorf("asked for block %d, the node served block %d", i, b.Index())
	}
	if i == 0 {
		if b.ID() != g {
			return fmt.Errorf("the node served genesis %s for chain %s", b.ID().Short(), g.Short())
		}
		if _, err := timeline.NewState(b); err != nil {
			return fmt.Errorf("genesis: %w", err)
		}
		return nil
	}
	genesis := prev[0].Header()
	var back []*skipchain.Header
	for _, pos := range genesis.Params().LinksInto(i) {
		back = append(back, prev[pos.From].Header())
	}
	if err := skipchain.CheckSuccessor(genesis, back, b.Header()); err != nil {
		return err
	}
	return nil
}

// write writes the snapshot with api.WriteStatic: blocks first, then the timestamp,
// latest last, so that a reader of the directory who sees latest finds every block
// it names. It returns how many files it wrote.
func (s *chainSnapshot) write(dir string) (int, error) {
	wrote := 0
	put := func(path string, data []byte) error {
		w, err := api.WriteStatic(dir, path, data)
		if w {
			wrote++
		}
		return err
	}
	for _, sb := range s.served {
		files, err := api.BlockFiles(s.genesis, sb)
		if err != nil {
			return wrote, err
		}
		for _, p := range slices.Sorted(maps.Keys(files)) {
			if err := put(p, files[p]); err != nil {
				return wrote, err
			}
		}
	}
	if s.timestamp != nil {
		if err := put(api.Timestamp(s.genesis), s.timestamp); err != nil {
			return wrote, err
		}
	}
	if err := put(api.Latest(s.genesis), s.latest); err != nil {
		return wrote, err
	}
	return wrote, nil
}

// exportOutput is what `export --json` prints.
type exportOutput struct {
	Output string          `json:"output"`
	Chains []exportedChain `json:"chains"`
}

type exportedChain struct {
	Genesis        string  `json:"genesis"`
	HeadIndex      uint64  `json:"head_index"`
	TimestampIndex *uint64 `json:"timestamp_index"` // null when the node has no timestamp yet
	FilesWritten   int     `json:"files_written"`   // new or changed files; 0 when the copy was current
}

func reportExport(w io.Writer, e exportedChain) {
	ts := "no timestamp"
	if e.TimestampIndex != nil {
		ts = fmt.Sprintf("timestamp of block %d", *e.TimestampIndex)
	}
	fmt.Fprintf(w, "chain %s: blocks 0..%d, %s; %d files written\n", e.Genesis, e.HeadIndex, ts, e.FilesWritten)
}
