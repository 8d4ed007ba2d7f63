#!/usr/bin/env python3
"""pyjwt_tool.py: the PyJWT side of tests/interop/test_pyjwt.sh.

An independent JOSE implementation (PyJWT 2.x on python-cryptography) mints
tokens that keycard must accept and verifies tokens that keycard mints. Keys
always come from keycard keygen's JWK output and go through PyJWT's own JWK
import (jwt.PyJWK -> algorithms.*.from_jwk), so both key formats are
checked too, not only signatures.

Exit codes (the shell test tells "rejected" from "broken" by them):
  0 success, 1 token rejected / check failed, 2 usage, key or tool error.

Sub-commands:
  mint --jwk FILE [--alg ALG] [--no-kid] [--secret-file FILE] --claims JSON
      Prints a compact JWT. The key is the private JWK in FILE (kid taken from
      it unless --no-kid); with --secret-file, the raw bytes of FILE are the
      HMAC secret instead (--alg required).
  verify (--jwks FILE | --jwk FILE) --alg ALG [--issuer ISS] [--audience AUD]
         [--require NAME]... [--ignore-kid] TOKEN
      Verifies with PyJWT and prints the claims as JSON (sorted keys). The key
      is the JWKS's key with the token's kid, or its only key when the token
      has no kid (or with --ignore-kid).
  tamper (payload|signature) TOKEN
      Prints TOKEN with its payload rewritten (still valid JSON, "sub"
      changed) or one bit of its signature flipped, the rest kept.
  check --claims-file FILE [--equal JSON] [--expect NAME=JSON]...
        [--aud-is AUD]... [--exp-minus-iat SECONDS]
      Compares a claims object (e.g. keycard verify's stdout) with what was
      minted: exact equality, single claims, aud, lifetime.
  pem --jwk FILE (--public|--private) --out FILE
      Writes the JWK's key as PEM (SubjectPublicKeyInfo / PKCS#8).
  keys --private FILE --jwks FILE --alg ALG --kid KID
      Checks keycard keygen's output: PyJWT imports both, both carry the alg
      and kid, the JWKS holds one key and, unless it is an oct key, no
      private member.
  kid TOKEN
      Prints the token's kid header (nothing if none).
  thumbprint --jwk FILE
      Prints the RFC 7638 SHA-256 thumbprint of the JWK's public part.
"""

import argparse
import base64
import hashlib
import json
import sys

try:
    import jwt
    from jwt import PyJWK, PyJWKSet
    from cryptography.hazmat.primitives import serialization
except ImportError as e:  # the shell test probes for this and skips
    print(f"pyjwt_tool: {e}", file=sys.stderr)
    sys.exit(2)


class ToolError(Exception):
    """A problem with the tool's input (not a rejected token): exit 2."""


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url_encode(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def load_json(path):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError) as e:
        raise ToolError(f"{path}: {e}")


def jwk_of(obj, alg):
    try:
        return PyJWK(obj, algorithm=alg)
    except jwt.exceptions.PyJWTError as e:
        raise ToolError(f"PyJWT cannot import the JWK: {e}")


def cmd_mint(a):
    try:
        claims = json.loads(a.claims)
    except ValueError as e:
        raise ToolError(f"--claims: {e}")
    headers = {}
    if a.secret_file:
        if not a.alg:
            raise ToolError("--secret-file needs --alg")
        with open(a.secret_file, "rb") as f:
            key = f.read()
        alg = a.alg
    else:
        if not a.jwk:
            raise ToolError("mint needs --jwk or --secret-file")
        obj = load_json(a.jwk)
        if "d" not in obj and obj.get("kty") != "oct":
            raise ToolError(f"{a.jwk}: not a private JWK")
        alg = a.alg or obj.get("alg")
        if not alg:
            raise ToolError(f"{a.jwk}: no alg in the JWK, give --alg")
        key = jwk_of(obj, alg).key
        if obj.get("kid") and not a.no_kid:
            headers["kid"] = obj["kid"]
    token = jwt.encode(claims, key, algorithm=alg, headers=headers or None)
    print(token)
    return 0


def pick_key(a, token):
    """The PyJWK to verify token with: by kid from a JWKS, or the one key."""
    if a.jwk:
        return jwk_of(load_json(a.jwk), a.alg)
    obj = load_json(a.jwks)
    if not isinstance(obj, dict) or not isinstance(obj.get("keys"), list):
        raise ToolError(f"{a.jwks}: not a JWKS")
    try:
        keyset = PyJWKSet(obj["keys"])
    except jwt.exceptions.PyJWTError as e:
        raise ToolError(f"PyJWT cannot import the JWKS: {e}")
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.exceptions.PyJWTError as e:
        raise jwt.exceptions.InvalidTokenError(f"header: {e}")
    if kid is not None and not a.ignore_kid:
        try:
            return keyset[kid]
        except KeyError:
            raise jwt.exceptions.InvalidTokenError(f"no key with kid {kid!r}")
    if len(keyset.keys) != 1:
        raise ToolError("several keys in the JWKS: the token must name one")
    return keyset.keys[0]


def cmd_verify(a):
    try:
        key = pick_key(a, a.token)
        claims = jwt.decode(
            a.token,
            key.key,
            algorithms=[a.alg],
            issuer=a.issuer,
            audience=a.audience,
            options={"require": a.require or []},
        )
    except jwt.exceptions.PyJWTError as e:
        print(f"pyjwt rejected: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(claims, sort_keys=True, ensure_ascii=False))
    return 0


def cmd_tamper(a):
    parts = a.token.split(".")
    if len(parts) != 3:
        raise ToolError("not a compact JWS")
    if a.what == "payload":
        claims = json.loads(b64url_decode(parts[1]))
        claims["sub"] = str(claims.get("sub", "")) + "-mallory"
        parts[1] = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    else:
        sig = bytearray(b64url_decode(parts[2]))
        if not sig:
            raise ToolError("empty signature")
        # A bit in the middle: for ES* that is the top of S's second
        # half, never a length or leading-zero question.
        sig[len(sig) // 2] ^= 0x01
        parts[2] = b64url_encode(bytes(sig))
    print(".".join(parts))
    return 0


def cmd_check(a):
    try:
        with open(a.claims_file, "rb") as f:
            claims = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError) as e:
        print(f"claims are not JSON: {e}", file=sys.stderr)
        return 1
    if not isinstance(claims, dict):
        print("claims are not a JSON object", file=sys.stderr)
        return 1
    bad = []
    if a.equal is not None:
        want = json.loads(a.equal)
        if claims != want:
            bad.append(f"claims differ: got {json.dumps(claims, sort_keys=True)} "
                       f"want {json.dumps(want, sort_keys=True)}")
    for item in a.expect or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise ToolError(f"--expect {item}: want NAME=JSON")
        want = json.loads(value)
        if name not in claims:
            bad.append(f"{name} missing")
        elif claims[name] != want or type(claims[name]) is not type(want):
            bad.append(f"{name}: got {json.dumps(claims[name])} want {value}")
    if a.aud_is:
        aud = claims.get("aud")
        got = [aud] if isinstance(aud, str) else aud
        if got != a.aud_is:
            bad.append(f"aud: got {json.dumps(aud)} want {a.aud_is}")
    if a.exp_minus_iat is not None:
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            bad.append(f"exp/iat not integers: {exp!r} {iat!r}")
        elif exp - iat != a.exp_minus_iat:
            bad.append(f"exp - iat = {exp - iat}, want {a.exp_minus_iat}")
    for b in bad:
        print(b, file=sys.stderr)
    return 1 if bad else 0


def cmd_pem(a):
    obj = load_json(a.jwk)
    key = jwk_of(obj, obj.get("alg")).key
    if a.private:
        if not hasattr(key, "private_bytes"):
            raise ToolError("not a private key")
        data = key.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    else:
        if hasattr(key, "public_key"):
            key = key.public_key()
        if not hasattr(key, "public_bytes"):
            raise ToolError("no public key (an oct key?)")
        data = key.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo)
    with open(a.out, "wb") as f:
        f.write(data)
    return 0


def cmd_kid(a):
    try:
        kid = jwt.get_unverified_header(a.token).get("kid")
    except jwt.exceptions.PyJWTError as e:
        raise ToolError(f"header: {e}")
    if kid is not None:
        print(kid)
    return 0


# RFC 7638 §3.2: the required members of each key type.
THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"),
                      "OKP": ("crv", "kty", "x"), "oct": ("k", "kty")}


def cmd_thumbprint(a):
    obj = load_json(a.jwk)
    members = THUMBPRINT_MEMBERS.get(obj.get("kty"))
    if members is None or any(m not in obj for m in members):
        raise ToolError(f"{a.jwk}: no thumbprint for this JWK")
    # RFC 7638 §3.3: lexicographic order, no whitespace, UTF-8
    text = json.dumps({m: obj[m] for m in members}, sort_keys=True, separators=(",", ":"))
    print(b64url_encode(hashlib.sha256(text.encode()).digest()))
    return 0


PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth")


def cmd_keys(a):
    priv = load_json(a.private)
    jwks = load_json(a.jwks)
    bad = []
    if not isinstance(priv, dict):
        raise ToolError(f"{a.private}: not a JSON object")
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ToolError(f"{a.jwks}: not a JWKS")
    if len(jwks["keys"]) != 1:
        bad.append(f"JWKS holds {len(jwks['keys'])} keys, want 1")
    for name, obj in [("private JWK", priv)] + [("JWKS key", k) for k in jwks["keys"]]:
        if not isinstance(obj, dict):
            bad.append(f"{name} is not an object")
            continue
        if obj.get("alg") != a.alg:
            bad.append(f"{name}: alg {obj.get('alg')!r}, want {a.alg!r}")
        if obj.get("kid") != a.kid:
            bad.append(f"{name}: kid {obj.get('kid')!r}, want {a.kid!r}")
        if obj.get("use", "sig") != "sig":
            bad.append(f"{name}: use {obj.get('use')!r}")
        jwk_of(obj, a.alg)  # PyJWT must be able to import it
    if priv.get("kty") != "oct" and "d" not in priv:
        bad.append("private JWK has no d")
    for k in jwks["keys"]:
        if isinstance(k, dict) and k.get("kty") != "oct":
            leaked = [m for m in PRIVATE_MEMBERS if m in k]
            if leaked:
                bad.append(f"public JWKS leaks private members {leaked}")
    for b in bad:
        print(b, file=sys.stderr)
    return 1 if bad else 0


def main(argv):
    p = argparse.ArgumentParser(prog="pyjwt_tool.py")
    sub = p.add_subparsers(dest="cmd", required=True)

    m = sub.add_parser("mint")
    m.add_argument("--jwk")
    m.add_argument("--secret-file")
    m.add_argument("--alg")
    m.add_argument("--no-kid", action="store_true")
    m.add_argument("--claims", required=True)
    m.set_defaults(fn=cmd_mint)

    v = sub.add_parser("verify")
    g = v.add_mutually_exclusive_group(required=True)
    g.add_argument("--jwks")
    g.add_argument("--jwk")
    v.add_argument("--alg", required=True)
    v.add_argument("--issuer")
    v.add_argument("--audience")
    v.add_argument("--require", action="append")
    v.add_argument("--ignore-kid", action="store_true")
    v.add_argument("token")
    v.set_defaults(fn=cmd_verify)

    t = sub.add_parser("tamper")
    t.add_argument("what", choices=["payload", "signature"])
    t.add_argument("token")
    t.set_defaults(fn=cmd_tamper)

    c = sub.add_parser("check")
    c.add_argument("--claims-file", required=True)
    c.add_argument("--equal")
    c.add_argument("--expect", action="append")
    c.add_argument("--aud-is", action="append")
    c.add_argument("--exp-minus-iat", type=int)
    c.set_defaults(fn=cmd_check)

    k = sub.add_parser("pem")
    k.add_argument("--jwk", required=True)
    g = k.add_mutually_exclusive_group(required=True)
    g.add_argument("--public", action="store_true")
    g.add_argument("--private", action="store_true")
    k.add_argument("--out", required=True)
    k.set_defaults(fn=cmd_pem)

    k = sub.add_parser("keys")
    k.add_argument("--private", required=True)
    k.add_argument("--jwks", required=True)
    k.add_argument("--alg", required=True)
    k.add_argument("--kid", required=True)
    k.set_defaults(fn=cmd_keys)

    k = sub.add_parser("kid")
    k.add_argument("token")
    k.set_defaults(fn=cmd_kid)

    k = sub.add_parser("thumbprint")
    k.add_argument("--jwk", required=True)
    k.set_defaults(fn=cmd_thumbprint)

    a = p.parse_args(argv)
    try:
        return a.fn(a)
    except ToolError as e:
        print(f"pyjwt_tool: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a bug or an unexpected input: never "rejected"
        print(f"pyjwt_tool: unexpected {type(e).__name__}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
