#!/bin/bash
# test_cli.sh: guards the command-line contract of keycard keygen, mint and
# verify (docs: ARCHITECTURE.md "Command-line contracts", keycard(1)).
#
# For every algorithm keygen -> mint -> verify; the exit codes (0 valid,
# 1 rejected with one stderr line that never repeats the token, 2 usage or
# configuration error); --help; reading the token from stdin; --now/--leeway
# boundaries; --require-claim, --issuer, --audience, --alg, --typ; --pem and
# --secret-file key sources; a JWKS with one bad key; the 16 KiB size limit
# and --max-token-size; the claims mint writes and the RFC 7638 default kid.
#
# Environment: KEYCARD (the keycard binary), KC_TEST_DATA (tests/data),
# PYTHON3 (optional; python3 or jq is needed to look inside JSON).
# Prints one line per case and "N passed, N failed"; exits 1 if any failed.
set -u

KEYCARD=${KEYCARD:-./keycard}
DATA=${KC_TEST_DATA:-tests/data}
PY=${PYTHON3:-}
[ -n "$PY" ] || PY=$(command -v python3 || true)

if [ ! -x "$KEYCARD" ]; then
	echo "keycard binary not found: $KEYCARD" >&2
	exit 99 # hard error for the automake harness
fi
if [ -z "$PY" ]; then
	echo "SKIP: python3 is needed to inspect JSON" >&2
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kc-test-cli.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1${2:+ -- $2}"; }

# run CMD...: runs with stdout in $tmp/out, stderr in $tmp/err, status in $rc.
run() { "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; rc=$?; }
# run_in FILE CMD...: the same, with stdin from FILE.
run_in() { local f=$1; shift; "$@" >"$tmp/out" 2>"$tmp/err" <"$f"; rc=$?; }
first_err() { head -n 3 "$tmp/err" | tr '\n' '|' | cut -c1-200; }

# ---- JSON and token helpers: one python3 process serves every request
cat >"$tmp/h.py" <<'EOF'
import base64, hashlib, hmac, json, sys

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def compact(v):
    return json.dumps(v, separators=(",", ":"))

def load(path):
    with open(path) as f:
        return json.load(f)

def part(token, i):
    return json.loads(b64d(token.strip().split(".")[i]))

def members(d, names):
    return " ".join(compact(d[n]) if n in d else "<absent>" for n in names)

def handle(cmd, args):
    if cmd == "get":             # get FILE NAME...: members of the JSON object in FILE
        return members(load(args[0]), args[1:])
    if cmd == "isobj":           # isobj FILE: fails unless FILE holds one JSON object
        if not isinstance(load(args[0]), dict):
            raise ValueError("not an object")
        return "object"
    if cmd in ("hdr", "pay"):    # hdr|pay TOKENFILE NAME...: header or payload members
        with open(args[0]) as f:
            return members(part(f.read(), 0 if cmd == "hdr" else 1), args[1:])
    if cmd == "nkeys":           # nkeys JWKS: number of keys, none with a private member
        keys = load(args[0])["keys"]
        for k in keys:
            if k.get("kty") != "oct" and any(m in k for m in ("d", "p", "q", "dp", "dq", "qi")):
                raise ValueError("private member in a public JWKS")
        return str(len(keys))
    if cmd == "thumb":           # thumb JWK|JWKS: RFC 7638 thumbprint of the (first) key
        k = load(args[0])
        if "keys" in k:
            k = k["keys"][0]
        req = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"),
               "OKP": ("crv", "kty", "x"), "oct": ("k", "kty")}[k["kty"]]
        return b64e(hashlib.sha256(compact({m: k[m] for m in req}).encode()).digest())
    if cmd == "secret":          # secret JWK SUFFIX OUT: the raw oct secret plus SUFFIX
        k = load(args[0])
        with open(args[2], "wb") as f:
            f.write(b64d(k["k"]) + args[1].encode().decode("unicode_escape").encode())
        return args[2]
    if cmd == "b64file":         # b64file FILE: base64url of the file's bytes
        with open(args[0], "rb") as f:
            return b64e(f.read())
    if cmd == "octjwk":          # octjwk JWKS OUT: the first key of a set, as a lone JWK
        with open(args[1], "w") as f:
            json.dump(load(args[0])["keys"][0], f)
        return args[1]
    if cmd == "forge":           # forge JWK HEADER PAYLOAD: HMAC-sign raw texts with an oct JWK
        k = b64d(load(args[0])["k"])
        alg = json.loads(args[1]).get("alg", "HS256")
        h = {"HS384": hashlib.sha384, "HS512": hashlib.sha512}.get(alg, hashlib.sha256)
        si = b64e(args[1].encode()) + "." + b64e(args[2].encode())
        return si + "." + b64e(hmac.new(k, si.encode(), h).digest())
    if cmd == "unsigned":        # unsigned HEADER PAYLOAD: header.payload.
        return b64e(args[0].encode()) + "." + b64e(args[1].encode()) + "."
    raise ValueError("unknown helper " + cmd)

# One request per line, fields separated by \x1f; one reply line: status \x1f text.
for line in sys.stdin:
    f = line.rstrip("\n").split("\x1f")
    try:
        out, st = handle(f[0], f[1:]), "0"
    except Exception as e:
        out, st = "%s: %s" % (type(e).__name__, e), "1"
    sys.stdout.write(st + "\x1f" + out.replace("\n", " ") + "\n")
    sys.stdout.flush()
EOF
coproc PYH { "$PY" -u "$tmp/h.py" 2>/dev/null; }
# h CMD ARGS...: asks the helper; prints its answer, fails if it failed.
h() {
	local IFS=$'\x1f' reply
	printf '%s\n' "$*" >&"${PYH[1]}"
	IFS= read -r reply <&"${PYH[0]}" || { echo "helper died"; return 1; }
	printf '%s\n' "${reply#*$'\x1f'}"
	[ "${reply%%$'\x1f'*}" = 0 ]
}

# expect NAME WANT_RC: checks $rc, and for status 1 the rejection line.
# The token of the case, if any, is in $tmp/tok and must not be echoed.
expect() {
	local name=$1 want=$2
	if [ "$rc" != "$want" ]; then
		fail "$name" "exit $rc, want $want: $(first_err)"
		return 1
	fi
	if [ "$want" = 1 ]; then
		# one rejection line, and nothing else unless key warnings are expected
		local nrej nall
		nrej=$(grep -c '^keycard: token rejected: .' "$tmp/err")
		nall=$(wc -l <"$tmp/err")
		if [ "$nrej" != 1 ] || { [ -z "${ALLOW_WARN:-}" ] && [ "$nall" != 1 ]; }; then
			fail "$name" "stderr is not one 'keycard: token rejected: ...' line: $(first_err)"
			return 1
		fi
		if [ -s "$tmp/out" ]; then
			fail "$name" "rejected, yet something on stdout"
			return 1
		fi
		if [ -s "$tmp/tok" ]; then
			local tok seg
			tok=$(cat "$tmp/tok")
			for seg in "$tok" ${tok//./ }; do
				if [ ${#seg} -ge 8 ] && grep -qF -- "${seg:0:40}" "$tmp/err"; then
					fail "$name" "stderr repeats the token"
					return 1
				fi
			done
		fi
	fi
	if [ "$want" = 0 ] && ! h isobj "$tmp/out" >/dev/null; then
		fail "$name" "stdout is not a JSON object"
		return 1
	fi
	if [ "$want" = 2 ] && grep -q 'token rejected' "$tmp/err"; then
		fail "$name" "a usage error reported as a rejection"
		return 1
	fi
	pass "$name"
}

# claim_is NAME MEMBER JSON: the verified claims on stdout hold MEMBER = JSON.
claim_is() {
	local got
	got=$(h get "$tmp/out" "$2" 2>&1)
	if [ "$got" = "$3" ]; then pass "$1"; else fail "$1" "$2 = $got, want $3"; fi
}

# mint_to FILE ARGS...: mints a token into FILE; a failed mint is a failed case.
mint_to() {
	local f=$1; shift
	"$KEYCARD" mint "$@" >"$f" 2>"$tmp/minterr"
	local st=$?
	if [ $st != 0 ] || [ ! -s "$f" ]; then
		fail "mint ${1:-} ${2:-} ..." "exit $st: $(head -c 200 "$tmp/minterr")"
		: >"$f"
		return 1
	fi
}

# verify_tok NAME WANT TOKENFILE ARGS...: verifies the token in TOKENFILE.
verify_tok() {
	local name=$1 want=$2 f=$3; shift 3
	if [ ! -s "$f" ]; then
		fail "$name" "no token to verify"
		return 1
	fi
	cp "$f" "$tmp/tok"
	run "$KEYCARD" verify "$@" "$(cat "$f")"
	expect "$name" "$want"
}

ISS=https://issuer.example
NOW=1700000000

# ---------------------------------------------------------------- help
for sub in "" verify keygen mint; do
	run "$KEYCARD" $sub --help
	if [ "$rc" = 0 ] && [ -s "$tmp/out" ] && grep -qi usage "$tmp/out"; then
		pass "keycard $sub --help"
	else
		fail "keycard $sub --help" "exit $rc"
	fi
done

# ---------------------------------------------------------------- every algorithm
for alg in HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA; do
	d=$tmp/$alg
	mkdir -p "$d"
	run "$KEYCARD" keygen --alg $alg --kid "kid-$alg" --public "$d/pub.jwks"
	cp "$tmp/out" "$d/priv.jwk"
	if [ "$rc" != 0 ]; then
		fail "$alg keygen" "exit $rc: $(first_err)"
		continue
	fi
	secret=d
	case $alg in HS*) secret=k ;; esac
	if [ "$(h get "$d/priv.jwk" kid)" = "\"kid-$alg\"" ] &&
	    [ "$(h get "$d/priv.jwk" $secret)" != "<absent>" ] &&
	    [ "$(h nkeys "$d/pub.jwks")" = 1 ]; then
		pass "$alg keygen: private JWK on stdout, one-key JWKS in --public"
	else
		fail "$alg keygen" "unexpected JWK or JWKS"
	fi
	if ! mint_to "$d/tok" --key "$d/priv.jwk" --iss "$ISS" --sub "alice-$alg" --aud api \
	    --now $NOW; then
		fail "$alg mint"
		continue
	fi
	if [ "$(h hdr "$d/tok" alg)" = "\"$alg\"" ] && [ "$(h hdr "$d/tok" kid)" = "\"kid-$alg\"" ]; then
		pass "$alg mint: header alg and kid"
	else
		fail "$alg mint: header" "alg $(h hdr "$d/tok" alg) kid $(h hdr "$d/tok" kid)"
	fi
	verify_tok "$alg verify" 0 "$d/tok" --jwks "$d/pub.jwks" --issuer "$ISS" --audience api \
	    --now $((NOW + 1)) && claim_is "$alg verify: claims on stdout" sub "\"alice-$alg\""
	# the same token with an --alg allow-list that names it, and one that does not
	verify_tok "$alg verify --alg $alg" 0 "$d/tok" --jwks "$d/pub.jwks" --alg $alg --now $NOW
	other=ES256
	[ $alg = ES256 ] && other=ES384
	verify_tok "$alg verify --alg $other" 1 "$d/tok" --jwks "$d/pub.jwks" --alg $other --now $NOW
done

# keys of another algorithm of the same kind do not verify
verify_tok "ES256 token, ES384 JWKS" 1 "$tmp/ES256/tok" --jwks "$tmp/ES384/pub.jwks" --now $NOW
verify_tok "RS256 token, PS256 JWKS" 1 "$tmp/RS256/tok" --jwks "$tmp/PS256/pub.jwks" --now $NOW
verify_tok "HS256 token, HS384 JWKS" 1 "$tmp/HS256/tok" --jwks "$tmp/HS384/pub.jwks" --now $NOW

# ---------------------------------------------------------------- default kid
for alg in ES256 RS256 EdDSA HS256; do
	run "$KEYCARD" keygen --alg $alg --public "$tmp/thumb.jwks"
	cp "$tmp/out" "$tmp/thumb.jwk"
	want="\"$(h thumb "$tmp/thumb.jwks" 2>/dev/null)\""
	if [ "$rc" = 0 ] && [ "$(h get "$tmp/thumb.jwk" kid)" = "$want" ] &&
	    [ "$(h thumb "$tmp/thumb.jwk")" = "$(h thumb "$tmp/thumb.jwks")" ]; then
		pass "$alg keygen: default kid is the RFC 7638 thumbprint"
	else
		fail "$alg keygen: default kid" "kid $(h get "$tmp/thumb.jwk" kid 2>&1), want $want"
	fi
done
mint_to "$tmp/t.tok" --key "$tmp/thumb.jwk" --now $NOW
if [ "$(h hdr "$tmp/t.tok" kid)" = "$want" ]; then
	pass "mint: kid from the JWK"
else
	fail "mint: kid from the JWK" "$(h hdr "$tmp/t.tok" kid)"
fi
verify_tok "verify with the thumbprint kid" 0 "$tmp/t.tok" --jwks "$tmp/thumb.jwks" --now $NOW

# ---------------------------------------------------------------- claims written by mint
K=$tmp/ES256/priv.jwk
J=$tmp/ES256/pub.jwks
mint_to "$tmp/m.tok" --key "$K" --sub bob --now $NOW
verify_tok "mint defaults verify" 0 "$tmp/m.tok" --jwks "$J" --now $NOW &&
{
	claim_is "mint: iat = --now" iat "$NOW"
	claim_is "mint: exp = now + 1h by default" exp "$((NOW + 3600))"
	claim_is "mint: --sub" sub '"bob"'
	jti1=$(h get "$tmp/out" jti)
	if [ "$jti1" != "<absent>" ] && [ "$jti1" != '""' ]; then pass "mint: a jti"; else fail "mint: a jti" "$jti1"; fi
}
mint_to "$tmp/m2.tok" --key "$K" --sub bob --now $NOW
if [ "$(h pay "$tmp/m2.tok" jti)" != "$(h pay "$tmp/m.tok" jti)" ]; then
	pass "mint: a fresh jti each time"
else
	fail "mint: a fresh jti each time"
fi
mint_to "$tmp/m.tok" --key "$K" --now $NOW --ttl 15m
[ "$(h pay "$tmp/m.tok" exp)" = $((NOW + 900)) ] && pass "mint --ttl 15m" || fail "mint --ttl 15m" "exp $(h pay "$tmp/m.tok" exp)"
mint_to "$tmp/m.tok" --key "$K" --now $NOW --ttl 90
[ "$(h pay "$tmp/m.tok" exp)" = $((NOW + 90)) ] && pass "mint --ttl 90" || fail "mint --ttl 90" "exp $(h pay "$tmp/m.tok" exp)"
mint_to "$tmp/m.tok" --key "$K" --now $NOW --aud one
[ "$(h pay "$tmp/m.tok" aud)" = '"one"' ] && pass "mint: one --aud is a string" || fail "mint: one --aud is a string" "$(h pay "$tmp/m.tok" aud)"
mint_to "$tmp/m.tok" --key "$K" --now $NOW --aud one --aud two
[ "$(h pay "$tmp/m.tok" aud)" = '["one","two"]' ] && pass "mint: several --aud are an array" || fail "mint: several --aud are an array" "$(h pay "$tmp/m.tok" aud)"
verify_tok "verify: --audience matches one array member" 0 "$tmp/m.tok" --jwks "$J" --audience two --now $NOW
mint_to "$tmp/m.tok" --key "$K" --now $NOW --scope "read write"
[ "$(h pay "$tmp/m.tok" scope)" = '"read write"' ] && pass "mint --scope" || fail "mint --scope" "$(h pay "$tmp/m.tok" scope)"
mint_to "$tmp/m.tok" --key "$K" --now $NOW --claim n=5 --claim flag=true --claim s=hello \
    --claim 'o={"a":[1,2]}' --claim 'q="quoted"' --claim 'e='
ok=1
for pair in 'n=5' 'flag=true' 's="hello"' 'o={"a":[1,2]}' 'q="quoted"' 'e=""'; do
	got=$(h pay "$tmp/m.tok" "${pair%%=*}")
	[ "$got" = "${pair#*=}" ] || { ok=0; fail "mint --claim ${pair%%=*}" "got $got, want ${pair#*=}"; }
done
[ $ok = 1 ] && pass "mint --claim: JSON values, else strings"
mint_to "$tmp/m.tok" --key "$K" --now $NOW --typ at+jwt
[ "$(h hdr "$tmp/m.tok" typ)" = '"at+jwt"' ] && pass "mint --typ" || fail "mint --typ" "$(h hdr "$tmp/m.tok" typ)"
verify_tok "verify --typ at+jwt" 0 "$tmp/m.tok" --jwks "$J" --typ at+jwt --now $NOW
verify_tok "verify --typ application/at+jwt" 0 "$tmp/m.tok" --jwks "$J" --typ application/at+jwt --now $NOW
mint_to "$tmp/m.tok" --key "$K" --now $NOW
verify_tok "verify --typ at+jwt, token typ JWT" 1 "$tmp/m.tok" --jwks "$J" --typ at+jwt --now $NOW

# ---------------------------------------------------------------- stdin
mint_to "$tmp/s.tok" --key "$K" --sub carol --now $NOW
cp "$tmp/s.tok" "$tmp/tok"
run_in "$tmp/s.tok" "$KEYCARD" verify --jwks "$J" --now $NOW -
expect "verify - (stdin, with newline)" 0 && claim_is "verify -: claims" sub '"carol"'
printf '%s' "$(cat "$tmp/s.tok")" >"$tmp/s2.tok"
run_in "$tmp/s2.tok" "$KEYCARD" verify --jwks "$J" --now $NOW -
expect "verify - (stdin, no newline)" 0
printf 'not.a.token\n' >"$tmp/s3.tok"
cp "$tmp/s3.tok" "$tmp/tok"
run_in "$tmp/s3.tok" "$KEYCARD" verify --jwks "$J" --now $NOW -
expect "verify - (stdin, garbage)" 1

# ---------------------------------------------------------------- time
mint_to "$tmp/e.tok" --key "$K" --now 1000000 --ttl 60
verify_tok "exp: now = exp - 1" 0 "$tmp/e.tok" --jwks "$J" --now 1000059
verify_tok "exp: now = exp" 1 "$tmp/e.tok" --jwks "$J" --now 1000060
grep -qi expir "$tmp/err" && pass "exp: the reason says expired" || fail "exp: the reason says expired" "$(first_err)"
verify_tok "exp: now = exp, leeway 1" 0 "$tmp/e.tok" --jwks "$J" --now 1000060 --leeway 1
verify_tok "exp: now = exp + 1, leeway 1" 1 "$tmp/e.tok" --jwks "$J" --now 1000061 --leeway 1
mint_to "$tmp/n.tok" --key "$K" --now 1000000 --claim nbf=1000100
verify_tok "nbf: now = nbf - 1" 1 "$tmp/n.tok" --jwks "$J" --now 1000099
verify_tok "nbf: now = nbf" 0 "$tmp/n.tok" --jwks "$J" --now 1000100
verify_tok "nbf: now = nbf - 5, leeway 5" 0 "$tmp/n.tok" --jwks "$J" --now 1000095 --leeway 5
verify_tok "nbf: now = nbf - 6, leeway 5" 1 "$tmp/n.tok" --jwks "$J" --now 1000094 --leeway 5
# without --now, the clock: a token minted now is valid, one from 1970 expired
mint_to "$tmp/c.tok" --key "$K"
verify_tok "the real clock: fresh token" 0 "$tmp/c.tok" --jwks "$J"
verify_tok "the real clock: expired token" 1 "$tmp/e.tok" --jwks "$J"

# ---------------------------------------------------------------- required claims, iss, aud
mint_to "$tmp/r.tok" --key "$K" --iss "$ISS" --sub alice --aud api --now $NOW
verify_tok "--require-claim scope, absent" 1 "$tmp/r.tok" --jwks "$J" --now $NOW --require-claim scope
verify_tok "--require-claim sub --require-claim exp" 0 "$tmp/r.tok" --jwks "$J" --now $NOW \
    --require-claim sub --require-claim exp
mint_to "$tmp/r2.tok" --key "$K" --now $NOW --scope read
verify_tok "--require-claim scope, present" 0 "$tmp/r2.tok" --jwks "$J" --now $NOW --require-claim scope
verify_tok "--issuer match" 0 "$tmp/r.tok" --jwks "$J" --now $NOW --issuer "$ISS"
verify_tok "--issuer mismatch" 1 "$tmp/r.tok" --jwks "$J" --now $NOW --issuer "$ISS/"
verify_tok "--issuer, no iss" 1 "$tmp/r2.tok" --jwks "$J" --now $NOW --issuer "$ISS"
verify_tok "--audience mismatch" 1 "$tmp/r.tok" --jwks "$J" --now $NOW --audience other
verify_tok "--audience: any one suffices" 0 "$tmp/r.tok" --jwks "$J" --now $NOW --audience other \
    --audience api
verify_tok "--audience, no aud" 1 "$tmp/r2.tok" --jwks "$J" --now $NOW --audience api

# tokens crafted outside keycard (HS256 with the secret of a keygen JWK)
HK=$tmp/HS256/priv.jwk
HJ=$tmp/HS256/pub.jwks
h forge "$HK" '{"alg":"HS256","kid":"kid-HS256"}' '{"sub":"x"}' >"$tmp/f.tok" ||
	fail "python helper" "$(head -c 200 "$tmp/f.tok")"
verify_tok "external token without exp: valid" 0 "$tmp/f.tok" --jwks "$HJ" --now $NOW
verify_tok "external token without exp: --require-claim exp" 1 "$tmp/f.tok" --jwks "$HJ" --now $NOW \
    --require-claim exp
h forge "$HK" '{"alg":"HS256"}' '{"sub":"x","exp":1700000100}' >"$tmp/f.tok" ||
	fail "python helper" "$(head -c 200 "$tmp/f.tok")"
verify_tok "external token without kid, one key" 0 "$tmp/f.tok" --jwks "$HJ" --now $NOW
h forge "$HK" '{"alg":"HS256"}' '{"sub":"x","exp":"1700000100"}' >"$tmp/f.tok" ||
	fail "python helper" "$(head -c 200 "$tmp/f.tok")"
verify_tok "exp as a string" 1 "$tmp/f.tok" --jwks "$HJ" --now $NOW
h forge "$HK" '{"alg":"HS256"}' '["not","an","object"]' >"$tmp/f.tok" ||
	fail "python helper" "$(head -c 200 "$tmp/f.tok")"
verify_tok "payload not an object" 1 "$tmp/f.tok" --jwks "$HJ" --now $NOW
h forge "$HK" '{"alg":"HS256","alg":"HS256"}' '{}' >"$tmp/f.tok" ||
	fail "python helper" "$(head -c 200 "$tmp/f.tok")"
verify_tok "duplicate header member" 1 "$tmp/f.tok" --jwks "$HJ" --now $NOW
h forge "$HK" '{"alg":"HS256","crit":["exp"]}' '{}' >"$tmp/f.tok" ||
	fail "python helper" "$(head -c 200 "$tmp/f.tok")"
verify_tok "crit" 1 "$tmp/f.tok" --jwks "$HJ" --now $NOW
deep=$(printf '[%.0s' $(seq 100))$(printf ']%.0s' $(seq 100))
h forge "$HK" '{"alg":"HS256"}' "{\"x\":$deep}" >"$tmp/f.tok" ||
	fail "python helper" "$(head -c 200 "$tmp/f.tok")"
verify_tok "claims nested too deeply" 1 "$tmp/f.tok" --jwks "$HJ" --now $NOW

# ---------------------------------------------------------------- algorithms
h unsigned '{"alg":"none"}' '{"sub":"admin"}' >"$tmp/none.tok" ||
	fail "python helper" "$(head -c 200 "$tmp/none.tok")"
verify_tok "alg none, HS key" 1 "$tmp/none.tok" --jwks "$HJ" --now $NOW
verify_tok "alg none, EC key" 1 "$tmp/none.tok" --jwks "$J" --now $NOW
h unsigned '{"alg":"NoNe"}' '{"sub":"admin"}' >"$tmp/none.tok" ||
	fail "python helper" "$(head -c 200 "$tmp/none.tok")"
verify_tok "alg NoNe" 1 "$tmp/none.tok" --jwks "$J" --now $NOW
run "$KEYCARD" verify --jwks "$J" --alg none "$(cat "$tmp/m.tok")"
expect "--alg none is a usage error" 2
run "$KEYCARD" verify --jwks "$J" --alg es256 "$(cat "$tmp/m.tok")"
expect "--alg es256 (wrong case) is a usage error" 2
verify_tok "--alg RS256 --alg ES256" 0 "$tmp/m.tok" --jwks "$J" --alg RS256 --alg ES256 --now $NOW
verify_tok "--alg HS256 only, ES256 token" 1 "$tmp/m.tok" --jwks "$J" --alg HS256 --now $NOW
# HS256 "signed" with the public key text: never accepted by a public-key set
printf '{"kty":"oct","k":"%s"}' "$(h b64file "$J")" >"$tmp/confuse.jwk"
h forge "$tmp/confuse.jwk" '{"alg":"HS256","kid":"kid-ES256"}' '{"sub":"admin"}' >"$tmp/f.tok" ||
	fail "python helper" "$(head -c 200 "$tmp/f.tok")"
verify_tok "HS256 token against an EC JWKS" 1 "$tmp/f.tok" --jwks "$J" --now $NOW

# ---------------------------------------------------------------- --pem
mint_to "$tmp/p.tok" --key "$DATA/keys/rsa-2048.key.pem" --alg RS256 --kid r1 --now $NOW
verify_tok "--pem PUBLIC KEY" 0 "$tmp/p.tok" --pem "$DATA/keys/rsa-2048.pub.pem" --now $NOW
verify_tok "--pem RSA PUBLIC KEY" 0 "$tmp/p.tok" --pem "$DATA/keys/rsa-2048.rsapub.pem" --now $NOW
verify_tok "--pem X.509 certificate" 0 "$tmp/p.tok" --pem "$DATA/keys/rsa-2048.crt.pem" --now $NOW
verify_tok "--pem other RSA key" 1 "$tmp/p.tok" --pem "$DATA/keys/rsa-2048-b.pub.pem" --now $NOW
verify_tok "--pem --kid r1" 0 "$tmp/p.tok" --kid r1 --pem "$DATA/keys/rsa-2048.pub.pem" --now $NOW
verify_tok "--pem --kid r2, token kid r1" 1 "$tmp/p.tok" --kid r2 --pem "$DATA/keys/rsa-2048.pub.pem" --now $NOW
verify_tok "--pem EC key, RS256 token" 1 "$tmp/p.tok" --pem "$DATA/keys/ec-p256.pub.pem" --now $NOW
for k in ec-p256:ES256 ec-p384:ES384 ec-p521:ES512 ed25519:EdDSA; do
	name=${k%%:*} alg=${k#*:}
	mint_to "$tmp/p.tok" --key "$DATA/keys/$name.key.pem" --alg $alg --kid "$name" --now $NOW
	verify_tok "--pem $name ($alg)" 0 "$tmp/p.tok" --pem "$DATA/keys/$name.pub.pem" --now $NOW
	# the same key as published in all.jwks, chosen by kid
	verify_tok "--jwks all.jwks, kid $name" 0 "$tmp/p.tok" --jwks "$DATA/jwks/all.jwks" --now $NOW
done
mint_to "$tmp/p.tok" --key "$DATA/keys/ec-p256.key.pem" --alg ES256 --kid c1 --now $NOW
verify_tok "--pem EC certificate" 0 "$tmp/p.tok" --pem "$DATA/keys/ec-p256.crt.pem" --now $NOW
run "$KEYCARD" verify --pem "$DATA/keys/rsa-1024.pub.pem" --now $NOW "$(cat "$tmp/p.tok")"
expect "--pem with a 1024-bit RSA key only" 2

# ---------------------------------------------------------------- --secret-file
mint_to "$tmp/h.tok" --key "$HK" --now $NOW --sub sec
h secret "$HK" '\n' "$tmp/secret.nl" >/dev/null
verify_tok "--secret-file with a trailing newline" 0 "$tmp/h.tok" --secret-file "$tmp/secret.nl" --now $NOW &&
    claim_is "--secret-file: claims" sub '"sec"'
h secret "$HK" '\r\n' "$tmp/secret.crlf" >/dev/null
verify_tok "--secret-file with CRLF" 0 "$tmp/h.tok" --secret-file "$tmp/secret.crlf" --now $NOW
h secret "$HK" '' "$tmp/secret.raw" >/dev/null
verify_tok "--secret-file without newline" 0 "$tmp/h.tok" --secret-file "$tmp/secret.raw" --now $NOW
h secret "$HK" 'x' "$tmp/secret.x" >/dev/null
verify_tok "--secret-file with another secret" 1 "$tmp/h.tok" --secret-file "$tmp/secret.x" --now $NOW
verify_tok "--secret-file --kid matching" 0 "$tmp/h.tok" --kid kid-HS256 --secret-file "$tmp/secret.nl" --now $NOW
# the fixture secret and the fixture oct JWKS hold the same key
h octjwk "$DATA/jwks/oct.jwks" "$tmp/oct.jwk" >/dev/null
mint_to "$tmp/o.tok" --key "$tmp/oct.jwk" --now $NOW
verify_tok "fixture hs256.secret" 0 "$tmp/o.tok" --secret-file "$DATA/keys/hs256.secret" --now $NOW
verify_tok "fixture oct.jwks" 0 "$tmp/o.tok" --jwks "$DATA/jwks/oct.jwks" --now $NOW
run "$KEYCARD" verify --secret-file "$DATA/keys/short.secret" --alg HS256 --now $NOW "$(cat "$tmp/o.tok")"
expect "--secret-file too short for HS256" 2

# ---------------------------------------------------------------- a JWKS with one bad key
mint_to "$tmp/b.tok" --key "$DATA/keys/ec-p256.key.pem" --alg ES256 --kid ec-p256 --now $NOW --sub good
cp "$tmp/b.tok" "$tmp/tok"
run "$KEYCARD" verify --jwks "$DATA/jwks/bad-one.jwks" --now $NOW "$(cat "$tmp/b.tok")"
expect "bad-one.jwks: the good key verifies" 0 && claim_is "bad-one.jwks: claims" sub '"good"'
if [ -s "$tmp/err" ] && ! grep -q 'token rejected' "$tmp/err"; then
	pass "bad-one.jwks: a warning on stderr"
else
	fail "bad-one.jwks: a warning on stderr" "stderr: $(first_err)"
fi
# the weak key's own token: refused (if mint signs with a 1024-bit key at all)
if "$KEYCARD" mint --key "$DATA/keys/rsa-1024.key.pem" --alg RS256 --kid rsa-1024 --now $NOW \
    >"$tmp/b.tok" 2>"$tmp/minterr" && [ -s "$tmp/b.tok" ]; then
	ALLOW_WARN=1 verify_tok "bad-one.jwks: the weak key's token" 1 "$tmp/b.tok" \
	    --jwks "$DATA/jwks/bad-one.jwks" --now $NOW
elif grep -q 'too weak' "$tmp/minterr"; then
	pass "bad-one.jwks: the weak key cannot even mint"
else
	fail "mint with a 1024-bit key" "no token and not refused as weak: $(head -c 200 "$tmp/minterr")"
fi

# ---------------------------------------------------------------- size
pad=$(head -c 17000 /dev/zero | tr '\0' x)
mint_to "$tmp/big.tok" --key "$HK" --now $NOW --claim "pad=$pad"
len=$(tr -d '\n' <"$tmp/big.tok" | wc -c)
verify_tok "token of $len bytes (> 16 KiB)" 1 "$tmp/big.tok" --jwks "$HJ" --now $NOW
verify_tok "--max-token-size 40000" 0 "$tmp/big.tok" --jwks "$HJ" --now $NOW --max-token-size 40000
verify_tok "--max-token-size = length" 0 "$tmp/big.tok" --jwks "$HJ" --now $NOW --max-token-size $len
verify_tok "--max-token-size = length - 1" 1 "$tmp/big.tok" --jwks "$HJ" --now $NOW --max-token-size $((len - 1))
cp "$tmp/big.tok" "$tmp/tok"
run_in "$tmp/big.tok" "$KEYCARD" verify --jwks "$HJ" --now $NOW -
expect "token over 16 KiB on stdin" 1
run_in "$tmp/big.tok" "$KEYCARD" verify --jwks "$HJ" --now $NOW --max-token-size 40000 -
expect "token over 16 KiB on stdin, --max-token-size 40000" 0
# just under the default limit
mint_to "$tmp/base.tok" --key "$HK" --now $NOW --claim pad=
base=$(tr -d '\n' <"$tmp/base.tok" | wc -c)
n=$(( (16384 - base) * 3 / 4 - 2 ))
pad=$(head -c $n /dev/zero | tr '\0' x)
mint_to "$tmp/big.tok" --key "$HK" --now $NOW --claim "pad=$pad"
len=$(tr -d '\n' <"$tmp/big.tok" | wc -c)
if [ "$len" -le 16384 ] && [ "$len" -gt 16370 ]; then
	verify_tok "token of $len bytes (<= 16 KiB)" 0 "$tmp/big.tok" --jwks "$HJ" --now $NOW
else
	fail "token just under 16 KiB" "made $len bytes"
fi

# ---------------------------------------------------------------- rejections in general
mint_to "$tmp/x.tok" --key "$K" --now $NOW --sub victim
sed 's/\.\(.\)\([^.]*\)$/.A\2/' "$tmp/x.tok" >"$tmp/x2.tok"
if cmp -s "$tmp/x.tok" "$tmp/x2.tok"; then sed 's/\.\(.\)\([^.]*\)$/.B\2/' "$tmp/x.tok" >"$tmp/x2.tok"; fi
verify_tok "bad signature" 1 "$tmp/x2.tok" --jwks "$J" --now $NOW
echo "abc" >"$tmp/x3.tok"
verify_tok "not a JWS" 1 "$tmp/x3.tok" --jwks "$J" --now $NOW
mint_to "$tmp/x4.tok" --key "$K" --now $NOW --kid nobody
verify_tok "unknown kid" 1 "$tmp/x4.tok" --jwks "$J" --now $NOW

# ---------------------------------------------------------------- usage and configuration errors
: >"$tmp/tok"
T=$(cat "$tmp/m.tok")
usage() { local name=$1; shift; run "$KEYCARD" "$@"; expect "$name" 2; }
usage "no command"
usage "unknown command" frobnicate
usage "verify: no key, no token" verify
usage "verify: no token" verify --jwks "$J"
usage "verify: no key" verify "$T"
usage "verify: two tokens" verify --jwks "$J" "$T" "$T"
usage "verify: unknown option" verify --jwks "$J" --frobnicate "$T"
usage "verify: --jwks without a value" verify "$T" --jwks
usage "verify: missing JWKS file" verify --jwks "$tmp/nonexistent.jwks" "$T"
usage "verify: JWKS file not JSON" verify --jwks "$DATA/keys/ec-p256.pub.pem" "$T"
usage "verify: PEM file not PEM" verify --pem "$J" "$T"
usage "verify: missing secret file" verify --secret-file "$tmp/nonexistent" "$T"
usage "verify: --alg unknown" verify --jwks "$J" --alg XS256 "$T"
usage "verify: --leeway not a number" verify --jwks "$J" --leeway soon "$T"
usage "verify: --leeway negative" verify --jwks "$J" --leeway -5 "$T"
usage "verify: --now not a number" verify --jwks "$J" --now yesterday "$T"
usage "verify: --max-token-size not a number" verify --jwks "$J" --max-token-size big "$T"
usage "keygen: no --alg" keygen
usage "keygen: --alg none" keygen --alg none
usage "keygen: --alg hs256" keygen --alg hs256
usage "keygen: unknown option" keygen --alg ES256 --frobnicate
usage "mint: no --key" mint --sub x
usage "mint: missing key file" mint --key "$tmp/nonexistent.jwk"
usage "mint: public JWKS as key" mint --key "$J"
usage "mint: bad --ttl" mint --key "$K" --ttl 5x
usage "mint: --alg of another key type" mint --key "$K" --alg RS256
usage "mint: --claim without =" mint --key "$K" --claim novalue

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
