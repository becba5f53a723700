package rmm

// attestContext is a REC's attestation token operation (RSI_ATTESTATION_*).
type attestContext struct{}
