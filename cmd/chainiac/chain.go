package main

import (
	"fmt"
	"io"
	"os"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/internal/nodeclient"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// maxRosterFile bounds a group file: a roster at its largest size, as TOML.
const maxRosterFile = 4 << 20

func newChainCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chain",
		Short: "Create a product's timeline on a cothority",
	}
	cmd.AddCommand(newChainCreateCmd())
	return cmd
}

// chainCreateOutput is what `chain create --json` prints.
type chainCreateOutput struct {
	Genesis string              `json:"genesis"`
	Result  *api.ProposalResult `json:"result"`
}

func newChainCreateCmd() *cobra.Command {
	var rosterFile, policyFile, product, nodeURL string
	var asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "create --roster GROUP.toml --policy POLICY --product NAME --node URL [--json]",
		Short: "Make a genesis block and have the roster cosign it; print the genesis ID",
		Long: `Make the genesis block of a product's timeline from the roster (an onet group
file: the joined entries of 'chainiac node setup') and the developer policy (a
policy file or encoding), and post it to one member node, which has the whole
roster cosign it. On success the genesis ID, the value updaters pin, is printed
on standard output. Otherwise every round's error and refusal is printed on
standard error and the exit status is 3.`,
		Example: `  chainiac chain create --roster group.toml --policy policy.toml --product tor-browser \
      --node http://127.0.0.1:7771`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := nodeclient.New(nodeURL, timeout)
			if err != nil {
				return usageError{fmt.Errorf("chain create: %w", err)}
			}
			roster, err := readRoster(rosterFile)
			if err != nil {
				return fmt.Errorf("chain create: %w", err)
			}
			policy, err := readPolicy(policyFile)
			if err != nil {
				return fmt.Errorf("chain create: %w", err)
			}
			g, err := timeline.NewGenesis(skipchain.DefaultParams(), roster, product, policy)
			if err != nil {
				return fmt.Errorf("chain create: %w", err)
			}
			res, err := c.PostResult(contextOf(cmd), api.Chains, (&api.GenesisRequest{Genesis: g}).Encode())
			if err != nil {
				return fmt.Errorf("chain create: %w", err)
			}
			if res.Accepted && res.ID != g.ID().String() {
				return fmt.Errorf("chain create: the node accepted genesis %s, not the one sent (%s)", res.ID, g.ID())
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), &chainCreateOutput{Genesis: g.ID().String(), Result: res}); err != nil {
					return err
				}
			} else if res.Accepted {
				fmt.Fprintln(cmd.OutOrStdout(), g.ID())
			}
			if !res.Accepted {
				printRounds(cmd.ErrOrStderr(), res)
				msg := res.Error
				if msg == "" {
					msg = "not accepted"
				}
				return fmt.Errorf("chain create: %w: %s", errRefused, oneLine(msg))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "chain of %s created: %d members, threshold %d\n", product, roster.Len(), roster.Threshold())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&rosterFile, "roster", "", "roster: onet group file (TOML) joining the nodes' entries")
	f.StringVar(&policyFile, "policy", "", "developer policy: TOML policy file, or a policy encoding")
	f.StringVar(&product, "product", "", "the product the timeline is for, e.g. tor-browser")
	f.StringVar(&nodeURL, "node", "", "HTTP URL (or HOST:PORT) of a roster member that leads the round")
	f.BoolVar(&asJSON, "json", false, "print the genesis ID and the node's answer as JSON")
	f.DurationVar(&timeout, "timeout", 5*time.Minute, "give up on the node after this long")
	for _, name := range []string{"roster", "policy", "product", "node"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func readRoster(path string) (*skipchain.Roster, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	defer f.Close()
	b, err := nodeclient.ReadAtMost(f, maxRosterFile)
	if err != nil {
		return nil, fmt.Errorf("roster %s: %w", path, err)
	}
	r, err := skipchain.ParseRosterTOML(b)
	if err != nil {
		return nil, fmt.Errorf("roster %s: %w", path, err)
	}
	return r, nil
}

// printRounds writes every round of a result with its refusals and failures.
func printRounds(w io.Writer, res *api.ProposalResult) {
	for _, r := range res.Rounds {
		outcome := "signed"
		if !r.OK {
			outcome = "failed"
		}
		fmt.Fprintf(w, "round %s: %s by %d of %d (threshold %d) in %.2fs\n", oneLine(r.What), outcome, r.Signers, r.Members, r.Needed, r.Seconds)
		if r.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", oneLine(r.Error))
		}
		for _, x := range r.Refusals {
			fmt.Fprintf(w, "  member %d (%s) refused: %s\n", x.Member, x.Key, oneLine(x.Reason))
		}
		for _, x := range r.Failures {
			fmt.Fprintf(w, "  member %d did not answer: %s\n", x.Member, oneLine(x.Reason))
		}
	}
}

// oneLine keeps text from a node one line without control characters (no escape
// sequences, no line that could pass for the tool's own output), whatever it sent.
func oneLine(s string) string {
	out := []rune{}
	for _, r := range s {
		if unicode.IsControl(r) {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
