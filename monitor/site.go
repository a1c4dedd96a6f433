package monitor

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// The site (WriteSite) is static files: index.html (alarms first, status, charts,
// the newest blocks), pages/N.html (PageSize blocks each), blocks/I.html (one per
// block), rosters.html, feed.json, atom.xml, checkpoint (the signed checkpoint,
// binary), style.css and favicon.svg. No page loads anything from outside the site and none needs
// JavaScript.

// siteMark records, in the site directory, the newest block whose page was written,
// so that a run rewrites only the pages that changed.
const siteMark = ".rendered"

// BlockRow is one block as the site and the JSON feed show it.
type BlockRow struct {
	Index   uint64 `json:"index"`
	ID      string `json:"id"`
	Kind    string `json:"kind"` // genesis, release, roster-change, policy-change
	Product string `json:"product,omitempty"`
	Version string `json:"version,omitempty"`
	Channel string `json:"channel,omitempty"`
	// SourceDate is a release's SOURCE_DATE_EPOCH (blocks carry no other time).
	SourceDate time.Time `json:"source_date,omitempty"`
	// Signers of the level-0 link into the block, by the previous block's roster.
	Signed  int    `json:"signed"`
	Members int    `json:"members"`
	Who     string `json:"who"` // member indices, as ranges ("0-2,4")
	Roster  string `json:"roster"`
	// RosterChange: the block brings a new roster.
	RosterChange bool `json:"roster_change"`
}

func kindName(k string) string { return strings.TrimPrefix(k, "chainiac/v1/") }

// ranges writes member indices as "0-2,4".
func ranges(ms []int) string {
	var b strings.Builder
	for i := 0; i < len(ms); {
		j := i
		for j+1 < len(ms) && ms[j+1] == ms[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(ms[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(ms[j]))
		}
		i = j + 1
	}
	return b.String()
}

// row reads block i from the store.
func (m *Monitor) row(i uint64) (*BlockRow, *skipchain.Block, any, error) {
	b, err := m.store.Block(i)
	if err != nil {
		return nil, nil, nil, err
	}
	h := b.Header()
	r := &BlockRow{Index: i, ID: h.ID().String(), Kind: kindName(h.PayloadKind()), Roster: h.RosterID().Short(),
		Members: b.Roster().Len()}
	p, err := timeline.PayloadOf(b)
	if err != nil {
		return nil, nil, nil, err
	}
	var manifest *release.Manifest
	switch p := p.(type) {
	case *timeline.Genesis:
		r.Product = p.Product
	case *timeline.Payload:
		if p.Release != nil {
			if manifest, err = release.ParseManifest(p.Release.Manifest); err != nil {
				return nil, nil, nil, err
			}
			r.Product, r.Version, r.Channel = manifest.Product, manifest.Version, manifest.Channel
			r.SourceDate = time.Unix(int64(manifest.SourceDateEpoch), 0).UTC()
		}
	}
	if i > 0 {
		r.RosterChange = h.RosterSince() == i
		l, err := m.store.Link(i-1, 0)
		if err != nil {
			return nil, nil, nil, err
		}
		mask := l.Signature().Mask()
		r.Signed, r.Members, r.Who = mask.Count(), mask.Len(), ranges(mask.Members())
	}
	if manifest != nil {
		return r, b, manifest, nil
	}
	return r, b, p, nil
}

// siteData is what every page template gets.
type siteData struct {
	Title      string
	Root       string // relative path to the site root ("" or "../")
	Report     *Report
	Alarms     []Alarm
	Genesis    string
	Generated  time.Time
	Age        string
	Rows       []*BlockRow
	Pages      []int
	Page       int
	Block      *blockPage
	Rosters    []rosterInfo
	Charts     []template.HTML
	MonitorKey string
	Checks     []checkInfo
}

// checkInfo is one kind of release check on the index.
type checkInfo struct {
	Name, FailedAs string
	*CheckReport
}

type blockPage struct {
	Row      *BlockRow
	Header   *skipchain.Header
	BackLink []string
	Manifest *release.Manifest
	Links    []linkInfo
	Bitmap   []bool
	Roster   rosterInfo
	Payload  string
}

type linkInfo struct {
	Level   int
	To      uint64
	ToID    string
	Signed  int
	Members int
	Who     string
}

type rosterInfo struct {
	Since     uint64
	ID        string
	Threshold int
	Members   []skipchain.Member
}

func rosterOf(since uint64, r *skipchain.Roster) rosterInfo {
	return rosterInfo{Since: since, ID: r.ID().String(), Threshold: r.Threshold(), Members: r.Members()}
}

// WriteSite writes the site for the verified chain into dir. Run calls it when
// Config.SiteDir is set.
func (m *Monitor) WriteSite(dir string, rep *Report) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.store == nil {
		return errors.New("monitor: nothing verified yet")
	}
	return m.writeSite(dir, rep)
}

func (m *Monitor) writeSite(dir string, rep *Report) error {
	for _, d := range []string{dir, filepath.Join(dir, "pages"), filepath.Join(dir, "blocks")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	head := m.tl.Head().Index()
	var active []Alarm
	for _, a := range m.st.Alarms {
		if a.Active {
			active = append(active, a)
		}
	}
	// Every page shows the alarms: when they change, every page is written again.
	alarmKey := sha256.New()
	for _, a := range active {
		fmt.Fprintf(alarmKey, "%s\x00%s\x00%s\x00%s\x00", a.Kind, a.Source, a.Summary, a.Evidence)
	}
	fmt.Fprintf(alarmKey, "%d", len(rep.Evidence))
	mark := hex.EncodeToString(alarmKey.Sum(nil)[:8])
	from := uint64(0)
	if b, err := os.ReadFile(filepath.Join(dir, siteMark)); err == nil {
		last, key, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		if v, err := strconv.ParseUint(last, 10, 64); err == nil && v <= head && key == mark {
			from = v + 1
		}
	}
	base := siteData{Report: rep, Alarms: active, Genesis: m.cfg.Genesis.String(), Generated: m.st.LastRun,
		MonitorKey: hex.EncodeToString(m.PublicKey())}
	if !rep.Timestamp.IsZero() {
		base.Age = rep.Age.Round(time.Second).String()
	}
	size := uint64(m.cfg.PageSize)
	// Block pages: new blocks, and the blocks whose links the new ones received.
	dirty := map[uint64]bool{}
	for i := from; i <= head; i++ {
		dirty[i] = true
		for _, pos := range m.tl.Genesis().Params().LinksInto(i) {
			dirty[pos.From] = true
		}
	}
	pagesDirty := map[uint64]bool{}
	for i := range dirty {
		if err := m.writeBlockPage(dir, i, base); err != nil {
			return fmt.Errorf("block %d: %w", i, err)
		}
		pagesDirty[i/size] = true
	}
	last := head / size
	pages := make([]int, 0, last+1)
	for p := uint64(0); p <= last; p++ {
		pages = append(pages, int(p))
	}
	base.Pages = pages
	for p := range pagesDirty {
		rows, err := m.rows(p*size, min((p+1)*size-1, head))
		if err != nil {
			return err
		}
		d := base
		d.Title, d.Root, d.Rows, d.Page = fmt.Sprintf("Blocks %d to %d", p*size, p*size+uint64(len(rows))-1), "../", reverse(rows), int(p)
		if err := renderTo(filepath.Join(dir, "pages", strconv.FormatUint(p, 10)+".html"), "page", d); err != nil {
			return err
		}
	}
	// The index: the newest PageSize blocks.
	lo := uint64(0)
	if head+1 > size {
		lo = head + 1 - size
	}
	rows, err := m.rows(lo, head)
	if err != nil {
		return err
	}
	d := base
	d.Title, d.Rows, d.Page = "Timeline of chain "+m.cfg.Genesis.Short(), reverse(rows), -1
	if rep.MARs != nil {
		d.Checks = append(d.Checks, checkInfo{"Signed MARs on their download servers (size and SHA-512)", "does not match", rep.MARs})
	}
	if rep.Rebuild != nil {
		d.Checks = append(d.Checks, checkInfo{"Independent rebuild from source", "not reproducible", rep.Rebuild})
	}
	if d.Charts, err = m.charts(rows); err != nil {
		return err
	}
	index := d
	if d.Rosters, err = m.rosterHistory(); err != nil {
		return err
	}
	d.Title = "Roster history"
	if err := renderTo(filepath.Join(dir, "rosters.html"), "rosters", d); err != nil {
		return err
	}
	if err := writeQuick(filepath.Join(dir, "style.css"), []byte(styleCSS)); err != nil {
		return err
	}
	if err := writeQuick(filepath.Join(dir, "favicon.svg"), []byte(faviconSVG)); err != nil {
		return err
	}
	if err := m.writeFeeds(dir, rep, d.Rows, active); err != nil {
		return err
	}
	if m.checkpoint != nil {
		if err := writeQuick(filepath.Join(dir, "checkpoint"), m.checkpoint.Encode()); err != nil {
			return err
		}
	}
	// The index last: whoever waits for it (people, tests) finds the rest in place.
	if err := renderTo(filepath.Join(dir, "index.html"), "index", index); err != nil {
		return err
	}
	return writeQuick(filepath.Join(dir, siteMark), []byte(strconv.FormatUint(head, 10)+" "+mark+"\n"))
}

func reverse(rows []*BlockRow) []*BlockRow {
	out := make([]*BlockRow, len(rows))
	for i, r := range rows {
		out[len(rows)-1-i] = r
	}
	return out
}

func (m *Monitor) rows(lo, hi uint64) ([]*BlockRow, error) {
	var out []*BlockRow
	for i := lo; i <= hi; i++ {
		r, _, _, err := m.row(i)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (m *Monitor) writeBlockPage(dir string, i uint64, base siteData) error {
	r, b, decoded, err := m.row(i)
	if err != nil {
		return err
	}
	h := b.Header()
	bp := &blockPage{Row: r, Header: h, Roster: rosterOf(h.RosterSince(), b.Roster())}
	for _, id := range h.BackLinks() {
		bp.BackLink = append(bp.BackLink, id.String())
	}
	switch v := decoded.(type) {
	case *release.Manifest:
		bp.Manifest = v
	case *timeline.Genesis:
		bp.Payload = fmt.Sprintf("product %s; developer policy: %d of %d keys", v.Product, v.Policy.Threshold(), len(v.Policy.Keys()))
	case *timeline.Payload:
		switch {
		case v.RosterChange != nil:
			bp.Payload = "roster change to roster " + h.RosterID().String()
		case v.PolicyChange != nil:
			bp.Payload = "developer policy change"
		}
	}
	if i > 0 {
		l, err := m.store.Link(i-1, 0)
		if err != nil {
			return err
		}
		mask := l.Signature().Mask()
		for k := 0; k < mask.Len(); k++ {
			bp.Bitmap = append(bp.Bitmap, mask.Has(k))
		}
	}
	links, err := m.store.Links(i)
	if err != nil {
		return err
	}
	for _, l := range links {
		level, _ := l.Level(h.Params())
		mask := l.Signature().Mask()
		bp.Links = append(bp.Links, linkInfo{Level: level, To: l.ToIndex(), ToID: l.To().Short(),
			Signed: mask.Count(), Members: mask.Len(), Who: ranges(mask.Members())})
	}
	d := base
	d.Title, d.Root, d.Block = fmt.Sprintf("Block %d", i), "../", bp
	return renderTo(filepath.Join(dir, "blocks", strconv.FormatUint(i, 10)+".html"), "block", d)
}

// rosterHistory walks back from the head through each roster's "since" block.
func (m *Monitor) rosterHistory() ([]rosterInfo, error) {
	var out []rosterInfo
	h := m.tl.Head()
	for {
		r, err := m.store.Roster(h.RosterID())
		if err != nil {
			return nil, err
		}
		out = append(out, rosterOf(h.RosterSince(), r))
		if h.RosterSince() == 0 {
			return out, nil
		}
		if h, err = m.store.Header(h.RosterSince() - 1); err != nil {
			return nil, err
		}
	}
}

func renderTo(path, name string, d siteData) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, d); err != nil {
		return err
	}
	return writeQuick(path, buf.Bytes())
}

// writeQuick replaces path through a temporary file and a rename, so a reader never
// sees half a page; without fsync, since the site can always be written again.
func writeQuick(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(f.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		_ = os.Remove(f.Name())
	}
	return werr
}

// Feed is the JSON feed (feed.json): the report and the newest blocks.
type Feed struct {
	Report *Report     `json:"report"`
	Alarms []Alarm     `json:"active_alarms"`
	Blocks []*BlockRow `json:"blocks"` // newest first
}

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Entries []atomEntry `xml:"entry"`
}

type atomEntry struct {
	Title   string   `xml:"title"`
	ID      string   `xml:"id"`
	Updated string   `xml:"updated"`
	Link    atomLink `xml:"link"`
	Summary string   `xml:"summary"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
}

func (m *Monitor) writeFeeds(dir string, rep *Report, rows []*BlockRow, active []Alarm) error {
	b, err := json.MarshalIndent(Feed{Report: rep, Alarms: active, Blocks: rows}, "", " ")
	if err != nil {
		return err
	}
	if err := writeQuick(filepath.Join(dir, "feed.json"), b); err != nil {
		return err
	}
	urn := "urn:chainiac:" + m.cfg.Genesis.String()
	feed := atomFeed{Title: "chainiac chain " + m.cfg.Genesis.Short() + ": releases and alarms", ID: urn,
		Updated: m.st.LastRun.Format(time.RFC3339)}
	for _, a := range active {
		feed.Entries = append(feed.Entries, atomEntry{Title: "ALARM " + a.Kind, ID: urn + ":alarm:" + a.Kind + ":" + a.First.Format(time.RFC3339),
			Updated: a.Last.Format(time.RFC3339), Link: atomLink{"index.html"}, Summary: a.Source + ": " + a.Summary})
	}
	for _, r := range rows {
		if r.Version == "" {
			continue
		}
		feed.Entries = append(feed.Entries, atomEntry{Title: fmt.Sprintf("%s %s (%s)", r.Product, r.Version, r.Channel),
			ID: urn + ":block:" + r.ID, Updated: r.SourceDate.Format(time.RFC3339),
			Link:    atomLink{"blocks/" + strconv.FormatUint(r.Index, 10) + ".html"},
			Summary: fmt.Sprintf("block %d, signed by %d of %d members", r.Index, r.Signed, r.Members)})
	}
	out, err := xml.MarshalIndent(feed, "", " ")
	if err != nil {
		return err
	}
	return writeQuick(filepath.Join(dir, "atom.xml"), append([]byte(xml.Header), out...))
}

// charts draws the three SVG charts of the index: signers per block, time between
// releases (by SOURCE_DATE_EPOCH) and the timestamp age at each run.
func (m *Monitor) charts(rows []*BlockRow) ([]template.HTML, error) {
	var signers, gaps, ages []float64
	var prev time.Time
	for _, r := range rows {
		if r.Index > 0 {
			signers = append(signers, float64(r.Signed))
		}
		if !r.SourceDate.IsZero() {
			if !prev.IsZero() {
				gaps = append(gaps, r.SourceDate.Sub(prev).Hours())
			}
			prev = r.SourceDate
		}
	}
	for _, h := range m.st.History {
		if h.TimestampAge >= 0 {
			ages = append(ages, float64(h.TimestampAge)/60)
		}
	}
	return []template.HTML{
		barChart("Signers of the link into each block (newest blocks)", "signers", signers),
		barChart("Hours between releases (source date)", "hours", gaps),
		barChart("Age of the newest timestamp at each run", "minutes", ages),
	}, nil
}

// barChart is a bar chart as SVG elements, with a title and a text alternative.
func barChart(title, unit string, v []float64) template.HTML {
	const w, h = 600.0, 120.0
	if len(v) > 300 {
		v = v[len(v)-300:]
	}
	maxV := 0.0
	for _, x := range v {
		maxV = max(maxV, x)
	}
	var b strings.Builder
	desc := fmt.Sprintf("%d values, at most %.0f %s", len(v), maxV, unit)
	fmt.Fprintf(&b, `<figure><svg viewBox="0 0 %.0f %.0f" role="img" aria-label="%s: %s" class="chart">`, w, h+20,
		template.HTMLEscapeString(title), template.HTMLEscapeString(desc))
	fmt.Fprintf(&b, `<title>%s</title>`, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<line x1="0" y1="%.0f" x2="%.0f" y2="%.0f" class="axis"/>`, h, w, h)
	if len(v) > 0 && maxV > 0 {
		bw := w / float64(len(v))
		for i, x := range v {
			bh := x / maxV * (h - 4)
			fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f"/>`, float64(i)*bw, h-bh, max(bw-1, 0.5), bh)
		}
	}
	fmt.Fprintf(&b, `<text x="0" y="%.0f">%s</text></svg><figcaption>%s (%s)</figcaption></figure>`, h+16,
		template.HTMLEscapeString(desc), template.HTMLEscapeString(title), template.HTMLEscapeString(desc))
	return template.HTML(b.String())
}
