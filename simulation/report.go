package simulation

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chainiac/chainiac/internal/atomicfile"
)

// Files lists the files WriteResult writes for r, relative to its directory.
func (r *Result) Files() []string {
	var out []string
	for _, t := range r.Tables {
		out = append(out, t.Name+".csv")
	}
	for _, f := range r.Figures {
		out = append(out, f.Name+".png", f.Name+".svg")
	}
	return append(out, r.Scenario+".md")
}

// WriteResult writes r into dir (which must exist): each table as NAME.csv, each
// figure as NAME.png and NAME.svg, and SCENARIO.md, the summary that says what each
// figure shows and what each column means. Every file is replaced atomically.
func WriteResult(dir string, r *Result) error {
	for _, t := range r.Tables {
		if err := writeCSV(filepath.Join(dir, t.Name+".csv"), t); err != nil {
			return err
		}
	}
	for _, f := range r.Figures {
		for _, format := range []string{"png", "svg"} {
			data, err := render(f, format)
			if err != nil {
				return fmt.Errorf("simulation: figure %s: %w", f.Name, err)
			}
			if err := atomicfile.WriteBytes(filepath.Join(dir, f.Name+"."+format), data, 0o644); err != nil {
				return err
			}
		}
	}
	return atomicfile.WriteBytes(filepath.Join(dir, r.Scenario+".md"), []byte(Summary(r, 1)), 0o644)
}

func writeCSV(path string, t *Table) error {
	return atomicfile.Write(path, 0o644, func(f *os.File) error {
		w := csv.NewWriter(f)
		if err := w.Write(t.Header()); err != nil {
			return err
		}
		if err := w.WriteAll(t.Rows); err != nil {
			return err
		}
		return w.Error()
	})
}

// Summary is r in markdown, its headings at the given level.
func Summary(r *Result, level int) string {
	var b bytes.Buffer
	h := func(extra int) string { return strings.Repeat("#", level+extra) + " " }
	fmt.Fprintf(&b, "%s%s\n\n", h(0), r.Title)
	if r.Command != "" {
		fmt.Fprintf(&b, "Made by:\n\n```sh\n%s\n```\n\n", r.Command)
	}
	if r.Intro != "" {
		fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(r.Intro))
	}
	if len(r.Findings) > 0 {
		fmt.Fprintf(&b, "%sFindings\n\n", h(1))
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "- %s\n", f)
		}
		b.WriteString("\n")
	}
	if len(r.Figures) > 0 {
		fmt.Fprintf(&b, "%sFigures\n\n", h(1))
		for _, f := range r.Figures {
			fmt.Fprintf(&b, "%s%s\n\n![%s](%s.png)\n\n(%s.png, [SVG](%s.svg))\n\n%s\n\n", h(2), f.Title, f.Title, f.Name, f.Name, f.Name, strings.TrimSpace(f.Caption))
		}
	}
	if len(r.Tables) > 0 {
		fmt.Fprintf(&b, "%sData\n\n", h(1))
		for _, t := range r.Tables {
			fmt.Fprintf(&b, "`%s.csv`: %s, %d rows. Header: `%s`.\n\n", t.Name, strings.TrimSpace(t.Doc), len(t.Rows), strings.Join(t.Header(), ","))
			b.WriteString("| column | meaning |\n|---|---|\n")
			for _, c := range t.Columns {
				doc := c.Doc
				if c.Measured {
					doc += " (measured on a clock: differs between runs of the same seed)"
				}
				fmt.Fprintf(&b, "| `%s` | %s |\n", c.Name, doc)
			}
			b.WriteString("\n")
		}
	}
	if len(r.Limits) > 0 {
		fmt.Fprintf(&b, "%sNot modelled\n\n", h(1))
		for _, l := range r.Limits {
			fmt.Fprintf(&b, "- %s\n", l)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// WriteReport writes report.md into dir: every result's summary, one after another,
// under a title and the command that made them all.
func WriteReport(dir, command string, results []*Result) error {
	var b bytes.Buffer
	b.WriteString("# chainiac simulation report\n\n")
	if command != "" {
		fmt.Fprintf(&b, "Made by:\n\n```sh\n%s\n```\n\n", command)
	}
	for _, r := range results {
		fmt.Fprintf(&b, "- [%s](#%s)\n", r.Title, anchor(r.Title))
	}
	b.WriteString("\n")
	for _, r := range results {
		b.WriteString(Summary(r, 2))
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "report.md"), b.Bytes(), 0o644)
}

// anchor is the GitHub heading anchor of a title.
func anchor(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}
