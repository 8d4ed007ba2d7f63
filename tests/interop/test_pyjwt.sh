#!/bin/sh
# test_pyjwt.sh: guards interoperability with an independent JOSE stack.
#
# keycard and its tests could agree on a wrong encoding (PSS salt length, ECDSA
# R||S width, Ed25519 key members, base64url of JWK numbers) and still pass
# every test of their own. Here PyJWT 2.x (python-cryptography) is the other
# side, for every algorithm keycard knows:
#   keycard keygen -> PyJWT imports both JWKs -> PyJWT mints -> keycard verify
#   accepts it with the exact claims, and rejects it once payload or signature
#   is tampered with;
#   keycard mint -> PyJWT verifies it with keycard's public JWKS and sees the
#   claims keycard was asked for (iss, sub, aud, scope, custom claims, ttl),
#   and rejects the tampered versions.
# Plus PEM keys both ways, a raw HMAC secret file, tokens without kid, several
# audiences, and a few claim rejections on foreign tokens.
#
# Environment (set by make check): KEYCARD (the keycard program), PYTHON3.
# Exit 0 all passed, 1 a case failed, 77 no python3 with PyJWT/cryptography.
set -u

here=$(cd "$(dirname "$0")" && pwd)
tool="$here/pyjwt_tool.py"
KEYCARD=${KEYCARD:-${KC_BUILDDIR:-.}/keycard}

# configure may find a python3 (pyenv, venv) without Debian's modules: try
# it first, then the others on PATH, then the system one.
py=
for cand in ${PYTHON3:-} python3 /usr/bin/python3; do
	command -v "$cand" >/dev/null 2>&1 || continue
	if "$cand" -c 'import sys, jwt, cryptography
from jwt import PyJWK, PyJWKSet
sys.exit(int(jwt.__version__.split(".")[0]) < 2)' >/dev/null 2>&1; then
		py=$cand
		break
	fi
done
if [ -z "$py" ]; then
	echo "SKIP: no python3 with PyJWT >= 2 and cryptography (apt-get install python3-jwt python3-cryptography)"
	exit 77
fi
if [ ! -x "$KEYCARD" ]; then
	echo "ERROR: keycard program not found at $KEYCARD (set KEYCARD)"
	exit 99
fi
echo "# keycard: $KEYCARD"
echo "# python: $py, PyJWT $("$py" -c 'import jwt; print(jwt.__version__)')"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kc-pyjwt.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

pass=0
fail=0
ok() {
	pass=$((pass + 1))
	echo "ok - $1"
}
notok() {
	fail=$((fail + 1))
	echo "FAIL - $1"
	for f in "$tmp/out" "$tmp/err"; do
		[ -s "$f" ] && head -n 5 "$f" | sed 's/^/    | /'
	done
	return 0
}

# run CMD...: stdout to $tmp/out, stderr to $tmp/err, sets rc.
run() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

pyjwt() { "$py" "$tool" "$@"; }

# The PyJWT side failed where it cannot fail (minting, tampering): the test
# itself is broken, and an empty token must never count as "rejected".
hard() {
	echo "ERROR: $1"
	exit 99
}

# accepts NAME CMD...: CMD must exit 0; its stdout (the claims JSON) is
# kept for the claims_are that follows. Returns non-zero (after counting the
# failure) otherwise.
accepts() {
	name=$1
	shift
	run "$@"
	if [ "$rc" -ne 0 ]; then
		notok "$name (exit $rc, want 0)"
		return 1
	fi
	cp "$tmp/out" "$tmp/claims.json"
}

# claims_are CHECK-ARGS...: the kept claims pass pyjwt_tool.py check.
claims_are() {
	run pyjwt check --claims-file "$tmp/claims.json" "$@"
	if [ "$rc" -eq 0 ]; then ok "$name"; else notok "$name (claims)"; fi
}

# rejected NAME CMD...: CMD exits 1 (a rejection, not a usage or key error),
# prints nothing on stdout and says why on stderr.
rejected() {
	name=$1
	shift
	run "$@"
	if [ "$rc" -ne 1 ]; then
		notok "$name (exit $rc, want 1)"
	elif [ -s "$tmp/out" ]; then
		notok "$name (rejected but printed claims)"
	elif [ ! -s "$tmp/err" ]; then
		notok "$name (rejected without a reason on stderr)"
	else
		ok "$name"
	fi
}

ISS=https://issuer.example/
AUD=api://orders
SCOPE="orders:read orders:write"
TENANT='{"id":42,"name":"Zo\u00eb","tags":["eu","b2b"]}'
NOW=$(date +%s)

# claims NOW-OFFSET-FOR-IAT LIFETIME SUB: the JSON PyJWT mints
claims() {
	printf '{"iss":"%s","sub":"%s","aud":"%s","iat":%s,"exp":%s,"scope":"%s","tenant":%s,"admin":false}' \
	    "$ISS" "$3" "$AUD" $((NOW - $1)) $((NOW - $1 + $2)) "$SCOPE" "$TENANT"
}

# Algorithms whose keycard keys PyJWT could import; the later sections use
# only these, so one broken keygen fails its own cases, not the whole script.
usable=" "
have_key() {
	case "$usable" in *" $1 "*) return 0 ;; esac
	notok "$1: $2 (no usable key from keycard keygen above)"
	return 1
}

for alg in HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA; do
	d="$tmp/$alg"
	mkdir "$d"
	kid="kc-$alg-1"

	# keycard's keys, read by PyJWT's JWK import
	run "$KEYCARD" keygen --alg "$alg" --kid "$kid" --public "$d/pub.jwks"
	if [ "$rc" -ne 0 ]; then
		notok "$alg: keycard keygen (exit $rc)"
		continue
	fi
	cp "$tmp/out" "$d/priv.jwk"
	run pyjwt keys --private "$d/priv.jwk" --jwks "$d/pub.jwks" --alg "$alg" --kid "$kid"
	if [ "$rc" -ne 0 ]; then
		notok "$alg: keygen output imported by PyJWT"
		continue
	fi
	ok "$alg: keygen output imported by PyJWT"
	usable="$usable$alg "

	# PyJWT mints, keycard verifies
	want=$(claims 0 600 "py-$alg")
	run pyjwt mint --jwk "$d/priv.jwk" --claims "$want"
	if [ "$rc" -ne 0 ]; then
		notok "$alg: PyJWT mints with keycard's private JWK"
		continue
	fi
	py_tok=$(cat "$tmp/out")
	accepts "$alg: keycard verify accepts PyJWT's token, same claims" \
	    "$KEYCARD" verify --jwks "$d/pub.jwks" --alg "$alg" --issuer "$ISS" --audience "$AUD" "$py_tok" &&
	    claims_are --equal "$want"
	for what in payload signature; do
		bad=$(pyjwt tamper "$what" "$py_tok") || hard "pyjwt_tool.py tamper failed"
		rejected "$alg: keycard verify rejects PyJWT's token with tampered $what" \
		    "$KEYCARD" verify --jwks "$d/pub.jwks" --alg "$alg" --issuer "$ISS" --audience "$AUD" "$bad"
	done

	# keycard mints, PyJWT verifies
	run "$KEYCARD" mint --key "$d/priv.jwk" --alg "$alg" --kid "$kid" --iss "$ISS" \
	    --sub "kc-$alg" --aud "$AUD" --scope "$SCOPE" --ttl 1h \
	    --claim "tenant=$TENANT" --claim 'admin=false'
	if [ "$rc" -ne 0 ]; then
		notok "$alg: keycard mint (exit $rc)"
		continue
	fi
	kc_tok=$(cat "$tmp/out")
	accepts "$alg: PyJWT accepts keycard's token, claims round-trip" \
	    pyjwt verify --jwks "$d/pub.jwks" --alg "$alg" --issuer "$ISS" --audience "$AUD" \
	    --require exp --require iat "$kc_tok" &&
	    claims_are --expect "iss=\"$ISS\"" --expect "sub=\"kc-$alg\"" --expect "scope=\"$SCOPE\"" \
	    --expect "tenant=$TENANT" --expect "admin=false" --aud-is "$AUD" --exp-minus-iat 3600
	for what in payload signature; do
		bad=$(pyjwt tamper "$what" "$kc_tok") || hard "pyjwt_tool.py tamper failed"
		rejected "$alg: PyJWT rejects keycard's token with tampered $what" \
		    pyjwt verify --jwks "$d/pub.jwks" --alg "$alg" --issuer "$ISS" --audience "$AUD" "$bad"
	done
done

# ---- PEM keys both ways (python-cryptography writes SPKI / PKCS#8)
for alg in RS256 PS512 ES256 ES512 EdDSA; do
	d="$tmp/$alg"
	have_key "$alg" "PEM cases" || continue
	if ! pyjwt pem --jwk "$d/priv.jwk" --public --out "$d/pub.pem" 2>"$tmp/err" ||
	    ! pyjwt pem --jwk "$d/priv.jwk" --private --out "$d/priv.pem" 2>"$tmp/err"; then
		notok "$alg PEM: PyJWT writes PEM"
		continue
	fi
	want=$(claims 0 600 "pem-$alg")
	py_tok=$(pyjwt mint --jwk "$d/priv.jwk" --claims "$want") || hard "pyjwt_tool.py mint failed"
	accepts "$alg PEM: keycard verify --pem accepts PyJWT's token" \
	    "$KEYCARD" verify --pem "$d/pub.pem" --alg "$alg" --audience "$AUD" "$py_tok" &&
	    claims_are --equal "$want"
	bad=$(pyjwt tamper signature "$py_tok") || hard "pyjwt_tool.py tamper failed"
	rejected "$alg PEM: keycard verify --pem rejects a tampered signature" \
	    "$KEYCARD" verify --pem "$d/pub.pem" --alg "$alg" --audience "$AUD" "$bad"
	run "$KEYCARD" mint --key "$d/priv.pem" --alg "$alg" --sub "pem-$alg" --aud "$AUD" --ttl 10m
	if [ "$rc" -ne 0 ]; then
		notok "$alg PEM: keycard mint --key PKCS#8 PEM (exit $rc)"
		continue
	fi
	pem_tok=$(cat "$tmp/out")
	accepts "$alg PEM: PyJWT accepts keycard's token signed with a PEM key" \
	    pyjwt verify --jwks "$d/pub.jwks" --ignore-kid --alg "$alg" --audience "$AUD" "$pem_tok" &&
	    claims_are --expect "sub=\"pem-$alg\"" --aud-is "$AUD" --exp-minus-iat 600
	# A PEM key has no kid: keycard mint names it by its RFC 7638 thumbprint.
	got=$(pyjwt kid "$pem_tok") || hard "pyjwt_tool.py kid failed"
	want_kid=$(pyjwt thumbprint --jwk "$d/priv.jwk") || hard "pyjwt_tool.py thumbprint failed"
	if [ -n "$got" ] && [ "$got" = "$want_kid" ]; then
		ok "$alg PEM: keycard mint's default kid is the RFC 7638 thumbprint"
	else
		: >"$tmp/out"
		echo "kid '$got', RFC 7638 thumbprint '$want_kid'" >"$tmp/err"
		notok "$alg PEM: keycard mint's default kid is the RFC 7638 thumbprint"
	fi
done

# ---- a raw shared secret in a file (printable, no trailing newline)
printf '%s' 'keycard-interop-secret-0123456789-abcdefghijklmnopqrstuvwxyz' >"$tmp/secret"
want=$(claims 0 600 secret-user)
py_tok=$(pyjwt mint --secret-file "$tmp/secret" --alg HS256 --claims "$want") || hard "pyjwt_tool.py mint failed"
accepts "HS256: keycard verify --secret-file accepts PyJWT's token" \
    "$KEYCARD" verify --secret-file "$tmp/secret" --alg HS256 --audience "$AUD" "$py_tok" &&
    claims_are --equal "$want"
printf '%s' 'keycard-interop-secret-0123456789-abcdefghijklmnopqrstuvwxyZ' >"$tmp/secret2"
rejected "HS256: keycard verify --secret-file rejects a token made with another secret" \
    "$KEYCARD" verify --secret-file "$tmp/secret2" --alg HS256 --audience "$AUD" "$py_tok"

# ---- PyJWT tokens without kid: exactly one key fits, so keycard takes it
for alg in HS512 ES384 EdDSA; do
	d="$tmp/$alg"
	have_key "$alg" "token without kid" || continue
	want=$(claims 0 600 "nokid-$alg")
	tok=$(pyjwt mint --jwk "$d/priv.jwk" --no-kid --claims "$want") || hard "pyjwt_tool.py mint failed"
	accepts "$alg: keycard verify accepts PyJWT's token without kid" \
	    "$KEYCARD" verify --jwks "$d/pub.jwks" --audience "$AUD" "$tok" &&
	    claims_are --equal "$want"
done

# ---- a second key with the same kid: only the signature can tell them apart
d="$tmp/ES256"
if have_key ES256 "another key, same kid"; then
	run "$KEYCARD" keygen --alg ES256 --kid kc-ES256-1 --public "$tmp/other.jwks"
	if [ "$rc" -eq 0 ]; then
		cp "$tmp/out" "$tmp/other.jwk"
		tok=$(pyjwt mint --jwk "$tmp/other.jwk" --claims "$(claims 0 600 other)") || hard "pyjwt_tool.py mint failed"
		rejected "ES256: keycard verify rejects PyJWT's token signed by another key with the same kid" \
		    "$KEYCARD" verify --jwks "$d/pub.jwks" --audience "$AUD" "$tok"
	else
		notok "ES256: second keycard keygen (exit $rc)"
	fi
fi

# ---- several audiences from keycard mint, as PyJWT reads them
d="$tmp/PS256"
if have_key PS256 "two audiences"; then
	run "$KEYCARD" mint --key "$d/priv.jwk" --alg PS256 --kid kc-PS256-1 --sub multi \
	    --aud api://billing --aud "$AUD" --ttl 5m
	if [ "$rc" -eq 0 ]; then
		accepts "PS256: PyJWT sees both audiences of keycard mint --aud --aud" \
		    pyjwt verify --jwks "$d/pub.jwks" --alg PS256 --audience "$AUD" "$(cat "$tmp/out")" &&
		    claims_are --aud-is api://billing --aud-is "$AUD" --exp-minus-iat 300
	else
		notok "PS256: keycard mint with two --aud (exit $rc)"
	fi
fi

# ---- claim checks on foreign tokens
d="$tmp/RS256"
if have_key RS256 "claim checks"; then
	tok=$(pyjwt mint --jwk "$d/priv.jwk" --claims "$(claims 0 600 claims-user)") || hard "pyjwt_tool.py mint failed"
	rejected "RS256: keycard verify rejects PyJWT's token for another audience" \
	    "$KEYCARD" verify --jwks "$d/pub.jwks" --audience api://other "$tok"
	rejected "RS256: keycard verify rejects PyJWT's token from another issuer" \
	    "$KEYCARD" verify --jwks "$d/pub.jwks" --issuer https://evil.example/ "$tok"
	tok=$(pyjwt mint --jwk "$d/priv.jwk" --claims "$(claims 7200 3600 expired-user)") || hard "pyjwt_tool.py mint failed"
	rejected "RS256: keycard verify rejects PyJWT's expired token" \
	    "$KEYCARD" verify --jwks "$d/pub.jwks" --audience "$AUD" "$tok"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
