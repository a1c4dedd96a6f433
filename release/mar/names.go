package mar

import (
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"
)

// CheckName reports whether name is safe as an entry name: a clean,
// relative, slash-separated UTF-8 path with no "." or ".." element, no
// empty element, no backslash and no control character. Write refuses
// other names and Extract refuses to create them.
func CheckName(name string) error {
	switch {
	case name == "" || len(name) > MaxNameLen:
		return fmt.Errorf("%w: length %d outside [1, %d]", ErrUnsafeName, len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %q is not UTF-8", ErrUnsafeName, name)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }):
		return fmt.Errorf("%w: %q has a control character or backslash", ErrUnsafeName, name)
	case name == "." || !fs.ValidPath(name):
		return fmt.Errorf("%w: %q is not a clean relative path", ErrUnsafeName, name)
	}
	return nil
}
