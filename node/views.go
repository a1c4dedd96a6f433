package node

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/timeline"
)

// JSON views, for people: `curl -H 'Accept: application/json'` or ?format=json.

func timestampJSON(ts *timeline.Timestamp, now time.Time) map[string]any {
	return map[string]any{
		"genesis": ts.Genesis, "index": ts.Index, "head": ts.Head, "roster": ts.RosterID,
		"time": ts.Time.Format(time.RFC3339), "age_seconds": now.Sub(ts.Time).Seconds(),
		"signers": ts.Signature.Mask().Count(),
	}
}

func blockJSON(sb *api.ServedBlock) map[string]any {
	h := sb.Block.Header()
	links := make([]map[string]any, len(sb.Links))
	for i, l := range sb.Links {
		links[i] = map[string]any{"to_index": l.ToIndex(), "to": l.To(), "roster": l.RosterID(), "signers": l.Signature().Mask().Count()}
	}
	members := []string{}
	for _, m := range sb.Block.Roster().Members() {
		members = append(members, m.Address)
	}
	out := map[string]any{
		"index": h.Index(), "id": h.ID(), "genesis": h.Genesis(), "kind": h.PayloadKind(),
		"height": h.Height(), "back_links": h.BackLinks(), "roster_id": h.RosterID(),
		"roster_since": h.RosterSince(), "roster": members, "threshold": sb.Block.Roster().Threshold(),
		"links": links,
	}
	if p, err := timeline.PayloadOf(sb.Block); err == nil {
		switch v := p.(type) {
		case *timeline.Genesis:
			out["product"] = v.Product
			out["developer_threshold"] = v.Policy.Threshold()
			out["developer_keys"] = v.Policy.Keys()
		case *timeline.Payload:
			out["policy_since"] = v.PolicySince
			out["previous_release"] = v.PreviousRelease
			if v.Release != nil {
				out["manifest"] = json.RawMessage(manifestJSON(v))
				out["developer_signatures"] = len(v.Release.Signatures)
			}
		}
	}
	return out
}

// manifestJSON shows a release's manifest as its signers see it; the bytes were
// verified under the policy in force before the block was stored.
func manifestJSON(p *timeline.Payload) []byte {
	m, err := release.ParseManifest(p.Release.Manifest)
	if err != nil {
		return []byte(`null`)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return []byte(`null`)
	}
	return b
}

func (n *Node) serveStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, n.Status())
}

// Status reports the node's chains, their heads, rosters, timestamps and the rounds
// this node led recently.
func (n *Node) Status() *api.Status {
	st := &api.Status{Address: n.cfg.Address, Key: n.key.Public().String(), Chains: []api.ChainStatus{}}
	now := n.clock()
	for _, c := range n.chainList() {
		snap := c.snapshot()
		head, roster, product := snap.head, snap.roster, snap.product
		cs := api.ChainStatus{
			Genesis: c.genesis.String(), Product: product, Height: head.Index(), Head: head.ID().String(),
			HeadKind: head.PayloadKind(), Needed: roster.Threshold(), TimestampAge: -1,
			RecentRounds: []api.RoundReport{},
		}
		for _, m := range roster.Members() {
			cs.Roster = append(cs.Roster, m.Address)
		}
		if ts := c.newestTimestamp(); ts != nil {
			cs.TimestampAge, cs.TimestampIndex = now.Sub(ts.Time).Seconds(), ts.Index
		}
		cs.PeersReachable, _ = n.history.peers(c.genesis)
		for _, rr := range n.history.recent(c.genesis) {
			cs.RecentRounds = append(cs.RecentRounds, rr.Report)
		}
		st.Chains = append(st.Chains, cs)
	}
	return st
}
