"""Checkout tokens: round trip, tampering, expiry, malformed input and key rotation."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reservations.tokens import TokenClaims, TokenError, sign_token, verify_token

KEYS = {"k1": "first-secret-0123456789", "k2": "second-secret-9876543210"}
NOW = 1_800_000_000.0


def claims(**overrides) -> TokenClaims:
    data = dict(
        txn_id="01JDZX3YQ8M7T5V0A2B4C6D8EF",
        user_id=7,
        session_id=3,
        item_id=11,
        units=2,
        amount="99.80",
        currency="EUR",
        expires_at=int(NOW) + 600,
    )
    data.update(overrides)
    return TokenClaims(**data)


def test_a_signed_token_verifies_and_returns_its_claims():
    token = sign_token(claims(), keys=KEYS, kid="k1")
    verified = verify_token(token, keys=KEYS, now=NOW)
    assert verified == claims(kid="k1")
    assert str(verified.amount_decimal) == "99.80"


def test_signing_is_deterministic():
    assert sign_token(claims(), keys=KEYS, kid="k1") == sign_token(claims(), keys=KEYS, kid="k1")


@pytest.mark.parametrize(
    "field, value", [("amount", "0.01"), ("units", 20), ("user_id", 8), ("expires_at", int(NOW) + 9999)]
)
def test_a_tampered_payload_fails_the_signature(field, value):
    token = sign_token(claims(), keys=KEYS, kid="k1")
    payload_part, kid, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload_part + "=" * (-len(payload_part) % 4)))
    body[field] = value
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError) as error:
        verify_token(f"{forged}.{kid}.{signature}", keys=KEYS, now=NOW)
    assert error.value.reason == "bad_signature"


def test_relabelling_a_token_to_another_key_fails():
    payload_part, _, signature = sign_token(claims(), keys=KEYS, kid="k1").split(".")
    with pytest.raises(TokenError) as error:
        verify_token(f"{payload_part}.k2.{signature}", keys=KEYS, now=NOW)
    assert error.value.reason == "bad_signature"


def test_an_expired_token_is_refused():
    token = sign_token(claims(expires_at=int(NOW)), keys=KEYS, kid="k1")
    with pytest.raises(TokenError) as error:
        verify_token(token, keys=KEYS, now=NOW)
    assert error.value.reason == "expired"
    assert verify_token(token, keys=KEYS, now=NOW - 1).txn_id == claims().txn_id


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.k1.b.c", "!!!.k1.???", 42])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(TokenError) as error:
        verify_token(token, keys=KEYS, now=NOW)
    assert error.value.reason in {"malformed", "bad_signature"}


def test_a_signed_garbage_payload_is_malformed():
    from reservations.tokens import _b64encode, _mac

    payload_part = _b64encode(b'{"txn_id": "x"}')
    token = f"{payload_part}.k1.{_b64encode(_mac(KEYS['k1'], 'k1', payload_part))}"
    with pytest.raises(TokenError) as error:
        verify_token(token, keys=KEYS, now=NOW)
    assert error.value.reason == "malformed"


def test_key_rotation_old_tokens_verify_until_their_key_is_removed():
    old_token = sign_token(claims(), keys={"k1": KEYS["k1"]}, kid="k1")
    # Rotation step 1: add k2 and sign with it; k1 stays listed for verification.
    rotated = dict(KEYS)
    new_token = sign_token(claims(txn_id="01JDZX3YQ8M7T5V0A2B4C6D8EG"), keys=rotated, kid="k2")
    assert verify_token(old_token, keys=rotated, now=NOW).kid == "k1"
    assert verify_token(new_token, keys=rotated, now=NOW).kid == "k2"
    # Step 2: k1 removed once its tokens could have expired.
    retired = {"k2": KEYS["k2"]}
    with pytest.raises(TokenError) as error:
        verify_token(old_token, keys=retired, now=NOW)
    assert error.value.reason == "unknown_key"
    assert verify_token(new_token, keys=retired, now=NOW).kid == "k2"


def test_signing_with_an_unknown_key_is_refused():
    with pytest.raises(TokenError) as error:
        sign_token(claims(), keys=KEYS, kid="nope")
    assert error.value.reason == "unknown_key"


def test_site_wrappers_read_the_keys_from_settings(settings):
    from reservations.tokens import sign_for_site, verify_for_site

    settings.FLASHSALE_TOKEN_KEYS = {"a": "alpha-secret-xxxxxxxx", "b": "beta-secret-yyyyyyyyy"}
    settings.FLASHSALE_TOKEN_SIGNING_KEY_ID = "b"
    token = sign_for_site(claims())
    assert token.split(".")[1] == "b"
    assert verify_for_site(token, now=NOW).user_id == 7
    settings.FLASHSALE_TOKEN_KEYS = {"a": "alpha-secret-xxxxxxxx"}
    with pytest.raises(TokenError):
        verify_for_site(token, now=NOW)


def test_the_module_imports_without_django():
    import subprocess
    import sys

    code = "import sys; import reservations.tokens; assert 'django' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))


# --- one signature, several spellings ----------------------------------------------------------

URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def lenient_decode(text: str) -> bytes:
    """What a lenient base64url decoder makes of ``text`` (the one tokens used to be read with)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def with_signature(token: str, signature: str) -> str:
    payload_part, kid, _ = token.split(".")
    return f"{payload_part}.{kid}.{signature}"


def test_the_last_character_of_a_signature_has_four_spellings_and_only_the_canonical_one_verifies():
    token = sign_token(claims(), keys=KEYS, kid="k1")
    signature = token.split(".")[2]
    assert len(signature) == 43  # 256 bits in 43 characters: the last one carries 2 unused bits
    index = URLSAFE.index(signature[-1])
    spellings = [signature[:-1] + URLSAFE[(index & ~0b11) | low] for low in range(4)]
    assert len({lenient_decode(s) for s in spellings}) == 1 and signature in spellings
    for spelling in spellings:
        if spelling == signature:
            assert verify_token(token, keys=KEYS, now=NOW).txn_id == claims().txn_id
        else:
            with pytest.raises(TokenError) as error:
                verify_token(with_signature(token, spelling), keys=KEYS, now=NOW)
            assert error.value.reason == "bad_signature"


def _spoil_unused_bits(signature: str, low: int) -> str:
    index = URLSAFE.index(signature[-1])
    return signature[:-1] + URLSAFE[(index & ~0b11) | low]


def _standard_alphabet(signature: str, _low: int) -> str:
    return signature.replace("-", "+").replace("_", "/")


def _padded(signature: str, _low: int) -> str:
    return signature + "="


def _stray_character(signature: str, low: int) -> str:
    position = (low * 11) % len(signature)
    # Four of them, so the padding the lenient decoder adds for the length still fits.
    return signature[:position] + "!\n *~"[low % 5] * 4 + signature[position:]


RESPELLINGS = [_spoil_unused_bits, _standard_alphabet, _padded, _stray_character]

claims_strategy = st.builds(
    TokenClaims,
    txn_id=st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=26, max_size=26),
    user_id=st.integers(min_value=1, max_value=2**40),
    session_id=st.integers(min_value=1, max_value=2**31),
    item_id=st.integers(min_value=1, max_value=2**31),
    units=st.integers(min_value=1, max_value=1000),
    amount=st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False).map(str),
    currency=st.sampled_from(["EUR", "USD", "GBP"]),
    expires_at=st.integers(min_value=int(NOW) + 1, max_value=int(NOW) + 10**6),
)


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(
    token_claims=claims_strategy,
    secret=st.text(min_size=1, max_size=40),
    respell=st.sampled_from(RESPELLINGS),
    low=st.integers(min_value=0, max_value=3),
)
def test_generated_tokens_verify_only_in_the_canonical_spelling_of_their_signature(token_claims, secret, respell, low):
    keys = {"k1": secret}
    token = sign_token(token_claims, keys=keys, kid="k1")
    assert verify_token(token, keys=keys, now=NOW).txn_id == token_claims.txn_id
    signature = token.split(".")[2]
    spelling = respell(signature, low)
    if spelling == signature:
        return  # the unused bits drawn were the canonical ones, or no '-'/'_' to swap
    # The same bytes under a lenient decoder: exactly the spellings that used to be accepted.
    assert lenient_decode(spelling) == lenient_decode(signature)
    with pytest.raises(TokenError) as error:
        verify_token(with_signature(token, spelling), keys=keys, now=NOW)
    assert error.value.reason == "bad_signature"


def test_names_are_signed_and_a_token_without_them_is_what_it_was():
    named = claims(item_name="Copper saucepan", session_name="Kitchen & home")
    token = sign_token(named, keys=KEYS, kid="k1")
    assert verify_token(token, keys=KEYS, now=NOW) == replace(named, kid="k1")
    # Renaming what is paid for breaks the signature like any other claim.
    payload_part, kid, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload_part + "=" * (-len(payload_part) % 4)))
    body["item_name"] = "Gold saucepan"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError):
        verify_token(f"{forged}.{kid}.{signature}", keys=KEYS, now=NOW)
    # No names: the payload carries no name keys at all (tokens issued before names still verify the same).
    bare = sign_token(claims(), keys=KEYS, kid="k1").split(".")[0]
    assert "item_name" not in json.loads(base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4)))


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(
    txn_id=_TEXT,
    numbers=st.tuples(*[st.integers(min_value=-(2**63), max_value=2**63)] * 5),
    amount=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    currency=_TEXT,
    item_name=_TEXT,
    session_name=_TEXT,
)
def test_the_payload_is_spelled_as_the_json_encoder_spells_it(
    txn_id, numbers, amount, currency, item_name, session_name
):
    """The payload is written out by hand for speed: byte for byte what json.dumps gives, names
    with quotes, backslashes, control characters and non-ASCII included (else old tokens would
    no longer be reproducible and the two spellings would sign different bytes)."""
    from reservations.tokens import _payload_body, _payload_json

    user_id, session_id, item_id, units, expires_at = numbers
    made = TokenClaims(
        txn_id=txn_id,
        user_id=user_id,
        session_id=session_id,
        item_id=item_id,
        units=units,
        amount=str(amount),
        currency=currency,
        expires_at=expires_at,
        item_name=item_name,
        session_name=session_name,
    )
    expected = json.dumps(_payload_body(made, str(amount)), sort_keys=True, separators=(",", ":"))
    assert _payload_json(made) == expected


def test_a_claim_that_is_not_a_plain_int_is_spelled_by_the_encoder():
    odd = claims(user_id=True, expires_at="1800000600")
    payload = json.loads(base64.urlsafe_b64decode(_payload_of(sign_token(odd, keys=KEYS, kid="k1"))))
    assert payload["user_id"] is True and payload["expires_at"] == "1800000600"


def _payload_of(token: str) -> str:
    part = token.split(".")[0]
    return part + "=" * (-len(part) % 4)
