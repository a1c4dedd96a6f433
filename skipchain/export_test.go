package skipchain

import "bytes"

// CreateBoltStoreSteps lets tests stop a process between the steps of CreateBoltStore.
var CreateBoltStoreSteps = createBoltStore

// ParseSignedRoster is the roster check of Proof.Verify.
func ParseSignedRoster(raw []byte, signed ID) (*Roster, error) {
	return parseSignedRoster(raw, signed, nil)
}

// CheckBoltPages runs the page walker of OpenBoltStore over a file's bytes.
func CheckBoltPages(b []byte) error { return checkBoltPages(bytes.NewReader(b), int64(len(b))) }
