// Key pairs' key material, with OpenSSL's EVP API: new keys for CreateKeyPair, OpenSSH public
// keys read for ImportKeyPair, and the fingerprints EC2 shows for each.
//
// Fingerprints as AWS computes them:
// - an RSA key tide made: the SHA-1 of the private key in PKCS#8 DER, as colon-separated hex;
// - an imported RSA key: the MD5 of the public key in DER (SubjectPublicKeyInfo), colon hex;
// - an ED25519 key (made or imported): the base64 SHA-256 of the OpenSSH public key blob, as
//   OpenSSH shows it (since 6.8).
#pragma once

#include "common/status.h"

#include <string>
#include <string_view>

namespace tide::api {

struct KeyMaterial {
  std::string keyType;       // "rsa" or "ed25519"
  std::string privateKeyPem; // empty for imported keys: AWS never sees them
  std::string publicKey;     // the OpenSSH line: "ssh-ed25519 AAAA... comment"
  std::string fingerprint;   // see above
};

// A new key of keyType ("rsa": 2048 bits, PKCS#1 PEM; "ed25519": OpenSSH's private key format,
// which ssh reads), its public key commented with `comment`.
Result<KeyMaterial> generateKey(std::string_view keyType, const std::string& comment);

// Reads an OpenSSH public key line ("ssh-rsa AAAA... comment" or "ssh-ed25519 AAAA..."):
// InvalidKey.Format when it is not one (or an RSA key of fewer than 1024 bits).
Result<KeyMaterial> importPublicKey(std::string_view line);

} // namespace tide::api
