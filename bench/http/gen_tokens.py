#!/usr/bin/env python3
"""Generate the RSA key, certificate, JWKS and RS256 JWT bearer tokens used by
bench/run-http.sh (from the project's performance anchors).  Needs only
python3-cryptography (no pip).

usage: gen_tokens.py OUTDIR [N_DISTINCT]

Writes into OUTDIR:
  rsa_private.pem  rsa_public.pem  rsa_cert.pem (self-signed X.509, for
  mod_auth_openidc OIDCOAuthVerifyCertFiles)  jwks.json
  other_private.pem (a second key, used to forge a bad signature)
  good.txt          1 valid token (scope contains legacy.read)
  distinct.txt      N_DISTINCT (default 1000) valid tokens, distinct jti/sub
                    (bench/run-http.sh asks for more than keycard's cache holds)
  noscope.txt       1 valid token whose scope lacks legacy.read   (-> 403)
  badsig.txt        1 token signed by the wrong key               (-> 401)
  expired.txt       1 token with exp in the past                  (-> 401)
  claims.env        ISSUER / AUDIENCE / SCOPE / KID used
"""
import base64, datetime, json, os, sys, time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

ISSUER = "https://issuer.perf.test"
AUDIENCE = "legacy-app"
SCOPE_OK = "openid legacy.read legacy.write"
SCOPE_BAD = "openid profile"
KID = "perf-rs256-1"
FAR_FUTURE = 4102444800  # 2100-01-01


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt_rs256(key, claims, kid=KID):
    header = {"alg": "RS256", "typ": "at+jwt", "kid": kid}
    signing_input = (b64u(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64u(json.dumps(claims, separators=(",", ":")).encode()))
    sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64u(sig)


def claims(i, scope=SCOPE_OK, exp=FAR_FUTURE):
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "user%04d" % i,
            "client_id": "perf-client", "scope": scope,
            "iat": now, "nbf": now - 60, "exp": exp, "jti": "jti-%08d" % i}


def pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    os.makedirs(out, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key()

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "perf-issuer")])
    start = datetime.datetime(2020, 1, 1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(pub).serial_number(1)
            .not_valid_before(start).not_valid_after(datetime.datetime(2099, 12, 31))
            .sign(key, hashes.SHA256()))

    files = {
        "rsa_private.pem": pem_private(key),
        "other_private.pem": pem_private(other),
        "rsa_public.pem": pub.public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo),
        "rsa_cert.pem": cert.public_bytes(serialization.Encoding.PEM),
    }
    nums = pub.public_numbers()
    jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
           "n": b64u(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")),
           "e": b64u(nums.e.to_bytes(3, "big"))}
    files["jwks.json"] = (json.dumps({"keys": [jwk]}, indent=1) + "\n").encode()
    files["good.txt"] = (jwt_rs256(key, claims(0)) + "\n").encode()
    files["distinct.txt"] = "".join(jwt_rs256(key, claims(i)) + "\n" for i in range(1, n + 1)).encode()
    files["noscope.txt"] = (jwt_rs256(key, claims(0, scope=SCOPE_BAD)) + "\n").encode()
    files["badsig.txt"] = (jwt_rs256(other, claims(0)) + "\n").encode()
    files["expired.txt"] = (jwt_rs256(key, claims(0, exp=int(time.time()) - 3600)) + "\n").encode()
    files["claims.env"] = ("ISSUER=%s\nAUDIENCE=%s\nSCOPE=%s\nKID=%s\n" %
                           (ISSUER, AUDIENCE, SCOPE_OK, KID)).encode()
    for fn, data in files.items():
        with open(os.path.join(out, fn), "wb") as f:
            f.write(data)
    print("wrote %d distinct tokens (+5 special) to %s; token length %d bytes"
          % (n, out, len(files["good.txt"]) - 1))


if __name__ == "__main__":
    main()
