#!/usr/bin/env python3
"""gen_corpus.py: writes the fuzzer's fixed keys and its seed corpus.

Fuzz fixtures only. Makes fresh keys (RSA 2048, EC P-256/P-384/P-521,
Ed25519, one HMAC secret), writes their public halves to keys.jwks and the
secret to hmac.jwks, one valid token per algorithm to tokens.txt (the target
checks each against the JWKS it is fed), the SHA-256 of every signing input
it signed to signed.txt (the only ones the target may ever see accepted: any
other is a forgery), and corpus/: valid tokens of every
algorithm, tokens with odd headers and claims (correctly signed, so the
fuzzer starts past the signature), broken encodings, JWKS samples, JSON.
The private keys are not kept: run this again to change any of it, and
commit keys.jwks, hmac.jwks, tokens.txt, signed.txt and corpus/ together.

Usage: python3 tests/fuzz/gen_corpus.py   (Debian python3-jwt, python3-cryptography)
"""

import base64
import hashlib
import json
import os
import shutil
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
# The fuzz target's clock (fuzz_token.c KC_FUZZ_NOW) and its verifier options.
NOW = 1700000000
ISS = "https://issuer.example/"
AUD = "api://fuzz"

ALGS = get_default_algorithms()
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def uint(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


# ---- keys -----------------------------------------------------------------
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
p256 = ec.generate_private_key(ec.SECP256R1())
p384 = ec.generate_private_key(ec.SECP384R1())
p521 = ec.generate_private_key(ec.SECP521R1())
ed = ed25519.Ed25519PrivateKey.generate()
hmac_secret = os.urandom(64)


def ec_jwk(k, kid, crv, size, alg=None):
    n = k.public_key().public_numbers()
    j = {"kty": "EC", "kid": kid, "crv": crv, "x": b64(uint(n.x, size)), "y": b64(uint(n.y, size))}
    if alg:
        j["alg"] = alg
    return j


rn = rsa_key.public_key().public_numbers()
PUBLIC = [
    # no alg: this key verifies RS* and PS* alike
    {"kty": "RSA", "kid": "rsa", "use": "sig", "n": b64(uint(rn.n)), "e": b64(uint(rn.e))},
    ec_jwk(p256, "p256", "P-256", 32, "ES256"),
    ec_jwk(p384, "p384", "P-384", 48),
    ec_jwk(p521, "p521", "P-521", 66, "ES512"),
    {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "alg": "EdDSA",
     "x": b64(ed.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw))},
]
HMAC = [{"kty": "oct", "kid": "hs", "use": "sig", "k": b64(hmac_secret)}]

SIGNER = {}
for a in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
    SIGNER[a] = (rsa_key, "rsa")
SIGNER["ES256"] = (p256, "p256")
SIGNER["ES384"] = (p384, "p384")
SIGNER["ES512"] = (p521, "p521")
SIGNER["EdDSA"] = (ed, "ed")
for a in ("HS256", "HS384", "HS512"):
    SIGNER[a] = (hmac_secret, "hs")


# SHA-256 of every signing input signed here with a key the target trusts:
# the only ones a verification may ever accept (anything else is a forgery).
SIGNED = set()


def sign_raw(alg, header_text, payload_text):
    """A compact JWS over the exact header/payload texts, signed properly."""
    key, _ = SIGNER[alg]
    si = b64(header_text) + "." + b64(payload_text)
    SIGNED.add(hashlib.sha256(si.encode()).hexdigest())
    return si + "." + b64(ALGS[alg].sign(si.encode(), key))


def claims(**over):
    c = {"iss": ISS, "sub": "user-1", "aud": AUD, "iat": NOW - 60, "nbf": NOW - 60,
         "exp": NOW + 3600, "scope": "orders:read orders:write", "jti": "j-1"}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def token(alg, hdr=None, payload=None, kid=True):
    h = {"alg": alg, "typ": "JWT"}
    if kid:
        h["kid"] = SIGNER[alg][1]
    if hdr:
        h.update(hdr)
    h = {k: v for k, v in h.items() if v is not None}
    p = payload if payload is not None else compact(claims())
    return sign_raw(alg, compact(h), p)


# ---- outputs --------------------------------------------------------------
def write(path, data):
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


files = {}


def seed(name, data):
    assert name not in files, name
    files[name] = data


write(os.path.join(HERE, "keys.jwks"), compact({"keys": PUBLIC}) + "\n")
write(os.path.join(HERE, "hmac.jwks"), compact({"keys": HMAC}) + "\n")

valid = {alg: token(alg) for alg in SIGNER}
write(os.path.join(HERE, "tokens.txt"), "".join(valid[a] + "\n" for a in sorted(valid)))
for alg, t in valid.items():
    seed(f"valid-{alg}.jwt", t)
    seed(f"nokid-{alg}.jwt", token(alg, kid=False))

# headers
seed("hdr-at-jwt.jwt", token("ES256", {"typ": "at+jwt"}))
seed("hdr-application-at-jwt.jwt", token("EdDSA", {"typ": "application/AT+JWT"}))
seed("hdr-typ-number.jwt", token("RS256", {"typ": 1}))
seed("hdr-no-typ.jwt", token("HS256", {"typ": None}))
seed("hdr-crit.jwt", token("ES384", {"crit": ["exp"], "exp": 1}))
seed("hdr-crit-empty.jwt", token("PS256", {"crit": []}))
seed("hdr-kid-number.jwt", token("HS512", {"kid": 7}))
seed("hdr-kid-unknown.jwt", token("ES512", {"kid": "nope"}))
seed("hdr-kid-nul.jwt", sign_raw("ES256", '{"alg":"ES256","kid":"p256\\u0000x"}', compact(claims())))
seed("hdr-kid-path.jwt", token("HS256", {"kid": "../../../../dev/null"}))
seed("hdr-kid-sql.jwt", token("HS256", {"kid": "x' UNION SELECT 'AAAA"}))
seed("hdr-jku.jwt", token("RS256", {"jku": "http://attacker.example/jwks", "kid": "evil"}))
seed("hdr-jwk-embedded.jwt", token("ES256", {"jwk": PUBLIC[1], "kid": None}))
seed("hdr-x5c.jwt", token("RS256", {"x5c": ["MIIB"], "x5u": "http://x"}))
seed("hdr-dup-alg.jwt", sign_raw("HS256", '{"alg":"HS256","alg":"none","kid":"hs"}', compact(claims())))
seed("hdr-dup-kid.jwt", sign_raw("ES256", '{"kid":"p256","alg":"ES256","kid":"rsa"}', compact(claims())))
seed("hdr-array.jwt", sign_raw("HS256", '["alg","HS256"]', compact(claims())))
seed("hdr-deep.jwt", sign_raw("HS256", '{"alg":"HS256","x":' + "[" * 70 + "]" * 70 + "}", compact(claims())))
seed("hdr-deep-63.jwt", sign_raw("HS256", '{"alg":"HS256","x":' + "[" * 63 + "]" * 63 + "}", compact(claims())))
seed("hdr-escapes.jwt", sign_raw("RS256", '{"alg":"RS\\u0032\\u0035\\u0036","kid":"\\u0072sa","typ":"JWT"}',
                                   compact(claims())))
seed("hdr-whitespace.jwt", sign_raw("PS384", ' {\r\n "alg" : "PS384" ,\t"kid":"rsa"}\n', compact(claims())))
seed("hdr-bom.jwt", sign_raw("EdDSA", '\ufeff{"alg":"EdDSA"}', compact(claims())))
for name in ("none", "None", "NONE", "nOnE", "", "rs256", "ES256K", "HS1", "RSA-OAEP", "dir"):
    tag = name or "empty"
    h = b64(compact({"alg": name, "typ": "JWT"}))
    seed(f"alg-{tag}.jwt", h + "." + b64(compact(claims())) + ".")
    seed(f"alg-{tag}-sig.jwt", h + "." + b64(compact(claims())) + "." + b64(b"\x01" * 32))
seed("alg-missing.jwt", b64('{"typ":"JWT"}') + "." + b64(compact(claims())) + "." + b64(b"x" * 32))
seed("alg-null.jwt", b64('{"alg":null}') + "." + b64(compact(claims())) + "." + b64(b"x" * 32))

# algorithm confusion: an HMAC made with the RSA/EC public JWK as secret
for alg, kid in (("HS256", "rsa"), ("HS256", "p256"), ("HS384", "ed")):
    secret = compact(next(k for k in PUBLIC if k["kid"] == kid)).encode()
    si = b64(compact({"alg": alg, "kid": kid})) + "." + b64(compact(claims()))
    seed(f"confusion-{alg}-{kid}.jwt", si + "." + b64(ALGS[alg].sign(si.encode(), secret)))
# a valid RS256 signature presented as PS256 and the other way round
si = b64(compact({"alg": "PS256", "kid": "rsa"})) + "." + b64(compact(claims()))
seed("confusion-rs-as-ps.jwt", si + "." + b64(ALGS["RS256"].sign(si.encode(), rsa_key)))

# claims (signed: the fuzzer starts at kc_claims_check)
seed("claims-expired.jwt", token("ES256", payload=compact(claims(exp=NOW - 61))))
seed("claims-exp-edge.jwt", token("ES256", payload=compact(claims(exp=NOW - 60))))
seed("claims-nbf-future.jwt", token("ES384", payload=compact(claims(nbf=NOW + 61))))
seed("claims-no-exp.jwt", token("EdDSA", payload=compact(claims(exp=None))))
seed("claims-exp-string.jwt", token("RS256", payload=compact(claims(exp=str(NOW + 60)))))
seed("claims-exp-float.jwt", token("PS512", payload=compact(claims(exp=NOW + 60.5))))
seed("claims-exp-huge.jwt", token("HS256", payload='{"exp":1e400,"sub":"x"}'))
seed("claims-exp-big.jwt", token("HS256", payload='{"exp":18446744073709551616,"iat":-9223372036854775809,"sub":"x"}'))
seed("claims-exp-neg.jwt", token("HS384", payload='{"exp":-1,"nbf":-9.2e18,"sub":"x"}'))
seed("claims-iat-string.jwt", token("HS512", payload=compact(claims(iat="yesterday"))))
seed("claims-aud-array.jwt", token("ES512", payload=compact(claims(aud=["a", AUD, "b"]))))
seed("claims-aud-mixed.jwt", token("ES512", payload=compact(claims(aud=[1, None, {"x": AUD}, AUD]))))
seed("claims-aud-empty.jwt", token("ES256", payload=compact(claims(aud=[]))))
seed("claims-aud-other.jwt", token("RS384", payload=compact(claims(aud="api://other"))))
seed("claims-iss-other.jwt", token("RS512", payload=compact(claims(iss="https://issuer.example"))))
seed("claims-iss-nul.jwt", token("EdDSA", payload='{"iss":"https://issuer.example/\\u0000evil","aud":"api://fuzz","exp":1800000000}'))
seed("claims-not-object.jwt", token("HS256", payload="[1,2,3]"))
seed("claims-string.jwt", token("HS256", payload='"just a string"'))
seed("claims-empty.jwt", token("HS256", payload=""))
seed("claims-not-json.jwt", token("HS256", payload="hello, world"))
seed("claims-dup.jwt", token("ES256", payload='{"sub":"a","sub":"b","exp":1800000000}'))
seed("claims-deep.jwt", token("ES256", payload='{"x":' + "{\"a\":" * 65 + "1" + "}" * 65 + "}"))
seed("claims-nested-ok.jwt", token("ES256", payload=compact(claims(
    tenant={"id": 42, "name": "Zo\u00eb", "roles": [["a"], {"b": [True, False, None, 1.5e-3]}]}))))
seed("claims-unicode.jwt", token("EdDSA", payload='{"sub":"\\ud83d\\ude00 \\u00e9","aud":"api://fuzz","exp":1800000000,"iss":"https://issuer.example/"}'))
seed("claims-lone-surrogate.jwt", token("EdDSA", payload='{"sub":"\\ud800","exp":1800000000}'))
seed("claims-large.jwt", token("HS256", payload=compact(claims(blob="A" * 6000))))

# signatures of the wrong form
si = valid["ES256"].rsplit(".", 1)[0]
# the same signature as DER (what OpenSSL wants, never what JWS carries)
seed("sig-es256-der.jwt", si + "." + b64(p256.sign(si.encode(), ec.ECDSA(hashes.SHA256()))))
seed("sig-es256-zero.jwt", si + "." + b64(b"\0" * 64))
seed("sig-es256-order.jwt", si + "." + b64(uint(P256_N, 32) * 2))
seed("sig-es256-short.jwt", si + "." + b64(b"\x01" * 63))
seed("sig-es512-132.jwt", valid["ES512"].rsplit(".", 1)[0] + "." + b64(b"\x01" * 132))
seed("sig-rs256-short.jwt", valid["RS256"][:-8])
seed("sig-rs256-long.jwt", valid["RS256"] + "AAAA")
seed("sig-eddsa-flip.jwt", valid["EdDSA"][:-3] + ("A" if valid["EdDSA"][-3] != "A" else "B") + valid["EdDSA"][-2:])
seed("sig-hs256-truncated.jwt", valid["HS256"].rsplit(".", 1)[0] + "." + b64(
    base64.urlsafe_b64decode(valid["HS256"].rsplit(".", 1)[1] + "==")[:16]))
seed("sig-empty.jwt", si + ".")

# encodings
v = valid["HS256"]
h, p, s = v.split(".")
seed("enc-padding.jwt", h + "==." + p + "." + s)
seed("enc-std-alphabet.jwt", v.replace("-", "+").replace("_", "/"))
seed("enc-space.jwt", h + ". " + p + "." + s)
seed("enc-newline.jwt", v + "\n")
seed("enc-four-parts.jwt", v + ".AAAA")
seed("enc-two-parts.jwt", h + "." + p)
seed("enc-empty-header.jwt", "." + p + "." + s)
seed("enc-dots.jwt", "..")
seed("enc-noncanonical.jwt", h[:-1] + chr(ord(h[-1]) + 1) + "." + p + "." + s)
seed("enc-len-1mod4.jwt", h + "A." + p + "." + s)
seed("enc-jws-json.json", compact({"payload": p, "signatures": [{"protected": h, "signature": s}]}))
seed("enc-nul.jwt", h + "." + p + "\0." + s)

# base64url and JSON alone
seed("b64-all.txt", b64(bytes(range(256))))
seed("b64-one-mod.txt", "QUJD" + "Q")
seed("json-numbers.json", '[0,-0,1e308,-1e-308,1.7976931348623157e309,123456789012345678901234567890]')
seed("json-strings.json", '["\\u0000","\\ud800","\\"\\\\\\/\\b\\f\\n\\r\\t","\u00e9\U0001F600"]')
seed("json-dup.json", '{"a":1,"b":{"a":1,"a":2}}')
seed("json-deep-64.json", "[" * 64 + "]" * 64)
seed("json-deep-65.json", "[" * 65 + "]" * 65)
seed("json-quoted-brackets.json", '{"a":"[[[[{{{{\\"[[[","b":[[["]]]"]]]}')

# JWKS
seed("jwks-public.jwks", compact({"keys": PUBLIC}))
seed("jwks-hmac.jwks", compact({"keys": HMAC}))
seed("jwks-mixed.jwks", compact({"keys": PUBLIC[:2] + HMAC}))
seed("jwks-dup-kid.jwks", compact({"keys": [PUBLIC[1], dict(PUBLIC[2], kid="p256")]}))
seed("jwks-rsa-alg-pinned.jwks", compact({"keys": [dict(PUBLIC[0], alg="PS256"), dict(PUBLIC[0], kid="rsa2", alg="RS256")]}))
small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_numbers()
seed("jwks-rsa-1024.jwks", compact({"keys": [{"kty": "RSA", "kid": "weak", "n": b64(uint(small.n)), "e": "AQAB"}]}))
seed("jwks-rsa-e1.jwks", compact({"keys": [dict(PUBLIC[0], e="AQ")]}))
seed("jwks-rsa-e-even.jwks", compact({"keys": [dict(PUBLIC[0], e="AQAA")]}))
seed("jwks-rsa-n-leading-zero.jwks", compact({"keys": [dict(PUBLIC[0], n=b64(b"\0" + uint(rn.n)))]}))
bad_y = PUBLIC[1]["y"][:-2] + ("AA" if PUBLIC[1]["y"][-2:] != "AA" else "BA")
seed("jwks-ec-off-curve.jwks", compact({"keys": [dict(PUBLIC[1], y=bad_y)]}))
seed("jwks-ec-short-x.jwks", compact({"keys": [dict(PUBLIC[1], x=b64(b"\1" * 31))]}))
seed("jwks-ec-wrong-alg.jwks", compact({"keys": [dict(PUBLIC[2], alg="ES256")]}))
seed("jwks-ec-secp256k1.jwks", compact({"keys": [{k: v for k, v in PUBLIC[2].items() if k != "alg"}
                                                   | {"crv": "secp256k1"}]}))
seed("jwks-okp-x448.jwks", compact({"keys": [dict(PUBLIC[4], crv="Ed448", x=b64(b"\2" * 57))]}))
seed("jwks-use-enc.jwks", compact({"keys": [dict(PUBLIC[4], use="enc")]}))
seed("jwks-key-ops.jwks", compact({"keys": [dict(PUBLIC[1], key_ops=["sign"]), dict(PUBLIC[2], key_ops=["verify", "sign"])]}))
seed("jwks-hmac-short.jwks", compact({"keys": [{"kty": "oct", "kid": "short", "alg": "HS512", "k": b64(b"s" * 32)}]}))
seed("jwks-oddities.jwks", '{"keys":[1,"x",null,[],{},{"kty":1},{"kty":"RSA"},{"kty":"EC","crv":"P-256"},'
     '{"kty":"oct","k":"***"},{"kty":"OKP","crv":"Ed25519","x":""}],"other":true}')
seed("jwks-not-keys.jwks", '{"keys":{"kty":"RSA"}}')
# not JSON, with raw control bytes where a parser error would quote them
seed("jwks-bad-escape-newline.jwks", '{"keys":["\\\n\u001b[31m"]}')
seed("jwk-single.jwk", compact(PUBLIC[1]))

write(os.path.join(HERE, "signed.txt"), "".join(h + "\n" for h in sorted(SIGNED)))

if os.path.isdir(CORPUS):
    shutil.rmtree(CORPUS)
os.makedirs(CORPUS)
for name, data in sorted(files.items()):
    write(os.path.join(CORPUS, name), data)
print(f"{len(files)} seeds in {CORPUS}; keys.jwks, hmac.jwks, tokens.txt rewritten", file=sys.stderr)
