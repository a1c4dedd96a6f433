package monitor

import (
	"html/template"
	"strconv"
	"time"
)

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"short": func(s string) string {
		if len(s) > 8 {
			return s[:8]
		}
		return s
	},
	"u": func(i uint64) string { return strconv.FormatUint(i, 10) },
	"hex": func(b []byte) string {
		const digits = "0123456789abcdef"
		out := make([]byte, 0, 2*len(b))
		for _, c := range b {
			out = append(out, digits[c>>4], digits[c&15])
		}
		return string(out)
	},
}

var pages = template.Must(template.New("").Funcs(funcs).Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — chainiac monitor</title>
<link rel="stylesheet" href="{{.Root}}style.css">
<link rel="icon" href="{{.Root}}favicon.svg" type="image/svg+xml">
<link rel="alternate" type="application/atom+xml" title="Releases and alarms" href="{{.Root}}atom.xml">
</head><body>
<header><p class="site"><a href="{{.Root}}index.html">chainiac monitor</a> · chain <code>{{short .Genesis}}</code> ·
<a href="{{.Root}}rosters.html">rosters</a> · <a href="{{.Root}}feed.json">JSON</a> · <a href="{{.Root}}atom.xml">Atom</a> ·
<a href="{{.Root}}checkpoint">checkpoint</a></p></header>
<main>
{{if .Alarms}}<section class="banner" role="alert" id="alarm">
<h2>ALARM: {{len .Alarms}} problem(s) found</h2>
<ul>{{range .Alarms}}<li><strong>{{.Kind}}</strong>{{if .Source}} at <code>{{.Source}}</code>{{end}}: {{.Summary}}
{{if .Evidence}}<br>evidence kept in <code>{{.Evidence}}</code>{{end}} (first {{time .First}}, last {{time .Last}})</li>{{end}}</ul>
</section>{{else if .Report.Evidence}}<section class="banner" role="alert" id="alarm">
<h2>ALARM: fork evidence kept</h2><ul>{{range .Report.Evidence}}<li><code>{{.}}</code></li>{{end}}</ul></section>{{end}}
<h1>{{.Title}}</h1>
{{end}}

{{define "foot"}}</main>
<footer><p>Written {{time .Generated}} by the monitor with Ed25519 key <code>{{.MonitorKey}}</code>.
Genesis <code>{{.Genesis}}</code>.</p></footer>
</body></html>
{{end}}

{{define "rows"}}<table class="blocks"><caption>Blocks, newest first</caption>
<thead><tr><th scope="col">index</th><th scope="col">kind</th><th scope="col">product</th><th scope="col">version</th>
<th scope="col">channel</th><th scope="col">source date</th><th scope="col">signers</th><th scope="col">which members</th><th scope="col">roster</th></tr></thead>
<tbody>{{range .Rows}}<tr{{if .RosterChange}} class="rc"{{end}}><td><a href="{{$.Root}}blocks/{{u .Index}}.html">{{.Index}}</a></td>
<td>{{.Kind}}{{if .RosterChange}} <strong>(new roster)</strong>{{end}}</td><td>{{.Product}}</td><td>{{.Version}}</td><td>{{.Channel}}</td>
<td>{{if .Version}}{{time .SourceDate}}{{end}}</td><td>{{if .Index}}{{.Signed}}/{{.Members}}{{else}}—{{end}}</td><td>{{.Who}}</td><td><code>{{.Roster}}</code></td></tr>
{{end}}</tbody></table>
<nav aria-label="pages"><p>Pages of blocks: {{range .Pages}}<a href="{{$.Root}}pages/{{.}}.html">{{.}}</a> {{end}}</p></nav>
{{end}}

{{define "index"}}{{template "head" .}}
{{with .Report}}<section class="status {{.Status}}" id="status"><h2>Status: {{.Status}}</h2>
<dl><dt>newest verified block</dt><dd><a href="blocks/{{u .Verified}}.html">{{.Verified}}</a> <code>{{.Head}}</code></dd>
<dt>newest verified timestamp</dt><dd>{{time .Timestamp}}{{if $.Age}}, {{$.Age}} old{{end}}</dd>
<dt>blocks verified in the last run</dt><dd>{{.NewBlocks}}</dd></dl></section>
<section><h2>Mirrors</h2><table><thead><tr><th scope="col">mirror</th><th scope="col">reachable</th><th scope="col">timestamp names</th><th scope="col">timestamp time</th><th scope="col">error</th></tr></thead>
<tbody>{{range .Mirrors}}<tr><td><code>{{.URL}}</code></td><td>{{if .Reachable}}yes{{else}}no{{end}}</td><td>{{if .Head}}{{.Index}} <code>{{short .Head}}</code>{{end}}</td><td>{{time .Time}}</td><td>{{.Error}}</td></tr>{{end}}</tbody></table></section>
{{if .Peers}}<section><h2>Other monitors</h2><table><thead><tr><th scope="col">checkpoint</th><th scope="col">key</th><th scope="col">block</th><th scope="col">agrees</th><th scope="col">note</th></tr></thead>
<tbody>{{range .Peers}}<tr><td><code>{{.URL}}</code></td><td><code>{{short .Key}}</code></td><td>{{.Index}} <code>{{short .Head}}</code></td><td>{{if .Agree}}yes{{else}}no{{end}}</td><td>{{.Error}}</td></tr>{{end}}</tbody></table></section>{{end}}
{{end}}
{{if $.Checks}}<section id="checks"><h2>Release checks</h2>
<table><caption>Checks of each release beyond the chain</caption><thead><tr><th scope="col">check</th><th scope="col">every release checked up to block</th><th scope="col">passed</th><th scope="col">failed</th><th scope="col">not checked yet</th></tr></thead>
<tbody>{{range $.Checks}}<tr><td>{{.Name}}</td><td>{{.Done}}</td><td>{{.Passed}}</td><td>{{len .Failed}}</td><td>{{len .Pending}}</td></tr>{{end}}</tbody></table>
{{range $.Checks}}{{$c := .}}{{if or .Failed .Pending}}<table class="checks"><caption>{{.Name}}: releases that failed or are not checked yet</caption>
<thead><tr><th scope="col">block</th><th scope="col">version</th><th scope="col">channel</th><th scope="col">target</th><th scope="col">result</th><th scope="col">reason</th><th scope="col">URL</th></tr></thead>
<tbody>{{range .Failed}}<tr class="failed"><td><a href="blocks/{{u .Index}}.html">{{.Index}}</a></td><td>{{.Version}}</td><td>{{.Channel}}</td><td>{{.Target}}</td><td><strong>{{$c.FailedAs}}</strong></td><td>{{.Reason}}</td><td><code>{{.URL}}</code></td></tr>{{end}}
{{range .Pending}}<tr><td><a href="blocks/{{u .Index}}.html">{{.Index}}</a></td><td>{{.Version}}</td><td>{{.Channel}}</td><td>{{.Target}}</td><td>not checked yet</td><td>{{.Reason}}</td><td><code>{{.URL}}</code></td></tr>{{end}}</tbody></table>{{end}}{{end}}
</section>{{end}}
<section><h2>Charts</h2>{{range .Charts}}{{.}}{{end}}</section>
<section><h2>Newest blocks</h2>{{template "rows" .}}</section>
{{template "foot" .}}{{end}}

{{define "page"}}{{template "head" .}}{{template "rows" .}}{{template "foot" .}}{{end}}

{{define "rosters"}}{{template "head" .}}
{{range .Rosters}}<section><h2>Roster <code>{{short .ID}}</code>, since block <a href="{{$.Root}}blocks/{{u .Since}}.html">{{.Since}}</a></h2>
<p>ID <code>{{.ID}}</code>; threshold {{.Threshold}} of {{len .Members}}.</p>
<table><thead><tr><th scope="col">member</th><th scope="col">address</th><th scope="col">public key (start)</th></tr></thead>
<tbody>{{range $i, $m := .Members}}<tr><td>{{$i}}</td><td><code>{{$m.Address}}</code></td><td><code>{{short (hex $m.Key.Bytes)}}</code></td></tr>{{end}}</tbody></table></section>
{{end}}{{template "foot" .}}{{end}}

{{define "block"}}{{template "head" .}}{{with .Block}}
<dl><dt>ID</dt><dd><code>{{.Row.ID}}</code></dd><dt>kind</dt><dd>{{.Row.Kind}}</dd>
<dt>height</dt><dd>{{.Header.Height}}</dd><dt>payload hash</dt><dd><code>{{.Header.PayloadHash}}</code></dd>
<dt>roster</dt><dd><code>{{.Roster.ID}}</code>, since block {{.Roster.Since}}, threshold {{.Roster.Threshold}} of {{len .Roster.Members}}</dd>
{{if .Payload}}<dt>payload</dt><dd>{{.Payload}}</dd>{{end}}</dl>
{{if .Manifest}}<h2>Release manifest</h2>
<dl><dt>product</dt><dd>{{.Manifest.Product}}</dd><dt>version</dt><dd>{{.Manifest.Version}}</dd><dt>channel</dt><dd>{{.Manifest.Channel}}</dd>
<dt>source</dt><dd>SHA-256 <code>{{.Manifest.SourceSHA256}}</code>, commit <code>{{.Manifest.GitCommit}}</code>, recipe {{.Manifest.Recipe}}</dd></dl>
<table><caption>Targets</caption><thead><tr><th scope="col">platform</th><th scope="col">locale</th><th scope="col">unsigned SHA-256 and size</th><th scope="col">signed SHA-512 and size</th><th scope="col">URL</th></tr></thead>
<tbody>{{range .Manifest.Targets}}<tr><td>{{.Platform}}</td><td>{{.Locale}}</td><td><code class="h">{{.UnsignedSHA256}}</code> {{.UnsignedSize}} B</td><td><code class="h">{{.SignedSHA512}}</code> {{.SignedSize}} B</td><td><code>{{.URL}}</code></td></tr>{{end}}</tbody></table>{{end}}
{{if .Bitmap}}<h2>Signers of the link into this block</h2><p>{{.Row.Signed}} of {{.Row.Members}} members of the previous block's roster:</p>
<ol class="bitmap" start="0">{{range $i, $b := .Bitmap}}<li class="{{if $b}}on{{else}}off{{end}}">{{if $b}}signed{{else}}did not sign{{end}}</li>{{end}}</ol>{{end}}
<h2>Forward links leaving this block</h2>{{if .Links}}<table><thead><tr><th scope="col">level</th><th scope="col">to block</th><th scope="col">signers</th><th scope="col">which members</th></tr></thead>
<tbody>{{range .Links}}<tr><td>{{.Level}}</td><td><a href="{{u .To}}.html">{{.To}}</a> <code>{{.ToID}}</code></td><td>{{.Signed}}/{{.Members}}</td><td>{{.Who}}</td></tr>{{end}}</tbody></table>{{else}}<p>None yet.</p>{{end}}
<h2>Back-links</h2><ol start="0">{{range .BackLink}}<li><code>{{.}}</code></li>{{end}}</ol>
{{end}}{{template "foot" .}}{{end}}
`))

// faviconSVG is the site's icon (two chain links), so that no browser asks for a
// missing /favicon.ico.
const faviconSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><title>chainiac monitor</title>` +
	`<g fill="none" stroke="#2b5797" stroke-width="4"><rect x="2" y="9" width="17" height="14" rx="7"/><rect x="13" y="9" width="17" height="14" rx="7"/></g></svg>
`

const styleCSS = `body{font-family:system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:0 1rem;color:#111;background:#fff;line-height:1.4}
a{color:#0645ad}code{font-family:ui-monospace,monospace;word-break:break-all}
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.9rem}th,td{border-bottom:1px solid #ccc;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#eee}tr.rc{background:#fff3c4}tr.failed{background:#fde2e4}
.banner{background:#b00020;color:#fff;padding:1rem;margin:1rem 0;border:4px solid #000;font-size:1.1rem}.banner code{color:#fff}
.status.healthy h2{color:#0a6b2b}.status.alarm h2{color:#b00020}.status.unreachable h2{color:#7a4d00}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0}
.chart{width:100%;max-width:600px;height:auto;background:#f8f8f8}.chart rect{fill:#2b5797}.chart .axis{stroke:#333}.chart text{font-size:11px;fill:#111}
.bitmap{display:flex;flex-wrap:wrap;gap:.2rem;padding-left:1.5rem}.bitmap li{padding:0 .3rem;margin-right:1.2rem}.bitmap .on{background:#cde8d4}.bitmap .off{background:#f4c7c7}
code.h{font-size:.75rem}
@media (max-width:40rem){table{font-size:.8rem;display:block;overflow-x:auto}th,td{padding:.15rem}dl{grid-template-columns:1fr}dd{margin-bottom:.3rem}}
`
