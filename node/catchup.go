package node

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/skipchain"
)

// maxCatchUp bounds the blocks one catch-up fetches; a node further behind catches
// up over several rounds.
const maxCatchUp = 4096

// catchUp fetches the blocks after the head up to target from base (another node's
// HTTP API, or a static export) and stores each one only after the store verified it
// from this node's own head: back-links, the signature of every link into it by the
// roster of the block it leaves, and the timeline rules. Nothing fetched is trusted;
// a source that lies gets its block refused. It is called without the chain's lock
// and takes it only to store each block, never while it waits on the network, so a
// slow or hostile source delays nobody else; the whole catch-up is bounded in time.
func (n *Node) catchUp(ctx context.Context, c *chain, base string, target uint64) error {
	head, err := c.headIndex(ctx)
	if err != nil || target <= head {
		return err
	}
	if base == "" {
		return fmt.Errorf("this node's head is block %d and there is no source to catch up from", head)
	}
	if err := checkSource(base); err != nil {
		return err
	}
	if target-head > maxCatchUp {
		target = head + maxCatchUp
	}
	ctx, cancel := context.WithTimeout(ctx, 2*n.cfg.RoundTimeout.Duration)
	defer cancel()
	n.log.Info("catching up", "genesis", c.genesis.Short(), "from", head+1, "to", target, "source", base)
	links := map[uint64][]*skipchain.ForwardLink{} // links leaving each fetched block
	fetch := func(i uint64) (*api.ServedBlock, error) {
		sb, err := n.fetchServedBlock(ctx, base, c.genesis, i)
		if err != nil {
			return nil, err
		}
		links[i] = sb.Links
		return sb, nil
	}
	for i := head + 1; i <= target; i++ {
		sb, err := fetch(i)
		if err != nil {
			return err
		}
		var into []*skipchain.ForwardLink
		for _, pos := range c.state.Genesis().Params().LinksInto(i) {
			from, ok := links[pos.From]
			if !ok {
				fsb, err := fetch(pos.From)
				if err != nil {
					return err
				}
				from = fsb.Links
			}
			for _, l := range from {
				if l.ToIndex() == i {
					into = append(into, l)
				}
			}
		}
		if err := c.lock(ctx); err != nil {
			return err
		}
		if c.state.Head().Index() == i-1 { // else someone stored it meanwhile
			err = n.store(c, sb.Block, into)
		}
		c.mu.Unlock()
		if err != nil {
			return fmt.Errorf("block %d from %s: %w", i, base, err)
		}
	}
	return nil
}

// headIndex reads the head's index under the chain's lock.
func (c *chain) headIndex(ctx context.Context) (uint64, error) {
	if err := c.lock(ctx); err != nil {
		return 0, err
	}
	defer c.mu.Unlock()
	return c.state.Head().Index(), nil
}

func (n *Node) fetchServedBlock(ctx context.Context, base string, genesis skipchain.ID, i uint64) (*api.ServedBlock, error) {
	url := strings.TrimSuffix(base, "/") + api.Block(genesis, i)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", api.MediaBinary)
	resp, err := n.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(api.MaxServedBlockSize)+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	sb, err := api.ParseServedBlockWith(n.rosters.blocks, b)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if sb.Block.Index() != i {
		return nil, fmt.Errorf("GET %s: block %d instead", url, sb.Block.Index())
	}
	return sb, nil
}
