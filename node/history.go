package node

import (
	"sync"
	"time"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/skipchain"
)

// roundRecord is a round this node led, for `node status`.
type roundRecord struct {
	Report  api.RoundReport
	At      time.Time
	Genesis skipchain.ID
}

// history keeps the last rounds this node led.
type history struct {
	mu      sync.Mutex
	records []roundRecord
}

const historySize = 32

func newHistory() *history { return &history{} }

func (h *history) add(r roundRecord) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
	if len(h.records) > historySize {
		h.records = h.records[len(h.records)-historySize:]
	}
}

// recent returns the rounds for a chain, newest last.
func (h *history) recent(genesis skipchain.ID) []roundRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []roundRecord
	for _, r := range h.records {
		if r.Genesis == genesis {
			out = append(out, r)
		}
	}
	return out
}

// peers is the number of members that answered (signed or refused) the newest round
// for the chain: those reachable from here.
func (h *history) peers(genesis skipchain.ID) (int, bool) {
	rs := h.recent(genesis)
	if len(rs) == 0 {
		return 0, false
	}
	r := rs[len(rs)-1].Report
	return r.Members - len(r.Failures), true
}
