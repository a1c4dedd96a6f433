package skipchain

// CreateBoltStoreSteps lets tests stop a process between the steps of CreateBoltStore.
var CreateBoltStoreSteps = createBoltStore

// ParseSignedRoster is the roster check of Proof.Verify.
var ParseSignedRoster = parseSignedRoster
