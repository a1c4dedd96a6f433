package skipchain

// CreateBoltStoreSteps lets tests stop a process between the steps of CreateBoltStore.
var CreateBoltStoreSteps = createBoltStore
