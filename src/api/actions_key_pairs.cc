// CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair.
//
// Key pairs are kept (their public keys and fingerprints); tide's instances are processes, so
// nothing logs in with them yet. The private key of a created pair is returned once and never
// stored, as on AWS.
#include "api/handlers.h"
#include "api/key_material.h"
#include "api/network_shapes.h"
#include "api/params.h"
#include "common/ids.h"
#include "common/text.h"

#include <algorithm>

namespace tide::api {

namespace {

Status checkKeyName(const std::string& name) {
  bool ascii = std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (name.size() > 255 || !ascii) {
    return Status("InvalidParameterValue",
                  "Key names are 1 to 255 printable ASCII characters, got '" + name + "'");
  }
  return Status::ok();
}

// Stores a new pair unless its name is taken.
Status putNewKeyPair(ActionContext& ctx, const model::KeyPair& k) {
  return ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto existing, tx.keyPairByName(k.keyName));
    if (existing) {
      return Status("InvalidKeyPair.Duplicate", "The keypair '" + k.keyName + "' already exists.");
    }
    return tx.putKeyPair(k);
  });
}

// Stores a new key pair of the key material made or imported; KeyPairId is new.
Result<model::KeyPair> storeNewKeyPair(ActionContext& ctx, const std::string& name,
                                       const KeyMaterial& m, const std::vector<model::Tag>& tags) {
  model::KeyPair k;
  k.keyPairId = newId("key");
  k.keyName = name;
  k.keyType = m.keyType;
  k.keyFingerprint = m.fingerprint;
  k.publicKey = m.publicKey;
  k.createTime = ctx.clock.now();
  k.tags = tags;
  TIDE_RETURN_IF_ERROR(putNewKeyPair(ctx, k));
  return k;
}

} // namespace

Result<Json> createKeyPair(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"KeyName", "KeyType", "KeyFormat", "TagSpecifications", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(std::string name, reqString(p, "KeyName"));
  TIDE_ASSIGN_OR_RETURN(auto type, optString(p, "KeyType"));
  TIDE_ASSIGN_OR_RETURN(auto format, optString(p, "KeyFormat"));
  TIDE_ASSIGN_OR_RETURN(auto tags, tagSpecifications(p, "key-pair", {}));
  TIDE_RETURN_IF_ERROR(checkTags(tags));
  TIDE_RETURN_IF_ERROR(checkKeyName(name));
  if (format && *format != "pem") {
    return Status("InvalidParameterValue",
                  "Invalid value '" + *format + "' for KeyFormat: tide makes pem keys only");
  }
  std::string keyType = type.value_or("rsa");
  if (keyType != "rsa" && keyType != "ed25519") {
    return Status("InvalidParameterValue",
                  "Invalid value '" + keyType + "' for KeyType: rsa or ed25519");
  }
  TIDE_ASSIGN_OR_RETURN(KeyMaterial m, generateKey(keyType, name));
  TIDE_ASSIGN_OR_RETURN(model::KeyPair k, storeNewKeyPair(ctx, name, m, tags));
  return Json{{"KeyPairId", k.keyPairId},
              {"KeyName", k.keyName},
              {"KeyFingerprint", k.keyFingerprint},
              {"KeyMaterial", m.privateKeyPem},
              {"Tags", tagsJson(k.tags)}};
}

Result<Json> importKeyPair(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"KeyName", "PublicKeyMaterial", "TagSpecifications", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(std::string name, reqString(p, "KeyName"));
  TIDE_ASSIGN_OR_RETURN(std::string material, reqString(p, "PublicKeyMaterial"));
  TIDE_ASSIGN_OR_RETURN(auto tags, tagSpecifications(p, "key-pair", {}));
  TIDE_RETURN_IF_ERROR(checkTags(tags));
  TIDE_RETURN_IF_ERROR(checkKeyName(name));
  auto line = base64Decode(material);
  if (!line) {
    return Status("InvalidKey.Format",
                  "PublicKeyMaterial must be the base64 of an OpenSSH public key");
  }
  TIDE_ASSIGN_OR_RETURN(KeyMaterial m, importPublicKey(*line));
  TIDE_ASSIGN_OR_RETURN(model::KeyPair k, storeNewKeyPair(ctx, name, m, tags));
  return Json{{"KeyPairId", k.keyPairId},
              {"KeyName", k.keyName},
              {"KeyFingerprint", k.keyFingerprint},
              {"Tags", tagsJson(k.tags)}};
}

Result<Json> describeKeyPairs(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"KeyNames", "KeyPairIds", "Filters", "IncludePublicKey", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto names, optStringList(p, "KeyNames"));
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "KeyPairIds"));
  TIDE_ASSIGN_OR_RETURN(auto fs, filters(p));
  TIDE_ASSIGN_OR_RETURN(auto includePublicKey, optBool(p, "IncludePublicKey"));
  std::vector<model::KeyPair> keys;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(keys, tx.keyPairs());
        return Status::ok();
      },
      false));
  for (const auto& [given, byName] : {std::pair{&names, true}, std::pair{&ids, false}}) {
    for (const std::string& n : *given) {
      bool found = std::any_of(keys.begin(), keys.end(), [&](const model::KeyPair& k) {
        return (byName ? k.keyName : k.keyPairId) == n;
      });
      if (!found) {
        return Status("InvalidKeyPair.NotFound", "The key pair '" + n + "' does not exist");
      }
    }
  }
  Json out = Json::array();
  for (const model::KeyPair& k : keys) {
    bool named = std::find(names.begin(), names.end(), k.keyName) != names.end() ||
                 std::find(ids.begin(), ids.end(), k.keyPairId) != ids.end();
    if ((!names.empty() || !ids.empty()) && !named) {
      continue;
    }
    TIDE_ASSIGN_OR_RETURN(bool keep,
                          matchesFilters(
                              fs, k.tags,
                              [&](const std::string& f) -> std::optional<std::vector<std::string>> {
                                if (f == "key-name") {
                                  return std::vector{k.keyName};
                                }
                                if (f == "key-pair-id") {
                                  return std::vector{k.keyPairId};
                                }
                                if (f == "fingerprint") {
                                  return std::vector{k.keyFingerprint};
                                }
                                if (f == "key-type") {
                                  return std::vector{k.keyType};
                                }
                                return std::nullopt;
                              },
                              "key-name, key-pair-id, fingerprint, key-type"));
    if (keep) {
      out.push_back(keyPairJson(k, includePublicKey.value_or(false)));
    }
  }
  return Json{{"KeyPairs", out}};
}

Result<Json> deleteKeyPair(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"KeyName", "KeyPairId", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto name, optString(p, "KeyName"));
  TIDE_ASSIGN_OR_RETURN(auto id, optString(p, "KeyPairId"));
  if (!name && !id) {
    return Status("MissingParameter", "The request must contain the parameter KeyName or "
                                      "KeyPairId");
  }
  // Deleting a pair that is not there succeeds, as on AWS.
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    std::optional<model::KeyPair> k;
    if (id) {
      TIDE_ASSIGN_OR_RETURN(k, tx.keyPair(*id));
    } else {
      TIDE_ASSIGN_OR_RETURN(k, tx.keyPairByName(*name));
    }
    return k ? tx.deleteKeyPair(k->keyPairId) : Status::ok();
  }));
  return Json::object();
}

} // namespace tide::api
