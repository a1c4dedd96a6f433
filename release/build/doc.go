// Package build rebuilds a release from source the way a cothority node does before it
// cosigns: fetch the source named by a manifest, check its SHA-256 before using it,
// run the build recipe the manifest names in a fresh, controlled workspace, and
// collect the unsigned MAR files it produced, by target.
//
// Start from these:
//
//   - NewRunner: the node's configuration (work directory, PATH, HTTP client, limits).
//   - Runner.Run(ctx, recipe, manifest, source): one rebuild; the Result maps each
//     target to its rebuilt MAR (path, size, SHA-256) and must be closed.
//   - TreeDigest: the digest a manifest names when the source is a directory.
//
// # Sources
//
// A source is a local path or file:// URL (a .tar.gz or .tar.xz archive, or a
// directory) or an http(s) URL of an archive. An archive is copied or downloaded into
// the workspace while it is hashed, its SHA-256 is compared with the manifest's source
// digest, and only then is that copy extracted. A directory is copied into the
// workspace and its TreeDigest computed over the copy. Extraction refuses absolute
// names, "..", symlinks that leave the tree (alone or through a chain of links),
// entries under a symlink, hard links, devices, FIFOs, duplicates, and anything over
// the size and count limits.
//
// # The build
//
// The recipe's argv runs in the source directory (the archive's single top-level
// directory when it has one), started as `/bin/sh -c 'umask 022; exec "$@"'` so the
// umask is set in the child only, in its own process group. Its environment is
// exactly Environment's: SOURCE_DATE_EPOCH from the manifest, TZ=UTC, LC_ALL=C, HOME
// and TMPDIR inside the workspace, the runner's fixed PATH, PWD, and CHAINIAC_PRODUCT,
// CHAINIAC_VERSION, CHAINIAC_CHANNEL and CHAINIAC_TARGETS ("platform/locale ...");
// nothing else is inherited. At the time limit, or when ctx is cancelled, the whole
// process group is killed; it is killed after a normal exit too, so nothing the build
// left in the background survives it. Output (stdout and stderr together) is kept up
// to the recipe's log limit, the tail winning.
//
// Outputs follow one naming convention: every file matching the recipe's OutputGlob
// must be <dirs>/<platform>/<locale>.mar, e.g. out/linux-x86_64/ALL.mar, a regular
// file reached without symlinks, non-empty, at most release.MaxMARSize, and together
// at most the recipe's output limit.
//
// # Trust model
//
// The recipe runner protects the node's files from a malicious archive during
// extraction, and bounds a build's time and output. It is not a sandbox: the build
// command runs with the node's user rights and network, and a process that leaves
// the process group (setsid) survives the kill. Run nodes' builds in a
// container or VM that holds nothing else of value; see docs/release.md.
package build
