package realm

// ForgetRAK drops the RAK that Validate cached, so that tests can compare
// claims sets with reflect.DeepEqual.
func ForgetRAK(c *Claims) *Claims {
	c.rak = nil
	return c
}
