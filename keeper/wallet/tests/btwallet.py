#!/usr/bin/env python3
"""The reference side of the wallet cross-tests: PyPI bittensor-wallet (pinned in tools/deps.sh).

  btwallet.py create DIR PASSWORD MESSAGE
      Writes, with bittensor-wallet's own API, the wallet `miner` under DIR: a coldkey from
      COLD_PHRASE encrypted ($NACL) with PASSWORD, and the unencrypted hotkey `validator` from
      HOT_PHRASE; and, under DIR/keyfiles, single keyfiles holding only a seed, only a private key
      (a //Alice URI key, which is what btcli writes for URIs) and only a public key. Writes
      DIR/expected.json (not stdout: bittensor-wallet prints progress there itself) with each
      key's ss58 address and public key as bittensor-wallet reports them, and bittensor-wallet's
      signatures of MESSAGE by the coldkey and the hotkey.
  btwallet.py verify SS58 MESSAGE SIGNATURE_HEX
      Prints {"valid": bool}: bittensor-wallet's Keypair(ss58_address).verify(MESSAGE, signature).

Exits 3 with a message on stderr when bittensor-wallet cannot be imported.
"""

import json
import os
import sys

try:
    import bittensor_wallet
    from bittensor_wallet import Keypair, Wallet
    from bittensor_wallet.keyfile import serialized_keypair_to_keyfile_data
except ImportError as e:  # the Rust side turns this into a failing test, never a skip
    print(f"bittensor-wallet is not importable by {sys.executable}: {e}", file=sys.stderr)
    sys.exit(3)

COLD_PHRASE = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"
HOT_PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
SEED_PHRASE = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"


def describe(kp):
    return {"ss58": kp.ss58_address, "public_key": "0x" + kp.public_key.hex()}


def create(root, password, message):
    wallet = Wallet(name="miner", hotkey="validator", path=root)
    wallet.regenerate_coldkey(
        mnemonic=COLD_PHRASE,
        use_password=True,
        coldkey_password=password,
        overwrite=True,
        suppress=True,
    )
    wallet.regenerate_hotkey(
        mnemonic=HOT_PHRASE, use_password=False, overwrite=True, suppress=True
    )
    # The coldkey as bittensor-wallet derives it from the phrase (reading it back from the file
    # would cost a second 512 MiB Argon2i run); its address is checked against coldkeypub.txt.
    cold = Keypair.create_from_mnemonic(COLD_PHRASE)
    assert wallet.coldkeypub.ss58_address == cold.ss58_address
    hot = wallet.hotkey

    keyfiles = os.path.join(root, "keyfiles")
    os.makedirs(keyfiles, exist_ok=True)
    seed_hex = json.loads(
        serialized_keypair_to_keyfile_data(Keypair.create_from_mnemonic(SEED_PHRASE))
    )["secretSeed"]
    singles = {
        "seed": Keypair.create_from_seed(seed_hex),
        "uri": Keypair.create_from_uri("//Alice"),
        "public": Keypair(ss58_address=hot.ss58_address),
    }
    out = {
        "version": bittensor_wallet.__version__,
        "coldkey": describe(cold),
        "hotkey": describe(hot),
        "coldkey_signature": cold.sign(message.encode()).hex(),
        "hotkey_signature": hot.sign(message.encode()).hex(),
        "keyfiles": {},
    }
    for label, kp in singles.items():
        data = serialized_keypair_to_keyfile_data(kp)
        with open(os.path.join(keyfiles, label), "wb") as f:
            f.write(data)
        out["keyfiles"][label] = dict(describe(kp), fields=sorted(json.loads(data)))
    # bittensor-wallet prints progress ("Encrypting...") on stdout itself, so the answer goes to
    # a file.
    with open(os.path.join(root, "expected.json"), "w") as f:
        json.dump(out, f)


def verify(address, message, signature):
    valid = Keypair(ss58_address=address).verify(message.encode(), bytes.fromhex(signature))
    print(json.dumps({"valid": bool(valid)}))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "create":
        create(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "verify":
        verify(*sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
