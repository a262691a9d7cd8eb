#!/usr/bin/env python3
"""Independent check of tokens minted by waxseal-oidc's TokenIssuer, with PyJWT.

Reads one JSON object on stdin:
    {"token": str, "jwks": str (JWKS JSON), "issuer": str, "audience": str,
     "subject": str, "email": str | null, "ttl": int}
verifies the ES256 signature with the key the JWKS publishes under the token's `kid`, checks
iss/aud/sub/email/email_verified and exp - iat == ttl, and exits 0 (prints "ok") or 1.
Time-based checks are disabled: the Rust test mints at a fixed time.

Needs PyJWT with the `crypto` extra (pip install "pyjwt[crypto]"). Run by
`minted_token_verifies_with_pyjwt` in tests.rs when `python3 -c "import jwt"` works.
"""
import json
import sys

import jwt


def main() -> int:
    case = json.load(sys.stdin)
    kid = jwt.get_unverified_header(case["token"]).get("kid")
    jwks = jwt.PyJWKSet.from_json(case["jwks"])
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims = jwt.decode(
        case["token"],
        key=key,
        algorithms=["ES256"],
        audience=case["audience"],
        issuer=case["issuer"],
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                 "require": ["iss", "sub", "aud", "iat", "exp"]},
    )
    assert claims["sub"] == case["subject"], claims
    assert claims["exp"] - claims["iat"] == case["ttl"], claims
    if case["email"] is None:
        assert "email" not in claims and "email_verified" not in claims, claims
    else:
        assert claims["email"] == case["email"] and claims["email_verified"] is True, claims
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
