package simulation

import "context"

// Scenarios are every scenario, in the order `simulate all` runs them.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "cosi", Short: "Collective signing rounds against roster size, onet servers on 127.0.0.1",
			Run: func(ctx context.Context, o Options) (*Result, error) {
				return RunCosiSweep(ctx, DefaultCosiSweep(o.Quick), o, nil)
			}},
		{Name: "catchup", Short: "Catch-up cost against releases missed: chainiac's express and forward-link paths, a linear chain, a witnessed Merkle log",
			Run: func(ctx context.Context, o Options) (*Result, error) {
				return RunCatchup(ctx, DefaultCatchup(o.Quick), o)
			}},
		{Name: "scale", Short: "Serving cost at Tor Browser's scale (2 million checks a day, the real release dates): static chain files against log tiles",
			Run: func(ctx context.Context, o Options) (*Result, error) {
				return RunScale(ctx, DefaultScale(o.Quick), o)
			}},
		{Name: "attacks", Short: "Split view, freeze and rollback with a colluding share of the roster or witnesses: a model of each design's rules",
			Run: func(ctx context.Context, o Options) (*Result, error) {
				return RunAttacks(ctx, DefaultAttacks(o.Quick), o)
			}},
	}
}

// Lookup returns the scenario called name.
func Lookup(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}
