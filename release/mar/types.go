package mar

import "fmt"

// Algorithm identifies a signature algorithm in the signature block.
type Algorithm uint32

// The algorithms Mozilla defined. Both are RSA PKCS#1 v1.5.
const (
	RSASHA1   Algorithm = 1 // verify only: SHA-1 is not collision resistant
	RSASHA384 Algorithm = 2 // what Sign produces
)

func (a Algorithm) String() string {
	switch a {
	case RSASHA1:
		return "RSA-PKCS1-SHA1"
	case RSASHA384:
		return "RSA-PKCS1-SHA384"
	}
	return fmt.Sprintf("unknown-%d", uint32(a))
}

// Signature is one entry of the signature block.
type Signature struct {
	Algorithm Algorithm
	Data      []byte
}

// Entry is one file of the index. Offset and Size locate its (compressed)
// content in the archive; Mode holds the Unix permission bits.
type Entry struct {
	Name   string
	Offset uint32
	Size   uint32
	Mode   uint32
}

// ProductInfo is the product information block (additional section id 1):
// the update channel and the product version the MAR applies to.
type ProductInfo struct {
	Channel string
	Version string
}
