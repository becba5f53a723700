package enumname_test

import (
	"fmt"

	"github.com/ccakit/cca/internal/enumname"
)

type Level uint8

const (
	Low  Level = 1
	High Level = 2
)

var levelNames = map[Level]string{Low: "low", High: "high"}

func (l Level) String() string { return enumname.Name(l, levelNames, "Level(%d)") }

func ExampleName() {
	fmt.Println(Low, High, Level(9))
	// Output: low high Level(9)
}
