#!/usr/bin/env bash
# A guided tour of keycard's token commands: keygen, mint, verify.
# Installs the Debian packages keycard needs, builds it in _build/ (through
# tests/run-all.sh --build-only), then in a temporary directory makes keys,
# mints good and bad tokens and shows what `keycard verify` says about each.
# Exit status 0 when every step behaved as expected.
#
# The steps are written in single quotes, shown as typed and run through eval.
# shellcheck disable=SC2016,SC2034
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

case ${1:-} in
-h|--help)
	sed -n '2,6s/^# \{0,1\}//p' "$0"
	echo "usage: $0 [--no-build]   (--no-build: use the keycard already in _build/)"
	exit 0 ;;
--no-build) ;;
'') "$repo/tests/run-all.sh" --build-only ;;
*) echo "token-walkthrough: unknown option '$1'" >&2; exit 2 ;;
esac

KEYCARD=${KEYCARD:-$repo/_build/keycard}
if [ ! -x "$KEYCARD" ]; then
	echo "token-walkthrough: $KEYCARD not found (build first)" >&2
	exit 2
fi
keycard() { "$KEYCARD" "$@"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/keycard-walkthrough.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
umask 077

if [ -t 1 ]; then bold=$'\e[1m' green=$'\e[32m' red=$'\e[31m' off=$'\e[0m'
else bold='' green='' red='' off=''; fi

passed=0
failed=0

say() { printf '\n%s%s%s\n' "$bold" "$*" "$off"; }
note() { printf '%s\n' "$@"; }

# b64url_decode: base64url on stdin to bytes on stdout.
b64url_decode() {
	local s
	s=$(tr '_-' '/+')
	case $((${#s} % 4)) in 2) s="$s==" ;; 3) s="$s=" ;; esac
	printf '%s' "$s" | base64 -d
}
b64url_encode() { base64 -w0 | tr '/+' '_-' | tr -d '='; }

# step EXPECTED-EXIT 'COMMAND': shows the command as written, runs it, shows
# stdout and stderr, and checks the exit status. The commands are fixed
# strings of this script, so eval only expands the variables in them.
step() {
	local want=$1 cmd=$2 rc=0 out err
	printf '\n  $ %s\n' "$cmd"
	eval "$cmd" >"$work/.out" 2>"$work/.err" || rc=$?
	out=$(cat "$work/.out")
	err=$(cat "$work/.err")
	if [ -n "$out" ]; then
		if jq -e . >/dev/null 2>&1 <<<"$out"; then
			jq . <<<"$out" | sed 's/^/    /'
		else
			printf '%s\n' "$out" | sed 's/^/    /'
		fi
	fi
	[ -z "$err" ] || printf '%s\n' "$err" | sed 's/^/    (stderr) /'
	if [ "$rc" = "$want" ]; then
		printf '    %s→ exit %d, as expected%s\n' "$green" "$rc" "$off"
		passed=$((passed + 1))
	else
		printf '    %s→ exit %d, expected %d%s\n' "$red" "$rc" "$want" "$off"
		failed=$((failed + 1))
	fi
}

now=$(date +%s)
ISS=https://idp.example
AUD=https://api.example

say "keycard token walkthrough (working in $work)"
note "$(keycard --version)" \
	"In each step the command is shown as typed, then what it printed and its exit status:" \
	"verify exits 0 for a valid token, 1 for a rejected one, 2 for a usage or configuration error."

say "1. Make an ES256 key pair (ECDSA on P-256)"
note "The private JWK goes to es256.jwk; --public writes the public JWK Set a verifier needs."
step 0 'keycard keygen --alg ES256 --public es256.jwks > es256.jwk'
step 0 'cat es256.jwks'
note "The kid is the key's RFC 7638 thumbprint, since no --kid was given."

say "2. Mint a token: issuer, subject, audience, scopes, valid for 10 minutes"
step 0 'keycard mint --key es256.jwk --iss $ISS --sub alice --aud $AUD --scope "devices:read devices:write" --ttl 10m > valid.jwt'
note "A JWT is three base64url parts, header.payload.signature. Decoded:"
step 0 'cut -d. -f1 valid.jwt | b64url_decode'
step 0 'cut -d. -f2 valid.jwt | b64url_decode'

say "3. Verify it, the way a resource server would"
note "Pinning the algorithm, issuer and audience, and requiring exp. The token is read from" \
	"standard input (-): arguments are visible to other users in ps."
step 0 'keycard verify --jwks es256.jwks --alg ES256 --issuer $ISS --audience $AUD --require-claim exp - < valid.jwt'

say "4. A token for another audience is refused"
step 0 'keycard mint --key es256.jwk --iss $ISS --sub alice --aud https://other.example > other-aud.jwt'
step 1 'keycard verify --jwks es256.jwks --issuer $ISS --audience $AUD - < other-aud.jwt'

say "5. A token from another issuer is refused"
step 0 'keycard mint --key es256.jwk --iss https://evil.example --sub alice --aud $AUD > other-iss.jwt'
step 1 'keycard verify --jwks es256.jwks --issuer $ISS --audience $AUD - < other-iss.jwt'

say "6. An expired token is refused"
note "Minted two hours ago (--now) with a one-hour lifetime, so exp is an hour in the past."
step 0 'keycard mint --key es256.jwk --iss $ISS --aud $AUD --now $((now - 7200)) --ttl 1h > expired.jwt'
step 1 'keycard verify --jwks es256.jwks --audience $AUD - < expired.jwt'
note "Checked as of ninety minutes ago (--now), when it was still current, it passes:"
step 0 'keycard verify --jwks es256.jwks --audience $AUD --now $((now - 5400)) - < expired.jwt'
note "A leeway allows for clock skew between issuer and server. exp was an hour ago, so a" \
	"leeway of 2h accepts it (real deployments use seconds, not hours):"
step 0 'keycard verify --jwks es256.jwks --audience $AUD --leeway 2h - < expired.jwt'

say "7. A token that never expires"
step 0 'keycard mint --key es256.jwk --iss $ISS --aud $AUD --no-exp > no-exp.jwt'
note "exp and nbf are checked when present, so by default this token is accepted:"
step 0 'keycard verify --jwks es256.jwks --audience $AUD - < no-exp.jwt'
note "--require-claim exp refuses it (any claim can be required the same way):"
step 1 'keycard verify --jwks es256.jwks --audience $AUD --require-claim exp - < no-exp.jwt'

say "8. A tampered token is refused: the payload is changed to sub=admin, signature kept"
step 0 'header=$(cut -d. -f1 valid.jwt); sig=$(cut -d. -f3 valid.jwt); payload=$(cut -d. -f2 valid.jwt | b64url_decode | jq -c ".sub = \"admin\"" | b64url_encode); echo "$header.$payload.$sig" > tampered.jwt'
step 1 'keycard verify --jwks es256.jwks --audience $AUD - < tampered.jwt'

say "9. Unsigned tokens (alg none) are refused"
note "As attackers send them: alg none and an empty signature,"
step 0 'header=$(printf "{\"alg\":\"none\"}" | b64url_encode); echo "$header.$(cut -d. -f2 valid.jwt)." > none.jwt'
step 1 'keycard verify --jwks es256.jwks - < none.jwt'
note "and in another casing, with the original signature left on:"
step 0 'header=$(printf "{\"alg\":\"nOnE\"}" | b64url_encode); echo "$header.$(cut -d. -f2,3 valid.jwt)" > none2.jwt'
step 1 'keycard verify --jwks es256.jwks - < none2.jwt'

say "10. Only the algorithms you allow: an ES256 token when only RS256 is allowed"
step 1 'keycard verify --jwks es256.jwks --alg RS256 - < valid.jwt'

say "11. HS256: a shared secret"
note "With HMAC the verifier holds the same secret as the issuer, so the \"public\" set" \
	"written by keygen contains the secret. Keep it as private as the key itself."
step 0 'keycard keygen --alg HS256 --kid shared-1 --public hs256.jwks > hs256.jwk'
step 0 'keycard mint --key hs256.jwk --iss $ISS --sub batch-job --aud $AUD --ttl 5m > hs256.jwt'
step 0 'keycard verify --jwks hs256.jwks --alg HS256 --issuer $ISS --audience $AUD - < hs256.jwt'
note "The same secret as a raw file of bytes, for --secret-file:"
step 0 'jq -r .k hs256.jwk | b64url_decode > hs256.secret; wc -c < hs256.secret'
step 0 'keycard verify --secret-file hs256.secret --kid shared-1 --alg HS256 --audience $AUD - < hs256.jwt'

say "12. Algorithm confusion is impossible: an HS256 token against the ES256 key set"
note "An algorithm is only ever tried with a key of its own type. es256.jwks holds one P-256" \
	"key, so the only algorithm accepted is ES256 and the HS256 token is refused before any key" \
	"is tried (it could never be checked against the public key used as an HMAC secret)."
step 1 'keycard verify --jwks es256.jwks - < hs256.jwt'

say "13. Configuration errors exit 2"
step 2 'keycard verify --jwks does-not-exist.jwks - < valid.jwt'
step 2 'keycard verify - < valid.jwt'

say "Summary"
if [ "$failed" = 0 ]; then
	note "Every step behaved as expected."
else
	note "${red}Some steps did not behave as expected (see above).${off}"
fi
echo "walkthrough: $passed passed, $failed failed"
[ "$failed" = 0 ]
