package protocol

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// Every bound of an announcement is checked, and a value exactly at a bound passes.
func TestAnnounceValidate(t *testing.T) {
	valid := func() Announce {
		return Announce{RosterRef: []byte("ref"), Round: make([]byte, 32), Message: []byte("m"), BudgetMs: 1000}
	}
	a := valid()
	require.NoError(t, a.validate())
	at := Announce{RosterRef: bytes.Repeat([]byte{1}, MaxRosterRefSize), Round: make([]byte, 32),
		Message: make([]byte, MaxMessageSize), Data: make([]byte, MaxDataSize), BudgetMs: MaxBudget.Milliseconds()}
	require.NoError(t, at.validate(), "every field at its bound")
	a.BudgetMs = 1
	require.NoError(t, a.validate(), "the smallest budget")

	for name, mangle := range map[string]func(*Announce){
		"no message":            func(a *Announce) { a.Message = nil },
		"message too long":      func(a *Announce) { a.Message = make([]byte, MaxMessageSize+1) },
		"data too long":         func(a *Announce) { a.Data = make([]byte, MaxDataSize+1) },
		"roster ref too long":   func(a *Announce) { a.RosterRef = make([]byte, MaxRosterRefSize+1) },
		"round ID too short":    func(a *Announce) { a.Round = make([]byte, 31) },
		"round ID too long":     func(a *Announce) { a.Round = make([]byte, 33) },
		"no round ID":           func(a *Announce) { a.Round = nil },
		"no budget":             func(a *Announce) { a.BudgetMs = 0 },
		"negative budget":       func(a *Announce) { a.BudgetMs = -1 },
		"budget over the limit": func(a *Announce) { a.BudgetMs = (MaxBudget + time.Millisecond).Milliseconds() },
	} {
		a := valid()
		mangle(&a)
		require.Error(t, a.validate(), name)
	}
}

// A reason of exactly MaxReasonSize bytes is kept whole; a longer one is cut, on a rune
// boundary; invalid UTF-8 is replaced.
func TestTruncateReason(t *testing.T) {
	at := strings.Repeat("a", MaxReasonSize)
	require.Equal(t, at, truncateReason(at))
	require.Equal(t, at, truncateReason(at+"b"))
	// "é" is two bytes: the one that would end at MaxReasonSize+1 is dropped whole.
	straddling := strings.Repeat("a", MaxReasonSize-1) + "é"
	require.Equal(t, strings.Repeat("a", MaxReasonSize-1), truncateReason(straddling))
	require.Equal(t, "bad \uFFFD byte", truncateReason("bad \xff byte"))
	require.True(t, utf8.ValidString(truncateReason(strings.Repeat("€", MaxReasonSize))))
}

// The error names at most maxListed refusals and, per reason, maxListed failed members.
func TestRoundErrorMessage(t *testing.T) {
	e := &RoundError{Signed: 3, Needed: 5}
	want := "protocol: 3 signed, 5 needed"
	for m := 1; m <= maxListed+2; m++ {
		e.Refusals = append(e.Refusals, Refusal{Member: m, Reason: "differs"})
		if m <= maxListed {
			want += fmt.Sprintf("; member %d refused: differs", m)
		}
	}
	want += "; and 2 more refusals"
	e.Failures = append(e.Failures, Failure{Member: 13, Reason: "dead"})
	for m := 20; m <= 20+maxListed; m++ {
		e.Failures = append(e.Failures, Failure{Member: m, Reason: "silent"})
	}
	for m := 40; m < 40+maxListed; m++ {
		e.Failures = append(e.Failures, Failure{Member: m, Reason: "late"})
	}
	want += "; member 13 failed: dead; 11 members failed (silent): [20 21 22 23 24 25 26 27 28 29 …]" +
		"; 10 members failed (late): [40 41 42 43 44 45 46 47 48 49]"
	require.Equal(t, want, e.Error())
}

// A round lost to many members that failed for different reasons (each naming its
// address, say) gives an error message of bounded length.
func TestRoundErrorMessageIsBounded(t *testing.T) {
	e := &RoundError{Signed: 1, Needed: 3}
	for m := 0; m < 1000; m++ {
		e.Failures = append(e.Failures, Failure{Member: m, Reason: fmt.Sprintf("dial 127.0.0.1:%d refused", 30000+m)})
	}
	msg := e.Error()
	require.Less(t, len(msg), 1000)
	require.Contains(t, msg, "and 990 more members failed for 990 other reasons")
	require.Contains(t, msg, "member 0 failed: dial 127.0.0.1:30000 refused")
}
