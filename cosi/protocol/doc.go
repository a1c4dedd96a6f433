// Package protocol gathers a collective signature over an onet tree: the announcement
// goes down, every member checks the message with the application's Check and answers
// with its signature share or a signed refusal, sub-leaders aggregate their subtree and
// the root stops as soon as the policy's threshold is reached or can no longer be.
//
// Start with Register (or New, from an onet service), NewTree, and at the root
// Protocol.Request, Start and Wait.
//
// # Failures
//
// Every level has its own deadline, carried in the announcement as a budget that the
// receiver counts from receipt (clocks are never compared). A node gives its children
// 60% of its budget, replaces children that have not answered at 70% by asking their
// children directly (an ask made later waits as long for the budget it gave), and
// replies by 95%. A child that cannot be reached is replaced at
// once. A reply must account for every member of the sender's subtree exactly once;
// otherwise it is discarded whole and the subtree is asked directly. Partials are
// verified in one pairing check per node; only if that fails is each checked alone, so
// a member sending a bad share is excluded and the round goes on.
//
// The root's caller gets the signature with its mask, the verified refusals (a member's
// key signed the reason) and the failures observed on the way; if the threshold is not
// reached, a *RoundError naming who refused and why and who failed.
//
// # Conventions
//
// The onet roster of the tree lists the members in the cosi roster's order. Messages
// are onet (protobuf) messages; nothing in them is signed except the cosi shares and
// refusals, whose bytes are re-parsed with cosi's strict decoders, and every field is
// bounded (see the Max constants).
package protocol
