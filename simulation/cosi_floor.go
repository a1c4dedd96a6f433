package simulation

import (
	"runtime"
	"sync"
	"time"

	"github.com/chainiac/chainiac/cosi"
)

// floor is the least a verified round can cost on this machine: every member's share
// (hash to G1, one multiplication) and one pairing check of their sum, spread over
// every core, with no network, encoding or bookkeeping. Any tree protocol does at
// least this; the cosi scenario reports each round's latency as a multiple of it,
// measured in the same run.
func (cn *cosiNet) floor(msg []byte) (wall, cpu time.Duration, err error) {
	workers := runtime.GOMAXPROCS(0)
	sums := make([]*cosi.Signature, workers)
	errs := make([]error, workers)
	wall, cpu, err = measure(func() error {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < cn.n; i += workers {
					s, err := cn.keys[i].Sign(cn.roster, msg)
					if err == nil && sums[w] != nil {
						s, err = cosi.Aggregate(sums[w], s)
					}
					if err != nil {
						errs[w] = err
						return
					}
					sums[w] = s
				}
			}(w)
		}
		wg.Wait()
		var parts []*cosi.Signature
		for w := range sums {
			if errs[w] != nil {
				return errs[w]
			}
			if sums[w] != nil {
				parts = append(parts, sums[w])
			}
		}
		agg, err := cosi.Aggregate(parts...)
		if err != nil {
			return err
		}
		return cosi.VerifyPartial(cn.roster, msg, agg)
	})
	return wall, cpu, err
}
