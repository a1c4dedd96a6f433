package client

import (
	"encoding/hex"
	"encoding/xml"
	"strconv"
	"time"

	"github.com/chainiac/chainiac/timeline"
)

// The update.xml that Firefox-family updaters (Firefox, Tor Browser, Mullvad Browser)
// fetch: one <update> with one complete <patch>, or no <update> at all.
type xmlUpdates struct {
	XMLName xml.Name    `xml:"updates"`
	Updates []xmlUpdate `xml:"update"`
}

type xmlUpdate struct {
	Type           string   `xml:"type,attr"`
	DisplayVersion string   `xml:"displayVersion,attr"`
	AppVersion     string   `xml:"appVersion,attr"`
	BuildID        string   `xml:"buildID,attr"`
	Patch          xmlPatch `xml:"patch"`
}

type xmlPatch struct {
	Type         string `xml:"type,attr"`
	URL          string `xml:"URL,attr"`
	Size         string `xml:"size,attr"`
	HashFunction string `xml:"hashFunction,attr"`
	HashValue    string `xml:"hashValue,attr"`
}

// UpdateXML writes the update.xml for the verified release u and one target, for an
// installation at version installed: the target's complete MAR (its URL, size and
// SHA-512 as the cothority witnessed them) when the release is newer on the same
// channel, and an empty <updates></updates> otherwise (no release, another channel,
// no such target, or nothing newer). An empty installed version means "anything is
// newer". The build ID is the release's SOURCE_DATE_EPOCH as yyyymmddhhmmss.
func UpdateXML(u *Update, channel, platform, locale, installed string) []byte {
	doc := xmlUpdates{}
	t, ok := u.Target(platform, locale)
	if ok && t.Channel == channel && (installed == "" || timeline.CompareVersions(t.Version, installed) > 0) {
		doc.Updates = []xmlUpdate{{
			Type: "minor", DisplayVersion: t.Version, AppVersion: t.Version,
			BuildID: time.Unix(int64(u.Release.Manifest.SourceDateEpoch), 0).UTC().Format("20060102150405"),
			Patch: xmlPatch{Type: "complete", URL: t.URL, Size: strconv.FormatUint(t.SignedSize, 10),
				HashFunction: "SHA512", HashValue: hex.EncodeToString(t.SignedSHA512[:])},
		}}
	}
	out, err := xml.Marshal(doc)
	if err != nil {
		panic(err) // the document holds only strings the manifest validated
	}
	return append([]byte(xml.Header), append(out, '\n')...)
}
