package simulation

import (
	"context"
	"fmt"
	"math"
	"strconv"
)

// Options are what every scenario is run with.
type Options struct {
	// Seed fixes every random choice a scenario makes: the same seed gives the same
	// rows (apart from the columns measured on the wall clock or the CPU).
	Seed uint64
	// Quick shrinks a scenario to what a CI run affords (seconds, not minutes).
	Quick bool
	// Progress, if set, is told what is running and how far it is.
	Progress func(Progress)
}

// Progress is one step of a scenario.
type Progress struct {
	Scenario string
	Done     int // steps finished
	Total    int // steps in all
	Step     string
}

func (o Options) progress(scenario string, done, total int, format string, args ...any) {
	if o.Progress != nil {
		o.Progress(Progress{Scenario: scenario, Done: done, Total: total, Step: fmt.Sprintf(format, args...)})
	}
}

// Scenario is one comparison: it runs and returns its tables, figures and findings.
type Scenario struct {
	Name  string
	Short string // one line for --help
	Run   func(ctx context.Context, o Options) (*Result, error)
}

// Result is everything a scenario found, ready to be written (WriteResult).
type Result struct {
	Scenario string
	Title    string
	// Command is the command line that makes this result, filled in by the caller.
	Command string
	// Intro says in a paragraph or two what was measured and how (markdown).
	Intro    string
	Tables   []*Table
	Figures  []*Figure
	Findings []string // headline numbers, one markdown line each
	// Limits says what the scenario does not model (markdown lines).
	Limits []string
}

// Table is one CSV file.
type Table struct {
	Name    string // file name without .csv
	Doc     string // what one row is
	Columns []Column
	Rows    [][]string
}

// Column is one CSV column and what it means.
type Column struct {
	Name string
	Doc  string
	// Measured marks a column read off a clock (wall or CPU): it differs between
	// runs of the same seed. Every other column is determined by the seed.
	Measured bool
}

// Header is the CSV header row.
func (t *Table) Header() []string {
	h := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		h[i] = c.Name
	}
	return h
}

// Add appends a row; values are formatted by cell.
func (t *Table) Add(values ...any) {
	if len(values) != len(t.Columns) {
		panic(fmt.Sprintf("simulation: table %s: %d values for %d columns", t.Name, len(values), len(t.Columns)))
	}
	row := make([]string, len(values))
	for i, v := range values {
		row[i] = cell(v)
	}
	t.Rows = append(t.Rows, row)
}

func cell(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		// plain decimals, at most two after the point (no exponent)
		return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	case Fixed:
		return strconv.FormatFloat(v.V, 'f', v.Prec, 64)
	}
	panic(fmt.Sprintf("simulation: cell of type %T", v))
}

// Fixed is a float written with Prec digits after the point.
type Fixed struct {
	V    float64
	Prec int
}

// Figure is one plot, written as PNG and SVG.
type Figure struct {
	Name    string // file name without extension
	Title   string
	Caption string // what the figure shows, for the summary
	XLabel  string
	YLabel  string
	LogX    bool
	LogY    bool
	// TimeX means X values are Unix seconds, labelled as dates.
	TimeX  bool
	Series []Series
}

// Series is one line of a figure.
type Series struct {
	Label  string
	Points []Point
}

// Point is one (x, y).
type Point struct{ X, Y float64 }
