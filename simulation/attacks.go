package simulation

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/chainiac/chainiac/cosi"
)

// AttackConfig is the attacks scenario: a model, not a measurement. The attacker
// holds the release signing key (a threshold of developer keys, so developer
// signatures check out in every design) and the update server, which for the log
// designs is also the log (its key included), and is helped by a colluding share of
// chainiac's roster or of the log's witnesses. It targets a share of the clients.
type AttackConfig struct {
	Clients   int     // simulated clients
	Target    float64 // share of them the attacker targets
	Days      float64 // horizon after the attack starts
	Roster    int     // chainiac's roster
	Witnesses int     // the log's witnesses
	// Colluding are the colluding shares of the roster or witnesses to model.
	Colluding []float64
	// Gossip is the chance that a client's check also compares what it was shown
	// with another client's view (log with gossip) or reaches a second, honest
	// mirror (chainiac, whose clients do not gossip: see the limits).
	Gossip float64
	// MonitorDelay is the days a monitor takes to notice a bad entry in the public
	// log; MaxAge how old (in days) a timestamp or cosignature a client accepts;
	// Response the days from the attack being noticed to the clients being warned
	// (a revocation, an emergency release).
	MonitorDelay, MaxAge, Response float64
}

// DefaultAttacks is the run of `simulate attacks`.
func DefaultAttacks(quick bool) AttackConfig {
	c := AttackConfig{Clients: 20_000, Target: 0.05, Days: 30, Roster: 128, Witnesses: 16,
		Gossip: 0.1, MonitorDelay: 1, MaxAge: 1, Response: 1}
	for i := 0; i <= 20; i++ {
		c.Colluding = append(c.Colluding, float64(i)/20)
	}
	if quick {
		c.Clients = 2000
		c.Colluding = []float64{0, 0.25, 0.5, 0.7, 1}
	}
	return c
}

func (c *AttackConfig) validate() error {
	switch {
	case c.Clients < 1 || c.Target <= 0 || c.Target > 1 || c.Days <= 0:
		return errors.New("simulation: attacks: clients, target and days")
	case c.Roster < 1 || c.Witnesses < 1 || len(c.Colluding) == 0:
		return errors.New("simulation: attacks: roster, witnesses and colluding shares")
	case c.Gossip < 0 || c.Gossip > 1 || c.MonitorDelay < 0 || c.MaxAge <= 0 || c.Response < 0:
		return errors.New("simulation: attacks: gossip, monitor delay and maximum age")
	}
	for _, f := range c.Colluding {
		if f < 0 || f > 1 {
			return errors.New("simulation: attacks: colluding shares in [0, 1]")
		}
	}
	return nil
}

// The attacks and the designs of the model.
const (
	attackSplit    = "split-view" // a backdoored build (not what the source builds to) for the targeted clients only
	attackFreeze   = "freeze"     // the targeted clients kept on the release before an emergency one
	attackRollback = "rollback"   // an old, validly signed release replayed to the targeted clients as the newest

	designChainiacModel = "chainiac"    // cosigned chain, express catch-up
	designLogPlain      = "log"         // log, no witnesses, gossip or monitors
	designLogWitnessed  = "log+witness" // with witnesses (cosignatures carry a time)
	designLogFull       = "log+witness+gossip+monitor"
)

var (
	attackNames  = []string{attackSplit, attackFreeze, attackRollback}
	attackModels = []string{designChainiacModel, designLogPlain, designLogWitnessed, designLogFull}
)

// outcome is what the design's rules let the attack do, before any client runs.
type outcome struct {
	refused   bool // honest parties refuse before any client sees it (detected at once)
	hidden    bool // a fork only the targeted clients see: no monitor can notice it
	public    bool // in the public log, where monitors notice it
	freshness bool // clients notice on their own once what they hold is older than MaxAge
	gossip    bool // a check that compares views (or reaches an honest mirror) notices it
}

// rules decides, for one attack, design and number of colluders, what happens.
// Chainiac: honest members sign only what they rebuilt from the source (a backdoored
// build fails), never a version already released (a replay fails), never two blocks
// at one index, and timestamps only for their own head; anything needs the roster's
// threshold. The log appends whatever the release key signed and, holding its own
// key, can fork; honest witnesses cosign only checkpoints consistent with those they
// cosigned, and only newer ones, with their time.
func (c *AttackConfig) rules(attack, design string, colluders int) outcome {
	switch design {
	case designChainiacModel:
		if colluders >= cosi.DefaultThreshold(c.Roster) {
			return outcome{hidden: true, gossip: c.Gossip > 0} // colluders sign a fork only the targets see
		}
		if attack == attackFreeze {
			return outcome{freshness: true} // no fresh timestamp over the old head
		}
		return outcome{refused: true}
	case designLogPlain:
		return outcome{hidden: true} // the log forks; a note carries no time
	}
	full := design == designLogFull
	if colluders >= witnessThreshold(c.Witnesses) {
		return outcome{hidden: true, gossip: full} // colluding witnesses cosign the fork or the stale checkpoint
	}
	if attack == attackFreeze {
		return outcome{freshness: true, gossip: full} // cosignatures grow old
	}
	// Honest witnesses refuse a fork: the entry goes into the public log, which takes
	// it (a log does not judge what it logs).
	return outcome{public: full}
}

// attackResult is one row.
type attackResult struct {
	refused  bool    // honest parties refused it before any client saw it
	accepted float64 // share of targeted clients that accept (split, rollback) or stay silently frozen at the end (freeze)
	silent   float64 // mean days a targeted client holds the attacker's view without an alarm
	detected float64 // day the attack is first noticed; -1 never within the horizon
}

// play runs the clients: each checks once a day at its own time of day.
func (c *AttackConfig) play(attack string, o outcome, rng *rand.Rand, phases []float64, targeted []bool) attackResult {
	if o.refused {
		return attackResult{refused: true}
	}
	// When each targeted client would notice by itself: its first check that
	// compares with an honest view (gossip), or, for the freshness rules, its first
	// check once what it holds (signed when the attack began) is older than MaxAge.
	detect := math.Inf(1)
	if o.public {
		detect = c.MonitorDelay
	}
	own := make([]float64, len(phases))
	p := c.Gossip * (1 - c.Target)
	for i, ph := range phases {
		own[i] = math.Inf(1)
		if !targeted[i] {
			continue
		}
		if o.gossip {
			for t := ph; t < c.Days; t++ {
				if rng.Float64() < p {
					own[i] = t
					break
				}
			}
		}
		if o.freshness {
			own[i] = min(own[i], ph+math.Floor(c.MaxAge-ph)+1)
		}
		detect = min(detect, own[i])
	}
	// Once noticed, the attack goes on for Response days (a warning, a revocation).
	stop := detect + c.Response
	var n, accepted, silent float64
	for i, ph := range phases {
		if !targeted[i] {
			continue
		}
		n++
		if attack == attackFreeze {
			// Frozen from the start until it notices or is warned.
			end := min(own[i], stop, c.Days)
			silent += end
			if end >= c.Days {
				accepted++
			}
			continue
		}
		// It installs the attacker's release at its first check, if that comes before
		// the attack stops, and holds it until it is warned.
		if ph < min(stop, c.Days) {
			accepted++
			silent += min(stop, c.Days) - ph
		}
	}
	res := attackResult{accepted: accepted / n, silent: silent / n, detected: -1}
	if detect < c.Days {
		res.detected = detect
	}
	return res
}

// RunAttacks evaluates the model.
func RunAttacks(ctx context.Context, cfg AttackConfig, o Options) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0xa77ac))
	phases := make([]float64, cfg.Clients)
	targeted := make([]bool, cfg.Clients)
	for i := range phases {
		phases[i] = rng.Float64()
		targeted[i] = rng.Float64() < cfg.Target
	}
	if !slices.Contains(targeted, true) {
		targeted[0] = true
	}
	tab := &Table{Name: "attacks", Doc: "one row per attack, design and colluding share (a model: see the summary)", Columns: []Column{
		{Name: "attack", Doc: "`split-view`: a backdoored build for the targeted clients only; `freeze`: the targeted clients kept on the release before an emergency release; `rollback`: an old, validly signed release replayed to them as the newest"},
		{Name: "design", Doc: "`chainiac`: cosigned chain, express catch-up; `log`: transparency log alone; `log+witness`: with witnesses whose cosignatures carry a time; `log+witness+gossip+monitor`: and clients that compare views, and monitors that read the whole log"},
		{Name: "colluding", Doc: "share of chainiac's roster or of the log's witnesses that helps the attacker"},
		{Name: "colluders", Doc: "the members or witnesses that share is"},
		{Name: "threshold", Doc: "signatures a client needs from them (chainiac n − ⌊(n−1)/3⌋; witnesses the same share)"},
		{Name: "refused", Doc: "1 if honest members or witnesses refuse the attack before any client sees it, else 0"},
		{Name: "accepted", Doc: "share of targeted clients that install the attacker's release (split-view, rollback) or are still frozen without an alarm at the horizon (freeze)"},
		{Name: "silent_days", Doc: "mean days a targeted client holds the attacker's release or frozen view before it notices or is warned"},
		{Name: "detected_day", Doc: "day the attack is first noticed, by a client, a monitor or (refused) the cothority at once; -1: not within the horizon"},
	}}
	type key struct{ attack, design string }
	series, silentSeries := map[key]*Series{}, map[key]*Series{}
	for ai, attack := range attackNames {
		for _, design := range attackModels {
			if err := ctxErr(ctx); err != nil {
				return nil, err
			}
			h := fnv.New64a()
			fmt.Fprint(h, attack, design)
			drng := rand.New(rand.NewPCG(o.Seed, h.Sum64()))
			s := &Series{Label: design}
			series[key{attack, design}] = s
			quiet := &Series{Label: design}
			silentSeries[key{attack, design}] = quiet
			for _, f := range cfg.Colluding {
				size, threshold := cfg.Roster, cosi.DefaultThreshold(cfg.Roster)
				if design != designChainiacModel {
					size, threshold = cfg.Witnesses, witnessThreshold(cfg.Witnesses)
				}
				if design == designLogPlain {
					size, threshold = 0, 0
				}
				colluders := int(math.Floor(f*float64(size) + 1e-9))
				r := cfg.play(attack, cfg.rules(attack, design, colluders), drng, phases, targeted)
				refused := 0
				if r.refused {
					refused = 1
				}
				tab.Add(attack, design, Fixed{f, 2}, colluders, threshold, refused, Fixed{r.accepted, 4}, Fixed{r.silent, 3}, Fixed{r.detected, 2})
				s.Points = append(s.Points, Point{f, r.accepted})
				quiet.Points = append(quiet.Points, Point{f, r.silent})
			}
		}
		o.progress("attacks", ai+1, len(attackNames), "%s", attack)
	}
	var figs []*Figure
	captions := map[string]string{
		attackSplit:    "Share of the targeted clients that install a backdoored build (one that is not what the source builds to), against the colluding share of chainiac's roster or of the log's witnesses. Chainiac's members rebuild before signing, so nothing passes below its threshold; a log accepts whatever the release key signed, so every targeted client installs it and the designs differ only in whether, and when, it is noticed.",
		attackFreeze:   "Share of the targeted clients still frozen on the old release, without an alarm, at the horizon. Fresh cosigned timestamps (chainiac) or timed cosignatures (witnesses) make every client notice within a day until the colluders reach the threshold; a log's notes carry no time.",
		attackRollback: "Share of the targeted clients that take an old, validly signed release replayed as the newest. Chainiac's members refuse a version already released; a log appends it, and its clients (which check only the developer signatures, as chainiac's do) take the newest entry.",
	}
	for _, attack := range attackNames {
		f := &Figure{Name: "attacks-" + attack, Title: "Attack: " + attack + " (model)", XLabel: "colluding share of the roster or witnesses", YLabel: "share of targeted clients accepting",
			Caption: captions[attack]}
		for _, design := range attackModels {
			f.Series = append(f.Series, *series[key{attack, design}])
		}
		figs = append(figs, f)
	}
	quiet := &Figure{Name: "attacks-silent-days", Title: "Split view: days a target holds the build unwarned (model)",
		XLabel: "colluding share of the roster or witnesses", YLabel: "mean days per targeted client",
		Caption: fmt.Sprintf("Mean days a targeted client holds the backdoored build before it is warned (the attack noticed, plus %.0f day(s) of response), over the %.0f-day horizon. This is where the log designs differ: alone or with witnesses nobody notices; with gossip and monitors the entry is noticed within about a day. Chainiac: zero below its threshold, where the build is refused.", cfg.Response, cfg.Days)}
	for _, design := range attackModels {
		quiet.Series = append(quiet.Series, *silentSeries[key{attackSplit, design}])
	}
	figs = append(figs, quiet)
	res := &Result{Scenario: "attacks", Title: "Attacks: split view, freeze and rollback (a model)",
		Intro: fmt.Sprintf(`This scenario is a model, not a measurement: each design's rules decide what an attack can
do, and %d simulated clients (%.0f%% of them targeted, seeded), each checking once a day at
its own time, decide who accepts and when it is noticed, over %.0f days. The attacker holds
the release key (enough developer keys that developer signatures check out everywhere) and
the update server, which for the log designs is also the log with its key. A colluding
share of chainiac's roster (%d members, threshold %d) or of the log's witnesses (%d,
threshold %d) helps it. Gossip: %.0f%% of checks compare views with another client (for
chainiac: reach a second, honest mirror); monitors notice a bad public entry after %.0f
day(s); clients refuse timestamps or cosignatures older than %.0f day(s).`,
			cfg.Clients, 100*cfg.Target, cfg.Days, cfg.Roster, cosi.DefaultThreshold(cfg.Roster), cfg.Witnesses,
			witnessThreshold(cfg.Witnesses), 100*cfg.Gossip, cfg.MonitorDelay, cfg.MaxAge),
		Tables:  []*Table{tab},
		Figures: figs,
		Limits: []string{
			"a model of the designs' rules, not their code: no message is signed or verified here (the catchup scenario measures the real clients)",
			"a malicious change to the source itself builds reproducibly: chainiac's members would sign it, and it would reach every client in public, in both designs; a fork of such a release needs n − 2f ≈ n/3 colluding members, fewer than the threshold",
			"chainiac's clients do not gossip and use further mirrors only on failure: detection of a fork signed by a colluding threshold is modelled with the gossip chance, which they do not have today",
			"a log client that refused any release not newer than its trusted one would stop the replay, though not an old build re-signed under a new version (nor would chainiac)",
			"clients check daily and always install at once; no client is offline, new or without state; no response (revocation) after detection",
		},
	}
	res.Findings = attackFindings(cfg, tab)
	return res, nil
}

func attackFindings(cfg AttackConfig, tab *Table) []string {
	get := func(attack, design string, f float64) []string {
		want := cell(Fixed{f, 2})
		for _, r := range tab.Rows {
			if r[0] == attack && r[1] == design && r[2] == want {
				return r
			}
		}
		return nil
	}
	var out []string
	for _, attack := range attackNames {
		var parts []string
		for _, design := range attackModels {
			r := get(attack, design, 0)
			if r == nil {
				continue
			}
			det := "never noticed"
			switch {
			case r[5] == "1":
				det = "refused before any client"
			case r[8] != "-1.00":
				det = "noticed on day " + r[8]
			}
			parts = append(parts, fmt.Sprintf("%s: %s of targets accept (%s silent days each), %s", design, percent(r[6]), oneDecimal(r[7]), det))
		}
		out = append(out, fmt.Sprintf("%s, no colluders: %s", attack, joinSemi(parts)))
	}
	// Where chainiac first lets the split view through: at its threshold.
	threshold := cosi.DefaultThreshold(cfg.Roster)
	below, at := "", ""
	for _, r := range tab.Rows {
		if r[0] != attackSplit || r[1] != designChainiacModel {
			continue
		}
		if n, _ := strconv.Atoi(r[3]); n < threshold {
			below = fmt.Sprintf("%s (%s members)", percent(r[2]), r[3])
		} else if at == "" {
			at = fmt.Sprintf("%s (%s members): %s of targets accept", percent(r[2]), r[3], percent(r[6]))
		}
	}
	out = append(out, fmt.Sprintf("chainiac: a split view or rollback needs the roster's threshold, %d of %d (%.0f%%), to collude; nothing passes up to %s; from %s. Every log design lets it through at any colluding share", threshold, cfg.Roster, 100*float64(threshold)/float64(cfg.Roster), below, at))
	return out
}

func percent(s string) string {
	var v float64
	fmt.Sscan(s, &v)
	return fmt.Sprintf("%.0f%%", 100*v)
}

func joinSemi(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += "; "
		}
		out += p
	}
	return out
}

func oneDecimal(s string) string {
	var v float64
	fmt.Sscan(s, &v)
	return fmt.Sprintf("%.1f", v)
}
