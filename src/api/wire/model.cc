#include "api/wire/model.h"

namespace tide::api::wire {

namespace {
template <typename Pred> const Service* findServiceIf(Pred pred) {
  for (const Service& s : services()) {
    if (pred(s)) {
      return &s;
    }
  }
  return nullptr;
}
} // namespace

const Service* findService(std::string_view name) {
  return findServiceIf([&](const Service& s) { return s.name == name; });
}

const Service* findServiceByVersion(std::string_view apiVersion) {
  return findServiceIf([&](const Service& s) { return s.apiVersion == apiVersion; });
}

const Service* findServiceBySigningName(std::string_view signingName) {
  return findServiceIf([&](const Service& s) { return s.signingName == signingName; });
}

const Service* findServiceByTargetPrefix(std::string_view targetPrefix) {
  if (targetPrefix.empty()) {
    return nullptr;
  }
  return findServiceIf([&](const Service& s) { return s.targetPrefix == targetPrefix; });
}

const Service* findServiceByCborId(std::string_view cborServiceId) {
  if (cborServiceId.empty()) {
    return nullptr;
  }
  return findServiceIf([&](const Service& s) { return s.cborServiceId == cborServiceId; });
}

const Operation* findOperation(std::string_view service, std::string_view name) {
  for (const Operation& o : operations()) {
    if (o.service == service && o.name == name) {
      return &o;
    }
  }
  return nullptr;
}

const Member* findMember(const Shape& structure, std::string_view name) {
  for (const Member& m : structure.members()) {
    if (m.name == name) {
      return &m;
    }
  }
  return nullptr;
}

const ErrorCode* findError(std::string_view service, std::string_view code) {
  for (const ErrorCode& e : errorCodes()) {
    if (e.service == service && e.code == code) {
      return &e;
    }
  }
  return nullptr;
}

} // namespace tide::api::wire
