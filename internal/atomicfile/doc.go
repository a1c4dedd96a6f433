// Package atomicfile writes an output file or directory all at once or not
// at all, so a failed command never leaves a partial output behind.
//
// Start with Write (a file) or WriteDir (a directory). Both build the
// output under a temporary name in the destination's own directory (same
// file system, so the final rename is atomic), fsync it, rename it into
// place and fsync the parent directory. On any error the temporary output
// is removed and the destination is left as it was.
package atomicfile
