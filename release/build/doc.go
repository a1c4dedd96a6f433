// Package build rebuilds a release from source the way a cothority node does before it
// cosigns: fetch the source named by a manifest, check its SHA-256 before using it,
// run the build recipe the manifest names in a fresh, controlled workspace, collect
// the unsigned MAR files it produced, by target, and check them and the signed MARs
// against the manifest. It also holds the deterministic reference builder that the
// demo and the tests use as a recipe.
//
// Start from these:
//
//   - NewRunner and Runner.Run(ctx, recipe, manifest, source): one rebuild; the
//     Result maps each target to its rebuilt MAR (path, size, SHA-256) and must be
//     closed.
//   - CheckRebuild(manifest, rebuilt, signed): nil only if every rebuilt MAR is the
//     manifest's unsigned MAR and every signed MAR is that MAR plus signatures;
//     otherwise a *RebuildError naming the target, the check and the first
//     difference.
//   - BuildReference(ctx, srcDir, outDir, params) and ReferenceRecipe: the reference
//     builder, in process or as the recipe `chainiac build reference`.
//
// # Sources
//
// A source is a local path or file:// URL (a .tar.gz or .tar.xz archive, or a
// directory) or an http(s) URL of an archive. An archive is copied or downloaded into
// the workspace while it is hashed, its SHA-256 is compared with the manifest's source
// digest, and only then is that copy extracted. A directory is copied into the
// workspace and its TreeDigest computed over the copy. Extraction refuses absolute
// names, "..", symlinks that leave the tree (alone or through a chain of links),
// entries under a symlink, hard links, devices, FIFOs, duplicates, an xz dictionary
// over Limits.MaxXZDict, and anything over the size and count limits.
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
// # The reference builder
//
// A reference source tree holds chainiac-build.toml at its root:
//
//	format = "chainiac-reference/v1"
//	product = "demo-browser"
//	platforms = ["linux-x86_64", "windows-x86_64"]
//	locales = ["de", "en-US"]
//
// Target (P, L) ships the regular files under common/, platform/P/ and locale/L/ at
// their paths relative to that directory, plus a generated platform.ini (product,
// version, channel, platform, locale, BuildID from SOURCE_DATE_EPOCH) and
// updatev3.manifest (type "complete", then add "<name>" per entry). Entries are sorted
// bytewise, modes are 0755 or 0644, each entry is xz-compressed, and the product
// information is the channel and version. Nothing else (times, owners, umask, file
// system order) reaches the bytes; a golden test pins them.
//
// # The rebuild check
//
// CheckRebuild checks, target by target in canonical order: both files present and
// no extra targets; the rebuilt MAR's size, SHA-256, format (no signature) and
// product information; the signed MAR's size, SHA-512, format, signature block (at
// least one signature, algorithms 1 or 2) and product information; and finally that
// the signed MAR stripped equals the rebuilt MAR byte for byte. It does not verify
// the RSA signatures: that is mar.Verify with the keys the caller's policy pins.
//
// # Trust model
//
// The recipe runner protects the node's files from a malicious archive during
// extraction, and bounds a build's time and output. It is not a sandbox: the build
// command runs with the node's user rights and network, and a process that leaves
// the process group (setsid, setpgid) survives the kill. Run nodes' builds in a
// container or VM that holds nothing else of value; see docs/release.md.
package build
