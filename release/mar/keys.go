package mar

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParsePublicKeyPEM reads an RSA public key from PEM: a PKIX "PUBLIC KEY"
// block (the format of Mozilla's published MAR keys) or a PKCS#1 "RSA
// PUBLIC KEY" block.
func ParsePublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("mar: public key: no PEM block")
	}
	if extra, _ := pem.Decode(rest); extra != nil {
		return nil, errors.New("mar: public key: more than one PEM block")
	}
	switch block.Type {
	case "PUBLIC KEY":
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("mar: public key: %w", err)
		}
		rsaKey, ok := key.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("mar: public key: %T is not RSA", key)
		}
		return rsaKey, nil
	case "RSA PUBLIC KEY":
		key, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("mar: public key: %w", err)
		}
		return key, nil
	}
	return nil, fmt.Errorf("mar: public key: unexpected PEM block %q", block.Type)
}

// ParsePrivateKeyPEM reads an unencrypted RSA private key from PEM: PKCS#1
// ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY").
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("mar: private key: no PEM block")
	}
	if extra, _ := pem.Decode(rest); extra != nil {
		return nil, errors.New("mar: private key: more than one PEM block")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("mar: private key: %w", err)
		}
		return key, nil
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("mar: private key: %w", err)
		}
		rsaKey, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("mar: private key: %T is not RSA", key)
		}
		return rsaKey, nil
	}
	return nil, fmt.Errorf("mar: private key: unexpected PEM block %q", block.Type)
}
