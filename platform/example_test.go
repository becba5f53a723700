package platform_test

import (
	"fmt"
	"os"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/token"
)

// A platform claims set (here the one testvectors/claims/rel0.json gives) is decoded from the platform token's payload and
// validated for its profile; the lifecycle says whether the platform is in
// a secured state.
func ExampleDecode() {
	data, err := os.ReadFile("../testvectors/rel0-es384.cbor")
	if err != nil {
		fmt.Println(err)
		return
	}
	coll, err := token.DecodeCollection(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	sign1, err := token.DecodeSign1(coll.Platform, "platform token")
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, err := platform.Decode(sign1.Payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("profile:", claims.Profile)
	fmt.Println("valid:", claims.Validate(platform.ValidateOptions{}))
	fmt.Println("lifecycle:", claims.Lifecycle)
	fmt.Println("components:", len(claims.SwComponents), "first", claims.SwComponents[0].MeasurementType)
	// Output:
	// profile: tag:arm.com,2023:cca_platform#1.0.0
	// valid: <nil>
	// lifecycle: 0x3003 (secured)
	// components: 12 first RSE_BL1_2
}
