package testrand_test

import (
	"fmt"
	"io"

	"github.com/chainiac/chainiac/internal/testrand"
)

func ExampleNew() {
	a, b := make([]byte, 4), make([]byte, 4)
	io.ReadFull(testrand.New("seed"), a)
	io.ReadFull(testrand.New("seed"), b)
	fmt.Println(string(a) == string(b))
	// Output: true
}
