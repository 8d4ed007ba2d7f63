#!/bin/sh
# make-fixtures.sh: regenerates the test keys in tests/data/keys and the key
# sets in tests/data/jwks (see README.md). Test fixtures only: never use them
# for anything real. Run from anywhere: sh tests/data/keys/make-fixtures.sh
set -eu
keys=$(cd "$(dirname "$0")" && pwd)
jwks=$keys/../jwks
cd "$keys"

# ---- private keys (PKCS#8 PEM)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-2048.key.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-2048-b.key.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa-1024.key.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec-p256.key.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec-p384.key.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out ec-p521.key.pem
openssl genpkey -algorithm ED25519 -out ed25519.key.pem

chmod 644 *.key.pem  # fixtures, not secrets: readable in any checkout

# ---- public keys: SubjectPublicKeyInfo ("PUBLIC KEY")
for k in rsa-2048 rsa-2048-b rsa-1024 ec-p256 ec-p384 ec-p521 ed25519; do
	openssl pkey -in $k.key.pem -pubout -out $k.pub.pem
done
# PKCS#1 ("RSA PUBLIC KEY")
openssl rsa -in rsa-2048.key.pem -RSAPublicKey_out -out rsa-2048.rsapub.pem
# self-signed X.509 certificates (100 years)
openssl req -x509 -new -key rsa-2048.key.pem -subj /CN=keycard-test-rsa \
	-days 36500 -sha256 -out rsa-2048.crt.pem
openssl req -x509 -new -key ec-p256.key.pem -subj /CN=keycard-test-ec \
	-days 36500 -sha256 -out ec-p256.crt.pem

# ---- HMAC secrets: 64 hex characters (64 bytes) and a trailing newline
openssl rand -hex 32 > hs256.secret
# 16 bytes: too short for HS256 (RFC 7518 §3.2)
openssl rand -hex 8 > short.secret

# ---- JWKs from the public keys
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# raw public bytes: the last N bytes of the DER SubjectPublicKeyInfo
tail_der() { openssl pkey -pubin -in "$1" -outform DER | tail -c "$2"; }
rsa_jwk() { # file kid
	n=$(openssl rsa -pubin -in "$1" -noout -modulus | sed 's/^Modulus=//' | xxd -r -p | b64url)
	printf '{"kty":"RSA","kid":"%s","use":"sig","n":"%s","e":"AQAB"}' "$2" "$n"
}
ec_jwk() { # file kid crv coordinate-size
	pt=$(mktemp)
	tail_der "$1" $(($4 * 2)) > "$pt"
	x=$(head -c "$4" "$pt" | b64url)
	y=$(tail -c "$4" "$pt" | b64url)
	rm -f "$pt"
	printf '{"kty":"EC","kid":"%s","crv":"%s","x":"%s","y":"%s"}' "$2" "$3" "$x" "$y"
}
ed_jwk() { # file kid
	x=$(tail_der "$1" 32 | b64url)
	printf '{"kty":"OKP","kid":"%s","crv":"Ed25519","x":"%s"}' "$2" "$x"
}
RSA=$(rsa_jwk rsa-2048.pub.pem rsa-2048)
RSAB=$(rsa_jwk rsa-2048-b.pub.pem rsa-2048-b)
RSA1024=$(rsa_jwk rsa-1024.pub.pem rsa-1024)
P256=$(ec_jwk ec-p256.pub.pem ec-p256 P-256 32)
P384=$(ec_jwk ec-p384.pub.pem ec-p384 P-384 48)
P521=$(ec_jwk ec-p521.pub.pem ec-p521 P-521 66)
ED=$(ed_jwk ed25519.pub.pem ed25519)

# every kty/crv keycard verifies with, one key each, kid = file name
printf '{"keys":[\n%s,\n%s,\n%s,\n%s,\n%s,\n%s\n]}\n' \
	"$RSA" "$RSAB" "$P256" "$P384" "$P521" "$ED" > "$jwks/all.jwks"
# one weak key (RSA 1024) among good ones: it is skipped with a warning
printf '{"keys":[\n%s,\n%s,\n%s\n]}\n' "$RSA1024" "$P256" "$RSA" > "$jwks/bad-one.jwks"
# one HMAC key (the hs256.secret bytes) alone in a set
k=$(tr -d '\n' < hs256.secret | b64url)
printf '{"keys":[\n{"kty":"oct","kid":"hs256","alg":"HS256","k":"%s"}\n]}\n' "$k" > "$jwks/oct.jwks"
