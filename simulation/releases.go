package simulation

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// torBrowserReleases is data/tor-browser-releases.csv: 465 real Tor Browser
// releases, 2013-06-17 to 2026-07-23, from the Tor Browser ChangeLog (data/README.md
// gives the source, the columns and the rules).
//
//go:embed data/tor-browser-releases.csv
var torBrowserReleases []byte

// ReleaseEvent is one release of the schedule.
type ReleaseEvent struct {
	Version string
	Date    time.Time // 00:00 UTC of the day
	Channel string    // release or alpha
	Kind    string    // major, point or emergency
	// Resampled marks a release of a year drawn from the real ones (beyond the data).
	Resampled bool
}

// TorBrowserReleases parses the embedded schedule, in date order.
func TorBrowserReleases() ([]ReleaseEvent, error) {
	rows, err := csv.NewReader(bytes.NewReader(torBrowserReleases)).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) < 2 || fmt.Sprint(rows[0]) != "[version date channel kind entries]" {
		return nil, fmt.Errorf("simulation: releases: unexpected header %v", rows[0])
	}
	var out []ReleaseEvent
	for _, r := range rows[1:] {
		d, err := time.Parse(time.DateOnly, r[1])
		if err != nil {
			return nil, fmt.Errorf("simulation: releases: %s: %w", r[0], err)
		}
		if _, err := strconv.Atoi(r[4]); err != nil {
			return nil, fmt.Errorf("simulation: releases: %s: entries %q", r[0], r[4])
		}
		if n := len(out); n > 0 && d.Before(out[n-1].Date) {
			return nil, fmt.Errorf("simulation: releases: %s out of date order", r[0])
		}
		out = append(out, ReleaseEvent{Version: r[0], Date: d, Channel: r[2], Kind: r[3]})
	}
	return out, nil
}

// Schedule replays the real releases and, past their last date until end, whole
// calendar years drawn with rng from the full years of the data (a block bootstrap
// by year: each drawn year's releases keep their month, day, channel and kind).
// For the part of the last real year after its last release, the drawn year's
// releases after that day and month are used.
func Schedule(real []ReleaseEvent, end time.Time, rng *rand.Rand) []ReleaseEvent {
	out := make([]ReleaseEvent, 0, len(real))
	for _, r := range real {
		if r.Date.After(end) {
			return out
		}
		out = append(out, r)
	}
	first, last := real[0].Date, real[len(real)-1].Date
	byYear := map[int][]ReleaseEvent{}
	var years []int
	for _, r := range real {
		y := r.Date.Year()
		if y == first.Year() || y == last.Year() {
			continue // partial years
		}
		if byYear[y] == nil {
			years = append(years, y)
		}
		byYear[y] = append(byYear[y], r)
	}
	for y := last.Year(); ; y++ {
		drawn := years[rng.IntN(len(years))]

		for _, r := range byYear[drawn] {
			d := time.Date(y, r.Date.Month(), r.Date.Day(), 0, 0, 0, 0, time.UTC)
			if d.Month() != r.Date.Month() { // 29 February in a year without
				d = time.Date(y, 2, 28, 0, 0, 0, 0, time.UTC)
			}
			if !d.After(last) {
				continue
			}
			if d.After(end) {
				return out
			}
			out = append(out, ReleaseEvent{Version: fmt.Sprintf("%s.y%d", r.Version, y), Date: d,
				Channel: r.Channel, Kind: r.Kind, Resampled: true})
		}
		if y > end.Year() {
			return out
		}
	}
}
