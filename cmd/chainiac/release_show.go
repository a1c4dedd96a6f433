package main

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
)

// showOutput is what `release show --json` prints: one shape for every kind of file,
// kind saying which of manifest, roster_change and policy_change is set.
type showOutput struct {
	Kind         string              `json:"kind"` // "manifest", "roster_change" or "policy_change"
	Signed       bool                `json:"signed"`
	Signatures   []release.Signature `json:"signatures"`
	Manifest     *release.Manifest   `json:"manifest,omitempty"`
	RosterChange *rosterChangeJSON   `json:"roster_change,omitempty"`
	PolicyChange *policyChangeJSON   `json:"policy_change,omitempty"`
}

type rosterChangeJSON struct {
	Genesis  release.ChainID `json:"genesis"`
	Sequence uint64          `json:"sequence"`
	Previous rosterJSON      `json:"previous_roster"`
	Next     rosterJSON      `json:"next_roster"`
}

// rosterJSON is a roster named by a statement: its ID always, its members and
// threshold when its group file was given (--roster) and has that ID.
type rosterJSON struct {
	ID        release.RosterID `json:"id"`
	Threshold int              `json:"threshold,omitempty"`
	Members   []memberJSON     `json:"members,omitempty"`
}

type memberJSON struct {
	Address string `json:"address"`
	Key     string `json:"key"` // the BLS public key in hex, as in the group file
}

type policyChangeJSON struct {
	Genesis  release.ChainID `json:"genesis"`
	Sequence uint64          `json:"sequence"`
	Previous policyJSON      `json:"previous_policy"`
	Next     policyJSON      `json:"next_policy"`
}

// policyJSON is a developer policy: its hash always, its keys and threshold when
// known (the replaced policy only by --policy).
type policyJSON struct {
	Hash      release.Hash256        `json:"hash"`
	Threshold int                    `json:"threshold,omitempty"`
	Keys      []release.DeveloperKey `json:"keys,omitempty"`
}

func newReleaseShowCmd() *cobra.Command {
	var asJSON bool
	var rosterFiles []string
	var policyFile string
	cmd := &cobra.Command{
		Use:   "show [--roster GROUP.toml…] [--policy POLICY] [--json] FILE",
		Short: "Print what a manifest, roster change or policy change says (signatures are listed, not verified)",
		Long: `Print every field a developer approves by signing FILE: a manifest or signed
manifest, a roster-change statement or a policy-change statement.

A roster change names its rosters by ID only. Give the group file of the new
roster (and of the one it replaces) with --roster to see its members and
threshold: each file must be a roster the change names, or show fails (exit 3).
A policy change carries the new policy and names the one it replaces by hash;
--policy with the policy in force shows its keys and which keys change, and
fails (exit 3) if the change does not replace that policy.

Nothing here checks a signature: release verify does for a manifest, roster
propose and policy propose for a change.`,
		Example: `  chainiac release show signed.bin
  chainiac release show --json signed.bin
  chainiac release show --roster group-2027.toml roster-change.bin
  chainiac release show --policy policy.toml policy-change.bin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := readBounded(args[0], maxReleaseInput)
			if err != nil {
				return fmt.Errorf("release show: %w", err)
			}
			var o *showOutput
			var text bytes.Buffer
			switch {
			case hasTag(b, release.TagSignedRosterChange):
				if policyFile != "" {
					return usageError{fmt.Errorf("release show: %s is a roster change: --policy is for a policy change", args[0])}
				}
				o, err = showRosterChange(&text, args[0], b, rosterFiles)
			case hasTag(b, release.TagSignedPolicyChange):
				if len(rosterFiles) > 0 {
					return usageError{fmt.Errorf("release show: %s is a policy change: --roster is for a roster change", args[0])}
				}
				o, err = showPolicyChange(&text, args[0], b, policyFile)
			default:
				if len(rosterFiles) > 0 || policyFile != "" {
					return usageError{fmt.Errorf("release show: --roster and --policy are for roster and policy changes; %s is not one", args[0])}
				}
				o, err = showManifest(&text, args[0], b)
			}
			if err != nil {
				return fmt.Errorf("release show: %w", err)
			}
			if o.Signatures == nil {
				o.Signatures = []release.Signature{}
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), o)
			}
			if o.Signed {
				fmt.Fprintf(&text, "signatures (not verified; use %s): %d\n", verifierOf(o.Kind), len(o.Signatures))
				for _, s := range o.Signatures {
					fmt.Fprintf(&text, "  %s\n", s.Key)
				}
			}
			_, err = cmd.OutOrStdout().Write(text.Bytes())
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().StringArrayVar(&rosterFiles, "roster", nil, "group file of a roster the roster change names, to show its members (repeatable)")
	cmd.Flags().StringVar(&policyFile, "policy", "", "the policy a policy change replaces, to show its keys")
	return cmd
}

func verifierOf(kind string) string {
	switch kind {
	case "roster_change":
		return "roster propose"
	case "policy_change":
		return "policy propose"
	}
	return "release verify"
}

func showManifest(w io.Writer, path string, b []byte) (*showOutput, error) {
	sm, signed, err := parseManifestFile(path, b)
	if err != nil {
		return nil, err
	}
	m, err := release.ParseManifest(sm.Manifest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	io.WriteString(w, m.String())
	return &showOutput{Kind: "manifest", Signed: signed, Signatures: sm.Signatures, Manifest: m}, nil
}

func showRosterChange(w io.Writer, path string, b []byte, rosterFiles []string) (*showOutput, error) {
	rc, err := release.ParseRosterChange(b)
	if err != nil {
		return nil, notValid(path, "roster change", err)
	}
	c, err := rc.Contents()
	if err != nil {
		return nil, notValid(path, "roster change", err)
	}
	rosters := map[release.RosterID]*skipchain.Roster{}
	for _, f := range rosterFiles {
		r, err := readRoster(f)
		if err != nil {
			return nil, err
		}
		id := release.RosterID(r.ID())
		if id != c.Previous && id != c.Next {
			return nil, fmt.Errorf("%w: %s is roster %s, but the change is from roster %s to roster %s: it is not the roster you would approve",
				errRefused, f, id, c.Previous, c.Next)
		}
		rosters[id] = r
	}
	rj := &rosterChangeJSON{Genesis: c.Chain, Sequence: c.Sequence,
		Previous: rosterOf(c.Previous, rosters), Next: rosterOf(c.Next, rosters)}
	fmt.Fprintf(w, "roster change %d of chain %s\n", c.Sequence, c.Chain)
	writeRoster(w, "previous roster", rj.Previous)
	writeRoster(w, "next roster    ", rj.Next)
	return &showOutput{Kind: "roster_change", Signed: true, Signatures: rc.Signatures, RosterChange: rj}, nil
}

func rosterOf(id release.RosterID, known map[release.RosterID]*skipchain.Roster) rosterJSON {
	out := rosterJSON{ID: id}
	if r, ok := known[id]; ok {
		out.Threshold = r.Threshold()
		for _, m := range r.Members() {
			out.Members = append(out.Members, memberJSON{Address: m.Address, Key: m.Key.String()})
		}
	}
	return out
}

func writeRoster(w io.Writer, label string, r rosterJSON) {
	fmt.Fprintf(w, "  %s %s\n", label, r.ID)
	if len(r.Members) == 0 {
		fmt.Fprintln(w, "    members not shown: give its group file with --roster")
		return
	}
	fmt.Fprintf(w, "    %d members, threshold %d\n", len(r.Members), r.Threshold)
	for i, m := range r.Members {
		fmt.Fprintf(w, "    member %d  %s  key %s\n", i, displayName(m.Address), m.Key)
	}
}

func showPolicyChange(w io.Writer, path string, b []byte, policyFile string) (*showOutput, error) {
	pc, err := release.ParsePolicyChange(b)
	if err != nil {
		return nil, notValid(path, "policy change", err)
	}
	c, err := pc.Contents()
	if err != nil {
		return nil, notValid(path, "policy change", err)
	}
	pj := &policyChangeJSON{Genesis: c.Chain, Sequence: c.Sequence,
		Previous: policyJSON{Hash: c.Previous},
		Next:     policyJSON{Hash: c.Next.Hash(), Threshold: c.Next.Threshold(), Keys: c.Next.Keys()}}
	var prev *release.Policy
	if policyFile != "" {
		if prev, err = readPolicy(policyFile); err != nil {
			return nil, err
		}
		if prev.Hash() != c.Previous {
			return nil, fmt.Errorf("%w: %s is policy %s, but the change replaces policy %s: it is not the policy in force you would replace",
				errRefused, policyFile, prev.Hash(), c.Previous)
		}
		pj.Previous.Threshold, pj.Previous.Keys = prev.Threshold(), prev.Keys()
	}
	fmt.Fprintf(w, "policy change %d of chain %s\n", c.Sequence, c.Chain)
	fmt.Fprintf(w, "  previous policy %s\n", c.Previous)
	if prev == nil {
		fmt.Fprintln(w, "    keys not shown: give the policy in force with --policy")
	} else {
		fmt.Fprintf(w, "    %d of %d keys\n", prev.Threshold(), len(pj.Previous.Keys))
		for _, k := range pj.Previous.Keys {
			note := ""
			if !c.Next.Contains(k) {
				note = "  (removed)"
			}
			fmt.Fprintf(w, "    key %s%s\n", k, note)
		}
	}
	fmt.Fprintf(w, "  next policy     %s\n", pj.Next.Hash)
	fmt.Fprintf(w, "    %d of %d keys\n", c.Next.Threshold(), len(pj.Next.Keys))
	for _, k := range pj.Next.Keys {
		note := ""
		if prev != nil && !slices.Contains(pj.Previous.Keys, k) {
			note = "  (added)"
		}
		fmt.Fprintf(w, "    key %s%s\n", k, note)
	}
	return &showOutput{Kind: "policy_change", Signed: true, Signatures: pc.Signatures, PolicyChange: pj}, nil
}
