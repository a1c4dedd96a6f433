package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/nodeclient"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// proposeOutput is what every propose command prints with --json: the node's result
// and the chain it was posted to.
type proposeOutput struct {
	Genesis string              `json:"genesis"`
	Result  *api.ProposalResult `json:"result"`
}

func newReleaseProposeCmd() *cobra.Command {
	var nodeURL, genesisHex, source string
	var wait time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "propose --node URL --source URL [--genesis ID] [--wait 30m] [--json] SIGNED-MANIFEST",
		Short: "Propose a signed release to the cothority; print the new block or every refusal",
		Long: `Post a signed manifest and the URL of its source archive to one node, which has
every member rebuild the release and sign only if the MAR files match. The
chain is the node's chain of the manifest's product, unless --genesis names it.
Prints the new block (index, ID, signers k/n) or each member's refusal with its
reason. Exit status 3 when no block was made, 4 when the node cannot be reached.`,
		Example: `  chainiac release propose --node http://127.0.0.1:7771 \
      --source https://dist.example.org/demo-browser-2.0.tar.gz signed-2.0.bin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sm, signed, err := readManifestFile(args[0])
			if err != nil {
				return fmt.Errorf("release propose: %w", err)
			}
			if !signed || len(sm.Signatures) == 0 {
				return fmt.Errorf("release propose: %s carries no developer signature: sign it first (chainiac release sign)", args[0])
			}
			m, err := release.ParseManifest(sm.Manifest)
			if err != nil {
				return fmt.Errorf("release propose: %s: %w", args[0], err)
			}
			if source == "" {
				return usageError{fmt.Errorf("release propose: --source: the URL nodes fetch the source archive from")}
			}
			p := &api.Proposal{Kind: timeline.KindRelease, Body: sm.Encode(), Source: source}
			return propose(cmd, nodeURL, genesisHex, m.Product, wait, asJSON, p, fmt.Sprintf("release %s %s", m.Product, m.Version))
		},
	}
	proposeFlags(cmd, &nodeURL, &genesisHex, &wait, &asJSON)
	cmd.Flags().StringVar(&source, "source", "", "http(s) URL of the source archive the nodes rebuild from")
	return cmd
}

func proposeFlags(cmd *cobra.Command, nodeURL, genesis *string, wait *time.Duration, asJSON *bool) {
	cmd.Flags().StringVar(nodeURL, "node", "", "HTTP URL of the node to propose to")
	cmd.Flags().StringVar(genesis, "genesis", "", "the chain's genesis ID (default: the node's chain of the product)")
	cmd.Flags().DurationVar(wait, "wait", 30*time.Minute, "how long to wait for the cothority's answer")
	cmd.Flags().BoolVar(asJSON, "json", false, "print one JSON object")
	_ = cmd.MarkFlagRequired("node")
}

// propose posts p to the node's chain and reports the outcome; what names the
// proposal in messages.
func propose(cmd *cobra.Command, nodeURL, genesisHex, product string, wait time.Duration, asJSON bool, p *api.Proposal, what string) error {
	c, err := nodeclient.New(nodeURL, wait)
	if err != nil {
		return usageError{fmt.Errorf("propose: %w", err)}
	}
	ctx := contextOf(cmd)
	genesis, err := chainOf(ctx, c, genesisHex, product)
	if err != nil {
		return fmt.Errorf("propose: %w", err)
	}
	done := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		showProgress(cmd.ErrOrStderr(), what, done)
	}()
	res, err := c.PostResult(ctx, api.Proposals(genesis), p.Encode())
	close(done)
	<-progressDone
	if err != nil {
		return fmt.Errorf("propose %s: %w", what, err)
	}
	var confirmErr error
	if res.Accepted {
		confirmErr = confirmBlock(ctx, nodeURL, genesis, res)
	}
	if asJSON {
		if err := writeJSON(cmd.OutOrStdout(), &proposeOutput{Genesis: genesis.String(), Result: res}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(cmd.OutOrStdout(), "chain %s\n", genesis)
		printResult(cmd.OutOrStdout(), res)
	}
	if confirmErr != nil {
		return fmt.Errorf("propose %s: %w: the node says block %d was made, but %w", what, errRefused, res.Index, confirmErr)
	}
	if !res.Accepted && linkSigned(res) {
		return fmt.Errorf("propose %s: %w: block %d is signed, but fewer than a threshold of its roster confirmed storing it: check 'chainiac node status' on several nodes before proposing again",
			what, errRefused, res.Index)
	}
	if !res.Accepted {
		reason := res.Error
		if reason == "" {
			reason = "the roster did not reach its threshold"
		}
		return fmt.Errorf("propose %s: %w: %s", what, errRefused, oneLine(reason))
	}
	return nil
}

// confirmBlock checks the node's claim with the updater's own verification: from the
// genesis, the chain's newest cosigned timestamp must name the block the node
// reported (one signature check, as an updater would make).
func confirmBlock(ctx context.Context, nodeURL string, genesis skipchain.ID, res *api.ProposalResult) error {
	dir, err := os.MkdirTemp("", "chainiac-confirm-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if !strings.Contains(nodeURL, "://") {
		nodeURL = "http://" + nodeURL
	}
	c, err := client.New(client.Config{Genesis: genesis, Mirrors: []string{nodeURL}, StateDir: dir})
	if err != nil {
		return err
	}
	u, err := c.Check(ctx)
	if err != nil {
		return fmt.Errorf("its chain does not verify: %w", err)
	}
	switch {
	case u.Head.Index == res.Index && u.Head.ID.String() == res.ID:
		return nil
	case u.Head.Index > res.Index:
		return nil // the chain moved on (another proposal); the timestamp verified a later head
	}
	return fmt.Errorf("%w: the chain's cosigned head is block %d %s", client.ErrRejected, u.Head.Index, u.Head.ID.Short())
}

// linkSigned reports whether the round of the level-0 link into the proposed block
// reached its threshold: the block exists even if the rest of the proposal failed.
func linkSigned(res *api.ProposalResult) bool {
	if res.Index == 0 {
		return false
	}
	want := fmt.Sprintf("link %d→%d level 0", res.Index-1, res.Index)
	for _, r := range res.Rounds {
		if r.What == want && r.OK {
			return true
		}
	}
	return false
}

// chainOf is the genesis named, or the node's one chain of product (of any product
// if product is empty).
func chainOf(ctx context.Context, c *nodeclient.Client, genesisHex, product string) (skipchain.ID, error) {
	var g skipchain.ID
	if genesisHex != "" {
		if err := g.UnmarshalText([]byte(genesisHex)); err != nil {
			return g, usageError{fmt.Errorf("--genesis: %w", err)}
		}
		return g, nil
	}
	st, _, err := c.Status(ctx)
	if err != nil {
		return g, err
	}
	var found []string
	for _, ch := range st.Chains {
		if ch.Product == product || product == "" {
			found = append(found, ch.Genesis)
		}
	}
	if product == "" {
		product = "any product"
	}
	switch len(found) {
	case 0:
		return g, fmt.Errorf("the node has no chain of %s (chain create makes one)", product)
	case 1:
		return g, g.UnmarshalText([]byte(found[0]))
	}
	return g, usageError{fmt.Errorf("the node has %d chains of %s: name one with --genesis (%s)", len(found), product, strings.Join(found, ", "))}
}

// showProgress prints a line every few seconds while the cothority works, until done.
func showProgress(w io.Writer, what string, done <-chan struct{}) {
	start := time.Now()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			fmt.Fprintf(w, "waiting for the cothority to rebuild and sign %s: %.0f s\n", what, time.Since(start).Seconds())
		}
	}
}

// printResult writes a proposal result for people: the block, then each round.
func printResult(w io.Writer, res *api.ProposalResult) {
	if res.Accepted {
		fmt.Fprintf(w, "block %d %s (%s)\n", res.Index, res.ID, res.Kind)
	} else {
		fmt.Fprintf(w, "no block made (%s)\n", res.Kind)
		if res.Error != "" {
			fmt.Fprintf(w, "  refused by the node: %s\n", oneLine(res.Error))
		}
	}
	printRounds(w, res)
}
