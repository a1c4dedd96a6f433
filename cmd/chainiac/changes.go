package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/internal/nodeclient"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// The flow of a roster or policy change, like a release's: write the statement from
// the chain as a node serves it (`roster change`, `policy change`), have developers
// sign it (`release sign`), then propose it (`roster propose`, `policy propose`).

func newRosterCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "roster", Short: "Replace the cothority roster: write, sign and propose the change"}
	cmd.AddCommand(newRosterChangeCmd(), newRosterProposeCmd())
	return cmd
}

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Replace the developer policy: write, sign and propose the change"}
	cmd.AddCommand(newPolicyChangeCmd(), newPolicyProposeCmd())
	return cmd
}

// chainFlags are the flags every change command shares.
type chainFlags struct {
	node, genesis string
	timeout       time.Duration
}

func (f *chainFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.node, "node", "", "HTTP URL of a node of the chain")
	cmd.Flags().StringVar(&f.genesis, "genesis", "", "the chain's genesis ID (default: the node's only chain)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", time.Minute, "give up on each request after this long")
	_ = cmd.MarkFlagRequired("node")
}

// state fetches the chain from the node, verifies it (as export does) and replays its
// blocks by the timeline rules: the roster, policy and change counts in force.
func (f *chainFlags) state(ctx context.Context) (*nodeclient.Client, skipchain.ID, *timeline.State, error) {
	c, err := nodeclient.New(f.node, f.timeout)
	if err != nil {
		return nil, skipchain.ID{}, nil, usageError{err}
	}
	g, err := chainOf(ctx, c, f.genesis, "")
	if err != nil {
		return nil, g, nil, err
	}
	snap, err := fetchChain(ctx, c, g)
	if err != nil {
		if errors.Is(err, nodeclient.ErrUnreachable) {
			return nil, g, nil, fmt.Errorf("chain %s: %w", g.Short(), err)
		}
		return nil, g, nil, fmt.Errorf("chain %s: %w: %w", g.Short(), errRefused, err)
	}
	if head := uint64(len(snap.served) - 1); snap.timestamp == nil || snap.tsIndex != head {
		return nil, g, nil, fmt.Errorf("chain %s: no cosigned timestamp of its head, block %d: the node may not be current; try another", g.Short(), head)
	}
	st, err := timeline.NewState(snap.served[0].Block)
	if err != nil {
		return nil, g, nil, err
	}
	for _, sb := range snap.served[1:] {
		if _, err := st.Apply(sb.Block); err != nil {
			return nil, g, nil, fmt.Errorf("%w: the node's chain breaks the timeline rules: %w", errRefused, err)
		}
	}
	return c, g, st, nil
}

func newRosterChangeCmd() *cobra.Command {
	var f chainFlags
	var rosterFile, out string
	var force bool
	cmd := &cobra.Command{
		Use:   "change --node URL --roster NEW.toml -o CHANGE",
		Short: "Write the statement developers sign to replace the roster in force by NEW",
		Long: `Read the chain from the node (verified), and write the roster-change statement
from the roster in force to the roster of the group file NEW, at the chain's next
roster-change sequence number. Developers then sign it with 'chainiac release
sign' until the policy's threshold is met.`,
		Example: `  chainiac roster change --node http://127.0.0.1:7771 --roster group-2027.toml -o roster-change.bin`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			next, err := readRoster(rosterFile)
			if err != nil {
				return fmt.Errorf("roster change: %w", err)
			}
			if err := timeline.CheckRoster(next); err != nil {
				return fmt.Errorf("roster change: %s: %w", rosterFile, err)
			}
			_, _, st, err := f.state(contextOf(cmd))
			if err != nil {
				return fmt.Errorf("roster change: %w", err)
			}
			rc, err := release.NewRosterChange(st.ChainID(), st.RosterChanges()+1, release.RosterID(st.Roster().ID()), release.RosterID(next.ID()))
			if err != nil {
				return fmt.Errorf("roster change: %w", err)
			}
			if err := guardOutput(out, force, nil); err != nil {
				return fmt.Errorf("roster change: %w", err)
			}
			if err := emit(cmd, out, rc.Encode(), "chain %s: roster change %d: %s → %s (%d members, threshold %d) written to %s; %d developer signature(s) needed",
				st.ChainID(), st.RosterChanges()+1, st.Roster().ID().Short(), next.ID().Short(), next.Len(), next.Threshold(), out, st.Policy().Threshold()); err != nil {
				return fmt.Errorf("roster change: %w", err)
			}
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&rosterFile, "roster", "", "group file of the new roster")
	cmd.Flags().StringVarP(&out, "output", "o", "", "statement file to write")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output file")
	_ = cmd.MarkFlagRequired("roster")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func newRosterProposeCmd() *cobra.Command {
	var f chainFlags
	var rosterFile string
	var wait time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "propose --node URL --roster NEW.toml SIGNED-CHANGE",
		Short:   "Propose a signed roster change; the old roster signs the link into it",
		Example: `  chainiac roster propose --node http://127.0.0.1:7771 --roster group-2027.toml roster-change.bin`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			next, err := readRoster(rosterFile)
			if err != nil {
				return fmt.Errorf("roster propose: %w", err)
			}
			b, err := readBounded(args[0], maxReleaseInput)
			if err != nil {
				return fmt.Errorf("roster propose: %w", err)
			}
			rc, err := release.ParseRosterChange(b)
			if err != nil {
				return fmt.Errorf("roster propose: %w", notValid(args[0], "roster change", err))
			}
			_, g, st, err := f.state(contextOf(cmd))
			if err != nil {
				return fmt.Errorf("roster propose: %w", err)
			}
			// The same check every node makes, so that a missing signature is found here.
			if err := st.Policy().VerifyRosterChange(rc, st.ChainID(), st.RosterChanges()+1,
				release.RosterID(st.Roster().ID()), release.RosterID(next.ID())); err != nil {
				return fmt.Errorf("roster propose: %s: %w: %w", args[0], errRefused, err)
			}
			p := &api.Proposal{Kind: timeline.KindRosterChange, Body: rc.Encode(), Roster: next.Encode()}
			return propose(cmd, f.node, g.String(), "", wait, asJSON, p, "roster change")
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&rosterFile, "roster", "", "group file of the new roster (the one the change names)")
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Minute, "how long to wait for the cothority's answer")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	_ = cmd.MarkFlagRequired("roster")
	return cmd
}

func newPolicyChangeCmd() *cobra.Command {
	var f chainFlags
	var policyFile, out string
	var force bool
	cmd := &cobra.Command{
		Use:   "change --node URL --policy NEW.toml -o CHANGE",
		Short: "Write the statement developers sign to replace the policy in force by NEW",
		Long: `Read the chain from the node (verified), and write the policy-change statement
from the developer policy in force to NEW at the chain's next policy-change
sequence number. A threshold of the keys in force must sign it ('chainiac
release sign').`,
		Example: `  chainiac policy change --node http://127.0.0.1:7771 --policy policy-2027.toml -o policy-change.bin`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			next, err := readPolicy(policyFile)
			if err != nil {
				return fmt.Errorf("policy change: %w", err)
			}
			_, _, st, err := f.state(contextOf(cmd))
			if err != nil {
				return fmt.Errorf("policy change: %w", err)
			}
			pc, err := release.NewPolicyChange(st.ChainID(), st.PolicyChanges()+1, st.Policy(), next)
			if err != nil {
				return fmt.Errorf("policy change: %w", err)
			}
			if err := guardOutput(out, force, nil); err != nil {
				return fmt.Errorf("policy change: %w", err)
			}
			if err := emit(cmd, out, pc.Encode(), "chain %s: policy change %d written to %s; %d signature(s) of the policy in force needed",
				st.ChainID(), st.PolicyChanges()+1, out, st.Policy().Threshold()); err != nil {
				return fmt.Errorf("policy change: %w", err)
			}
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&policyFile, "policy", "", "the new developer policy file")
	cmd.Flags().StringVarP(&out, "output", "o", "", "statement file to write")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output file")
	_ = cmd.MarkFlagRequired("policy")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func newPolicyProposeCmd() *cobra.Command {
	var f chainFlags
	var wait time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "propose --node URL SIGNED-CHANGE",
		Short:   "Propose a signed developer-policy change",
		Example: `  chainiac policy propose --node http://127.0.0.1:7771 policy-change.bin`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := readBounded(args[0], maxReleaseInput)
			if err != nil {
				return fmt.Errorf("policy propose: %w", err)
			}
			pc, err := release.ParsePolicyChange(b)
			if err != nil {
				return fmt.Errorf("policy propose: %w", notValid(args[0], "policy change", err))
			}
			_, g, st, err := f.state(contextOf(cmd))
			if err != nil {
				return fmt.Errorf("policy propose: %w", err)
			}
			if _, err := st.Policy().VerifyChange(pc, st.ChainID(), st.PolicyChanges()+1); err != nil {
				return fmt.Errorf("policy propose: %s: %w: %w", args[0], errRefused, err)
			}
			p := &api.Proposal{Kind: timeline.KindPolicyChange, Body: pc.Encode()}
			return propose(cmd, f.node, g.String(), "", wait, asJSON, p, "policy change")
		},
	}
	f.add(cmd)
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Minute, "how long to wait for the cothority's answer")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}
