package monitor_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/internal/sample"
	"github.com/chainiac/chainiac/monitor"
)

// The site in a real browser: headless Chromium (Debian's chromium package, which
// test.sh installs) loads the pages the monitor wrote, served over 127.0.0.1.
//
// chromiumPath skips the test when Chromium is missing, unless CI is set: there a
// missing browser is a failure. CHAINIAC_CHROMIUM names another binary.
func chromiumPath(t *testing.T) string {
	if p := os.Getenv("CHAINIAC_CHROMIUM"); p != "" {
		return p
	}
	p, err := exec.LookPath("chromium")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "" {
		t.Skip("no chromium on PATH (Debian package chromium); with CI set this test fails instead")
	}
	t.Fatalf("CI is set and chromium is missing: install the Debian package chromium (test.sh does): %v", err)
	return ""
}

// browser starts headless Chromium for the test; it is stopped (and waited for)
// when the test ends, and at the latest after two minutes.
func browser(t *testing.T) context.Context {
	path := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel) // cancels and waits for the browser process
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	require.NoError(t, chromedp.Do(bctx), "start chromium")
	return bctx
}

// artefacts is where screenshots go: $CHAINIAC_TEST_ARTIFACTS if set (kept after
// the test), otherwise a temporary directory.
func artefacts(t *testing.T) string {
	if d := os.Getenv("CHAINIAC_TEST_ARTIFACTS"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	return t.TempDir()
}

// serveSite serves the site directory on 127.0.0.1 as the daemon does.
func serveSite(t *testing.T, dir string) string {
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// pageView is what a page shows, read in the browser.
type pageView struct {
	Title    string
	Lang     string
	Headings []struct {
		Level int
		Text  string
	}
	Tables []struct {
		TH, THNoScope, BodyRows int
		Caption                 string
	}
	Links []struct{ Href, Text string }
	Imgs  []struct {
		Alt *string
	}
	SVGs []struct{ Role, Label string }
	Rows []struct {
		Class string
		Href  string
		Cells []string
	}
	Alarm *struct {
		Text                      string
		Top, Height, Width        float64
		BeforeH1, Visible         bool
		Color, Background, Border string
	}
	Bars  []struct{ Color, Background string }
	Texts []struct {
		Tag, Text, Color, Background string
		Size                         float64
		Weight                       int
	}
	ScrollWidth, InnerWidth float64
	Wide                    []string // elements (outside tables) reaching beyond the window
}

// readPage gathers pageView in the page. For contrast, each element with text of
// its own gives its colour (fill for SVG text) and the first non-transparent
// background found from it up to the root (white if none).
const readPage = `(() => {
  const q = s => Array.from(document.querySelectorAll(s));
  const opaque = c => c && c !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(c);
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; if (opaque(c)) return c; } return 'rgb(255, 255, 255)'; };
  const shown = e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e); return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const texts = q('body *').filter(e => shown(e) && Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim() !== '')).map(e => {
    const s = getComputedStyle(e);
    const svg = e instanceof SVGElement;
    return {tag: e.tagName.toLowerCase(), text: e.textContent.trim().slice(0, 60), color: svg ? s.fill : s.color, background: bg(e), size: parseFloat(s.fontSize), weight: parseInt(s.fontWeight, 10)};
  });
  const a = document.querySelector('[role=alert]');
  const h1 = document.querySelector('h1');
  let alarm = null;
  if (a) {
    const r = a.getBoundingClientRect(), s = getComputedStyle(a);
    alarm = {text: a.textContent.trim(), top: r.top + window.scrollY, height: r.height, width: r.width,
      beforeH1: !!(h1 && (a.compareDocumentPosition(h1) & Node.DOCUMENT_POSITION_FOLLOWING)), visible: shown(a),
      color: s.color, background: s.backgroundColor, border: s.borderTopWidth + ' ' + s.borderTopStyle};
  }
  return {
    title: document.title, lang: document.documentElement.lang,
    headings: q('h1,h2,h3,h4,h5,h6').map(e => ({level: +e.tagName[1], text: e.textContent.trim()})),
    tables: q('table').map(t => ({th: t.querySelectorAll('th').length, thNoScope: t.querySelectorAll('th:not([scope])').length,
      bodyRows: Array.from(t.tBodies).reduce((n, b) => n + b.rows.length, 0), caption: t.caption ? t.caption.textContent.trim() : ''})),
    links: q('a').map(e => ({href: e.href, text: e.textContent.trim()})),
    imgs: q('img').map(e => ({alt: e.getAttribute('alt')})),
    svgs: q('svg').map(e => ({role: e.getAttribute('role') || '', label: e.getAttribute('aria-label') || ''})),
    rows: q('table.blocks tbody tr').map(tr => { const a = tr.querySelector('a');
      return {class: tr.className, href: a ? a.getAttribute('href') : '', cells: Array.from(tr.cells).map(c => c.textContent.trim())}; }),
    bars: q('svg.chart rect').map(r => ({color: getComputedStyle(r).fill, background: bg(r)})),
    alarm, texts,
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    wide: q('body *').filter(e => e.getBoundingClientRect().right > Math.min(window.innerWidth, screen.width) + 0.5 && !(e.parentElement && e.parentElement.closest('table'))).slice(0, 5)
      .map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)),
  };
})()`

// console collects what the page writes to the console (calls, uncaught
// exceptions, the browser's log such as failed loads) until stop.
type console struct {
	mu   sync.Mutex
	msgs []string
	done chan struct{}
	stop context.CancelFunc
}

const endMark = "chainiac-test: end of page"

func listen(t *testing.T, ctx context.Context) *console {
	ctx, stop := context.WithCancel(ctx)
	c := &console{done: make(chan struct{}), stop: stop}
	t.Cleanup(func() { stop(); <-c.done }) // also when the test fails before end
	msgs := chromedp.Console(ctx)          // subscribed now, before the navigation
	go func() {
		defer close(c.done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Text == endMark {
				return
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, m.String()+" ("+m.URL+")")
			c.mu.Unlock()
		}
	}()
	return c
}

// end writes the end mark and waits (bounded) until the collector has read every
// message before it, then returns them.
func (c *console) end(t *testing.T, ctx context.Context) []string {
	t.Helper()
	defer func() { c.stop(); <-c.done }()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`console.info(`+strconv.Quote(endMark)+`)`))
	require.NoError(t, err)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Error("the console end mark did not arrive in 10 s")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// visit loads url, reads the page, checks that nothing went to the console and
// saves a full-page screenshot as name.png in the artefacts directory.
func visit(t *testing.T, ctx context.Context, url, shots, name string) *pageView {
	t.Helper()
	c := listen(t, ctx)
	step, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(step, chromedp.Navigate(url)), url)
	v, err := chromedp.Run(step, chromedp.Evaluate[pageView](readPage))
	require.NoError(t, err, url)
	png, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	path := filepath.Join(shots, name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot of %s: %s", url, path)
	require.Empty(t, c.end(t, step), "console of %s", url)
	return &v
}

// accessible checks the basics on one page: a language and title, one h1 and no
// heading level skipped, header cells (with scope) in every table, a text
// alternative for every image and chart, every text's contrast at least 4.5:1
// (WCAG AA for normal text, asked of all text), chart bars at least 3:1 against
// the chart, and no sideways scrolling.
func accessible(t *testing.T, url string, v *pageView) {
	t.Helper()
	require.Equal(t, "en", v.Lang, url)
	require.NotEmpty(t, v.Title, url)
	h1 := 0
	prev := 1
	for _, h := range v.Headings {
		require.NotEmpty(t, h.Text, "%s: empty h%d", url, h.Level)
		if h.Level == 1 {
			h1++
		}
		require.LessOrEqual(t, h.Level, prev+1, "%s: h%d %q after h%d", url, h.Level, h.Text, prev)
		prev = h.Level
	}
	require.Equal(t, 1, h1, "%s: one h1", url)
	require.NotEmpty(t, v.Tables, url)
	for i, tb := range v.Tables {
		require.Positive(t, tb.TH, "%s: table %d has no header cells", url, i)
		require.Zero(t, tb.THNoScope, "%s: table %d has header cells without scope", url, i)
	}
	for i, img := range v.Imgs {
		require.NotNil(t, img.Alt, "%s: image %d has no alt", url, i)
	}
	for i, s := range v.SVGs {
		require.Equal(t, "img", s.Role, "%s: svg %d", url, i)
		require.NotEmpty(t, s.Label, "%s: svg %d has no label", url, i)
	}
	require.NotEmpty(t, v.Texts, url)
	for _, x := range v.Texts {
		ratio, err := contrast(x.Color, x.Background)
		require.NoError(t, err, "%s: <%s> %q", url, x.Tag, x.Text)
		require.GreaterOrEqual(t, ratio, 4.5, "%s: <%s> %q: %s on %s", url, x.Tag, x.Text, x.Color, x.Background)
	}
	for _, b := range v.Bars {
		ratio, err := contrast(b.Color, b.Background)
		require.NoError(t, err)
		require.GreaterOrEqual(t, ratio, 3.0, "%s: chart bar %s on %s (WCAG 1.4.11)", url, b.Color, b.Background)
	}
	require.LessOrEqual(t, v.ScrollWidth, v.InnerWidth, "%s: the page scrolls sideways: %v", url, v.Wide)
}

var rgbRE = regexp.MustCompile(`^rgba?\((\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?)(?:,\s*(\d*(?:\.\d+)?))?\)$`)

func parseRGB(s string) (r, g, b, a float64, err error) {
	m := rgbRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, 0, 0, 0, fmt.Errorf("colour %q: want rgb() or rgba()", s)
	}
	r, _ = strconv.ParseFloat(m[1], 64)
	g, _ = strconv.ParseFloat(m[2], 64)
	b, _ = strconv.ParseFloat(m[3], 64)
	a = 1
	if m[4] != "" {
		a, _ = strconv.ParseFloat(m[4], 64)
	}
	return r, g, b, a, nil
}

// luminance is WCAG 2's relative luminance of an sRGB colour.
func luminance(r, g, b float64) float64 {
	lin := func(c float64) float64 {
		c /= 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is WCAG 2's contrast ratio of a text colour over an opaque background;
// a translucent text colour is blended over the background first.
func contrast(fg, bg string) (float64, error) {
	fr, fgG, fb, fa, err := parseRGB(fg)
	if err != nil {
		return 0, err
	}
	br, bgG, bb, _, err := parseRGB(bg)
	if err != nil {
		return 0, err
	}
	fr, fgG, fb = fa*fr+(1-fa)*br, fa*fgG+(1-fa)*bgG, fa*fb+(1-fa)*bb
	l1, l2 := luminance(fr, fgG, fb), luminance(br, bgG, bb)
	if l1 < l2 {
		l1, l2 = l2, l1
	}
	return (l1 + 0.05) / (l2 + 0.05), nil
}

func TestContrastFormula(t *testing.T) {
	for _, tc := range []struct {
		fg, bg string
		want   float64
	}{
		{"rgb(0, 0, 0)", "rgb(255, 255, 255)", 21},
		{"rgb(255, 255, 255)", "rgb(255, 255, 255)", 1},
		{"rgb(119, 119, 119)", "rgb(255, 255, 255)", 4.48}, // #777 on white: just below AA
		{"rgba(0, 0, 0, 0)", "rgb(255, 255, 255)", 1},
	} {
		got, err := contrast(tc.fg, tc.bg)
		require.NoError(t, err)
		require.InDelta(t, tc.want, got, 0.01, "%s on %s", tc.fg, tc.bg)
	}
	_, err := contrast("#fff", "rgb(0, 0, 0)")
	require.Error(t, err)
}

// linksResolve fetches every link of the page that stays on the site.
func linksResolve(t *testing.T, base string, v *pageView) {
	t.Helper()
	seen := map[string]bool{}
	for _, l := range v.Links {
		require.NotEmpty(t, l.Text, "link to %s has no text", l.Href)
		if !strings.HasPrefix(l.Href, base+"/") || seen[l.Href] {
			require.True(t, strings.HasPrefix(l.Href, base+"/"), "link %s leaves the site", l.Href)
			continue
		}
		seen[l.Href] = true
		resp, err := http.Get(l.Href)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "link %q to %s", l.Text, l.Href)
	}
}

func TestSiteInBrowser(t *testing.T) {
	ctx := browser(t)
	shots := artefacts(t)

	// Healthy: three releases, a roster change, two releases.
	c := healthyChain(t)
	site := t.TempDir()
	m, err := monitor.New(monitor.Config{Genesis: c.ID(), Mirrors: []string{serve(t, c)}, StateDir: t.TempDir(),
		SiteDir: site, Clock: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	require.Equal(t, monitor.Healthy, run(t, m).Status)
	base := serveSite(t, site)

	v := visit(t, ctx, base+"/index.html", shots, "index-healthy")
	accessible(t, "index.html", v)
	linksResolve(t, base, v)
	require.Nil(t, v.Alarm, "no alarm banner when healthy")
	require.Contains(t, v.Title, "Timeline of chain "+c.ID().Short())
	require.Len(t, v.Rows, 7, "one row per block")
	for i, r := range v.Rows {
		idx := 6 - i // newest first
		require.Equal(t, fmt.Sprintf("blocks/%d.html", idx), r.Href)
		require.Equal(t, strconv.Itoa(idx), r.Cells[0])
		require.Equal(t, idx == 4, r.Class == "rc", "row %d: only the roster change is highlighted", idx)
	}
	require.Equal(t, "release", v.Rows[0].Cells[1])
	require.Equal(t, "1.0.5", v.Rows[0].Cells[3])
	require.Equal(t, "4/5", v.Rows[0].Cells[6], "signers k/n under the new roster")
	require.Equal(t, "3/4", v.Rows[2].Cells[6], "the roster change is signed by the old roster")
	require.Len(t, v.SVGs, 3, "three charts")
	require.NotEmpty(t, v.Bars)

	for _, b := range []int{3, 4} {
		url := fmt.Sprintf("%s/blocks/%d.html", base, b)
		v := visit(t, ctx, url, shots, fmt.Sprintf("block-%d", b))
		accessible(t, url, v)
		linksResolve(t, base, v)
		require.Equal(t, fmt.Sprintf("Block %d", b), v.Headings[0].Text)
	}
	url := base + "/blocks/3.html"
	v = visit(t, ctx, url, shots, "block-3")
	captions := []string{}
	for _, tb := range v.Tables {
		captions = append(captions, tb.Caption)
	}
	require.Contains(t, captions, "Targets", "the manifest's targets")
	v = visit(t, ctx, base+"/rosters.html", shots, "rosters")
	accessible(t, "rosters.html", v)
	v = visit(t, ctx, base+"/pages/0.html", shots, "page-0")
	accessible(t, "pages/0.html", v)
	require.Len(t, v.Rows, 7)

	// An alarm: a MAR on the download server that is not the manifest's.
	rc := newReleaseChain(t)
	k := sample.Targets()[0]
	bad := append([]byte(nil), rc.releases["2.0"].SignedMARs[k]...)
	bad[0] ^= 1
	rc.files.set(marPath("2.0", k), bad, false)
	dir := t.TempDir()
	am := marMonitor(t, rc, dir, &clock{t: now})
	require.Equal(t, monitor.Alarmed, run(t, am).Status)
	abase := serveSite(t, filepath.Join(dir, "site"))
	for _, p := range []string{"index.html", "blocks/1.html", "pages/0.html"} {
		v := visit(t, ctx, abase+"/"+p, shots, "alarm-"+strings.ReplaceAll(strings.TrimSuffix(p, ".html"), "/", "-"))
		accessible(t, "alarm "+p, v)
		linksResolve(t, abase, v)
		require.NotNil(t, v.Alarm, "%s: the alarm banner", p)
		a := v.Alarm
		require.True(t, a.Visible, p)
		require.True(t, a.BeforeH1, "%s: the banner comes before the page's own heading", p)
		require.Less(t, a.Top, 200.0, "%s: at the top of the page", p)
		require.Greater(t, a.Height, 40.0, p)
		require.Contains(t, a.Text, "ALARM")
		require.Contains(t, a.Text, "mar-mismatch")
		require.Contains(t, a.Text, "target "+k.String())
		ratio, err := contrast(a.Color, a.Background)
		require.NoError(t, err)
		require.GreaterOrEqual(t, ratio, 4.5, "banner %s on %s", a.Color, a.Background)
		require.Equal(t, "4px solid", a.Border, p)
	}

	// On a phone-sized screen the same holds, and nothing scrolls sideways (wide
	// tables scroll by themselves).
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile)))
	for _, u := range []string{base + "/index.html", base + "/blocks/3.html", base + "/rosters.html", abase + "/index.html"} {
		name := "phone-" + strings.NewReplacer(base+"/", "", abase+"/", "alarm-", "/", "-", ".html", "").Replace(u)
		v := visit(t, ctx, u, shots, name)
		require.LessOrEqual(t, v.ScrollWidth, 375.0, "%s is wider than the phone: %v", name, v.Wide)
		accessible(t, name, v)
		require.Equal(t, strings.HasPrefix(u, abase), v.Alarm != nil, name)
	}
}
