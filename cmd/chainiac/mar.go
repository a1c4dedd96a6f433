package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/internal/nodeclient"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
)

// newMarCmd groups the MAR tools: what the release team and witnesses use
// to look at, build, sign and check Mozilla Archive update files.
func newMarCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mar",
		Short: "Inspect, create, sign, verify, strip and extract MAR update files",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newMarInfoCmd(), newMarVerifyCmd(), newMarStripCmd(), newMarSignCmd(),
		newMarCreateCmd(), newMarExtractCmd())
	return cmd
}

// marInfoOutput is what `mar info --json` prints.
type marInfoOutput struct {
	File       string             `json:"file"`
	Channel    string             `json:"channel"`
	Version    string             `json:"version"`
	Signatures []marSignatureJSON `json:"signatures"`
	Entries    []marEntryJSON     `json:"entries"`
}

type marSignatureJSON struct {
	Algorithm     uint32 `json:"algorithm"`      // Mozilla's algorithm ID: 1 RSA-PKCS1-SHA1, 2 RSA-PKCS1-SHA384
	AlgorithmName string `json:"algorithm_name"` // e.g. RSA-PKCS1-SHA384
	Size          int    `json:"size"`           // bytes of signature
}

type marEntryJSON struct {
	Name           string `json:"name"`
	Mode           string `json:"mode"`            // Unix permission bits in octal, e.g. "0644"
	CompressedSize uint32 `json:"compressed_size"` // bytes in the archive
}

func newMarInfoCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info [--json] FILE",
		Short: "Print a MAR's channel, version, signatures and entries",
		Example: `  chainiac mar info firefox-128.0.en-US.linux-x86_64.complete.mar
  chainiac mar info --json update.mar | jq -r .version`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, f, err := openArchive(args[0])
			if err != nil {
				return fmt.Errorf("mar info: %w", err)
			}
			defer f.Close()
			o := marInfoOutput{File: args[0], Channel: a.Channel(), Version: a.Version(),
				Signatures: []marSignatureJSON{}, Entries: []marEntryJSON{}}
			for _, s := range a.Signatures() {
				o.Signatures = append(o.Signatures, marSignatureJSON{Algorithm: uint32(s.Algorithm), AlgorithmName: s.Algorithm.String(), Size: len(s.Data)})
			}
			for _, e := range a.Entries() {
				o.Entries = append(o.Entries, marEntryJSON{Name: e.Name, Mode: fmt.Sprintf("%04o", e.Mode), CompressedSize: e.Size})
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(w, &o)
			}
			fmt.Fprintf(w, "channel: %s\nversion: %s\n", displayName(o.Channel), displayName(o.Version))
			fmt.Fprintf(w, "signatures: %d\n", len(o.Signatures))
			for i, s := range o.Signatures {
				fmt.Fprintf(w, "  %d: algorithm %d (%s), %d bytes\n", i, s.Algorithm, s.AlgorithmName, s.Size)
			}
			fmt.Fprintf(w, "entries: %d\n", len(o.Entries))
			for _, e := range o.Entries {
				fmt.Fprintf(w, "  %s %10d %s\n", e.Mode, e.CompressedSize, displayName(e.Name))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

// marVerifyOutput is what `mar verify --json` prints.
type marVerifyOutput struct {
	OK         bool   `json:"ok"`
	File       string `json:"file"`
	Signatures int    `json:"signatures"` // how many the file carries
	Error      string `json:"error,omitempty"`
}

func newMarVerifyCmd() *cobra.Command {
	var keyFiles []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify --key PEM [--key PEM...] [--json] FILE",
		Short: "Succeed only if FILE is signed and every signature verifies with one of the keys",
		Long: `Succeed only if FILE carries at least one signature and every signature verifies
with one of the keys. Exit status 3 when it does not.`,
		Example: `  chainiac mar verify --key release-key.pub.pem demo-browser-2.0.mar
  chainiac mar verify --key release-key.pub.pem --json demo-browser-2.0.mar`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := readKeys(keyFiles, mar.ParsePublicKeyPEM)
			if err != nil {
				return fmt.Errorf("mar verify: --key: %w", err)
			}
			a, f, err := openArchive(args[0])
			if err != nil {
				return fmt.Errorf("mar verify: %w", err)
			}
			defer f.Close()
			o := marVerifyOutput{File: args[0], Signatures: len(a.Signatures())}
			if verr := mar.Verify(a, keys...); verr != nil {
				err = fmt.Errorf("mar verify: %s: %w: %w", args[0], errRefused, verr)
				o.Error = err.Error()
			}
			o.OK = err == nil
			if asJSON {
				if werr := writeJSON(cmd.OutOrStdout(), &o); werr != nil {
					return werr
				}
			} else if o.OK {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d signature(s) verified\n", args[0], o.Signatures)
			}
			return err
		},
	}
	cmd.Flags().StringArrayVar(&keyFiles, "key", nil, "PEM RSA public key (PKIX or PKCS#1); repeatable")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func newMarStripCmd() *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "strip FILE -o OUT",
		Short: "Write FILE without its signatures",
		Example: `  chainiac mar strip signed.mar -o unsigned.mar
  chainiac mar strip - -o - < signed.mar | sha256sum`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := guardOutput(out, force, nil, args[0]); err != nil {
				return fmt.Errorf("mar strip: %w", err)
			}
			a, f, err := openArchive(args[0])
			if err != nil {
				return fmt.Errorf("mar strip: %w", err)
			}
			defer f.Close()
			if err := writeStream(cmd, out, func(w *os.File) error { return mar.Strip(w, a) }); err != nil {
				return fmt.Errorf("mar strip: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "output MAR file, - for standard output")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output file")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func newMarSignCmd() *cobra.Command {
	var out string
	var keyFiles []string
	var force bool
	cmd := &cobra.Command{
		Use:     "sign --key PEM [--key PEM...] FILE -o OUT",
		Short:   "Sign an unsigned MAR with RSA PKCS#1 v1.5 SHA-384 (algorithm 2), one signature per key",
		Example: `  chainiac mar sign --key release-key.pem unsigned.mar -o signed.mar`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := readKeys(keyFiles, mar.ParsePrivateKeyPEM)
			if err != nil {
				return fmt.Errorf("mar sign: --key: %w", err)
			}
			if err := guardOutput(out, force, keyFiles, args[0]); err != nil {
				return fmt.Errorf("mar sign: %w", err)
			}
			a, f, err := openArchive(args[0])
			if err != nil {
				return fmt.Errorf("mar sign: %w", err)
			}
			defer f.Close()
			if err := writeStream(cmd, out, func(w *os.File) error { return mar.Sign(w, a, keys...) }); err != nil {
				return fmt.Errorf("mar sign: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&keyFiles, "key", nil, "PEM RSA private key (PKCS#1 or PKCS#8, unencrypted); repeatable")
	cmd.Flags().StringVarP(&out, "output", "o", "", "output MAR file, - for standard output")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output file")
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func newMarCreateCmd() *cobra.Command {
	var out, dir, channel, version, compression string
	var force, quiet bool
	cmd := &cobra.Command{
		Use:     "create --channel C --version V [--compression xz|bzip2] [--quiet] -C DIR -o OUT FILES...",
		Short:   "Create an unsigned MAR from FILES (relative to DIR; directories are added recursively)",
		Example: `  chainiac mar create --channel release --version 2.0 -C build/dist -o update.mar updater.ini browser/omni.ja`,
		Long: `Create an unsigned MAR from FILES, given relative to DIR. Directories are added
recursively. Entries are sorted by name and modes normalised (0755 if the owner
may execute, else 0644), so the same tree gives the same bytes on any machine.
Work that lasts reports its progress on standard error (bytes done of the
total): rewritten in place on a terminal, at most four times a second after
the first second; otherwise one line every five seconds. --quiet turns it off.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c mar.Compression
			switch compression {
			case "xz":
				c = mar.XZ
			case "bzip2":
				c = mar.BZip2
			default:
				return usageError{fmt.Errorf("mar create: --compression must be xz or bzip2, not %q", compression)}
			}
			if err := guardOutput(out, force, nil); err != nil {
				return fmt.Errorf("mar create: %w", err)
			}
			root, err := os.OpenRoot(dir)
			if err != nil {
				return fmt.Errorf("mar create: -C: %w", err)
			}
			defer root.Close()
			files, total, err := collectFiles(root, args)
			if err != nil {
				return fmt.Errorf("mar create: %s: %w", dir, err)
			}
			info := mar.ProductInfo{Channel: channel, Version: version}
			opts := mar.WriteOptions{Compression: c}
			stop := func() {}
			if !quiet {
				opts.Progress = new(atomic.Int64)
				stop = newByteProgress(cmd.ErrOrStderr(), "mar create", total, time.Now).run(opts.Progress)
			}
			err = writeStream(cmd, out, func(w *os.File) error {
				return mar.Write(w, info, files, opts)
			})
			stop()
			if err != nil {
				return fmt.Errorf("mar create: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "update channel (MAR channel ID)")
	cmd.Flags().StringVar(&version, "version", "", "product version")
	cmd.Flags().StringVar(&compression, "compression", "xz", "entry compression: xz or bzip2")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress on standard error")
	cmd.Flags().StringVarP(&dir, "directory", "C", ".", "directory FILES are relative to")
	cmd.Flags().StringVarP(&out, "output", "o", "", "output MAR file, - for standard output")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output file")
	for _, f := range []string{"channel", "version", "output"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

func newMarExtractCmd() *cobra.Command {
	var dir string
	var lim mar.Limits
	cmd := &cobra.Command{
		Use:     "extract FILE -C DIR",
		Short:   "Decompress every entry of FILE into DIR, which must not exist or be empty",
		Example: `  chainiac mar extract update.mar -C /tmp/unpacked`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, f, err := openArchive(args[0])
			if err != nil {
				return fmt.Errorf("mar extract: %w", err)
			}
			defer f.Close()
			if err := checkNewDir(dir); err != nil {
				return fmt.Errorf("mar extract: -C: %w", err)
			}
			err = atomicfile.WriteDir(dir, func(tmp string) error {
				if err := mar.Extract(a, tmp, lim); err != nil {
					return fmt.Errorf("%s: %w", inputName(args[0]), err)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("mar extract: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&dir, "directory", "C", "", "directory to create")
	cmd.Flags().Int64Var(&lim.MaxEntrySize, "max-entry-size", mar.DefaultMaxEntrySize, "largest decompressed entry, bytes")
	cmd.Flags().Int64Var(&lim.MaxTotalSize, "max-total-size", mar.DefaultMaxTotalSize, "largest decompressed total, bytes")
	_ = cmd.MarkFlagRequired("directory")
	return cmd
}

// openArchive opens and parses a MAR file, or standard input for "-" (read into
// memory, at most release.MaxMARSize bytes); the caller closes the file.
func openArchive(name string) (*mar.Archive, io.Closer, error) {
	if name == "-" {
		b, err := nodeclient.ReadAtMost(os.Stdin, release.MaxMARSize)
		if err != nil {
			return nil, nil, fmt.Errorf("standard input: %w", err)
		}
		a, err := mar.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, nil, notValid(name, "MAR file", err)
		}
		return a, io.NopCloser(nil), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file", name)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	a, err := mar.Open(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, notValid(name, "MAR file", err)
	}
	return a, f, nil
}

// checkNewDir applies the rule for an output directory: it may exist only empty, and
// its parent must exist.
func checkNewDir(dir string) error {
	if dir == "" {
		return usageError{errors.New("empty directory name")}
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return checkOutputDir(dir)
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("%s is not empty: give a new or empty directory", dir)
	}
	return nil
}

// readKeys reads and parses one key per file, naming the file that fails.
func readKeys[K any](names []string, parse func([]byte) (K, error)) ([]K, error) {
	keys := make([]K, 0, len(names))
	for _, name := range names {
		data, err := readBounded(name, release.MaxTextFileSize)
		if err != nil {
			return nil, err
		}
		k, err := parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// collectFiles lists the regular files named by args under root, walking
// directories, sorted by name, and adds up their sizes.
func collectFiles(root *os.Root, args []string) ([]mar.File, int64, error) {
	fsys := root.FS()
	var files []mar.File
	var total int64
	seen := map[string]bool{}
	for _, arg := range args {
		start := path.Clean(filepath.ToSlash(arg))
		if start != "." {
			if err := mar.CheckName(start); err != nil {
				return nil, 0, err
			}
		}
		err := fs.WalkDir(fsys, start, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s: not a regular file or directory", name)
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			if seen[name] {
				return fmt.Errorf("%s: listed twice", name)
			}
			seen[name] = true
			mode := uint32(0o644)
			if info.Mode().Perm()&0o100 != 0 {
				mode = 0o755
			}
			files = append(files, mar.File{Name: name, Mode: mode, Open: func() (io.ReadCloser, error) { return fsys.Open(name) }})
			total += info.Size()
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	if len(files) == 0 {
		return nil, 0, fmt.Errorf("no files to add")
	}
	slices.SortFunc(files, func(a, b mar.File) int { return strings.Compare(a.Name, b.Name) })
	return files, total, nil
}

// byteProgress reports bytes done of a total on w, for work that lasts: on a
// terminal one line rewritten in place, at most every 250 ms once a second
// has passed; elsewhere a line every 5 s, like the other commands that wait.
type byteProgress struct {
	w       io.Writer
	what    string
	total   int64
	tty     bool
	now     func() time.Time
	start   time.Time
	last    time.Time
	done    int64
	inPlace bool // a line is on the terminal without its newline
}

func newByteProgress(w io.Writer, what string, total int64, now func() time.Time) *byteProgress {
	t := now()
	return &byteProgress{w: w, what: what, total: total, tty: isTerminal(w), now: now, start: t, last: t}
}

// run reports done every 250 ms until the returned stop is called, which
// ends the line in place and waits for the reporting goroutine.
func (p *byteProgress) run(done *atomic.Int64) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				p.done = done.Load()
				p.finish()
				return
			case <-tick.C:
				p.report(done.Load())
			}
		}
	}()
	return func() {
		close(quit)
		wg.Wait()
	}
}

func (p *byteProgress) report(done int64) {
	p.done = done
	t := p.now()
	switch {
	case p.tty && t.Sub(p.start) >= time.Second && t.Sub(p.last) >= 250*time.Millisecond:
		fmt.Fprintf(p.w, "\r\033[K%s", p.line(t))
		p.inPlace = true
	case !p.tty && t.Sub(p.last) >= 5*time.Second:
		fmt.Fprintln(p.w, p.line(t))
	default:
		return
	}
	p.last = t
}

// finish ends a line left in place with the final figures.
func (p *byteProgress) finish() {
	if p.inPlace {
		fmt.Fprintf(p.w, "\r\033[K%s\n", p.line(p.now()))
		p.inPlace = false
	}
}

func (p *byteProgress) line(t time.Time) string {
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(p.done) / float64(p.total)
	}
	return fmt.Sprintf("%s: %.1f of %.1f MiB (%.0f%%), %.0f s", p.what,
		float64(p.done)/(1<<20), float64(p.total)/(1<<20), pct, t.Sub(p.start).Seconds())
}

// displayName quotes names that would garble a terminal.
func displayName(name string) string {
	for _, r := range name {
		if !strconv.IsPrint(r) {
			return strconv.Quote(name)
		}
	}
	return name
}
