// AWS Certificate Manager, for imported certificates (docs/tls.md): ImportCertificate (new, or
// a reimport over an ARN), ListCertificates, DescribeCertificate, GetCertificate,
// DeleteCertificate (refused while a listener serves it), AddTagsToCertificate,
// RemoveTagsFromCertificate and ListTagsForCertificate. ACM speaks AWS JSON 1.1 (X-Amz-Target:
// CertificateManager.ImportCertificate); blobs (Certificate, PrivateKey, CertificateChain)
// arrive base64-encoded. The PEM is read and checked by certificate_pem.h; the private key is
// kept in the store (readable by its owner only) and never answered.
#include "api/certificate_pem.h"
#include "api/handlers.h"
#include "api/params.h"
#include "common/ids.h"
#include "common/text.h"
#include "model/certificate.h"

#include <algorithm>
#include <set>

namespace tide::api {

namespace {

using model::Certificate;
using model::Tag;

constexpr size_t kMaxCertificateTags = 50; // ACM's quota per certificate

Status acmValidation(const std::string& message) {
  return Status("ValidationException", message);
}

Status checkAcmParams(const Json& p, std::initializer_list<std::string_view> known) {
  Status s = checkKnownParams(p, known);
  if (!s.isOk()) {
    return acmValidation(s.message());
  }
  return Status::ok();
}

Status notNull(const char* member) {
  return acmValidation(std::string("1 validation error detected: Value null at '") + member +
                       "' failed to satisfy constraint: Member must not be null");
}

// A blob member (base64 in JSON), decoded; empty when absent and not required.
Result<std::string> blob(const Json& p, const char* name, const char* member, size_t maxBytes,
                         bool required) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) {
    if (required) {
      return notNull(member);
    }
    return std::string();
  }
  if (!it->is_string()) {
    return acmValidation(std::string(name) + " must be base64-encoded text");
  }
  std::optional<std::string> bytes = base64Decode(it->get<std::string>());
  if (!bytes) {
    return acmValidation(std::string(name) + " is not valid base64");
  }
  if (bytes->empty() || bytes->size() > maxBytes) {
    return acmValidation(std::string("1 validation error detected: Value at '") + member +
                         "' failed to satisfy constraint: Member must have length less than "
                         "or equal to " +
                         std::to_string(maxBytes) + " and greater than or equal to 1");
  }
  return *bytes;
}

// arn:PARTITION:acm:REGION:ACCOUNT:certificate/ID, as the model's pattern and ACM's checks.
bool isCertificateArn(const std::string& arn) {
  std::vector<std::string> parts = splitString(arn, ':');
  if (arn.size() < 20 || arn.size() > 2048 || parts.size() != 6 || parts[0] != "arn" ||
      parts[1].empty() || parts[2] != "acm" || parts[4].empty() ||
      !std::all_of(parts[4].begin(), parts[4].end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return parts[5].starts_with("certificate/") && parts[5].size() > 12;
}

Result<std::string> certificateArn(const Json& p, bool required = true) {
  auto it = p.find("CertificateArn");
  if (it == p.end() || it->is_null()) {
    if (required) {
      return notNull("certificateArn");
    }
    return std::string();
  }
  if (!it->is_string()) {
    return acmValidation("CertificateArn must be a string");
  }
  std::string arn = *it;
  if (!isCertificateArn(arn)) {
    return Status("InvalidArnException", "String '" + arn + "' is not a valid ARN.");
  }
  return arn;
}

Status notFound(const std::string& arn) {
  return Status("ResourceNotFoundException", "Could not find certificate " + arn + ".");
}

Result<Certificate> findCertificate(store::Tx& tx, const std::string& arn) {
  TIDE_ASSIGN_OR_RETURN(auto c, tx.certificate(arn));
  if (!c) {
    return notFound(arn);
  }
  return std::move(*c);
}

// ACM's tags: [{Key, Value}], keys 1..128, values 0..256, no "aws:" prefix.
Result<std::vector<Tag>> acmTags(const Json& p, bool required) {
  std::vector<Tag> out;
  auto it = p.find("Tags");
  if (it == p.end() || it->is_null()) {
    if (required) {
      return notNull("tags");
    }
    return out;
  }
  if (!it->is_array() || (required && it->empty())) {
    return acmValidation("Tags must be a list of 1 to 50 tags");
  }
  std::set<std::string> keys;
  for (const Json& t : *it) {
    if (!t.is_object() || !t.contains("Key") || !t["Key"].is_string() ||
        (t.contains("Value") && !t["Value"].is_null() && !t["Value"].is_string())) {
      return Status("InvalidParameterException", "Each tag needs a Key and may have a Value");
    }
    Tag tag{t["Key"].get<std::string>(),
            t.contains("Value") && t["Value"].is_string() ? t["Value"].get<std::string>() : ""};
    if (tag.key.empty() || tag.key.size() > 128 || tag.value.size() > 256) {
      return Status("InvalidTagException", "The tag '" + tag.key +
                                               "' is not valid: keys are 1 to 128 characters, "
                                               "values at most 256");
    }
    if (tag.key.starts_with("aws:")) {
      return Status("InvalidTagException",
                    "Tag keys starting with 'aws:' are reserved for AWS use: '" + tag.key + "'");
    }
    if (!keys.insert(tag.key).second) {
      return Status("InvalidParameterException",
                    "A tag key was specified more than once: '" + tag.key + "'");
    }
    out.push_back(std::move(tag));
  }
  return out;
}

// The load balancers whose listeners serve the certificate (ACM's InUseBy).
Result<std::vector<std::string>> usedBy(store::Tx& tx, const std::string& arn) {
  TIDE_ASSIGN_OR_RETURN(auto listeners, tx.listeners());
  std::vector<std::string> out;
  for (const model::Listener& l : listeners) {
    bool uses = l.defaultCertificateArn == arn ||
                std::find(l.sniCertificateArns.begin(), l.sniCertificateArns.end(), arn) !=
                    l.sniCertificateArns.end();
    if (uses && std::find(out.begin(), out.end(), l.loadBalancerArn) == out.end()) {
      out.push_back(l.loadBalancerArn);
    }
  }
  return out;
}

std::string statusOf(const Certificate& c, TimeMs now) {
  return now > c.notAfter ? "EXPIRED" : "ISSUED";
}

Json nameList(const std::vector<std::string>& names) {
  Json out = Json::array();
  for (const std::string& n : names) {
    out.push_back({{"Name", n}});
  }
  return out;
}

const char* ekuOid(const std::string& name) {
  if (name == "TLS_WEB_SERVER_AUTHENTICATION") {
    return "1.3.6.1.5.5.7.3.1";
  }
  if (name == "TLS_WEB_CLIENT_AUTHENTICATION") {
    return "1.3.6.1.5.5.7.3.2";
  }
  if (name == "CODE_SIGNING") {
    return "1.3.6.1.5.5.7.3.3";
  }
  if (name == "EMAIL_PROTECTION") {
    return "1.3.6.1.5.5.7.3.4";
  }
  if (name == "TIME_STAMPING") {
    return "1.3.6.1.5.5.7.3.8";
  }
  return "1.3.6.1.5.5.7.3.9"; // OCSP_SIGNING
}

Json detailJson(const Certificate& c, const std::vector<std::string>& inUseBy, TimeMs now) {
  Json eku = Json::array();
  for (const std::string& n : c.extendedKeyUsages) {
    eku.push_back({{"Name", n}, {"OID", ekuOid(n)}});
  }
  return {{"CertificateArn", c.certificateArn},
          {"DomainName", c.domainName},
          {"SubjectAlternativeNames", c.subjectAlternativeNames},
          {"Serial", c.serial},
          {"Subject", c.subject},
          {"Issuer", c.issuer},
          {"ImportedAt", formatIso8601(c.importedAt)},
          {"CreatedAt", formatIso8601(c.createdAt)},
          {"Status", statusOf(c, now)},
          {"NotBefore", formatIso8601(c.notBefore)},
          {"NotAfter", formatIso8601(c.notAfter)},
          {"KeyAlgorithm", c.keyAlgorithm},
          {"SignatureAlgorithm", c.signatureAlgorithm},
          {"InUseBy", inUseBy},
          {"Type", "IMPORTED"},
          {"KeyUsages", nameList(c.keyUsages)},
          {"ExtendedKeyUsages", eku},
          {"RenewalEligibility", "INELIGIBLE"},
          {"Options", {{"CertificateTransparencyLoggingPreference", "DISABLED"}}}};
}

Json summaryJson(const Certificate& c, bool inUse, TimeMs now) {
  constexpr size_t kSummaryNames = 100; // ListCertificates shows the first 100 SANs
  std::vector<std::string> names(
      c.subjectAlternativeNames.begin(),
      c.subjectAlternativeNames.begin() +
          static_cast<long>(std::min(kSummaryNames, c.subjectAlternativeNames.size())));
  return {
      {"CertificateArn", c.certificateArn},
      {"DomainName", c.domainName},
      {"SubjectAlternativeNameSummaries", names},
      {"HasAdditionalSubjectAlternativeNames", c.subjectAlternativeNames.size() > kSummaryNames},
      {"Status", statusOf(c, now)},
      {"Type", "IMPORTED"},
      {"KeyAlgorithm", c.keyAlgorithm},
      {"KeyUsages", c.keyUsages},
      {"ExtendedKeyUsages", c.extendedKeyUsages},
      {"InUse", inUse},
      {"RenewalEligibility", "INELIGIBLE"},
      {"NotBefore", formatIso8601(c.notBefore)},
      {"NotAfter", formatIso8601(c.notAfter)},
      {"CreatedAt", formatIso8601(c.createdAt)},
      {"ImportedAt", formatIso8601(c.importedAt)}};
}

const std::set<std::string>& knownStatuses() {
  static const std::set<std::string> k = {"PENDING_VALIDATION",   "ISSUED",  "INACTIVE", "EXPIRED",
                                          "VALIDATION_TIMED_OUT", "REVOKED", "FAILED"};
  return k;
}

const std::set<std::string>& knownKeyTypes() {
  static const std::set<std::string> k = {"RSA_1024",    "RSA_2048",      "RSA_3072",
                                          "RSA_4096",    "EC_prime256v1", "EC_secp384r1",
                                          "EC_secp521r1"};
  return k;
}

// A list of strings from a set of allowed values (`what` names the member in errors).
Result<std::vector<std::string>> enumList(const Json& list, const std::set<std::string>& allowed,
                                          const std::string& what) {
  std::vector<std::string> out;
  if (!list.is_array()) {
    return acmValidation(what + " must be a list");
  }
  for (const Json& v : list) {
    if (!v.is_string() || allowed.count(v.get<std::string>()) == 0) {
      return acmValidation("1 validation error detected: Value '" +
                           (v.is_string() ? v.get<std::string>() : v.dump()) + "' at '" + what +
                           "' failed to satisfy constraint: Member must satisfy enum value set");
    }
    out.push_back(v);
  }
  return out;
}

bool containsName(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

} // namespace

Result<Json> importCertificate(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkAcmParams(
      p, {"CertificateArn", "Certificate", "PrivateKey", "CertificateChain", "Tags"}));
  TIDE_ASSIGN_OR_RETURN(std::string arn, certificateArn(p, false));
  TIDE_ASSIGN_OR_RETURN(std::string cert, blob(p, "Certificate", "certificate", 32768, true));
  TIDE_ASSIGN_OR_RETURN(std::string key, blob(p, "PrivateKey", "privateKey", 5120, true));
  TIDE_ASSIGN_OR_RETURN(std::string chain,
                        blob(p, "CertificateChain", "certificateChain", 2097152, false));
  TIDE_ASSIGN_OR_RETURN(std::vector<Tag> tags, acmTags(p, false));
  if (!arn.empty() && !tags.empty()) {
    return Status("InvalidParameterException",
                  "Tags cannot be applied when reimporting a certificate: use "
                  "AddTagsToCertificate");
  }
  if (tags.size() > kMaxCertificateTags) {
    return Status("TooManyTagsException", "A certificate can have at most 50 tags");
  }
  TimeMs now = ctx.clock.now();
  TIDE_ASSIGN_OR_RETURN(Certificate c, readImportedCertificate(cert, key, chain, now));
  c.importedAt = now;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    if (!arn.empty()) {
      // A reimport keeps the ARN, the first import's time and the tags; listeners that serve
      // it serve the new certificate from the next balancer snapshot on.
      TIDE_ASSIGN_OR_RETURN(Certificate old, findCertificate(tx, arn));
      c.certificateArn = arn;
      c.createdAt = old.createdAt;
      c.tags = old.tags;
    } else {
      c.certificateArn =
          "arn:aws:acm:" + ctx.region + ":" + ctx.accountId + ":certificate/" + newUuid();
      c.createdAt = now;
      c.tags = tags;
    }
    return tx.putCertificate(c);
  });
  TIDE_RETURN_IF_ERROR(s);
  return Json{{"CertificateArn", c.certificateArn}};
}

Result<Json> listCertificates(ActionContext& ctx, const Json& p) {
  // MaxItems and NextToken are taken by the dispatcher, which pages the result.
  TIDE_RETURN_IF_ERROR(
      checkAcmParams(p, {"CertificateStatuses", "Includes", "SortBy", "SortOrder"}));
  std::vector<std::string> statuses;
  if (auto it = p.find("CertificateStatuses"); it != p.end() && !it->is_null()) {
    TIDE_ASSIGN_OR_RETURN(statuses, enumList(*it, knownStatuses(), "certificateStatuses"));
  }
  // ACM lists RSA_1024 and RSA_2048 certificates unless Includes.keyTypes says otherwise.
  std::vector<std::string> keyTypes = {"RSA_1024", "RSA_2048"};
  std::vector<std::string> keyUsage, extendedKeyUsage;
  if (auto it = p.find("Includes"); it != p.end() && !it->is_null()) {
    if (!it->is_object()) {
      return acmValidation("Includes must be a structure");
    }
    for (auto& [k, v] : it->items()) {
      if (k == "keyTypes") {
        TIDE_ASSIGN_OR_RETURN(keyTypes, enumList(v, knownKeyTypes(), "includes.keyTypes"));
      } else if (k == "keyUsage" || k == "extendedKeyUsage") {
        if (!v.is_array() ||
            !std::all_of(v.begin(), v.end(), [](const Json& e) { return e.is_string(); })) {
          return acmValidation("Includes." + k + " must be a list of names");
        }
        (k == "keyUsage" ? keyUsage : extendedKeyUsage) = v.get<std::vector<std::string>>();
      } else {
        return acmValidation("Includes has no member " + k);
      }
    }
  }
  auto sortBy = p.find("SortBy");
  auto sortOrder = p.find("SortOrder");
  bool hasSortBy = sortBy != p.end() && !sortBy->is_null();
  bool hasSortOrder = sortOrder != p.end() && !sortOrder->is_null();
  if (hasSortBy != hasSortOrder) {
    return acmValidation("SortBy and SortOrder must be given together");
  }
  if (hasSortBy &&
      (*sortBy != "CREATED_AT" || (*sortOrder != "ASCENDING" && *sortOrder != "DESCENDING"))) {
    return acmValidation("SortBy must be CREATED_AT and SortOrder ASCENDING or DESCENDING");
  }
  TimeMs now = ctx.clock.now();
  Json out = Json::array();
  Status s = ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto all, tx.certificates());
        if (hasSortBy) {
          std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
            return *sortOrder == "ASCENDING" ? a.createdAt < b.createdAt
                                             : a.createdAt > b.createdAt;
          });
        }
        for (const Certificate& c : all) {
          if (!statuses.empty() && !containsName(statuses, statusOf(c, now))) {
            continue;
          }
          if (!containsName(keyTypes, c.keyAlgorithm)) {
            continue;
          }
          bool usages = std::all_of(keyUsage.begin(), keyUsage.end(), [&](const auto& u) {
            return u == "ANY" || containsName(c.keyUsages, u);
          });
          bool extended =
              std::all_of(extendedKeyUsage.begin(), extendedKeyUsage.end(), [&](const auto& u) {
                return u == "ANY" || containsName(c.extendedKeyUsages, u);
              });
          if (!usages || !extended) {
            continue;
          }
          TIDE_ASSIGN_OR_RETURN(auto users, usedBy(tx, c.certificateArn));
          out.push_back(summaryJson(c, !users.empty(), now));
        }
        return Status::ok();
      },
      false);
  TIDE_RETURN_IF_ERROR(s);
  return Json{{"CertificateSummaryList", out}};
}

Result<Json> describeCertificate(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkAcmParams(p, {"CertificateArn"}));
  TIDE_ASSIGN_OR_RETURN(std::string arn, certificateArn(p));
  Json out;
  Status s = ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(Certificate c, findCertificate(tx, arn));
        TIDE_ASSIGN_OR_RETURN(auto users, usedBy(tx, arn));
        out = detailJson(c, users, ctx.clock.now());
        return Status::ok();
      },
      false);
  TIDE_RETURN_IF_ERROR(s);
  return Json{{"Certificate", out}};
}

Result<Json> getCertificate(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkAcmParams(p, {"CertificateArn"}));
  TIDE_ASSIGN_OR_RETURN(std::string arn, certificateArn(p));
  Json out;
  Status s = ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(Certificate c, findCertificate(tx, arn));
        out = {{"Certificate", c.certificatePem}};
        if (!c.chainPem.empty()) {
          out["CertificateChain"] = c.chainPem;
        }
        return Status::ok();
      },
      false);
  TIDE_RETURN_IF_ERROR(s);
  return out;
}

Result<Json> deleteCertificate(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkAcmParams(p, {"CertificateArn"}));
  TIDE_ASSIGN_OR_RETURN(std::string arn, certificateArn(p));
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(Certificate c, findCertificate(tx, arn));
    TIDE_ASSIGN_OR_RETURN(auto users, usedBy(tx, arn));
    if (!users.empty()) {
      return Status("ResourceInUseException", "Certificate " + arn + " in account " +
                                                  ctx.accountId + " is in use by " + users.front() +
                                                  ": remove it from the listeners first");
    }
    return tx.deleteCertificate(arn);
  }));
  return Json::object();
}

Result<Json> addTagsToCertificate(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkAcmParams(p, {"CertificateArn", "Tags"}));
  TIDE_ASSIGN_OR_RETURN(std::string arn, certificateArn(p));
  TIDE_ASSIGN_OR_RETURN(std::vector<Tag> add, acmTags(p, true));
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(Certificate c, findCertificate(tx, arn));
    for (const Tag& t : add) {
      auto same =
          std::find_if(c.tags.begin(), c.tags.end(), [&](const Tag& x) { return x.key == t.key; });
      if (same != c.tags.end()) {
        same->value = t.value;
      } else {
        c.tags.push_back(t);
      }
    }
    if (c.tags.size() > kMaxCertificateTags) {
      return Status("TooManyTagsException", "A certificate can have at most 50 tags");
    }
    return tx.putCertificate(c);
  }));
  return Json::object();
}

Result<Json> removeTagsFromCertificate(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkAcmParams(p, {"CertificateArn", "Tags"}));
  TIDE_ASSIGN_OR_RETURN(std::string arn, certificateArn(p));
  TIDE_ASSIGN_OR_RETURN(std::vector<Tag> remove, acmTags(p, true));
  // A tag given with a value removes the tag only when the value matches; without one, any.
  std::vector<bool> withValue;
  for (const Json& t : p["Tags"]) {
    withValue.push_back(t.contains("Value") && t["Value"].is_string());
  }
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(Certificate c, findCertificate(tx, arn));
    for (size_t i = 0; i < remove.size(); ++i) {
      std::erase_if(c.tags, [&](const Tag& x) {
        return x.key == remove[i].key && (!withValue[i] || x.value == remove[i].value);
      });
    }
    return tx.putCertificate(c);
  }));
  return Json::object();
}

Result<Json> listTagsForCertificate(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkAcmParams(p, {"CertificateArn"}));
  TIDE_ASSIGN_OR_RETURN(std::string arn, certificateArn(p));
  Json out = Json::array();
  Status s = ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(Certificate c, findCertificate(tx, arn));
        for (const Tag& t : c.tags) {
          out.push_back({{"Key", t.key}, {"Value", t.value}});
        }
        return Status::ok();
      },
      false);
  TIDE_RETURN_IF_ERROR(s);
  return Json{{"Tags", out}};
}

} // namespace tide::api
